"""Refuse obvious target leakage before a model is fitted: columns that are the target under another name, that
are computed from it, that are parts of it, and identifiers used as features.

The checks (pandas in; `ml.api` converts Polars and others):
- **target under another name**: equal to the target on every row, or a one-to-one relabelling of it
  (`failed` = "yes"/"no" beside `failure` = 1/0).
- **computed from the target** (regression): a numeric column whose correlation with the target is 1 (a
  linear function of it), or equal to the capped target.
- **perfectly separating** (classification): a numeric column above some threshold exactly where the target is
  positive, or a category whose values never mix the classes while the column has fewer distinct values than
  half the rows (a continuous reading always "separates" rows one by one, and that is no leak).
- **parts of the target**: 0/1 columns whose ones are all positive rows and which, together, cover at least
  `PARTS_COVERAGE` of the positives: failure-mode flags beside the failure label they make up (the AI4I 2020
  shape: `Machine failure` = TWF or HDF or PWF or OSF or RNF).
- **identifier as a feature**: a name that says so (`*_id`, `id`, `UDI`, `uuid`, `Product ID`, ...) or an
  integer or text column with a different value on every row.

Each finding names the column and the reason; `LeakageError` carries them all and says how to leave the
columns out (`exclude=[...]`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

PARTS_COVERAGE = 0.9
MIN_PART_ROWS = 3
IDENTIFIER_NAME = re.compile(r"(^|[^a-z0-9])(id|ids|uuid|guid|udi|key|serial|serial number|row number|index)$")


@dataclass(frozen=True)
class Leak:
    column: str
    reason: str


class LeakageError(ValueError):
    """Feature columns that leak the target or identify rows; `leaks` lists them with the reason."""

    def __init__(self, target: str, leaks: list[Leak]):
        self.leaks = leaks
        listed = "; ".join(f"{leak.column!r}: {leak.reason}" for leak in leaks)
        names = ", ".join(repr(leak.column) for leak in leaks)
        super().__init__(f"refusing to fit on target {target!r}: {listed}. Leave them out with exclude=[{names}] "
                         "if they are only known after the outcome, or rename a harmless column")


def _is_identifier_name(column: str) -> bool:
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(column)).strip().lower()
    return bool(IDENTIFIER_NAME.search(name.replace("_", " ")))


def _identifier(series: pd.Series) -> str | None:
    if _is_identifier_name(series.name):
        return "an identifier (its name says so), not a property of the row"
    kind = series.dtype.kind
    if kind in "iuOSU" or isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype):
        if len(series) > 1 and series.nunique(dropna=False) == len(series):
            return "an identifier: a different value on every row"
    return None


def _relabels(series: pd.Series, target: pd.Series) -> bool:
    frame = pd.DataFrame({"x": series.astype("object"), "y": target.astype("object")}).dropna()
    if frame.empty:
        return False
    return bool(frame.groupby("x")["y"].nunique().max() == 1 and frame.groupby("y")["x"].nunique().max() == 1)


def _separates(series: pd.Series, target: pd.Series) -> bool:
    """A numeric column whose values split the two classes by one threshold."""
    values = pd.to_numeric(series, errors="coerce")
    positive, negative = values[target == 1].dropna(), values[target == 0].dropna()
    if len(positive) < 2 or len(negative) < 2 or values.nunique() < 2:
        return False
    return bool(positive.min() > negative.max() or positive.max() < negative.min())


def _is_flag(series: pd.Series) -> bool:
    return series.dtype.kind in "biuf" and set(pd.unique(series.dropna())) <= {0, 1, True, False}


def _target_parts(features: pd.DataFrame, target: pd.Series) -> list[str]:
    positives = target == 1
    parts = []
    for column in features.columns:
        series = features[column]
        if not _is_flag(series):
            continue
        ones = series.fillna(0).astype(bool)
        if ones.sum() >= MIN_PART_ROWS and bool(positives[ones].all()):
            parts.append(column)
    if not parts or not positives.any():
        return []
    covered = features[parts].fillna(0).astype(bool).any(axis=1)
    return parts if covered[positives].mean() >= PARTS_COVERAGE else []


def find_leaks(frame: pd.DataFrame, target: str, features: list[str], *, task: str) -> list[Leak]:
    """Every feature of `frame` that leaks `target` or identifies rows (task: "classification" or
    "regression")."""
    y = frame[target]
    leaks: list[Leak] = []
    for column in features:
        series = frame[column]
        if series.equals(y) or (series.dtype.kind in "biuf" and y.dtype.kind in "biuf"
                                and np.array_equal(series.to_numpy(float), y.to_numpy(float), equal_nan=True)):
            leaks.append(Leak(column, "the target under another name (equal on every row)"))
        elif task == "classification" and _relabels(series, y):
            leaks.append(Leak(column, "the target under another name (a one-to-one relabelling of it)"))
        elif task == "classification" and series.dtype.kind in "iuf" and not _is_flag(series) and _separates(series, y):
            leaks.append(Leak(column, "perfectly separates the target by one threshold (computed from it?)"))
        elif task == "regression" and series.dtype.kind in "biuf" and _linear_in(series, y):
            leaks.append(Leak(column, "a linear function of the target (correlation 1)"))
        elif (reason := _identifier(series)) is not None:
            leaks.append(Leak(column, reason))
    if task == "classification":
        flagged = {leak.column for leak in leaks}
        for column in _target_parts(frame[[c for c in features if c not in flagged]], y):
            leaks.append(Leak(column, "a part of the target: its ones are all positive rows and, with the other "
                                      "such columns, they make up the target (failure-mode flags?)"))
    return leaks


def _linear_in(series: pd.Series, target: pd.Series) -> bool:
    both = pd.DataFrame({"x": pd.to_numeric(series, errors="coerce"), "y": pd.to_numeric(target, errors="coerce")})
    both = both.dropna()
    if len(both) < 3 or both["x"].nunique() < 3 or both["y"].nunique() < 3:
        return False
    return bool(abs(np.corrcoef(both["x"], both["y"])[0, 1]) > 1 - 1e-9)


def refuse_leaks(frame: pd.DataFrame, target: str, features: list[str], *, task: str) -> None:
    """Raise `LeakageError` naming every leaking feature (nothing is fitted)."""
    leaks = find_leaks(frame, target, features, task=task)
    if leaks:
        raise LeakageError(target, leaks)
