"""The inventory built from what MES and WMS report equals the simulator's physical truth on a clean run."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from plantlake import Lake
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
    ours = Lake(lake.root).stock(moment).select(*KEYS, "quantity")
    truth = truth_stock_at(plant, moment)
    assert ours.height > 5
    assert ours.equals(truth)


def test_stock_filters_and_cli(clean_lake: tuple[DeltaLake, Path]) -> None:
    from click.testing import CliRunner

    from plantlake.cli import main

    lake, plant = clean_lake
    one = Lake(lake.root).stock(material="RM-1001")
    assert one.height > 0 and set(one["material_id"]) == {"RM-1001"}
    result = CliRunner().invoke(main, ["--lake", str(lake.root), "stock", "--material", "RM-1001", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(result.output.encode()).height == one.height


def _frames(lake: DeltaLake, *names: str) -> dict[str, pa.Table]:
    return {name: lake.read_arrow(name) for name in names}


@pytest.mark.spark
def test_standardization_ledger_and_reconciliation_agree_on_polars_and_pyspark(
        clean_lake: tuple[DeltaLake, Path], spark: object) -> None:
    from lakehouse.parity import assert_engine_parity
    from transforms.reconciliation import handling_units, standard_quantities
    from transforms.standardize import mes_movements, unmapped_wms, wms_movements
    from transforms.stock import ledger
    from transforms.units import unit_factors_to_base

    lake, _ = clean_lake
    factors = unit_factors_to_base(lake.read_arrow("dim_material"), lake.read_arrow("dim_unit_conversion"))
    master = _frames(lake, "map_material_code", "dim_location", "dim_machine", "dim_bom")
    wms = assert_engine_parity(
        lambda wms, code_map, locations, factors: wms_movements(wms, code_map, locations, factors),
        {"wms": lake.read_arrow("wms_transactions"), "code_map": master["map_material_code"],
         "locations": master["dim_location"], "factors": factors}, spark=spark, sort_by=["movement_id"])
    assert wms.rows > 100
    assert_engine_parity(
        lambda wms, code_map, locations, factors: unmapped_wms(wms, code_map, locations, factors),
        {"wms": lake.read_arrow("wms_transactions"), "code_map": master["map_material_code"],
         "locations": master["dim_location"], "factors": factors}, spark=spark)
    mes = assert_engine_parity(
        lambda consumption, lots, code_map, locations, machines, factors: mes_movements(
            consumption, lots, code_map, locations, machines, factors),
        {"consumption": lake.read_arrow("mes_material_consumption"), "lots": lake.read_arrow("mes_lot_events"),
         "code_map": master["map_material_code"], "locations": master["dim_location"],
         "machines": master["dim_machine"], "factors": factors}, spark=spark, sort_by=["movement_id"])
    assert mes.rows > 100
    movements = lake.read_arrow("fct_inventory_movements", columns=[
        "movement_id", "occurred_at", "material_id", "lot_id", "from_location_id", "to_location_id", "quantity",
        "movement_type"])
    entries = assert_engine_parity(lambda movements: ledger(movements, virtual_locations=VIRTUAL_LOCATIONS),
                                   {"movements": movements}, spark=spark, sort_by=["movement_id", "entry_side"])
    assert entries.rows == 2 * movements.num_rows
    releases = lake.scan("mes_work_order_events").filter(pl.col("event_type") == "work_order_released").select(
        "work_order_id", "material_code", "planned_quantity", "unit", "occurred_at").collect().to_arrow()
    standards = assert_engine_parity(
        lambda releases, code_map, factors, bom: standard_quantities(releases, code_map, factors, bom),
        {"releases": releases, "code_map": master["map_material_code"], "factors": factors,
         "bom": master["dim_bom"]}, spark=spark)
    assert standards.rows > 50
    assert_engine_parity(lambda code_map, factors: handling_units(code_map, factors),
                         {"code_map": master["map_material_code"], "factors": factors}, spark=spark)


@pytest.mark.spark
def test_reconciliation_agrees_on_polars_and_pyspark(tmp_path: Path, spark: object) -> None:
    """On a plant with injected discrepancies, so the lot-level rules have episodes to classify."""
    from lakehouse.parity import assert_engine_parity
    from transforms.reconciliation import reconciliation
    from transforms.units import unit_factors_to_base

    plant = tmp_path / "plant"
    simulate(PlantConfig(days=10, lines=2, machines_per_line=3, seed=42,
                         fault_rates=FaultRates(over_issue=0.05, wrong_lot=0.05, unreported_consumption=0.05)), plant)
    assert run_everything(lake_root=tmp_path / "lake", source_dir=plant, echo=lambda _: None).success
    lake = DeltaLake(tmp_path / "lake")
    orders = lake.scan("mes_work_order_events")
    inputs = {
        "movements": lake.read_arrow("fct_inventory_movements"), "ledger": lake.read_arrow("fct_inventory_ledger"),
        "releases": orders.filter(pl.col("event_type") == "work_order_released").select(
            "work_order_id", "material_code", "planned_quantity", "unit", "occurred_at").collect().to_arrow(),
        "started": orders.filter(pl.col("event_type") == "work_order_started").select("work_order_id")
        .collect().to_arrow(),
        "orders": pa.table({"work_order_id": pa.array([], pa.string())}),
        "lots": pa.table({"lot_id": pa.array([], pa.string())}),
        "code_map": lake.read_arrow("map_material_code"),
        "factors": unit_factors_to_base(lake.read_arrow("dim_material"), lake.read_arrow("dim_unit_conversion")),
        "bom": lake.read_arrow("dim_bom")}
    result = assert_engine_parity(
        lambda movements, ledger, releases, started, orders, lots, code_map, factors, bom: reconciliation(
            movements, ledger, releases, started, orders, lots, code_map, factors, bom), inputs, spark=spark)
    assert set(result.polars["difference_type"]) >= {"over_issue", "unreported_consumption"}
