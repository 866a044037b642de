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
    result = assert_engine_parity(work_order_features, {"inspections": inspections, "consumption": consumption,
                                                        "edges": edges}, spark=spark, sort_by=["work_order_id"],
                                  rel_tol=1e-6)
    assert result.rows > 20
    assert result.polars["input_lot_prior_inspected_units"].sum() > 0
