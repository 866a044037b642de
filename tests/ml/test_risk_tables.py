"""The scored tables on the model plant: every machine and every open (or recently inspected) work order scored by
the registry's champion, the version named on each row, the risks those of the champion on the same feature rows,
and each order's produced lots those the MES reported."""

from __future__ import annotations

import numpy as np
import polars as pl

from ml.registry import ModelRegistry
from pipelines.models.inputs import feature_rows
from pipelines.models.scoring import RECENT_DAYS
from pipelines.models.training import MAINTENANCE_MODEL, QUALITY_MODEL
from tests.ml.model_plant import model_plant


def test_machine_risk_scores_every_machine_with_the_champion(tmp_path_factory):
    lake, _ = model_plant(tmp_path_factory.getbasetemp())
    champion = ModelRegistry(lake.root).champion(MAINTENANCE_MODEL)
    assert champion is not None, "the 28-day model plant trains a maintenance champion"
    model, version = champion
    risk = lake.scan("machine_risk").collect().sort("machine_id")
    hours = feature_rows(lake, "machine_hour_features")
    latest = hours.sort_values("hour_start_at").groupby("machine_id").tail(1).sort_values("machine_id")
    assert risk["machine_id"].to_list() == latest["machine_id"].tolist() and risk.height == 6
    assert set(risk["model_version"]) == {str(version)} and set(risk["model_name"]) == {MAINTENANCE_MODEL}
    expected = model.predict_proba(latest[list(model.feature_names_in_)])[:, 1]
    np.testing.assert_allclose(risk["breakdown_risk"].to_numpy(), expected, rtol=1e-12)
    assert ((risk["breakdown_risk"] > 0) & (risk["breakdown_risk"] < 1)).all()
    assert risk["top_reasons"].str.contains(r"=.* \(\+0\.\d\d\)").sum() >= 3


def test_quality_risk_scores_open_and_recent_orders_with_their_produced_lots(tmp_path_factory):
    lake, _ = model_plant(tmp_path_factory.getbasetemp())
    champion = ModelRegistry(lake.root).champion(QUALITY_MODEL)
    assert champion is not None, "the 28-day model plant trains a quality champion"
    model, version = champion
    risk = lake.scan("quality_risk").collect()
    orders = feature_rows(lake, "work_order_quality_features")
    completed = set(lake.scan("mes_work_order_events").filter(pl.col("event_type") == "work_order_completed")
                    .collect()["work_order_id"])
    recent = orders["predicted_at"] >= orders["predicted_at"].max() - np.timedelta64(RECENT_DAYS, "D")
    wanted = orders[~orders["work_order_id"].isin(completed) | recent]
    assert sorted(risk["work_order_id"]) == sorted(wanted["work_order_id"]) and risk.height >= 10
    assert risk["is_open"].sum() == (~wanted["work_order_id"].isin(completed)).sum() > 0
    assert set(risk["model_version"]) == {str(version)}
    scored = risk.sort("work_order_id")
    rows = wanted.sort_values("work_order_id")
    np.testing.assert_allclose(scored["high_scrap_risk"].to_numpy(),
                               model.predict_proba(rows[list(model.feature_names_in_)])[:, 1], rtol=1e-12)
    produced = (lake.scan("mes_lot_events").filter(pl.col("event_type") == "lot_produced")
                .group_by("work_order_id").agg(pl.col("lot_code").unique().sort()).collect())
    by_order = dict(zip(produced["work_order_id"].to_list(), produced["lot_code"].to_list()))
    with_lots = 0
    for order, lots in zip(scored["work_order_id"].to_list(), scored["produced_lot_ids"].to_list()):
        assert (lots or []) == by_order.get(order, []), order
        with_lots += bool(lots)
    assert with_lots >= risk.height // 2
