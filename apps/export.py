"""Downloads that are safe to open: CSV cells a spreadsheet would run as a formula are defused (OWASP CSV
injection: a text cell starting with = + - @, a tab or a carriage return gets a leading single quote)."""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_cell(value: str | None) -> str | None:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`; other text unchanged."""
    if value is not None and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame: pl.DataFrame) -> str:
    """The frame as CSV with every text cell defused; numbers, dates and booleans are written as they are."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    defused = frame.with_columns(
        pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name)).alias(name) for name in text_columns)
    nested = [name for name, dtype in defused.schema.items() if dtype.is_nested()]
    if nested:
        defused = defused.with_columns(pl.col(name).cast(pl.List(pl.String)).list.join("; ") for name in nested)
        defused = defused.with_columns(
            pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(name))
            .otherwise(pl.col(name)).alias(name) for name in nested)
    return defused.write_csv()
