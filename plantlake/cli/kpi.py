"""`plantlake kpi`: any KPI for any scope, period and grain (`Lake.kpi`)."""

from __future__ import annotations

import click
import polars as pl

from plantlake.cli.output import FORMATS, echo_frame, note, with_shown
from plantlake.kpi import GRAINS, SCOPE_TYPES, why_empty


@click.command("kpi")
@click.option("--kpi", "kpis", multiple=True, help="KPI name (repeatable); --list shows them.")
@click.option("--scope", "scopes", multiple=True, default=("site",), show_default=True,
              help=f"A scope type ({', '.join(SCOPE_TYPES)}) or type:id (line:LINE-01); repeatable, every scope "
                   "answers. --list shows which scopes each KPI has.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (plant-local).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (plant-local).")
@click.option("--grain", type=click.Choice(GRAINS), default="day", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table adds a `shown` column (the value in its unit: 43.2 h, 87.5 %); json and csv keep raw "
                   "numbers and `unit`.")
@click.option("--list", "list_kpis", is_flag=True,
              help="List the KPIs with their units, the scopes and grains they have, and definitions.")
@click.pass_obj
def kpi_command(lake, kpis: tuple[str, ...], scopes: tuple[str, ...], start, end, grain: str,  # noqa: ANN001
                fmt: str, list_kpis: bool) -> None:
    """KPIs from gold.kpi_daily, rolled up to any scope and grain by summing numerators and denominators.

    A question with no rows exits 0 with a `Note:` on standard error saying why (no rows for that scope, or
    none in the period, naming the days the table has); an unknown KPI, scope or scope id, or --from after --to,
    is an error (exit 1)."""
    if list_kpis or not kpis:
        echo_frame(lake.kpi_definitions(), fmt)
        return
    first, last = (start.date() if start else None), (end.date() if end else None)
    if first and last and first > last:
        raise click.ClickException(f"--from {first} is after --to {last}: the period is empty")
    answers, notes = [], []
    for scope in dict.fromkeys(scopes):  # each scope once, in the order given
        rows = lake.kpi(list(kpis), scope=scope, start=first, end=last, grain=grain)
        if rows.is_empty():
            notes.append(why_empty(lake.delta, list(kpis), scope=scope, start=first, end=last, grain=grain))
        answers.append(rows)
    rows = pl.concat(answers, how="vertical")
    for text in notes[:-1] if rows.is_empty() else notes:
        note(text)
    echo_frame(with_shown(rows) if fmt == "table" else rows, fmt, empty_note=notes[-1] if notes else None)
