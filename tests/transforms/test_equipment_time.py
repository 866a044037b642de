"""OEE per machine and shift, from MES state events, the calendar, counts and routings, equals the simulator's
ground truth to 1e-9 on the demo plant (run without faults) and on a second seed; Polars equals PySpark."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from pipelines.kpi.inputs import EquipmentInputs, equipment_inputs, oee_frames
from pipelines.run import run_everything
from simulator import FaultRates, PlantConfig, simulate
from transforms.loss_mapping import load_loss_mapping
from transforms.machine_shift_oee import OeeFrames, machine_shift_oee

PLANTS = {
    "demo_plant_without_faults": PlantConfig(fault_rates=FaultRates.none()),
    "second_seed": PlantConfig(days=6, lines=1, machines_per_line=3, seed=12, fault_rates=FaultRates.none()),
}
KEYS = ["machine_id", "shift_date", "shift_id"]


@pytest.fixture(scope="module", params=list(PLANTS))
def plant_lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[DeltaLake, Path]:
    plant = tmp_path_factory.mktemp(f"plant_{request.param}")
    simulate(PLANTS[request.param], plant)
    root = tmp_path_factory.mktemp("lake")
    assert run_everything(lake_root=root, source_dir=plant, echo=lambda _: None).success
    return DeltaLake(root), plant


def ours(inputs: EquipmentInputs) -> pl.DataFrame:
    mapping = load_loss_mapping()
    return pl.from_arrow(collect_arrow(machine_shift_oee(oee_frames(inputs, mapping, lazy_frame), mapping)))


def test_oee_per_machine_and_shift_equals_the_truth(plant_lake: tuple[DeltaLake, Path]) -> None:
    lake, plant = plant_lake
    inputs = equipment_inputs(lake)
    truth = pl.read_parquet(plant / "truth" / "oee_by_machine_shift.parquet")
    joined = truth.join(ours(inputs), on=KEYS, how="full", suffix="_ours", coalesce=True)
    assert joined.height == truth.height > 20
    assert joined["planned_time_s_ours"].null_count() == 0 and joined["planned_time_s"].null_count() == 0
    assert (joined["total_count"] == joined["total_count_ours"]).all()
    assert (joined["good_count"] == joined["good_count_ours"]).all()
    for seconds in ("planned_time_s", "run_time_s", "ideal_time_s"):
        assert (joined[seconds] - joined[f"{seconds}_ours"]).abs().max() < 1e-6, seconds  # of ~28,800 s
    produced = joined.filter(pl.col("total_count") > 0)
    assert produced.height > 20 and produced["unknown_time_s"].sum() == 0
    for ratio in ("availability", "performance", "quality", "oee"):
        assert (produced[ratio] - produced[f"{ratio}_ours"]).abs().max() < 1e-9, ratio
    waterfall = (produced["availability_loss_s"] + produced["performance_loss_s"] + produced["quality_loss_s"]
                 + produced["fully_productive_time_s"] - produced["planned_time_s_ours"])
    assert waterfall.abs().max() < 1e-6


def test_failures_equal_the_true_breakdowns(plant_lake: tuple[DeltaLake, Path]) -> None:
    lake, plant = plant_lake
    inputs = equipment_inputs(lake)
    shifts = pl.from_arrow(inputs.shifts)
    breakdowns = pl.read_parquet(plant / "truth" / "breakdowns.parquet").with_columns(
        pl.col("started_at").dt.epoch("us").alias("at_us"))
    in_shift = (breakdowns.join(shifts, how="cross")
                .filter(pl.col("at_us").is_between(pl.col("shift_start_us"), pl.col("shift_end_us"), closed="left"))
                .group_by(KEYS).agg(pl.len().alias("true_failures")))
    result = ours(inputs).join(in_shift, on=KEYS, how="left").with_columns(pl.col("true_failures").fill_null(0))
    assert result["true_failures"].sum() > 0
    assert (result["failure_count"] == result["true_failures"]).all()


@pytest.mark.spark
def test_oee_per_machine_and_shift_agrees_on_polars_and_pyspark(plant_lake: tuple[DeltaLake, Path],
                                                                spark: object) -> None:
    lake, _ = plant_lake
    inputs = equipment_inputs(lake)
    mapping = load_loss_mapping()
    tables = {name: getattr(inputs, name) for name in OeeFrames.__dataclass_fields__ if name not in ("end_us",
                                                                                                 "loss_mapping")}
    tables["loss_mapping"] = mapping.as_table()

    def transform(**frames: object) -> object:
        return machine_shift_oee(OeeFrames(**frames, end_us=inputs.end_us), mapping)  # type: ignore[arg-type]

    result = assert_engine_parity(transform, tables, spark=spark, sort_by=KEYS)
    assert result.rows > 20

