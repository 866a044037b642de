"""Time-split training of calibrated gradient-boosted classifiers, shared by the maintenance and quality models.

The saved object is the object that scores: a `CalibratedClassifierCV` around a frozen `Pipeline`
(ColumnTransformer + HistGradientBoostingClassifier) fitted on the training window and calibrated (sigmoid)
on the validation window. Splits are by time, never random rows; rows within `purge` before a boundary are
dropped so no label reaches across it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder


@dataclass(frozen=True)
class TimeSplit:
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    validation_start: pd.Timestamp
    test_start: pd.Timestamp


def split_by_time(rows: pd.DataFrame, *, time_column: str, validation_share: float = 0.15,
                  test_share: float = 0.3, purge: pd.Timedelta = pd.Timedelta(0)) -> TimeSplit:
    """Earlier rows train, later rows validate, the latest rows test; `purge` before each boundary dropped."""
    times = rows[time_column]
    start, end = times.min(), times.max()
    test_start = start + (end - start) * (1 - test_share)
    validation_start = start + (end - start) * (1 - test_share - validation_share)
    train = rows[times < validation_start - purge]
    validation = rows[(times >= validation_start) & (times < test_start - purge)]
    test = rows[times >= test_start]
    for name, part in (("train", train), ("validation", validation), ("test", test)):
        if part.empty:
            raise ValueError(f"the {name} window is empty: {len(rows)} rows from {start} to {end} are too few")
    return TimeSplit(train, validation, test, validation_start, test_start)


def build_pipeline(numeric: list[str], categorical: list[str], *, seed: int = 0) -> Pipeline:
    columns = ColumnTransformer(
        [("numeric", "passthrough", numeric)]
        + ([("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                           encoded_missing_value=-1), categorical)] if categorical else []),
        remainder="drop", verbose_feature_names_out=False)
    boosted = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.06, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        categorical_features=list(range(len(numeric), len(numeric) + len(categorical))) or None,
        random_state=seed)
    return Pipeline([("columns", columns), ("model", boosted)])


class TooFewLabels(ValueError):
    """A time window holds only one class of the label: nothing to learn or calibrate from it."""


def require_both_classes(split: TimeSplit, label: str, windows: tuple[str, ...] = ("train", "validation")) -> None:
    for window in windows:
        values = getattr(split, window)[label].astype(bool)
        positives = int(values.sum())
        if positives in (0, len(values)):
            raise TooFewLabels(f"the {window} window ({len(values)} rows) holds {positives} positive "
                               f"'{label}' rows: a model needs both classes in it")


def fit_calibrated(split: TimeSplit, *, label: str, numeric: list[str], categorical: list[str],
                   seed: int = 0) -> CalibratedClassifierCV:
    """The boosted pipeline fitted on the training window and calibrated (sigmoid) on the validation window;
    `TooFewLabels` when either window holds one class only."""
    require_both_classes(split, label)
    pipeline = build_pipeline(numeric, categorical, seed=seed)
    pipeline.fit(split.train[numeric + categorical], split.train[label].astype(bool))
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid")
    calibrated.fit(split.validation[numeric + categorical], split.validation[label].astype(bool))
    return calibrated


def feature_importance(model, rows: pd.DataFrame, *, label: str, features: list[str], seed: int = 0,
                       repeats: int = 5) -> pd.Series:
    """Permutation importance (drop in PR-AUC) of each feature on `rows`, largest first."""
    result = permutation_importance(model, rows[features], rows[label].astype(bool), scoring="average_precision",
                                    n_repeats=repeats, random_state=seed)
    return pd.Series(result.importances_mean, index=features).sort_values(ascending=False)


def typical_values(reference: pd.DataFrame, features: list[str]) -> dict[str, object]:
    """Per feature, its reference value: the median of a numeric column, else the most frequent value
    (features with no non-null reference value are left out)."""
    typical = {}
    for feature in features:
        column = reference[feature].dropna()
        if not column.empty:
            typical[feature] = column.median() if pd.api.types.is_numeric_dtype(column) else column.mode().iloc[0]
    return typical


def risk_and_top_reasons(model, rows: pd.DataFrame, reference: pd.DataFrame, *, features: list[str],
                         top: int = 3, batch_rows: int = 2000) -> tuple[np.ndarray, list[str]]:
    """Per row, the risk (positive-class probability) and the features that raise it most: the drop in risk
    when the feature is set to its reference (training-window median or most frequent) value, formatted
    `name=value (+delta)`.

    One `predict_proba` call scores the rows and every one-feature change of them, stacked (the model scores
    each row on its own, so the figures are those of one call per feature, without the per-call overhead).
    More than `batch_rows` rows are scored `batch_rows` at a time, so the stacked frame stays bounded."""
    typical = typical_values(reference, features)
    risks, reasons = [], []
    for start in range(0, len(rows), batch_rows):
        risk, reason = _risk_and_top_reasons(model, rows.iloc[start:start + batch_rows][features], typical,
                                             features, top)
        risks.append(risk)
        reasons += reason
    return (np.concatenate(risks) if risks else np.zeros(0)), reasons


def _risk_and_top_reasons(model, frame: pd.DataFrame, typical: dict[str, object], features: list[str],
                          top: int) -> tuple[np.ndarray, list[str]]:
    count = len(frame)
    changed = [features.index(f) for f in typical]
    columns = {}
    for index, feature in enumerate(features):
        values = frame[feature].to_numpy()
        stacked = np.tile(values, len(changed) + 1)
        if feature in typical:
            replacement = np.asarray(typical[feature])
            stacked = stacked.astype(np.result_type(stacked.dtype, replacement.dtype)
                                     if stacked.dtype != object else object, copy=False)
            block = 1 + changed.index(index)
            stacked[block * count:(block + 1) * count] = typical[feature]
        columns[feature] = stacked
    probabilities = model.predict_proba(pd.DataFrame(columns, columns=features))[:, 1].reshape(-1, count)
    base = probabilities[0]
    deltas = np.zeros((count, len(features)))
    deltas[:, changed] = (base - probabilities[1:]).T
    order = np.argsort(-deltas, axis=1)[:, :top]
    values = [frame[feature].to_numpy() for feature in features]
    reasons = []
    for row_index in range(count):
        parts = []
        for index in order[row_index]:
            delta = deltas[row_index, index]
            if delta <= 0:
                continue
            parts.append(f"{features[index]}={shown_value(values[index][row_index])} (+{delta:.2f})")
        reasons.append("; ".join(parts))
    return base, reasons


def shown_value(value: object) -> str:
    """A feature value in a reason: 3 significant digits, `missing` for a value the row does not have (no signal
    in the window, no history yet: the model learned what a missing value means, and it can be the reason)."""
    if isinstance(value, (float, np.floating)):
        return "missing" if np.isnan(value) else f"{value:.3g}"
    return "missing" if value is None else str(value)


def top_reasons(model, rows: pd.DataFrame, reference: pd.DataFrame, *, features: list[str],
                top: int = 3) -> list[str]:
    """The top reasons of `risk_and_top_reasons` alone."""
    return risk_and_top_reasons(model, rows, reference, features=features, top=top)[1]
