"""How the CLI prints a frame: a table for people, JSON or CSV for programs; and why an answer is empty.

Answers go to standard output; notes (`Note: ...`, why an answer has no rows), warnings and errors go to
standard error, so `--format json` / `csv` output stays parseable."""

from __future__ import annotations

import json
import math

import click
import polars as pl

from lakehouse.csv_safety import safe_write_csv

FORMATS = ("table", "json", "csv")


def echo_frame(rows: pl.DataFrame, fmt: str, *, str_lengths: int = 80, empty_note: str | None = None) -> None:
    """Print `rows` as a table, JSON or CSV. With `empty_note` and no rows, print the note on standard error
    instead of an empty table (JSON still prints `[]`, CSV its header line)."""
    if rows.is_empty() and empty_note is not None:
        note(empty_note)
        if fmt == "table":
            return
    if fmt == "json":
        click.echo(json.dumps(rows.to_dicts(), indent=2, default=str))
    elif fmt == "csv":
        click.echo(safe_write_csv(rows), nl=False)  # formula-looking cells escaped (OWASP)
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=str_lengths,
                       tbl_width_chars=200):
            click.echo(rows)


def note(text: str) -> None:
    """`Note: text` on standard error: the question was valid, and this is why the answer is what it is."""
    click.echo(f"Note: {text}", err=True)


def shown(value: float | None, unit: str | None) -> str:
    """A KPI value for people, in its unit: seconds as s, min, h or d (`43.2 h`), ratios as percentages
    (`87.5 %`), days as `d`, rates per year as `/year`, quantities with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "s":
        size = abs(value)
        if size < 60:
            return f"{value:.1f} s"
        if size < 3600:
            return f"{value / 60:.1f} min"
        if size < 3 * 86400:
            return f"{value / 3600:.1f} h"
        return f"{value / 86400:.1f} d"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "days":
        return f"{value:.1f} d"
    if unit == "1/year":
        return f"{value:.2f} /year"
    return f"{value:,.1f}"


def with_shown(rows: pl.DataFrame) -> pl.DataFrame:
    """KPI rows with a `shown` column after `value`: the value formatted in its unit (for table output only;
    JSON and CSV keep the raw numbers and `unit`)."""
    text = [shown(value, unit) for value, unit in rows.select("value", "unit").iter_rows()]
    columns = list(rows.columns)
    columns.insert(columns.index("value") + 1, "shown")
    return rows.with_columns(pl.Series("shown", text, dtype=pl.String)).select(columns)
