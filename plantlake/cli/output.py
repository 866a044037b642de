"""How the CLI prints a frame: a table for people, JSON or CSV for programs."""

from __future__ import annotations

import json

import click
import polars as pl

FORMATS = ("table", "json", "csv")


def echo_frame(rows: pl.DataFrame, fmt: str, *, str_lengths: int = 80) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows.to_dicts(), indent=2, default=str))
    elif fmt == "csv":
        click.echo(rows.write_csv(), nl=False)
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=str_lengths,
                       tbl_width_chars=200):
            click.echo(rows)
