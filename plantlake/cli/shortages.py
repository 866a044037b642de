"""`plantlake shortages`: when each line side runs short in the next hours, and the picks that cover it."""

from __future__ import annotations

import click

from plantlake.cli.output import FORMATS, echo_frame


@click.command("shortages")
@click.option("--line", default=None, help="Production line id (silver.dim_location line_id); default: every line.")
@click.option("--horizon", default="8h", show_default=True, help="How far to look ahead: 8h, 90m, 2d.")
@click.option("--as-of", "as_of", default=None,
              help="Forecast as it would have been made at this ISO 8601 time (UTC if no zone), from the records "
                   "before it; default: just after the latest event the lake holds.")
@click.option("--picks", is_flag=True, help="Show the pick suggestions covering the shortages instead.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def shortages_command(lake, line: str | None, horizon: str, as_of: str | None, picks: bool,  # noqa: ANN001
                      fmt: str) -> None:
    """Predicted line-side shortages (or, with --picks, the FIFO picks covering them) within --horizon.

    No shortage exits 0 with a `Note:` on standard error; an unknown line or a malformed horizon is an
    error (exit 1)."""
    if picks:
        rows = lake.pick_suggestions(line, horizon=horizon, as_of=as_of)
        what = "picks"
    else:
        rows = lake.shortages(line, horizon=horizon, as_of=as_of)
        what = "line sides running short"
    scope = f"line {line}" if line else "any line"
    echo_frame(rows, fmt, empty_note=f"no {what} on {scope} within {horizon}")
    if fmt == "table" and not rows.is_empty():
        click.echo(f"{rows.height} {what} within {horizon}")
