"""`plantlake quarantine list | show | replay`: what was quarantined and why, and replaying what master data
now accepts (`Lake.quarantine`, `Lake.replay_quarantine`)."""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from plantlake.cli.output import FORMATS, echo_frame


@click.group("quarantine")
def quarantine_group() -> None:
    """Quarantined rows: list them, show one file's, replay those master data now accepts."""


@quarantine_group.command("list")
@click.option("--table", default=None, help="One quarantine table (e.g. quarantine.quarantine_mes_events).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def list_command(lake, table: str | None, fmt: str) -> None:  # noqa: ANN001
    """Quarantined rows counted per table, status and first reason."""
    rows = lake.quarantine(table)
    summary = (rows.with_columns(pl.col("reasons").list.first().alias("reason"))
               .group_by("quarantine_table", "status", "reason").agg(pl.len().alias("rows"),
                                                                     pl.col("source_file").n_unique().alias("files"))
               .sort("quarantine_table", "rows", descending=[False, True]))
    echo_frame(summary, fmt)
    if fmt == "table":
        click.echo(f"{rows.height:,} quarantined rows; "
                   f"{rows.filter(pl.col('status') == 'waiting_for_master_data').height:,} waiting for master data")


@quarantine_group.command("show")
@click.argument("source_file")
@click.option("--line", type=int, default=None, help="Only this source line.")
@click.option("--table", default=None, help="One quarantine table.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def show_command(lake, source_file: str, line: int | None, table: str | None, fmt: str) -> None:  # noqa: ANN001
    """The quarantined rows of SOURCE_FILE (its path inside the landing folder), with reasons and raw payload."""
    rows = lake.quarantine(table, source_file=source_file)
    if line is not None:
        rows = rows.filter(pl.col("source_line") == line)
    if rows.is_empty():
        click.echo(f"Note: no quarantined rows for {source_file}" + (f" line {line}" if line else ""), err=True)
        return
    echo_frame(rows.drop("file_sha256") if fmt == "table" else rows, fmt, str_lengths=120)


@quarantine_group.command("replay")
@click.option("--source", "source_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
              help="The landing folder holding the original files.")
@click.pass_obj
def replay_command(lake, source_dir: Path) -> None:  # noqa: ANN001
    """Replay the rows quarantined only for codes master data did not know, against today's master data
    (each lands once; landing runs do this on their own)."""
    click.echo(lake.replay_quarantine(source_dir).summary())
