"""`plantlake kpi`: any KPI for any scope, period and grain (`Lake.kpi`)."""

from __future__ import annotations

import click

from plantlake.cli.output import FORMATS, echo_frame
from plantlake.kpi import GRAINS


@click.command("kpi")
@click.option("--kpi", "kpis", multiple=True, help="KPI name (repeatable); --list shows them.")
@click.option("--scope", default="site", show_default=True,
              help="site, a scope type (area, line, machine, material, customer, location) or type:id.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (plant-local).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (plant-local).")
@click.option("--grain", type=click.Choice(GRAINS), default="day", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--list", "list_kpis", is_flag=True, help="List the KPIs with their units and definitions.")
@click.pass_obj
def kpi_command(lake, kpis: tuple[str, ...], scope: str, start, end, grain: str, fmt: str,  # noqa: ANN001
                list_kpis: bool) -> None:
    """KPIs from gold.kpi_daily, rolled up to any scope and grain by summing numerators and denominators."""
    if list_kpis or not kpis:
        rows = lake.kpi_definitions()
    else:
        rows = lake.kpi(list(kpis), scope=scope, start=start.date() if start else None,
                        end=end.date() if end else None, grain=grain)
    echo_frame(rows, fmt)
