"""CSV cells a spreadsheet would run as a formula, defused (OWASP CSV injection): a text cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return - also after leading blanks, which spreadsheets skip - gets a
leading single quote, so it is shown as text. Numbers, dates and booleans are written as they are.

Every CSV the project writes goes through `safe_write_csv` (or `escape_formulas` before its own writer)."""

from __future__ import annotations

import re

import polars as pl

FORMULA_PATTERN = r"^(?:[=+\-@\t\r]|[ \t\r\n]+[=+\-@])"
_FORMULA = re.compile(FORMULA_PATTERN)


def escape_formula(value: str | None) -> str | None:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`, ` =1+1` -> `' =1+1`; other text (and None) unchanged."""
    if value is not None and _FORMULA.match(value):
        return "'" + value
    return value


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell escaped; list and struct columns become text first (`a; b`)."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if nested:
        frame = frame.with_columns(
            (pl.col(name).cast(pl.List(pl.String)).list.join("; ") if isinstance(frame.schema[name], (pl.List, pl.Array))
             else pl.col(name).struct.json_encode()).alias(name) for name in nested)
    text = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)
            or isinstance(dtype, (pl.Categorical, pl.Enum))]
    return frame.with_columns(
        pl.when(pl.col(name).cast(pl.String).str.contains(FORMULA_PATTERN)).then(pl.lit("'") + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String)).alias(name) for name in text)


def safe_write_csv(frame: pl.DataFrame) -> str:
    """The frame as CSV text, every text cell escaped."""
    return escape_formulas(frame).write_csv()
