"""The long KPI table (gold.kpi_daily): every KPI per scope and plant-local day, with numerator and denominator,
and its checks."""

import time

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from pipelines.checks import table_key
from pipelines.kpi.inputs import day_bounds
from pipelines.resources import LakeResource
from transforms.kpi.daily import KpiInputs, kpi_families
from transforms.kpi.definitions import KPI_DEFINITIONS
from transforms.kpi.hierarchy import equipment_ancestors, scope_rollups
from transforms.kpi.long_format import with_value
from transforms.kpi.traceability import end_to_end_lead_time
from transforms.shift_calendar import calendar_days

KEY = table_key("kpi_daily")
SOURCES = ["oee_by_machine_shift", "dim_equipment", "mes_work_order_events", "mes_quality_inspections", "wms_transactions",
           "fct_inventory_ledger", "fct_genealogy_edges", "dim_machine", "dim_location", "map_material_code",
           "dim_plant", "mes_equipment_states"]
LEDGER_COLUMNS = ["material_id", "location_id", "occurred_at", "quantity_delta"]
# performance is flagged above 1, never clipped; quantity-weighted accuracy goes below 0 when count differences
# exceed the book quantity
UNBOUNDED_RATIOS = {"performance", "inventory_accuracy_quantity"}
INHERIT_PERFORMANCE = {"oee", "teep"}  # products with performance: above 1 only where performance is
TOLERANCE = 1e-9


def _read(delta: DeltaLake, table: str, columns: list[str] | None = None) -> pl.DataFrame:
    frame = delta.scan(table)
    return (frame.select(columns) if columns else frame).collect()


def site_id(delta: DeltaLake) -> str:
    """The site's equipment id (the one `site` row of dim_equipment; `site` when there is none or several)."""
    sites = delta.scan("dim_equipment").filter(pl.col("equipment_level") == "site").select("equipment_id").collect()
    return sites.item() if sites.height == 1 else "site"


def kpi_inputs(lake: LakeResource) -> KpiInputs:
    delta = lake.lake()
    first, last = day_bounds(delta)
    tz = delta.read_arrow("dim_plant").to_pylist()[0]["plant_timezone"]
    tables = {"oee_by_machine_shift": delta.read_arrow("oee_by_machine_shift"),
              "calendar_days": calendar_days(tz, first, last),
              "work_order_events": delta.read_arrow("mes_work_order_events"),
              "inspections": delta.read_arrow("mes_quality_inspections"),
              "wms_transactions": delta.read_arrow("wms_transactions"),
              "ledger": _read(delta, "fct_inventory_ledger", LEDGER_COLUMNS).to_arrow(),
              "machines": delta.read_arrow("dim_machine"), "locations": delta.read_arrow("dim_location"),
              "material_codes": delta.read_arrow("map_material_code")}
    return KpiInputs(**{name: lake.frame(table) for name, table in tables.items()}, plant_timezone=tz)


@dg.asset(key=KEY, deps=[table_key(t) for t in SOURCES], group_name="kpi",
          description=CATALOG["kpi_daily"].description, kinds={"delta", "polars", "spark"}, owners=["team:plant-data"])
def kpi_daily(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    inputs = kpi_inputs(lake)
    parts, seconds = [], {}
    for family, compute in kpi_families(inputs).items():
        started = time.perf_counter()
        parts.append(pl.from_arrow(collect_arrow(compute())))
        seconds[family] = round(time.perf_counter() - started, 3)
        context.log.info(f"kpi_daily: {family} KPIs in {seconds[family]} s")
    edges = _read(delta, "fct_genealogy_edges")
    codes = _read(delta, "map_material_code")
    parts.append(pl.from_arrow(collect_arrow(end_to_end_lead_time(edges, codes, plant_timezone=inputs.plant_timezone))))
    native = pl.concat([p.cast({"numerator": pl.Float64, "denominator": pl.Float64}) for p in parts], how="vertical")
    ancestors = equipment_ancestors(inputs.machines, lake.frame(delta.read_arrow("dim_equipment")))
    rollups = scope_rollups(lake.frame(native.to_arrow()), ancestors, site_id=site_id(delta))
    long = pl.concat([native, pl.from_arrow(collect_arrow(rollups))], how="vertical")
    rows = (pl.from_arrow(collect_arrow(with_value(lazy_frame(long.to_arrow())))).rename({"day": "kpi_date"})
            .sort("kpi", "scope_type", "scope_id", "kpi_date"))
    result = delta.overwrite("kpi_daily", rows)
    per_kpi = rows.group_by("kpi").len().sort("kpi")
    return dg.MaterializeResult(metadata={**result.as_metadata(), "seconds_per_family": seconds,
                                          "rows_per_kpi": dict(per_kpi.iter_rows())})


def ratios_out_of_bounds(rows: pl.LazyFrame) -> pl.DataFrame:
    """Ratio KPI rows outside [0, 1]. Performance is flagged above 1 and never clipped, so OEE and TEEP (which
    multiply it in) may exceed 1 where the same scope and day has performance above 1: those rows are not out of
    bounds. Quantity-weighted inventory accuracy may go below 0."""
    ratios = [k for k, d in KPI_DEFINITIONS.items() if d.unit == "ratio" and k not in UNBOUNDED_RATIOS]
    scope = ["scope_type", "scope_id", "kpi_date"]
    fast = rows.filter((pl.col("kpi") == "performance") & (pl.col("value") > 1 + TOLERANCE)).select(scope).unique()
    outside = rows.filter(pl.col("kpi").is_in(ratios) & ~pl.col("value").is_between(-TOLERANCE, 1 + TOLERANCE))
    explained = outside.filter(pl.col("kpi").is_in(list(INHERIT_PERFORMANCE)) & (pl.col("value") > 1)
                               ).join(fast, on=scope, how="semi")
    return outside.join(explained, on=["kpi", *scope], how="anti").collect()


@dg.asset_check(asset=KEY, blocking=True, description="every ratio KPI lies in [0, 1] (except performance, flagged above 1 "
                "and never clipped, OEE and TEEP where performance is above 1, and quantity-weighted inventory "
                "accuracy); every KPI is a known definition")
def kpi_ratios_within_bounds(lake: LakeResource) -> dg.AssetCheckResult:
    rows = lake.lake().scan("kpi_daily")
    bad = ratios_out_of_bounds(rows).height
    above_one = rows.filter(pl.col("kpi").is_in(list(INHERIT_PERFORMANCE)) & (pl.col("value") > 1 + TOLERANCE)
                            ).select(pl.len()).collect().item()
    unknown = rows.filter(~pl.col("kpi").is_in(list(KPI_DEFINITIONS))).select("kpi").unique().collect()["kpi"].to_list()
    return dg.AssetCheckResult(passed=bad == 0 and not unknown,
                               metadata={"ratio_rows_out_of_bounds": bad, "unknown_kpis": unknown,
                                         "oee_teep_rows_above_one_from_performance": above_one})


@dg.asset_check(asset=KEY, blocking=True, additional_deps=[table_key("oee_by_machine_shift")],
                description="the daily OEE rows sum back to the shift table: sum of numerators = fully productive "
                "time and sum of denominators = planned time, per machine")
def kpi_daily_oee_matches_the_shift_table(lake: LakeResource) -> dg.AssetCheckResult:
    delta = lake.lake()
    daily = (delta.scan("kpi_daily").filter((pl.col("kpi") == "oee") & (pl.col("scope_type") == "machine")).group_by(pl.col("scope_id").alias("machine_id"))
             .agg(pl.col("numerator").sum(), pl.col("denominator").sum()))
    shifts = delta.scan("oee_by_machine_shift").group_by("machine_id").agg(
        pl.col("fully_productive_time_s").sum(), pl.col("planned_time_s").sum())
    joined = shifts.join(daily, on="machine_id", how="full", coalesce=True).collect()
    off = joined.filter(((pl.col("numerator") - pl.col("fully_productive_time_s")).abs() > 1e-6)
                        | ((pl.col("denominator") - pl.col("planned_time_s")).abs() > 1e-6)
                        | pl.col("numerator").is_null() | pl.col("fully_productive_time_s").is_null())
    return dg.AssetCheckResult(passed=off.height == 0 and joined.height > 0,
                               metadata={"machines": joined.height, "machines_not_matching": off.height})
