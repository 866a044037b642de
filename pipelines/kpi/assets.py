"""KPI assets (gold): OEE per machine and shift, with checks on its invariants."""

from datetime import date, datetime, time, timedelta, timezone

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow
from pipelines.checks import table_key
from pipelines.resources import LakeResource
from transforms.equipment_time import machine_shift_oee_inputs, shift_counts, shift_times, state_intervals
from transforms.oee import oee_components
from transforms.shift_calendar import shift_instances

KEY = table_key("oee_by_machine_shift")
SOURCES = ["mes_equipment_states", "mes_production_counts", "dim_routing", "dim_shift", "dim_shift_break",
           "dim_plant", "dim_machine", "map_material_code"]
TOLERANCE = 1e-6


def _us(moment: pl.Expr) -> pl.Expr:
    return moment.dt.epoch("us")


def _inputs(delta: DeltaLake) -> dict:
    for table, event in (("mes_equipment_states", "equipment_state_changed"),
                         ("mes_production_counts", "production_counted")):
        if not delta.exists(table):
            raise ValueError(f"OEE needs bronze.{table}: no MES {event} events have landed")
    events = delta.scan("mes_equipment_states").select(
        "machine_id", _us(pl.col("occurred_at")).alias("occurred_at_us"), "state", "reason_code").collect()
    days = delta.scan("mes_equipment_states").select(pl.col("event_date").min().alias("first"),
                                                    pl.col("event_date").max().alias("last")).collect().row(0)
    first, last = days if days[0] is not None else (date.today(), date.today())
    plant = delta.read_arrow("dim_plant").to_pylist()[0]
    shifts = shift_instances(delta.read_arrow("dim_shift"), delta.read_arrow("dim_shift_break"),
                             plant["plant_timezone"], first, last)
    code_map = delta.scan("map_material_code").filter(pl.col("system") == "MES").select(
        pl.col("system_material_code").alias("material_code"), "material_id")
    counts = (delta.scan("mes_production_counts").join(code_map, on="material_code")
              .select("machine_id", "material_id", _us(pl.col("occurred_at")).alias("counted_at_us"),
                      pl.col("quantity").cast(pl.Int64).alias("total_count"),
                      pl.col("good_quantity").cast(pl.Int64).alias("good_count")).collect())
    ideal = delta.scan("dim_routing").select("machine_id", "material_id", "ideal_cycle_time_s").unique().collect()
    end_us = int(datetime.combine(last + timedelta(days=1), time(), timezone.utc).timestamp() * 1_000_000)
    return {"events": events, "shifts": shifts, "counts": counts, "ideal": ideal, "end_us": end_us}


@dg.asset(key=KEY, deps=[table_key(t) for t in SOURCES], group_name="kpi",
          description=CATALOG["oee_by_machine_shift"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def oee_by_machine_shift(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    i = _inputs(delta)
    times = shift_times(state_intervals(lake.frame(i["events"].to_arrow()), i["end_us"]), lake.frame(i["shifts"]))
    counts = shift_counts(lake.frame(i["counts"].to_arrow()), lake.frame(i["shifts"]), lake.frame(i["ideal"].to_arrow()))
    rows = pl.from_arrow(collect_arrow(oee_components(machine_shift_oee_inputs(times, counts))))
    lines = delta.scan("dim_machine").select("machine_id", "line_id").collect()
    rows = rows.join(lines, on="machine_id", how="left").with_columns(
        pl.from_epoch("shift_start_us", time_unit="us").dt.replace_time_zone("UTC").alias("shift_start_at"),
        pl.from_epoch("shift_end_us", time_unit="us").dt.replace_time_zone("UTC").alias("shift_end_at"),
        pl.col("total_count").cast(pl.Int64), pl.col("good_count").cast(pl.Int64)).drop(
        "shift_start_us", "shift_end_us", "break_s")
    result = delta.overwrite("oee_by_machine_shift", rows)
    return dg.MaterializeResult(metadata={**result.as_metadata(),
                                          "performance_above_one": int(rows["is_performance_above_one"].sum())})


@dg.asset_check(asset=KEY, blocking=True, description="0 <= availability <= 1 and 0 <= quality <= 1")
def ratios_within_bounds(lake: LakeResource) -> dg.AssetCheckResult:
    rows = lake.lake().scan("oee_by_machine_shift")
    bad = rows.filter(~pl.col("availability").is_between(0, 1 + TOLERANCE).fill_null(True)
                      | ~pl.col("quality").is_between(0, 1).fill_null(True)).select(pl.len()).collect().item()
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_out_of_bounds": bad})


@dg.asset_check(asset=KEY, blocking=True,
                description="the time waterfall adds up: losses + fully productive time = planned time")
def waterfall_adds_up(lake: LakeResource) -> dg.AssetCheckResult:
    rows = lake.lake().scan("oee_by_machine_shift").filter(pl.col("total_count") > 0)
    total = (pl.col("availability_loss_s") + pl.col("performance_loss_s") + pl.col("quality_loss_s")
             + pl.col("fully_productive_time_s"))
    bad = rows.filter((total - pl.col("planned_time_s")).abs() > TOLERANCE).select(pl.len()).collect().item()
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_not_adding_up": bad})


KPI_ASSETS = [oee_by_machine_shift]
KPI_CHECKS = [ratios_within_bounds, waterfall_adds_up]
