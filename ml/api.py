"""Models on any tabular frame, for data scientists: pandas or Polars in, a fitted scikit-learn Pipeline and an
evaluation report out: the same kind of model as the lake's maintenance and quality assets (`ml/training.py`),
with the same split rules and leakage refusal (`ml/leakage.py`), for a frame a person brings.

    model = fit_classifier(frame, target="Machine failure", time_column="UDI", exclude=["TWF", "HDF", ...])
    model.report            # PR-AUC, ROC-AUC, Brier, precision and recall at the chosen threshold, on the test rows
    model.pipeline.predict_proba(new_rows)[:, 1]

    trajectories = remaining_useful_life(frame, unit_column="unit", time_column="cycle", cap=125)
    model = fit_regressor(trajectories, target="rul", group_column="unit")   # RMSE, MAE on unseen units

Splits never take random rows of a time series: with `time_column` the earliest rows train, later ones validate
and the latest test (cut at time values, so one moment is never on both sides); with `group_column` whole groups
(machines, units) go to one side only. The classifier is a HistGradientBoostingClassifier whose probabilities are
calibrated on the validation rows (isotonic with at least 50 positives there, else sigmoid); the threshold is
the one with the best F1 on the validation rows; the test rows are used for the report only. The regressor trains
on the training and validation rows and is reported on the test rows. Before anything is fitted, `ml.leakage`
refuses columns that leak the target and identifiers as features (`LeakageError`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import (average_precision_score, brier_score_loss, mean_absolute_error, precision_score,
                             recall_score, roc_auc_score, root_mean_squared_error)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from ml.leakage import LeakageError, refuse_leaks

__all__ = ["EvaluationReport", "FittedModel", "LeakageError", "fit_classifier", "fit_regressor",
           "remaining_useful_life", "to_pandas"]

SHARES = {"train": 0.6, "validation": 0.2, "test": 0.2}
RUL_CAP = 125


@dataclass(frozen=True)
class EvaluationReport:
    task: Literal["classification", "regression"]
    target: str
    split: str  # how rows were split, in words
    rows: dict[str, int]  # train / validation / test
    metrics: dict[str, float]  # on the test rows
    features: list[str]
    threshold: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.task} of {self.target!r}, {self.split}",
                 "rows: " + ", ".join(f"{name} {count:,}" for name, count in self.rows.items()),
                 f"features ({len(self.features)}): {', '.join(self.features)}"]
        if self.threshold is not None:
            lines.append(f"threshold: {self.threshold:.3f} (best F1 on the validation rows)")
        lines.append("test: " + ", ".join(f"{name} {value:.3f}" for name, value in self.metrics.items()))
        return "\n".join(lines)


@dataclass(frozen=True)
class FittedModel:
    pipeline: Pipeline
    report: EvaluationReport

    def predict(self, frame: Any) -> np.ndarray:
        """Probabilities of the positive class (classifier) or predictions (regressor) for new rows."""
        rows = to_pandas(frame)[self.report.features]
        if self.report.task == "classification":
            return self.pipeline.predict_proba(rows)[:, 1]
        return self.pipeline.predict(rows)


def to_pandas(frame: Any) -> pd.DataFrame:
    """pandas, Polars, PyArrow (anything Narwhals reads eagerly) as a pandas DataFrame."""
    if isinstance(frame, pd.DataFrame):
        return frame.reset_index(drop=True)
    return nw.from_native(frame, eager_only=True).to_pandas().reset_index(drop=True)


def remaining_useful_life(frame: Any, *, unit_column: str, time_column: str, cap: float | None = RUL_CAP,
                          name: str = "rul") -> pd.DataFrame:
    """Run-to-failure trajectories with the remaining useful life of each row: the unit's last time minus the
    row's, capped at `cap` (125 cycles, as in the C-MAPSS literature: early in life the remaining life is not
    observable from the sensors, so a constant is the honest target)."""
    rows = to_pandas(frame)
    _require(rows, [unit_column, time_column])
    life = rows.groupby(unit_column)[time_column].transform("max") - rows[time_column]
    rows[name] = life.clip(upper=cap) if cap is not None else life
    return rows


def fit_classifier(frame: Any, *, target: str, time_column: str | None = None, group_column: str | None = None,
                   exclude: Sequence[str] = (), random_state: int = 0) -> FittedModel:
    """Fit a calibrated gradient-boosted classifier of a 0/1 `target` and report it on held-out later rows
    (`time_column`) or unseen groups (`group_column`). Every other column is a feature unless in `exclude`."""
    rows = to_pandas(frame)
    features = _features(rows, target, time_column, group_column, exclude)
    labels = rows[target]
    if labels.isna().any() or not set(pd.unique(labels)) <= {0, 1, True, False}:
        raise ValueError(f"target {target!r} must be 0/1 (or boolean) on every row")
    rows[target] = labels.astype(int)
    refuse_leaks(rows, target, features, task="classification")
    parts, split = _split(rows, time_column, group_column, random_state, ("train", "validation", "test"))
    for name, part in parts.items():
        if part[target].nunique() < 2:
            raise ValueError(f"the {name} rows ({split}) hold only one class of {target!r}; more data or another "
                             "split is needed")
    columns, categorical = _column_transformer(rows, features)
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=random_state)
    fitted = Pipeline([("columns", columns), ("model", model)]).fit(parts["train"][features], parts["train"][target])
    validation = parts["validation"]
    method = "isotonic" if validation[target].sum() >= 50 else "sigmoid"
    calibrated = CalibratedClassifierCV(FrozenEstimator(fitted.named_steps["model"]), method=method)
    calibrated.fit(fitted.named_steps["columns"].transform(validation[features]), validation[target])
    pipeline = Pipeline([("columns", fitted.named_steps["columns"]), ("model", calibrated)])
    threshold = _best_f1_threshold(validation[target].to_numpy(), pipeline.predict_proba(validation[features])[:, 1])
    test = parts["test"]
    scores = pipeline.predict_proba(test[features])[:, 1]
    truth = test[target].to_numpy()
    alerts = scores >= threshold
    metrics = {"pr_auc": average_precision_score(truth, scores), "roc_auc": roc_auc_score(truth, scores),
               "brier": brier_score_loss(truth, scores),
               "precision": precision_score(truth, alerts, zero_division=0.0),
               "recall": recall_score(truth, alerts, zero_division=0.0), "prevalence": float(truth.mean())}
    report = EvaluationReport("classification", target, split, {k: len(v) for k, v in parts.items()},
                              {k: float(v) for k, v in metrics.items()}, features, float(threshold),
                              {"calibration": method})
    return FittedModel(pipeline, report)


def fit_regressor(frame: Any, *, target: str, time_column: str | None = None, group_column: str | None = None,
                  exclude: Sequence[str] = (), cap: float | None = None, random_state: int = 0) -> FittedModel:
    """Fit a gradient-boosted regressor (e.g. remaining useful life, see `remaining_useful_life`) and report
    RMSE and MAE on held-out later rows or unseen groups. `cap` clips the target from above before fitting."""
    rows = to_pandas(frame)
    features = _features(rows, target, time_column, group_column, exclude)
    if rows[target].isna().any() or rows[target].dtype.kind not in "iuf":
        raise ValueError(f"target {target!r} must be a number on every row")
    if cap is not None:
        rows[target] = rows[target].clip(upper=cap)
    refuse_leaks(rows, target, features, task="regression")
    parts, split = _split(rows, time_column, group_column, random_state, ("train", "test"))
    columns, categorical = _column_transformer(rows, features)
    model = HistGradientBoostingRegressor(categorical_features=categorical, random_state=random_state)
    pipeline = Pipeline([("columns", columns), ("model", model)]).fit(parts["train"][features],
                                                                      parts["train"][target])
    test = parts["test"]
    predicted = pipeline.predict(test[features])
    truth = test[target].to_numpy()
    metrics = {"rmse": root_mean_squared_error(truth, predicted), "mae": mean_absolute_error(truth, predicted),
               "rmse_of_mean": root_mean_squared_error(truth, np.full(len(truth), parts["train"][target].mean()))}
    report = EvaluationReport("regression", target, split, {k: len(v) for k, v in parts.items()},
                              {k: float(v) for k, v in metrics.items()}, features,
                              extra={"cap": cap})
    return FittedModel(pipeline, report)


def _require(rows: pd.DataFrame, columns: Sequence[str | None]) -> None:
    missing = [c for c in columns if c is not None and c not in rows.columns]
    if missing:
        raise KeyError(f"no column {', '.join(map(repr, missing))} in the frame; it has {list(rows.columns)}")


def _features(rows: pd.DataFrame, target: str, time_column: str | None, group_column: str | None,
              exclude: Sequence[str]) -> list[str]:
    if (time_column is None) == (group_column is None):
        raise ValueError("pass exactly one of time_column= (train on earlier rows, test on later ones) or "
                         "group_column= (test on unseen groups); random rows of a time series leak the future")
    _require(rows, [target, time_column, group_column, *exclude])
    left_out = {target, time_column, group_column, *exclude}
    features = [c for c in rows.columns if c not in left_out]
    unusable = [c for c in features if rows[c].dtype.kind in "mMcV"]
    if unusable:
        raise ValueError(f"columns {unusable} are dates, durations or other types a model cannot take; derive "
                         "numbers from them or exclude them")
    if not features:
        raise ValueError("no feature columns left")
    return features


def _column_transformer(rows: pd.DataFrame, features: list[str]) -> tuple[ColumnTransformer, list[bool]]:
    numeric = [c for c in features if rows[c].dtype.kind in "biuf"]
    categorical = [c for c in features if c not in numeric]
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    columns = ColumnTransformer([("numeric", "passthrough", numeric), ("categorical", encoder, categorical)],
                                verbose_feature_names_out=False)
    return columns, [False] * len(numeric) + [True] * len(categorical)


def _split(rows: pd.DataFrame, time_column: str | None, group_column: str | None, random_state: int,
           names: tuple[str, ...]) -> tuple[dict[str, pd.DataFrame], str]:
    shares = np.array([SHARES[n] for n in names]) / sum(SHARES[n] for n in names)
    bounds = np.cumsum(shares)[:-1]
    if time_column is not None:
        times = rows[time_column]
        if times.isna().any():
            raise ValueError(f"time column {time_column!r} has empty values")
        distinct = np.sort(pd.unique(times))
        if len(distinct) < len(names):
            raise ValueError(f"time column {time_column!r} has fewer distinct values than the split has parts")
        cuts = [distinct[min(int(round(b * len(distinct))), len(distinct) - 1)] for b in bounds]
        part_of = np.searchsorted(np.asarray(cuts), times.to_numpy(), side="right")
        split = f"by time ({time_column}): " + ", ".join(
            f"{name} from {cut}" for name, cut in zip(names[1:], cuts))
    else:
        groups = pd.unique(rows[group_column])
        if len(groups) < 2 * len(names):
            raise ValueError(f"group column {group_column!r} has {len(groups)} groups; at least {2 * len(names)} "
                             "are needed to hold whole groups out")
        shuffled = np.random.default_rng(random_state).permutation(groups)
        ends = [int(round(b * len(groups))) for b in bounds]
        assignment = {group: int(np.searchsorted(ends, index, side="right")) for index, group in enumerate(shuffled)}
        part_of = rows[group_column].map(assignment).to_numpy()
        counts = np.bincount(list(assignment.values()), minlength=len(names))
        split = f"by group ({group_column}): " + ", ".join(f"{name} {n} groups" for name, n in zip(names, counts))
    parts = {name: rows[part_of == index].reset_index(drop=True) for index, name in enumerate(names)}
    empty = [name for name, part in parts.items() if part.empty]
    if empty:
        raise ValueError(f"the {', '.join(empty)} part of the split ({split}) is empty")
    return parts, split


def _best_f1_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
    candidates = np.unique(scores)
    best, best_f1 = 0.5, -1.0
    positives = truth.sum()
    for threshold in candidates:
        alerts = scores >= threshold
        true_alerts = (alerts & (truth == 1)).sum()
        f1 = 2 * true_alerts / (alerts.sum() + positives) if (alerts.sum() + positives) else 0.0
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best
