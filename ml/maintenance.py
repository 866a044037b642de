"""Predictive maintenance: will machine m break down within the horizon after hour t?

Rows are `ml.features.maintenance` features (gold.machine_hour_features). The model is compared on the same
test rows with the naive rule a plant uses (an ISO 10816 class II vibration alarm: running vibration in the
last hour at or above 2.8 mm/s) and with the oracle (the simulator's true hazard integrated over the next
`horizon_h` hours: 1 - exp(-sum of expected breakdowns)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.evaluation import (AlertReport, ScoreReport, alert_report, best_f1_threshold, score_report,
                           threshold_for_alert_rate)
from ml.training import TimeSplit, feature_importance, fit_calibrated, split_by_time

LABEL = "is_breakdown_within_horizon"
TIME = "predicted_at"
IDENTIFIERS = ("machine_id", "hour_start_at", "predicted_at", "breakdown_starts", LABEL)
VIBRATION_ALARM_MM_S = 2.8


def feature_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c not in IDENTIFIERS and pd.api.types.is_numeric_dtype(rows[c])]


def naive_rule(rows: pd.DataFrame) -> np.ndarray:
    """1 where the last hour's running vibration is at or above the alarm level, else 0."""
    return (rows["vibration_mean_1h"].fillna(0.0) >= VIBRATION_ALARM_MM_S).astype(float).to_numpy()


def oracle_probability(rows: pd.DataFrame, machine_hours: pd.DataFrame, *, horizon_h: int = 24) -> np.ndarray:
    """P(breakdown within the horizon) from the simulator's truth (machine_id, hour_start_at,
    expected_breakdowns): 1 - exp(-sum over the hours [predicted_at, predicted_at + horizon))."""
    truth = machine_hours.sort_values(["machine_id", "hour_start_at"])
    result = np.full(len(rows), np.nan)
    for machine_id, group in rows.groupby("machine_id"):
        hours = truth[truth["machine_id"] == machine_id]
        cumulative = np.concatenate([[0.0], hours["expected_breakdowns"].cumsum().to_numpy()])
        starts = hours["hour_start_at"].to_numpy()
        begin = np.searchsorted(starts, group[TIME].to_numpy(), side="left")
        end = np.searchsorted(starts, (group[TIME] + pd.Timedelta(hours=horizon_h)).to_numpy(), side="left")
        result[rows.index.get_indexer(group.index)] = 1.0 - np.exp(-(cumulative[end] - cumulative[begin]))
    return result


@dataclass
class MaintenanceEvaluation:
    model: object
    features: list[str]
    split: TimeSplit
    reports: dict[str, ScoreReport]
    alerts: dict[str, AlertReport]
    importance: pd.Series
    test_scores: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def model_to_oracle(self) -> float | None:
        return self.reports["model"].pr_auc / self.reports["oracle"].pr_auc if "oracle" in self.reports else None

    @property
    def model_to_naive(self) -> float:
        return self.reports["model"].pr_auc / self.reports["naive"].pr_auc


def train_and_evaluate(rows: pd.DataFrame, breakdown_starts: pd.DataFrame, *, oracle: np.ndarray | None = None,
                       horizon_h: int = 24, seed: int = 0, importance: bool = True) -> MaintenanceEvaluation:
    """Train on the earlier weeks, calibrate on the next, evaluate on the latest window (purged by the horizon).

    rows: features with the label; breakdown_starts: machine_id, started_at (MES); oracle: aligned with rows."""
    rows = rows.reset_index(drop=True)
    if oracle is not None:
        rows = rows.assign(_oracle=oracle)
    features = feature_columns(rows.drop(columns=["_oracle"], errors="ignore"))
    split = split_by_time(rows, time_column=TIME, purge=pd.Timedelta(hours=horizon_h))
    model = fit_calibrated(split, label=LABEL, numeric=features, categorical=[], seed=seed)
    threshold = best_f1_threshold(split.validation[LABEL].to_numpy(),
                                  model.predict_proba(split.validation[features])[:, 1])
    test, labels = split.test, split.test[LABEL].to_numpy()
    scores = {"model": model.predict_proba(test[features])[:, 1], "naive": naive_rule(test)}
    reports = {"model": score_report(labels, scores["model"], threshold=threshold),
               "naive": score_report(labels, scores["naive"], threshold=0.5)}
    alert_rate = float(np.mean(scores["model"] >= threshold))
    alerts = {"model": alert_report(test, scores["model"] >= threshold, breakdown_starts, horizon_h=horizon_h),
              "naive": alert_report(test, scores["naive"] >= 0.5, breakdown_starts, horizon_h=horizon_h)}
    if oracle is not None:
        scores["oracle"] = test["_oracle"].to_numpy()
        oracle_threshold = threshold_for_alert_rate(scores["oracle"], alert_rate)
        reports["oracle"] = score_report(labels, scores["oracle"], threshold=oracle_threshold)
        alerts["oracle"] = alert_report(test, scores["oracle"] >= oracle_threshold, breakdown_starts,
                                        horizon_h=horizon_h)
    ranked = (feature_importance(model, test, label=LABEL, features=features, seed=seed, repeats=3) if importance
              else pd.Series(dtype=float))
    return MaintenanceEvaluation(model, features, split, reports, alerts, ranked, scores)
