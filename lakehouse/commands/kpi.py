"""`plantlake kpi`: any KPI for any scope, period and grain, answered from gold.kpi_daily (and
gold.oee_by_machine_shift for the shift grain) by summing numerators and denominators, dividing last."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from transforms.kpi.definitions import KPI_DEFINITIONS
from transforms.kpi.equipment import equipment_kpis_per_shift

GRAINS = ("shift", "day", "week", "month")
EQUIPMENT_LEVELS = ("machine", "line", "area", "site")
OUTPUT = ["kpi", "scope_type", "scope_id", "period", "numerator", "denominator", "value", "unit"]


class KpiQueryError(click.ClickException):
    """The question cannot be answered from the KPI tables (unknown KPI, scope or grain)."""


def _equipment_ancestors(lake: DeltaLake) -> pl.DataFrame:
    """machine_id with its line, area and site ids (from dim_machine and the ISA-95 hierarchy)."""
    tree = lake.scan("dim_equipment").select("equipment_id", "parent_equipment_id").collect()
    parents = dict(tree.iter_rows())
    rows = []
    for machine, line in lake.scan("dim_machine").select("machine_id", "line_id").collect().iter_rows():
        area = parents.get(line)
        rows.append({"machine": machine, "line": line, "area": area, "site": parents.get(area)})
    return pl.DataFrame(rows, schema={level: pl.String for level in EQUIPMENT_LEVELS})


def _site_id(lake: DeltaLake) -> str:
    sites = lake.scan("dim_equipment").filter(pl.col("equipment_level") == "site").select("equipment_id").collect()
    return sites.item() if sites.height == 1 else "site"


def _rescope(rows: pl.DataFrame, lake: DeltaLake, target: str) -> pl.DataFrame:
    """Move every row to the target scope type: itself, an equipment ancestor, or the whole site."""
    parts = []
    for native, group in rows.group_by("scope_type"):
        native = native[0]
        if native == target:
            parts.append(group)
        elif native in EQUIPMENT_LEVELS and target in EQUIPMENT_LEVELS[1:-1] and (
                EQUIPMENT_LEVELS.index(target) > EQUIPMENT_LEVELS.index(native)):
            ancestors = _equipment_ancestors(lake).select(native, target).unique()
            parts.append(group.join(ancestors, left_on="scope_id", right_on=native, how="left")
                         .with_columns(pl.col(target).fill_null("unassigned").alias("scope_id")).drop(target))
        elif target == "site":
            parts.append(group.with_columns(pl.lit(_site_id(lake)).alias("scope_id")))
        else:
            kpis = ", ".join(sorted(group["kpi"].unique()))
            raise KpiQueryError(f"{kpis} is kept per {native}; it rolls up to {native} or site, not {target}")
    return pl.concat(parts).with_columns(pl.lit(target).alias("scope_type")) if parts else rows


def _period(grain: str) -> pl.Expr:
    if grain == "shift":
        return pl.concat_str([pl.col("day").cast(pl.String), pl.col("shift_id")], separator=" ")
    return {"day": pl.col("day"), "week": pl.col("day").dt.truncate("1w"),
            "month": pl.col("day").dt.truncate("1mo")}[grain].cast(pl.String)


def _daily_rows(lake: DeltaLake, kpis: list[str], grain: str) -> pl.DataFrame:
    if grain != "shift":
        if not lake.exists("kpi_daily"):
            raise KpiQueryError(f"no gold.kpi_daily in {lake.root}: run `plantlake run` first")
        return lake.scan("kpi_daily").filter(pl.col("kpi").is_in(kpis)).rename({"kpi_date": "day"}).collect()
    per_shift = [k for k in kpis if KPI_DEFINITIONS[k].transform.startswith("equipment.") and k != "teep"]
    if sorted(per_shift) != sorted(kpis):
        raise KpiQueryError(f"only equipment KPIs have a shift grain; not {sorted(set(kpis) - set(per_shift))}")
    shifts = lazy_frame(lake.read_arrow("oee_by_machine_shift"))
    return pl.from_arrow(collect_arrow(equipment_kpis_per_shift(shifts))).filter(pl.col("kpi").is_in(kpis))


def kpi_query(lake_root: Path | str, kpis: list[str], *, scope: str = "site", start: date | None = None,
              end: date | None = None, grain: str = "day") -> pl.DataFrame:
    """KPI values per scope and period: scope is `site`, a scope type (`line`, `material`, ...) or
    `type:id`; the period is the day's shift, day, ISO week (Monday) or month."""
    unknown = [k for k in kpis if k not in KPI_DEFINITIONS]
    if unknown:
        raise KpiQueryError(f"unknown KPI {unknown}; `plantlake kpi --list` shows them")
    if grain not in GRAINS:
        raise KpiQueryError(f"grain must be one of {GRAINS}")
    target, _, scope_id = scope.partition(":")
    lake = DeltaLake(lake_root)
    rows = _daily_rows(lake, kpis, grain)
    if start:
        rows = rows.filter(pl.col("day") >= start)
    if end:
        rows = rows.filter(pl.col("day") <= end)
    rows = _rescope(rows, lake, target)
    if scope_id:
        rows = rows.filter(pl.col("scope_id") == scope_id)
    summed = (rows.with_columns(_period(grain).alias("period"))
              .group_by("kpi", "scope_type", "scope_id", "period")
              .agg(pl.col("numerator").sum(), pl.col("denominator").sum()))
    units = pl.DataFrame({"kpi": list(KPI_DEFINITIONS), "unit": [d.unit for d in KPI_DEFINITIONS.values()]})
    return (summed.with_columns(pl.when(pl.col("denominator") != 0)
                                .then(pl.col("numerator") / pl.col("denominator")).alias("value"))
            .join(units, on="kpi", how="left").select(OUTPUT).sort("kpi", "scope_id", "period"))


def _definitions_table() -> pl.DataFrame:
    return pl.DataFrame([{"kpi": d.name, "unit": d.unit, "higher_is_better": d.higher_is_better,
                          "iso22400": d.iso22400_name or "", "scopes": ",".join(d.scope_types),
                          "description": d.description} for d in KPI_DEFINITIONS.values()])


@click.command("kpi")
@click.option("--kpi", "kpis", multiple=True, help="KPI name (repeatable); --list shows them.")
@click.option("--scope", default="site", show_default=True,
              help="site, a scope type (machine, line, area, material, customer, location) or type:id.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (plant-local).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (plant-local).")
@click.option("--grain", type=click.Choice(GRAINS), default="day", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--list", "list_kpis", is_flag=True, help="List the KPIs with their units and definitions.")
@click.pass_context
def kpi_command(ctx: click.Context, kpis: tuple[str, ...], scope: str, start, end, grain: str, fmt: str,
                list_kpis: bool) -> None:
    """KPIs from gold.kpi_daily, rolled up to any scope and grain by summing numerators and denominators."""
    if list_kpis or not kpis:
        rows = _definitions_table()
    else:
        rows = kpi_query(ctx.obj.lake_root, list(kpis), scope=scope, start=start.date() if start else None,
                         end=end.date() if end else None, grain=grain)
    if fmt == "json":
        click.echo(json.dumps(rows.to_dicts(), indent=2, default=str))
    elif fmt == "csv":
        click.echo(rows.write_csv(), nl=False)
    else:
        with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=80, tbl_width_chars=200):
            click.echo(rows)
