"""KPI questions answered from `gold.kpi_daily` (and `gold.oee_by_machine_shift` for the shift grain).

`gold.kpi_daily` holds every KPI per plant-local day in its native scope and rolled up the equipment hierarchy
(machine -> line -> area -> site) and to the site. A question picks the rows of one scope type, sums
numerators and denominators over the period and divides last, so any week equals the sum of its days.

`kpi_scopes(kpi)` is what the table can answer per KPI (what `plantlake kpi --list` shows), and `kpi_query`
accepts exactly those. A question that cannot be valid (an unknown KPI, scope type or scope id, a period that
ends before it starts) raises `QueryError`; a valid question may have no rows, and `why_empty` says why.
"""

from __future__ import annotations

from collections.abc import Iterable
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
# every scope type a question may name, in the order they are listed (finest equipment level first, site last)
SCOPE_TYPES = ("machine", "line", "area", "material", "customer", "location", "site")
# The scope type gold.kpi_daily computes a KPI at, where its transform offers several (transforms/kpi/daily.py:
# quality per line, material supply lead time per line); every other KPI has one scope type.
DAILY_NATIVE_SCOPE = {"first_pass_yield": "line", "scrap_ratio": "line", "rework_ratio": "line",
                      "material_supply_lead_time": "line"}


def native_scope(kpi: str) -> str:
    """The scope type `gold.kpi_daily` computes `kpi` at (before any roll-up)."""
    definition = KPI_DEFINITIONS[kpi]
    if kpi in DAILY_NATIVE_SCOPE:
        return DAILY_NATIVE_SCOPE[kpi]
    return min(definition.scope_types, key=lambda s: (SCOPE_TYPES.index(s) if s in SCOPE_TYPES else 99, s))


def kpi_scopes(kpi: str) -> tuple[str, ...]:
    """The scope types `gold.kpi_daily` answers `kpi` for: its native scope, the equipment levels above it
    (machine -> line -> area -> site, transforms/kpi/hierarchy.py) and the site."""
    native = native_scope(kpi)
    answered = {native, "site"}
    if native in EQUIPMENT_LEVELS:
        answered |= set(EQUIPMENT_LEVELS[EQUIPMENT_LEVELS.index(native):])
    return tuple(s for s in SCOPE_TYPES if s in answered)


def kpi_grains(kpi: str) -> tuple[str, ...]:
    """The grains `kpi` has: shift only for the equipment KPIs (TEEP excepted), per machine, line, area, site."""
    return GRAINS if _has_shift_grain(kpi) else GRAINS[1:]


def _has_shift_grain(kpi: str) -> bool:
    return KPI_DEFINITIONS[kpi].transform.startswith("equipment.") and kpi != "teep"


def kpi_definitions() -> pl.DataFrame:
    """One row per KPI: name, unit, direction, ISO 22400 name, the scopes and grains a question may ask for,
    and its definition."""
    return pl.DataFrame(
        [{"kpi": d.name, "unit": d.unit, "higher_is_better": d.higher_is_better, "iso22400": d.iso22400_name or "",
          "scopes": ",".join(kpi_scopes(d.name)), "grains": ",".join(kpi_grains(d.name)),
          "description": d.description} for d in KPI_DEFINITIONS.values()],
        schema={"kpi": pl.String, "unit": pl.String, "higher_is_better": pl.Boolean, "iso22400": pl.String,
                "scopes": pl.String, "grains": pl.String, "description": pl.String})


def parse_scope(scope: str) -> tuple[str, str | None]:
    """`line` -> ("line", None); `line:LINE-01` -> ("line", "LINE-01"); QueryError for anything else."""
    target, colon, scope_id = str(scope).strip().partition(":")
    if target not in SCOPE_TYPES:
        raise QueryError(f"unknown scope type {target!r}: a scope is one of {', '.join(SCOPE_TYPES)}, "
                         "or type:id (line:LINE-01)")
    if colon and not scope_id.strip():
        raise QueryError(f"scope {scope!r} has no id after the colon (say {target} or {target}:ID)")
    return target, scope_id.strip() or None


def check_question(kpis: list[str], *, scope: str = "site", start: date | None = None, end: date | None = None,
                   grain: str = "day") -> tuple[str, str | None]:
    """Raise QueryError if the question cannot be valid, whatever the lake holds; returns the scope's type and
    id."""
    if not kpis:
        raise QueryError("name at least one KPI")
    unknown = [k for k in kpis if k not in KPI_DEFINITIONS]
    if unknown:
        raise QueryError(f"unknown KPI {', '.join(unknown)}; `plantlake kpi --list` or lake.kpi_definitions() "
                         "names them")
    if grain not in GRAINS:
        raise QueryError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    if start and end and start > end:
        raise QueryError(f"the period ends before it starts: from {start} to {end}")
    target, scope_id = parse_scope(scope)
    if grain == "shift":
        no_shift = sorted(k for k in kpis if not _has_shift_grain(k))
        if no_shift:
            raise QueryError(f"only equipment KPIs (TEEP excepted) have a shift grain; not {', '.join(no_shift)}")
        if target not in EQUIPMENT_LEVELS:
            raise QueryError(f"the shift grain is kept per {', '.join(EQUIPMENT_LEVELS)}; not {target}")
    for kpi in kpis:
        if target not in kpi_scopes(kpi):
            raise QueryError(f"{kpi} is kept per {', '.join(kpi_scopes(kpi))}; it has no {target} rows")
    return target, scope_id


def kpi_query(lake: DeltaLake, kpis: list[str], *, scope: str = "site", start: date | None = None,
              end: date | None = None, grain: str = "day") -> pl.DataFrame:
    """KPI values per scope and period. `scope` is a scope type (`site`, `area`, `line`, `machine`,
    `material`, `customer`, `location`; `kpi_scopes(kpi)` says which a KPI has) or `type:id` (`line:LINE-01`);
    the period is the day's shift, the day, the ISO week (its Monday) or the month (its first day). An unknown
    KPI, scope type or scope id, a scope the KPI is not kept at, or `start` after `end` raise QueryError; a
    valid question may return no rows (`why_empty` says why)."""
    target, scope_id = check_question(kpis, scope=scope, start=start, end=end, grain=grain)
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
    result = (summed.with_columns(pl.when(pl.col("denominator") != 0)
                                  .then(pl.col("numerator") / pl.col("denominator")).alias("value"))
              .join(units, on="kpi", how="left").select(OUTPUT).sort("kpi", "scope_id", "period"))
    if result.is_empty() and scope_id:
        _check_scope_id(lake, target, scope_id)
    return result


def why_empty(lake: DeltaLake, kpis: list[str], *, scope: str = "site", start: date | None = None,
              end: date | None = None, grain: str = "day") -> str:
    """Why a valid question (`kpi_query` returned no rows) has no answer, in one sentence: the KPI has no rows
    for that scope, or none in the period (naming the days the table has)."""
    target, scope_id = check_question(kpis, scope=scope, start=start, end=end, grain=grain)
    what = " / ".join(kpis)
    where = f"{target} {scope_id}" if scope_id else "the site" if target == "site" else f"any {target}"
    table = "gold.oee_by_machine_shift" if grain == "shift" else "gold.kpi_daily"
    rows = _daily_rows(lake, kpis, target)
    if scope_id:
        rows = rows.filter(pl.col("scope_id") == scope_id)
    if rows.is_empty():
        return f"gold.kpi_daily has no {what} rows for {where}"
    first, last = rows["day"].min(), rows["day"].max()
    if start or end:
        asked = (f"between {start} and {end}" if start and end else f"from {start} on" if start else f"up to {end}")
        return f"no {what} rows for {where} {asked}; gold.kpi_daily has them from {first} to {last}"
    return f"{table} has no {what} rows for {where} at the {grain} grain"


def _check_scope_id(lake: DeltaLake, target: str, scope_id: str) -> None:
    if not lake.exists("kpi_daily"):
        return
    known = (lake.scan("kpi_daily").filter(pl.col("scope_type") == target).select("scope_id").unique()
             .collect()["scope_id"].sort().to_list())
    if scope_id not in known:
        raise QueryError(f"no {target} {scope_id!r} in gold.kpi_daily; its {target} ids are {_some(known)}")


def _some(values: Iterable[str], limit: int = 12) -> str:
    values = list(values)
    if not values:
        return "none"
    shown = ", ".join(values[:limit])
    return shown if len(values) <= limit else f"{shown}, ... ({len(values)} in all)"


def _daily_rows(lake: DeltaLake, kpis: list[str], target: str) -> pl.DataFrame:
    if not lake.exists("kpi_daily"):
        raise QueryError(f"no gold.kpi_daily in {lake.root}: run `plantlake run` first")
    return (lake.scan("kpi_daily").filter(pl.col("kpi").is_in(kpis) & (pl.col("scope_type") == target))
            .rename({"kpi_date": "day"})
            .select("kpi", "scope_type", "scope_id", "day", "numerator", "denominator").collect())


def _shift_rows(lake: DeltaLake, kpis: list[str], target: str) -> pl.DataFrame:
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
