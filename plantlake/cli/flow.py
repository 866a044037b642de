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


@click.command("lots")
@click.option("--machine", default=None, help="The lots this machine made (silver.dim_machine machine_id).")
@click.option("--operator", default=None, help="The lots this operator touched (an operation they started).")
@click.option("--from", "start", default=None, help="Window start (ISO date or time, UTC unless it has a zone).")
@click.option("--to", "end", default=None, help="Window end, exclusive.")
@click.option("--recall", is_flag=True, help="Instead: every shipment and customer a forward trace from those lots "
                                             "reaches (a recall from a machine and a time window; --machine only).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def lots_command(lake, machine: str | None, operator: str | None, start: str | None, end: str | None,  # noqa: ANN001
                 recall: bool, fmt: str) -> None:
    """Lots by equipment and operator: the lots made on --machine, or touched by --operator, by operations
    overlapping [--from, --to) (`Lake.machine_lots`, `Lake.operator_lots`); with --recall, the shipments and
    customers they reached (`Lake.machine_recall`). Exactly one of --machine and --operator."""
    if (machine is None) == (operator is None):
        raise click.UsageError("give exactly one of --machine and --operator")
    if recall and machine is None:
        raise click.UsageError("--recall starts from a machine: give --machine")
    if recall:
        rows = lake.machine_recall(machine, start=start, end=end)
        echo_frame(rows, fmt, empty_note=f"no shipment reached from the lots {machine} made in the window")
        if fmt == "table" and not rows.is_empty():
            click.echo(f"{rows['shipment_id'].n_unique()} shipments to {rows['customer_id'].n_unique()} customers")
        return
    rows = (lake.machine_lots(machine, start=start, end=end) if machine is not None
            else lake.operator_lots(operator, start=start, end=end))
    who = f"machine {machine}" if machine is not None else f"operator {operator}"
    echo_frame(rows, fmt, empty_note=f"{who} made no lot in the window")
    if fmt == "table" and not rows.is_empty():
        click.echo(f"{rows['lot_id'].n_unique()} lots of {rows['work_order_id'].n_unique()} work orders")
