"""KPI assets (gold): OEE per machine and shift with checks on its invariants; kpi_daily (pipelines/kpi/daily.py)."""

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.engines import collect_arrow
from pipelines.checks import primary_key_check, table_key
from pipelines.kpi.daily import kpi_daily, kpi_daily_oee_matches_the_shift_table, kpi_ratios_within_bounds
from pipelines.kpi.inputs import equipment_inputs, oee_frames
from pipelines.resources import LakeResource
from transforms.loss_mapping import load_loss_mapping
from transforms.machine_shift_oee import machine_shift_oee

KEY = table_key("oee_by_machine_shift")
SOURCES = ["mes_equipment_states", "mes_production_counts", "machine_signals", "machine_signal_gaps", "dim_routing",
           "dim_shift", "dim_shift_break", "dim_plant", "dim_machine", "map_material_code"]
TOLERANCE = 1e-6


def _with_shift_times(rows: pl.DataFrame, shifts: pl.DataFrame) -> pl.DataFrame:
    bounds = shifts.select("shift_date", "shift_id", *(
        pl.from_epoch(c, time_unit="us").dt.replace_time_zone("UTC").alias(c.replace("_us", "_at"))
        for c in ("shift_start_us", "shift_end_us")))
    return rows.join(bounds, on=["shift_date", "shift_id"], how="left")


@dg.asset(key=KEY, deps=[table_key(t) for t in SOURCES], group_name="kpi",
          description=CATALOG["oee_by_machine_shift"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def oee_by_machine_shift(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    mapping = load_loss_mapping(lake.settings().loss_mapping_path)
    inputs = equipment_inputs(delta)
    rows = pl.from_arrow(collect_arrow(machine_shift_oee(oee_frames(inputs, mapping, lake.frame), mapping)))
    lines = delta.scan("dim_machine").select("machine_id", "line_id").collect()
    rows = _with_shift_times(rows.join(lines, on="machine_id", how="left"), pl.from_arrow(inputs.shifts)).with_columns(
        pl.col("total_count").cast(pl.Int64), pl.col("good_count").cast(pl.Int64), pl.col("failure_count").cast(pl.Int64))
    result = delta.overwrite("oee_by_machine_shift", rows)
    return dg.MaterializeResult(metadata={
        **result.as_metadata(), "performance_above_one": int(rows["is_performance_above_one"].sum()),
        "unknown_time_h": float(rows["unknown_time_s"].sum() / 3600),
        "unmapped_state_time_h": float(rows["unmapped_time_s"].sum() / 3600),
        "micro_stop_threshold_s": mapping.micro_stop_threshold_s})


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


KPI_ASSETS = [oee_by_machine_shift, kpi_daily]
KPI_CHECKS = [ratios_within_bounds, waterfall_adds_up, primary_key_check(CATALOG["kpi_daily"]),
              kpi_ratios_within_bounds, kpi_daily_oee_matches_the_shift_table]
