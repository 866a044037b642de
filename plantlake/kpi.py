"""KPI questions answered from `gold.kpi_daily` (and `gold.oee_by_machine_shift` for the shift grain).

`gold.kpi_daily` holds every KPI per plant-local day in its native scope and rolled up the equipment hierarchy
(machine -> line -> area -> site) and to the site. A question picks the rows of one scope type, sums
numerators and denominators over the period and divides last, so any week equals the sum of its days.
"""

from __future__ import annotations

from datetime import date

import narwhals as nw
import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.errors import QueryError
from transforms.kpi.definitions import KPI_DEFINITIONS
from transforms.kpi.equipment import equipment_kpis_per_shift
from transforms.kpi.hierarchy import EQUIPMENT_LEVELS, equipment_ancestors

GRAINS = ("shift", "day", "week", "month")
OUTPUT = ["kpi", "scope_type", "scope_id", "period", "numerator", "denominator", "value", "unit"]


def kpi_definitions() -> pl.DataFrame:
    """One row per KPI: name, unit, direction, ISO 22400 name, scopes and definition."""
    return pl.DataFrame(
        [{"kpi": d.name, "unit": d.unit, "higher_is_better": d.higher_is_better, "iso22400": d.iso22400_name or "",
          "scopes": ",".join(d.scope_types), "description": d.description} for d in KPI_DEFINITIONS.values()],
        schema={"kpi": pl.String, "unit": pl.String, "higher_is_better": pl.Boolean, "iso22400": pl.String,
                "scopes": pl.String, "description": pl.String})


def kpi_query(lake: DeltaLake, kpis: list[str], *, scope: str = "site", start: date | None = None,
              end: date | None = None, grain: str = "day") -> pl.DataFrame:
    """KPI values per scope and period. `scope` is a scope type (`site`, `area`, `line`, `machine`,
    `material`, `customer`, `location`) or `type:id` (`line:LINE-01`); the period is the day's shift, the day,
    the ISO week (its Monday) or the month (its first day)."""
    unknown = [k for k in kpis if k not in KPI_DEFINITIONS]
    if unknown:
        raise QueryError(f"unknown KPI {', '.join(unknown)}; `plantlake kpi --list` or lake.kpi_definitions() "
                         "names them")
    if not kpis:
        raise QueryError("name at least one KPI")
    if grain not in GRAINS:
        raise QueryError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    target, _, scope_id = scope.partition(":")
    rows = _shift_rows(lake, kpis, target) if grain == "shift" else _daily_rows(lake, kpis, target)
    if start:
        rows = rows.filter(pl.col("day") >= start)
    if end:
        rows = rows.filter(pl.col("day") <= end)
    if scope_id:
        rows = rows.filter(pl.col("scope_id") == scope_id)
    summed = (rows.with_columns(_period(grain).alias("period"))
              .group_by("kpi", "scope_type", "scope_id", "period")
              .agg(pl.col("numerator").sum(), pl.col("denominator").sum()))
    units = pl.DataFrame({"kpi": list(KPI_DEFINITIONS), "unit": [d.unit for d in KPI_DEFINITIONS.values()]})
    return (summed.with_columns(pl.when(pl.col("denominator") != 0)
                                .then(pl.col("numerator") / pl.col("denominator")).alias("value"))
            .join(units, on="kpi", how="left").select(OUTPUT).sort("kpi", "scope_id", "period"))


def _daily_rows(lake: DeltaLake, kpis: list[str], target: str) -> pl.DataFrame:
    if not lake.exists("kpi_daily"):
        raise QueryError(f"no gold.kpi_daily in {lake.root}: run `plantlake run` first")
    rows = (lake.scan("kpi_daily").filter(pl.col("kpi").is_in(kpis)).rename({"kpi_date": "day"})
            .select("kpi", "scope_type", "scope_id", "day", "numerator", "denominator").collect())
    kept = rows.select("kpi", "scope_type").unique()
    missing = sorted(set(kpis) - set(kept.filter(pl.col("scope_type") == target)["kpi"]))
    present = set(kept["kpi"])
    for kpi in missing:
        if kpi in present:
            scopes = ", ".join(sorted(kept.filter(pl.col("kpi") == kpi)["scope_type"]))
            raise QueryError(f"{kpi} is kept per {scopes}; it has no {target} rows")
    return rows.filter(pl.col("scope_type") == target)


def _shift_rows(lake: DeltaLake, kpis: list[str], target: str) -> pl.DataFrame:
    per_shift = [k for k in kpis if KPI_DEFINITIONS[k].transform.startswith("equipment.") and k != "teep"]
    if sorted(per_shift) != sorted(kpis):
        raise QueryError(f"only equipment KPIs (TEEP excepted) have a shift grain; not "
                         f"{', '.join(sorted(set(kpis) - set(per_shift)))}")
    if target not in EQUIPMENT_LEVELS:
        raise QueryError(f"the shift grain is kept per {', '.join(EQUIPMENT_LEVELS)}; not {target}")
    if not lake.exists("oee_by_machine_shift"):
        raise QueryError(f"no gold.oee_by_machine_shift in {lake.root}: run `plantlake run` first")
    shifts = lazy_frame(lake.read_arrow("oee_by_machine_shift"))
    rows = pl.from_arrow(collect_arrow(equipment_kpis_per_shift(shifts))).filter(pl.col("kpi").is_in(kpis))
    assert isinstance(rows, pl.DataFrame)
    if target == "machine":
        return rows
    ancestors = pl.from_arrow(collect_arrow(equipment_ancestors(
        nw.from_native(lake.scan("dim_machine")), nw.from_native(lake.scan("dim_equipment")))))
    assert isinstance(ancestors, pl.DataFrame)
    return (rows.join(ancestors.select("machine", target), left_on="scope_id", right_on="machine", how="left")
            .with_columns(pl.col(target).alias("scope_id"), pl.lit(target).alias("scope_type")).drop(target))


def _period(grain: str) -> pl.Expr:
    if grain == "shift":
        return pl.concat_str([pl.col("day").cast(pl.String), pl.col("shift_id")], separator=" ")
    return {"day": pl.col("day"), "week": pl.col("day").dt.truncate("1w"),
            "month": pl.col("day").dt.truncate("1mo")}[grain].cast(pl.String)
