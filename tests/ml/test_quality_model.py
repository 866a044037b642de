"""The quality model on a small simulated plant: genealogy features find the off-spec supplier lots."""

from __future__ import annotations

import pytest

from lakehouse.parity import assert_engine_parity
from ml.features.quality import GENEALOGY_FEATURES, work_order_features
from tests.ml.model_plant import evaluated, model_plant


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return evaluated(tmp_path_factory.getbasetemp()).quality


def test_genealogy_features_beat_the_same_model_without_them(result):
    with_genealogy, without = result.reports["model"], result.reports["without_genealogy"]
    assert with_genealogy.pr_auc > without.pr_auc or with_genealogy.brier < without.brier


def test_top_features_name_the_input_lots_effect(result):
    top = list(result.importance.head(4).index)
    assert any(name in GENEALOGY_FEATURES for name in top), top


def test_model_is_close_to_the_oracle_and_beats_the_machine_scrap_rate(result):
    reports = result.reports
    assert reports["model"].positives >= 10
    assert reports["model"].pr_auc >= 0.8 * reports["oracle"].pr_auc
    assert reports["model"].pr_auc > reports["naive"].pr_auc
    assert reports["model"].top_decile_lift > 1.5


@pytest.mark.spark
def test_work_order_features_are_the_same_on_polars_and_spark(spark, tmp_path_factory):
    import polars as pl

    lake, _ = model_plant(tmp_path_factory.getbasetemp())
    early = pl.col("occurred_at") < pl.datetime(2026, 1, 12, time_zone="UTC")
    inspections = lake.scan("mes_quality_inspections").filter(early).select(
        "work_order_id", "machine_id", "material_code", "occurred_at", "inspected_quantity", "scrap_quantity",
        "setpoint_deviation_c", "pressure_bar").collect().to_arrow()
    consumption = lake.scan("mes_material_consumption").filter(early).select(
        "work_order_id", pl.col("consumed_lot_code").alias("lot_code"), "occurred_at").collect().to_arrow()
    edges = lake.scan("fct_genealogy_edges").filter(early).select(
        "parent_node_id", "child_node_id", "edge_type", "supplier_id", "occurred_at").collect().to_arrow()
    machine_hours = lake.scan("machine_hour_features").filter(pl.col("predicted_at") < pl.datetime(
        2026, 1, 12, time_zone="UTC")).select(
        "machine_id", "predicted_at", "vibration_mean_48h", "run_h_since_maintenance").collect().to_arrow()
    result = assert_engine_parity(work_order_features, {"inspections": inspections, "consumption": consumption,
                                                        "edges": edges, "machine_hours": machine_hours},
                                  spark=spark, sort_by=["work_order_id"], rel_tol=1e-6)
    assert result.rows > 20
    assert result.polars["input_lot_prior_inspected_units"].sum() > 0
    assert result.polars["machine_vibration_mean_48h"].drop_nulls().len() > result.rows * 0.5


def test_a_sound_lot_is_cleared_by_its_sound_orders():
    """Supplier lot A is off-spec, B sound; W1 consumed both and scrapped, W2 consumed only B and did not. The
    pooled history of B looks bad (W1's scrap), its lowest other-order share clears it; A's does not."""
    from datetime import datetime, timedelta, timezone

    import narwhals as nw
    import polars as pl

    from lakehouse.engines import collect_arrow

    t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    at = [t0 + timedelta(hours=h) for h in range(12)]
    orders = {"W1": (["A", "B"], 1, 100, 10), "W2": (["B"], 2, 100, 1), "W3": (["A"], 3, 100, 8),
              "W4": (["B"], 6, 100, 2), "W5": (["A"], 7, 100, 9)}
    inspections = pl.DataFrame({
        "work_order_id": list(orders), "machine_id": ["M1"] * 5, "material_code": ["300100"] * 5,
        "occurred_at": [at[o[1]] for o in orders.values()], "inspected_quantity": [o[2] for o in orders.values()],
        "scrap_quantity": [o[3] for o in orders.values()], "setpoint_deviation_c": [0.0] * 5,
        "pressure_bar": [6.0] * 5})
    consumption = pl.DataFrame([{"work_order_id": w, "lot_code": f"LOT-{lot}", "occurred_at": at[o[1] - 1]}
                                for w, o in orders.items() for lot in o[0]])
    edges = pl.DataFrame({"parent_node_id": ["SUP:A", "SUP:B"], "child_node_id": ["LOT-A", "LOT-B"],
                          "edge_type": ["receipt", "receipt"], "supplier_id": ["S1", "S1"],
                          "occurred_at": [at[0], at[0]]})
    rows = pl.from_arrow(collect_arrow(work_order_features(
        nw.from_native(inspections.lazy()), nw.from_native(consumption.lazy()), nw.from_native(edges.lazy()))))
    by_order = {r["work_order_id"]: r for r in rows.to_dicts()}
    sound, tainted = by_order["W4"], by_order["W5"]
    assert sound["input_lot_prior_scrap_share_max"] == pytest.approx(11 / 200)  # W1 and W2 through lot B
    assert sound["input_lot_order_scrap_share_min_max"] == pytest.approx(0.01)  # W2 clears lot B
    assert sound["input_lot_high_scrap_order_share_max"] == pytest.approx(0.5)
    assert tainted["input_lot_order_scrap_share_min_max"] == pytest.approx(0.08)  # W1 0.10, W3 0.08 through A
    assert tainted["input_lot_high_scrap_order_share_max"] == pytest.approx(1.0)
    # W1 was inspected first: no other order through its lots had been inspected before it, so no history
    assert by_order["W1"]["input_lot_order_scrap_share_min_max"] is None
