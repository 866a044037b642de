"""Evaluation on a test window: ranking and calibration metrics, alerts (maintenance) and lift (quality).

Every score (model, naive rule, oracle) is measured on the same rows with the same functions, so the
ratios model / oracle and model / naive compare like with like.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, precision_recall_curve, roc_auc_score


@dataclass(frozen=True)
class ScoreReport:
    rows: int
    positives: int
    pr_auc: float
    roc_auc: float
    brier: float | None  # only for scores that are probabilities
    threshold: float
    precision: float
    recall: float
    top_decile_lift: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items() if v is not None}


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold with the best F1 (chosen on the validation window, then applied unchanged to test)."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))]) if len(thresholds) else 0.5


def score_report(labels: np.ndarray, scores: np.ndarray, *, threshold: float,
                 is_probability: bool = True) -> ScoreReport:
    labels, scores = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=float)
    if labels.all() or not labels.any():
        raise ValueError(f"the test window needs both classes to be evaluated ({int(labels.sum())} positives "
                         f"in {len(labels)} rows)")
    alerts = scores >= threshold
    true_alerts = int((alerts & labels).sum())
    return ScoreReport(
        rows=len(labels), positives=int(labels.sum()), pr_auc=float(average_precision_score(labels, scores)),
        roc_auc=float(roc_auc_score(labels, scores)),
        brier=float(brier_score_loss(labels, np.clip(scores, 0, 1))) if is_probability else None,
        threshold=float(threshold), precision=true_alerts / max(int(alerts.sum()), 1),
        recall=true_alerts / int(labels.sum()), top_decile_lift=top_decile_lift(labels, scores))


def top_decile_lift(labels: np.ndarray, scores: np.ndarray) -> float:
    """Positive rate among the 10 % highest scores divided by the overall positive rate."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    top = np.asarray(labels, dtype=bool)[order[:max(1, len(order) // 10)]]
    return float(top.mean() / max(np.mean(labels), 1e-12))


def threshold_for_alert_rate(scores: np.ndarray, alert_rate: float) -> float:
    """The threshold at which `scores` alert the same share of rows (the same alert budget)."""
    if alert_rate <= 0:
        return float(np.max(scores)) + 1.0
    return float(np.quantile(np.asarray(scores, dtype=float), 1.0 - alert_rate))


@dataclass(frozen=True)
class AlertReport:
    breakdowns: int
    alerted_4h_ahead_share: float
    median_lead_h: float | None
    false_alarms_per_machine_week: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items() if v is not None}


def alert_report(rows: pd.DataFrame, alerts: np.ndarray, breakdown_starts: pd.DataFrame, *,
                 horizon_h: int = 24, min_lead_h: float = 4.0) -> AlertReport:
    """Lead time and false alarms of hourly alerts.

    rows: machine_id, predicted_at, is_breakdown_within_horizon (the test window, hourly);
    breakdown_starts: machine_id, started_at (MES breakdowns inside the window).
    A breakdown's lead time is the time from the first alert in the `horizon_h` hours before it to its
    start; a false alarm is an alert episode (consecutive alerting hours of a machine) in which no row has
    a breakdown within the horizon."""
    frame = rows.assign(alert=np.asarray(alerts, dtype=bool)).sort_values(["machine_id", "predicted_at"])
    leads = []
    window_start, window_end = frame["predicted_at"].min(), frame["predicted_at"].max()
    inside = breakdown_starts[(breakdown_starts["started_at"] > window_start + pd.Timedelta(hours=horizon_h))
                              & (breakdown_starts["started_at"] <= window_end)]
    by_machine = {m: g for m, g in frame[frame["alert"]].groupby("machine_id")}
    for machine_id, started_at in inside[["machine_id", "started_at"]].itertuples(index=False):
        alerted = by_machine.get(machine_id)
        if alerted is None:
            leads.append(None)
            continue
        before = alerted[(alerted["predicted_at"] <= started_at)
                         & (alerted["predicted_at"] > started_at - pd.Timedelta(hours=horizon_h))]
        leads.append((started_at - before["predicted_at"].min()).total_seconds() / 3600 if len(before) else None)
    episode = frame["alert"] & ~frame.groupby("machine_id")["alert"].shift(1, fill_value=False)
    frame = frame.assign(episode_id=episode.groupby(frame["machine_id"]).cumsum())
    alerting = frame[frame["alert"]]
    episodes = alerting.groupby(["machine_id", "episode_id"])["is_breakdown_within_horizon"].any()
    false_alarms = int((~episodes).sum())
    machine_weeks = len(frame) / 168.0
    found = [lead for lead in leads if lead is not None]
    return AlertReport(
        breakdowns=len(leads), alerted_4h_ahead_share=sum(lead >= min_lead_h for lead in found) / max(len(leads), 1),
        median_lead_h=float(np.median(found)) if found else None,
        false_alarms_per_machine_week=false_alarms / max(machine_weeks, 1e-12))
