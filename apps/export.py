"""Downloads that are safe to open: every CSV the app offers goes through the project's one CSV writer
(`lakehouse.csv_safety`, OWASP CSV injection: a text cell starting with = + - @, a tab or a carriage return -
also after leading blanks - gets a leading single quote), the same one `plantlake ... --format csv` uses."""

from __future__ import annotations

import polars as pl

from lakehouse.csv_safety import safe_write_csv


def safe_csv(frame: pl.DataFrame) -> str:
    """The frame as CSV with every text cell (and list cell, joined with `; `) escaped; numbers as they are."""
    return safe_write_csv(frame)
