"""Quality prediction: will work order w scrap at least 4 % of its units?

Rows are `ml.features.quality` features (gold.work_order_quality_features). The model is compared on the
same test rows with the naive rule a plant uses (the scrap share of the order's first machine over the
week before `predicted_at`), with the same model trained without the genealogy features, and with the
oracle (the simulator's true, unit-weighted defect probability of the order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.evaluation import ScoreReport, best_f1_threshold, score_report, threshold_for_alert_rate
from ml.features.quality import GENEALOGY_FEATURES, PROCESS_FEATURES, WEAR_FEATURES
from ml.training import TimeSplit, feature_importance, fit_calibrated, split_by_time

LABEL = "is_high_scrap"
TIME = "predicted_at"
CATEGORICAL = ["material_code", "first_machine_id"]


def naive_rule(rows: pd.DataFrame, inspections: pd.DataFrame, *, days: int = 7) -> np.ndarray:
    """Scrap share of the order's first machine over the `days` before `predicted_at` (other orders only)."""
    result = np.zeros(len(rows))
    inspections = inspections.sort_values("occurred_at")
    for machine_id, group in rows.groupby("first_machine_id"):
        history = inspections[inspections["machine_id"] == machine_id]
        times = history["occurred_at"].to_numpy()
        scrap = np.concatenate([[0.0], history["scrap_quantity"].cumsum().to_numpy()])
        inspected = np.concatenate([[0.0], history["inspected_quantity"].cumsum().to_numpy()])
        end = np.searchsorted(times, group[TIME].to_numpy(), side="left")
        begin = np.searchsorted(times, (group[TIME] - pd.Timedelta(days=days)).to_numpy(), side="left")
        total = inspected[end] - inspected[begin]
        share = np.divide(scrap[end] - scrap[begin], total, out=np.zeros(len(group)), where=total > 0)
        result[rows.index.get_indexer(group.index)] = share
    return result


def oracle_probability(rows: pd.DataFrame, production_chunks: pd.DataFrame) -> np.ndarray:
    """The true defect probability of each order, weighted by the units of its production chunks."""
    chunks = production_chunks.assign(_weighted=production_chunks["defect_probability"] * production_chunks["units"])
    per_order = chunks.groupby("work_order_id")[["_weighted", "units"]].sum()
    probability = per_order["_weighted"] / per_order["units"]
    return rows["work_order_id"].map(probability).to_numpy(dtype=float)


@dataclass
class QualityEvaluation:
    model: object
    model_without_genealogy: object
    features: list[str]
    split: TimeSplit
    reports: dict[str, ScoreReport]
    importance: pd.Series

    @property
    def model_to_oracle(self) -> float | None:
        return self.reports["model"].pr_auc / self.reports["oracle"].pr_auc if "oracle" in self.reports else None


def train_and_evaluate(rows: pd.DataFrame, inspections: pd.DataFrame, *, oracle: np.ndarray | None = None,
                       seed: int = 0, importance: bool = True) -> QualityEvaluation:
    rows = rows.sort_values(TIME).reset_index(drop=True) if oracle is None else \
        rows.assign(_oracle=oracle).sort_values(TIME).reset_index(drop=True)
    numeric = list(PROCESS_FEATURES) + list(WEAR_FEATURES) + list(GENEALOGY_FEATURES)
    split = split_by_time(rows, time_column=TIME, validation_share=0.2, test_share=0.35)
    model = fit_calibrated(split, label=LABEL, numeric=numeric, categorical=CATEGORICAL, seed=seed)
    plain_numeric = list(PROCESS_FEATURES) + list(WEAR_FEATURES)
    plain = fit_calibrated(split, label=LABEL, numeric=plain_numeric, categorical=CATEGORICAL, seed=seed)
    features = numeric + CATEGORICAL
    plain_features = plain_numeric + CATEGORICAL
    validation = split.validation
    threshold = best_f1_threshold(validation[LABEL].to_numpy(), model.predict_proba(validation[features])[:, 1])
    plain_threshold = best_f1_threshold(validation[LABEL].to_numpy(),
                                        plain.predict_proba(validation[plain_features])[:, 1])
    test, labels = split.test, split.test[LABEL].to_numpy()
    scores = model.predict_proba(test[features])[:, 1]
    naive = naive_rule(test, inspections)
    naive_threshold = best_f1_threshold(validation[LABEL].to_numpy(), naive_rule(validation, inspections))
    reports = {"model": score_report(labels, scores, threshold=threshold),
               "without_genealogy": score_report(labels, plain.predict_proba(test[plain_features])[:, 1],
                                                 threshold=plain_threshold),
               "naive": score_report(labels, naive, threshold=naive_threshold, is_probability=False)}
    if oracle is not None:
        oracle_scores = test["_oracle"].to_numpy()
        reports["oracle"] = score_report(
            labels, oracle_scores, threshold=threshold_for_alert_rate(oracle_scores, float(np.mean(scores >= threshold))),
            is_probability=False)
    ranked = (feature_importance(model, test, label=LABEL, features=features, seed=seed) if importance
              else pd.Series(dtype=float))
    return QualityEvaluation(model, plain, features, split, reports, ranked)
