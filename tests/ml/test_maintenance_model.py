"""The maintenance model on a small simulated plant: against the oracle and the naive rule, and engine parity."""

from __future__ import annotations

import numpy as np
import pytest

from lakehouse.parity import assert_engine_parity
from ml.features.maintenance import breakdown_labels, hourly_signal_stats, machine_hour_features
from tests.ml.model_plant import evaluated, model_plant


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return evaluated(tmp_path_factory.getbasetemp()).maintenance


def test_model_is_close_to_the_oracle_and_beats_the_vibration_alarm(result):
    reports = result.reports
    assert reports["model"].positives > 20
    # a 28-day plant trains on 12 days: 0.75, 0.79, 0.78 and 0.75 of the oracle's PR-AUC on seeds 6, 42, 1 and 8
    # (2026-12-04); the 60-day plant of the acceptance run reaches 1.03 (README, Models)
    assert reports["model"].pr_auc >= 0.7 * reports["oracle"].pr_auc
    assert reports["model"].pr_auc >= 1.15 * reports["naive"].pr_auc
    assert reports["model"].roc_auc > 0.6  # the oracle itself reaches about 0.69 (README, Models)
    # calibrated on 4 validation days of this small plant, its probabilities are rough (Brier 0.255, the oracle's
    # 0.148 on 2026-12-04) but better than the alarm's 0/1 (0.283)
    assert 0 < reports["model"].brier < reports["naive"].brier


def test_alerts_report_lead_time_and_false_alarms_for_model_and_oracle(result):
    for name in ("model", "oracle", "naive"):
        alerts = result.alerts[name]
        assert alerts.breakdowns > 5
        assert 0.0 <= alerts.alerted_4h_ahead_share <= 1.0
        assert alerts.false_alarms_per_machine_week >= 0.0
    assert result.alerts["model"].alerted_4h_ahead_share > 0.3


def test_wear_signals_lead_the_feature_importance(result):
    top = list(result.importance.head(5).index)
    assert any(name.startswith(("vibration", "temperature", "current", "run_h_since")) for name in top), top


def test_oracle_probability_integrates_the_true_hazard(result):
    oracle = result.test_scores["oracle"]
    assert np.all((oracle >= 0) & (oracle <= 1))
    labels = result.split.test["is_breakdown_within_horizon"].to_numpy()
    assert oracle[labels].mean() > oracle[~labels].mean()


@pytest.mark.spark
def test_machine_hour_features_are_the_same_on_polars_and_spark(spark, tmp_path_factory):
    import polars as pl

    lake, _ = model_plant(tmp_path_factory.getbasetemp())
    day = pl.col("source_at").dt.date() <= pl.date(2026, 1, 8)
    signals = lake.scan("machine_signals").filter(day & pl.col("machine_id").is_in(["WC-01-01", "WC-02-02"])) \
        .select("machine_id", "tag", "source_at", "value", "status_code").collect().to_arrow()
    states = lake.scan("mes_equipment_states").select("machine_id", "occurred_at", "state", "reason_code") \
        .collect().to_arrow()
    oee = lake.scan("oee_by_machine_shift").select(
        "machine_id", "shift_end_at", "availability", "performance", "quality").collect().to_arrow()

    def transform(signals, states, oee):
        return breakdown_labels(machine_hour_features(hourly_signal_stats(signals, states), oee), horizon_h=6)

    result = assert_engine_parity(transform, {"signals": signals, "states": states, "oee": oee}, spark=spark,
                                  sort_by=["machine_id", "hour_start_at"], rel_tol=1e-6)
    assert result.rows > 2 * 24 * 3
