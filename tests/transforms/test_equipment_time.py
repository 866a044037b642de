"""Planned and run time per machine and shift, from MES state events and the calendar, equal the simulator's
truth; the same definition agrees on Polars and PySpark."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from pipelines.run import run_everything
from simulator import FaultRates, PlantConfig, simulate
from transforms.equipment_time import shift_times, state_intervals
from transforms.shift_calendar import shift_instances

START, DAYS = dt.date(2026, 1, 5), 6


@pytest.fixture(scope="module")
def plant_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[DeltaLake, Path]:
    plant = tmp_path_factory.mktemp("plant")
    simulate(PlantConfig(days=DAYS, lines=1, machines_per_line=3, seed=12, fault_rates=FaultRates.none()), plant)
    root = tmp_path_factory.mktemp("lake")
    assert run_everything(lake_root=root, source_dir=plant, echo=lambda _: None).success
    return DeltaLake(root), plant


def inputs(lake: DeltaLake) -> tuple[pa.Table, pa.Table, int]:
    events = lake.scan("mes_equipment_states").select(
        "machine_id", pl.col("occurred_at").dt.epoch("us").alias("occurred_at_us"), "state", "reason_code"
    ).collect().to_arrow()
    plant = lake.read_arrow("dim_plant").to_pylist()[0]
    shifts = shift_instances(lake.read_arrow("dim_shift"), lake.read_arrow("dim_shift_break"),
                             plant["plant_timezone"], START, START + dt.timedelta(days=DAYS - 1))
    end_us = int(dt.datetime.combine(START + dt.timedelta(days=DAYS), dt.time(), dt.timezone.utc).timestamp() * 1e6)
    return events, shifts, end_us


def test_planned_and_run_time_equal_the_truth(plant_lake: tuple[DeltaLake, Path]) -> None:
    lake, plant = plant_lake
    events, shifts, end_us = inputs(lake)
    ours = pl.from_arrow(collect_arrow(shift_times(state_intervals(lazy_frame(events), end_us), lazy_frame(shifts))))
    truth = pl.read_parquet(plant / "truth" / "oee_by_machine_shift.parquet")
    joined = truth.join(ours, on=["machine_id", "shift_date", "shift_id"], how="inner", suffix="_ours")
    assert joined.height == truth.height == ours.height > 20
    assert (joined["shift_start_at"].dt.epoch("us") == joined["shift_start_us"]).all()
    assert (joined["planned_time_s"] - joined["planned_time_s_ours"]).abs().max() < 0.01
    assert (joined["run_time_s"] - joined["run_time_s_ours"]).abs().max() < 0.01  # MES stamps milliseconds


def count_inputs(lake: DeltaLake) -> tuple[pa.Table, pa.Table]:
    code_map = lake.scan("map_material_code").filter(pl.col("system") == "MES").select(
        pl.col("system_material_code").alias("material_code"), "material_id")
    counts = (lake.scan("mes_production_counts").join(code_map, on="material_code")
              .select("machine_id", "material_id", pl.col("occurred_at").dt.epoch("us").alias("counted_at_us"),
                      pl.col("quantity").cast(pl.Int64).alias("total_count"),
                      pl.col("good_quantity").cast(pl.Int64).alias("good_count")).collect().to_arrow())
    ideal = lake.scan("dim_routing").select("machine_id", "material_id", "ideal_cycle_time_s").unique().collect()
    return counts, ideal.to_arrow()


def test_oee_per_machine_and_shift_equals_the_truth(plant_lake: tuple[DeltaLake, Path]) -> None:
    from transforms.equipment_time import machine_shift_oee_inputs, shift_counts
    from transforms.oee import oee_components

    lake, plant = plant_lake
    events, shifts, end_us = inputs(lake)
    counts, ideal = count_inputs(lake)
    times = shift_times(state_intervals(lazy_frame(events), end_us), lazy_frame(shifts))
    per_shift = shift_counts(lazy_frame(counts), lazy_frame(shifts), lazy_frame(ideal))
    ours = pl.from_arrow(collect_arrow(oee_components(machine_shift_oee_inputs(times, per_shift))))
    truth = pl.read_parquet(plant / "truth" / "oee_by_machine_shift.parquet")
    joined = truth.join(ours, on=["machine_id", "shift_date", "shift_id"], how="inner", suffix="_ours")
    assert joined.height == truth.height
    assert (joined["total_count"] == joined["total_count_ours"]).all()
    assert (joined["good_count"] == joined["good_count_ours"]).all()
    assert (joined["ideal_time_s"] - joined["ideal_time_s_ours"]).abs().max() < 1e-6
    produced = joined.filter(pl.col("total_count") > 0)
    assert produced.height > 10
    for column, tolerance in (("availability", 1e-6), ("performance", 1e-6), ("quality", 1e-12), ("oee", 1e-6)):
        assert (produced[column] - produced[f"{column}_ours"]).abs().max() < tolerance, column


@pytest.mark.spark
def test_equipment_time_agrees_on_polars_and_pyspark(plant_lake: tuple[DeltaLake, Path], spark: object) -> None:
    lake, _ = plant_lake
    events, shifts, end_us = inputs(lake)
    result = assert_engine_parity(lambda events, shifts: shift_times(state_intervals(events, end_us), shifts),
                                  {"events": events, "shifts": shifts}, spark=spark,
                                  sort_by=["machine_id", "shift_date", "shift_id"])
    assert result.rows > 20
