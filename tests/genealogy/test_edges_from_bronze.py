"""Genealogy edges built from bronze MES/WMS equal the simulator's truth on a clean run, on Polars and PySpark."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from genealogy_support import PlantLake, clean_plant_lake

from lakehouse.parity import assert_engine_parity
from transforms.genealogy.edges import EDGE_COLUMNS, genealogy_edges


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> PlantLake:
    return clean_plant_lake(tmp_path_factory.mktemp("genealogy_plant"))


def test_edges_equal_the_truth_as_parent_child_type_sets(plant: PlantLake) -> None:
    edges, truth = plant.edges(), plant.truth_edges()
    ours = set(edges.select("parent_node_id", "child_node_id", "edge_type").iter_rows())
    expected = set(truth.select("parent_lot_id", "child_lot_id", "edge_type").iter_rows())
    assert ours == expected
    assert edges.height == truth.height > 150
    counts = dict(edges.group_by("edge_type").len().iter_rows())
    assert counts == dict(truth.group_by("edge_type").len().iter_rows())
    assert set(counts) == {"receipt", "consumption", "split", "merge", "shipment"}


def test_edge_ids_are_unique_and_the_table_accepts_the_rows(plant: PlantLake) -> None:
    stored = pl.from_arrow(plant.lake.read_arrow("fct_genealogy_edges"))
    assert isinstance(stored, pl.DataFrame)
    assert stored.columns == list(EDGE_COLUMNS)
    assert stored["edge_id"].n_unique() == stored.height == plant.truth_edges().height
    expected_id = pl.concat_str(["edge_type", "source_event_id", "parent_node_id", "child_node_id"], separator=":")
    assert stored.select((pl.col("edge_id") == expected_id).all()).item()
    receipts = stored.filter(pl.col("edge_type") == "receipt")
    assert receipts["parent_node_id"].str.starts_with("SUP:").all() and receipts["supplier_id"].null_count() == 0
    shipments = stored.filter(pl.col("edge_type") == "shipment")
    assert shipments["child_node_id"].str.starts_with("SHP:").all() and shipments["customer_id"].null_count() == 0


def test_a_work_order_links_every_consumed_lot_to_every_produced_lot(plant: PlantLake) -> None:
    edges = plant.edges().filter(pl.col("edge_type") == "consumption")
    inputs = edges.group_by("work_order_id").agg(pl.col("parent_node_id").n_unique().alias("inputs"),
                                                 pl.col("child_node_id").n_unique().alias("outputs"), pl.len())
    assert inputs.filter(pl.col("len") != pl.col("inputs") * pl.col("outputs")).height == 0  # full cross product
    assert inputs.filter(pl.col("outputs") >= 2).height >= 1
    several_of_one_material = (edges.group_by("work_order_id", "material_code")
                               .agg(pl.col("parent_node_id").n_unique().alias("lots")).filter(pl.col("lots") >= 2))
    assert several_of_one_material.height >= 1
    consumed = pl.from_arrow(plant.lake.read_arrow("mes_material_consumption"))
    assert isinstance(consumed, pl.DataFrame)
    allocated = edges.group_by("source_event_id").agg(pl.col("quantity").sum().alias("allocated"))
    check = consumed.join(allocated, left_on="event_id", right_on="source_event_id")
    assert check.height == edges["source_event_id"].n_unique()
    assert (check["quantity"] - check["allocated"]).abs().max() < 1e-6  # allocation adds up to what was consumed


def test_quantities_match_the_truth_where_units_are_comparable(plant: PlantLake) -> None:
    """MES reports in the base unit on a clean run, so consumption (allocated by output share), split and merge
    quantities equal the truth's. WMS reports receipts in its own unit (KG, BOX, PAL), converted here with
    master/unit_conversions.csv; shipments are PCE = EA."""
    keys = ["parent_node_id", "child_node_id", "edge_type"]
    truth = plant.truth_edges().rename({"parent_lot_id": "parent_node_id", "child_lot_id": "child_node_id",
                                        "quantity": "truth_quantity", "occurred_at": "truth_at"})
    joined = plant.edges().join(truth, on=keys, how="inner")
    assert joined.height == truth.height
    mes = joined.filter(pl.col("edge_type").is_in(["consumption", "split", "merge", "shipment"]))
    assert (mes["quantity"] - mes["truth_quantity"]).abs().max() < 1e-6
    # MES/WMS stamp whole seconds or milliseconds; the truth keeps microseconds
    assert (joined["occurred_at"] - joined["truth_at"]).dt.total_microseconds().abs().max() <= 1_000_000
    conversions = _wms_to_base_factors(plant.landing)
    receipts = joined.filter(pl.col("edge_type") == "receipt").join(conversions, on=["material_code", "unit"])
    assert receipts.height == truth.filter(pl.col("edge_type") == "receipt").height
    assert (receipts["quantity"] * receipts["factor"] - receipts["truth_quantity"]).abs().max() < 1e-6


@pytest.mark.spark
def test_edges_agree_on_polars_and_pyspark(plant: PlantLake, spark: object) -> None:
    result = assert_engine_parity(genealogy_edges, plant.bronze_inputs(), spark=spark, sort_by=["edge_id"])
    assert result.rows == plant.truth_edges().height


def _wms_to_base_factors(landing: Path) -> pl.DataFrame:
    """WMS material code and unit -> factor to the base unit (chaining PAL -> BOX -> EA)."""
    codes = pl.read_csv(landing / "master" / "material_code_map.csv").filter(pl.col("system") == "WMS")
    conversions = pl.read_csv(landing / "master" / "unit_conversions.csv")
    base = pl.read_csv(landing / "master" / "materials.csv").select("material_id", "base_unit")
    rows = []
    for material_id, code, unit in codes.select("material_id", "system_material_code", "system_unit").iter_rows():
        steps = {f: (t, x) for m, f, t, x in conversions.iter_rows() if m == material_id}
        target = base.filter(pl.col("material_id") == material_id)["base_unit"].item()
        factor, current = 1.0, unit
        while current != target:
            current, step = steps[current]
            factor *= step
        rows.append((code, unit, factor))
    return pl.DataFrame(rows, schema=["material_code", "unit", "factor"], orient="row")
