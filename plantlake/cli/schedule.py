"""`plantlake schedule suggest`: a suggested sequence per machine against the plant's own rule
(`Lake.schedule_suggestion`)."""

from __future__ import annotations

import click

from plantlake.cli.output import FORMATS, echo_frame


@click.group("schedule")
def schedule_group() -> None:
    """Production scheduling: sequences per machine for the open work orders."""


@schedule_group.command("suggest")
@click.option("--line", default=None, help="Production line id (silver.dim_routing line_id); default: every line.")
@click.option("--horizon", default="24h", show_default=True, help="Show operations starting within: 24h, 90m, 2d.")
@click.option("--as-of", "as_of", default=None, help="Suggest as of this ISO 8601 time (default: the latest event).")
@click.option("--time-limit", "time_limit_s", default=20.0, show_default=True,
              help="Upper bound of CP-SAT's deterministic seconds per line (it gets 0.05 per operation, at least 1).")
@click.option("--orders", "show_orders", is_flag=True, help="Per work order: due, done and lateness, suggested "
                                                            "and first-in first-out, instead of the sequence.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def suggest_command(lake, line: str | None, horizon: str, as_of: str | None, time_limit_s: float,  # noqa: ANN001
                    show_orders: bool, fmt: str) -> None:
    """The suggested sequence per machine (OR-Tools CP-SAT: total tardiness first, then makespan), with the
    plant's own first-in first-out plan beside it; the last line compares the two.

    No open work order exits 0 with a `Note:` on standard error; an unknown line or a malformed horizon is an
    error (exit 1)."""
    plan, orders = lake.schedule_suggestion(line, horizon=horizon, as_of=as_of, time_limit_s=time_limit_s)
    scope = f"line {line}" if line else "any line"
    if show_orders:
        echo_frame(orders, fmt, empty_note=f"no open work order on {scope}")
    else:
        columns = ["line_id", "machine_id", "machine_rank", "work_order_id", "operation_seq", "suggested_start_at",
                   "suggested_end_at", "is_running"]
        echo_frame(plan.select(columns) if not plan.is_empty() else plan, fmt,
                   empty_note=f"no operation on {scope} starts within {horizon}")
    if fmt == "table" and not orders.is_empty():
        click.echo(f"{orders.height} open work orders: total lateness {orders['suggested_late_h'].sum():.1f} h "
                   f"suggested vs {orders['fifo_late_h'].sum():.1f} h first-in first-out; all done in "
                   f"{orders['suggested_done_in_h'].max():.1f} vs {orders['fifo_done_in_h'].max():.1f} working hours")
