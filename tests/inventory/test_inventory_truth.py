"""The inventory built from what MES and WMS report equals the simulator's physical truth on a clean run."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from lakehouse.commands.stock import stock_as_of
from lakehouse.delta_io import DeltaLake
from pipelines.run import run_everything
from simulator import FaultRates, PlantConfig, simulate
from transforms.standardize import VIRTUAL_LOCATIONS

KEYS = ["material_id", "lot_id", "location_id"]


@pytest.fixture(scope="module")
def clean_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[DeltaLake, Path]:
    plant = tmp_path_factory.mktemp("plant")
    simulate(PlantConfig(days=7, lines=2, machines_per_line=3, seed=21, fault_rates=FaultRates.none()), plant)
    root = tmp_path_factory.mktemp("lake")
    outcome = run_everything(lake_root=root, source_dir=plant, echo=lambda _: None)
    assert outcome.success, outcome.failure
    assert outcome.failed_checks == []
    return DeltaLake(root), plant


def truth_stock_at(plant: Path, moment: datetime | None) -> pl.DataFrame:
    """Rebuild true stock from the simulator's physical movements up to `moment`."""
    movements = pl.read_parquet(plant / "truth" / "movements.parquet")
    if moment is not None:
        movements = movements.filter(pl.col("occurred_at") <= moment)
    leaving = movements.select("material_id", "lot_id", pl.col("from_location_id").alias("location_id"),
                               (-pl.col("quantity")).alias("delta"))
    arriving = movements.select("material_id", "lot_id", pl.col("to_location_id").alias("location_id"),
                                pl.col("quantity").alias("delta"))
    return (pl.concat([leaving, arriving]).filter(~pl.col("location_id").is_in(VIRTUAL_LOCATIONS))
            .group_by(KEYS).agg(pl.col("delta").sum().alias("quantity")).filter(pl.col("quantity") != 0)
            .sort(KEYS))


def test_stock_on_hand_equals_ground_truth_exactly(clean_lake: tuple[DeltaLake, Path]) -> None:
    lake, plant = clean_lake
    ours = lake.scan("stock_on_hand").select(*KEYS, "quantity").sort(KEYS).collect()
    truth = pl.read_parquet(plant / "truth" / "stock.parquet").select(*KEYS, "quantity").sort(KEYS)
    assert ours.height == truth.height > 20
    assert ours.equals(truth)
    assert lake.scan("quarantine_inventory_movements").collect().height == 0
    assert not lake.scan("stock_on_hand").select(pl.col("is_negative").any()).collect().item()


@pytest.mark.parametrize("moment", [datetime(2026, 1, 6, 9, 30, tzinfo=timezone.utc),
                                    datetime(2026, 1, 8, 14, 0, tzinfo=timezone.utc),
                                    datetime(2026, 1, 9, 21, 45, tzinfo=timezone.utc)])
def test_stock_as_of_past_times_equals_truth_rebuilt_from_events(clean_lake: tuple[DeltaLake, Path],
                                                                 moment: datetime) -> None:
    lake, plant = clean_lake
    ours = stock_as_of(lake.root, moment).select(*KEYS, "quantity")
    truth = truth_stock_at(plant, moment)
    assert ours.height > 5
    assert ours.equals(truth)


def test_stock_filters_and_cli(clean_lake: tuple[DeltaLake, Path]) -> None:
    from click.testing import CliRunner

    from lakehouse.cli import main

    lake, plant = clean_lake
    one = stock_as_of(lake.root, material="RM-1001")
    assert one.height > 0 and set(one["material_id"]) == {"RM-1001"}
    result = CliRunner().invoke(main, ["--lake", str(lake.root), "stock", "--material", "RM-1001", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(result.output.encode()).height == one.height
