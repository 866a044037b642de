"""End to end: a plant simulated for 3 days and continued by 3 more runs through the whole pipeline with every
check passing, both into a new lake and into a lake that had already landed the first period (the issue:
continuing used to reuse lot, work order, transaction and event ids and broke the ledger checks)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lakehouse.delta_io import DeltaLake
from plantlake import Lake
from simulator import FaultRates, PlantConfig, continue_simulation, simulate

KEYS = ["material_id", "lot_id", "location_id"]


def truth_stock(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path).select(*KEYS, "quantity").sort(KEYS)


def lake_stock(root: Path) -> pl.DataFrame:
    return DeltaLake(root).scan("stock_on_hand").select(*KEYS, "quantity").sort(KEYS).collect()


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("continued_plant")
    landing = root / "landing"
    simulate(PlantConfig(days=3, lines=1, machines_per_line=2, seed=5, fault_rates=FaultRates.none(),
                         signal_interval_s=300), landing)
    first_truth = truth_stock(landing / "truth" / "stock.parquet")
    first = Lake(root / "incremental").run(landing, echo=lambda _: None)
    first_stock = lake_stock(root / "incremental") if first.success else None
    continue_simulation(landing, 3)
    second = Lake(root / "incremental").run(landing, echo=lambda _: None)
    return {"root": root, "landing": landing, "first": first, "second": second, "first_truth": first_truth,
            "first_stock": first_stock}


def test_whole_pipeline_passes_every_check_on_a_continued_plant(plant: dict[str, object]) -> None:
    root, landing = plant["root"], plant["landing"]
    outcome = Lake(root / "lake").run(landing, echo=lambda _: None)
    assert outcome.success, outcome.failure
    assert outcome.failed_checks == []
    ours, truth = lake_stock(root / "lake"), truth_stock(landing / "truth" / "stock.parquet")
    assert ours.height == truth.height > 10
    assert ours.equals(truth)
    lake = DeltaLake(root / "lake")
    assert lake.scan("quarantine_inventory_movements").collect().height == 0
    assert not lake.scan("stock_on_hand").select(pl.col("is_negative").any()).collect().item()


def test_lake_that_landed_the_first_period_takes_the_continuation(plant: dict[str, object]) -> None:
    root, landing = plant["root"], plant["landing"]
    for outcome in (plant["first"], plant["second"]):
        assert outcome.success, outcome.failure
        assert outcome.failed_checks == []
    assert plant["first_truth"].height > 10
    assert plant["first_stock"].equals(plant["first_truth"])  # stock after the first period, as simulated then
    ours, truth = lake_stock(root / "incremental"), truth_stock(landing / "truth" / "stock.parquet")
    assert ours.height == truth.height > 10
    assert ours.equals(truth)
