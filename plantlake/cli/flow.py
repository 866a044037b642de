"""`plantlake bottleneck`: which machine constrained each line, shift by shift (`Lake.bottleneck`)."""

from __future__ import annotations

import click
import polars as pl

from plantlake.cli.output import FORMATS, echo_frame


@click.command("bottleneck")
@click.option("--line", default=None, help="Production line id (silver.dim_machine line_id); default: every line.")
@click.option("--from", "start", default=None, help="First shift date (YYYY-MM-DD, plant local).")
@click.option("--to", "end", default=None, help="Last shift date (YYYY-MM-DD, plant local), inclusive.")
@click.option("--shifts", is_flag=True, help="One row per line and shift (its bottleneck) instead of the summary.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def bottleneck_command(lake, line: str | None, start: str | None, end: str | None, shifts: bool,  # noqa: ANN001
                       fmt: str) -> None:
    """Bottlenecks by the active-period method: per line and machine, the shifts it was the bottleneck in, its
    mean share and hours as sole and shifting bottleneck (with --shifts: the bottleneck of each line-shift).

    No shifts in the range exits 0 with a `Note:` on standard error; an unknown line or a malformed date is an
    error (exit 1)."""
    from plantlake.flow import bottleneck_summary

    rows = lake.bottleneck(line, start=start, end=end)
    if shifts:
        table = rows.filter("is_line_bottleneck").select(
            "line_id", "shift_date", "shift_id", "machine_id", "bottleneck_share", "sole_bottleneck_s",
            "shifting_bottleneck_s", "utilization")
        queue = rows.filter("is_queue_bottleneck").select("line_id", "shift_date", "shift_id",
                                                          pl.col("machine_id").alias("queue_machine_id"))
        table = table.join(queue, on=["line_id", "shift_date", "shift_id"], how="left")
    else:
        table = bottleneck_summary(rows)
    echo_frame(table, fmt, empty_note="no shifts in gold.bottleneck_by_line_shift for "
                                      f"{'line ' + line if line else 'any line'} in the range")
    if fmt == "table" and not rows.is_empty():
        shifts_n = rows.select("line_id", "shift_date", "shift_id").unique().height
        click.echo(f"{shifts_n} line-shifts")
