"""Population stability index (PSI) per feature between a reference frame (the training window) and a current
one (the latest scoring window).

    PSI = sum over bins of (current share - reference share) x ln(current share / reference share)

Numeric features are cut at the reference's deciles (`bins` quantile bins; fewer where values repeat); other
features use their values as bins. Missing values (null, NaN) are one more bin, so a feature that starts to go
missing drifts too. A share of zero is taken as `EPSILON` so the logarithm stays finite. The usual reading: below
0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a major one; `threshold` (default 0.2) marks a feature as
drifted. Pandas, Polars or anything Narwhals reads eagerly goes in; a Polars frame comes out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import narwhals as nw
import numpy as np
import polars as pl

if TYPE_CHECKING:
    import pandas as pd

EPSILON = 1e-4
MISSING = "\0missing"  # the bin of missing categories
DEFAULT_THRESHOLD = 0.2
RESULT_SCHEMA = {"feature": pl.String, "psi": pl.Float64, "bins": pl.Int64, "reference_rows": pl.Int64,
                 "current_rows": pl.Int64, "is_drifted": pl.Boolean}


def psi(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """PSI of two share vectors over the same bins (each summing to 1)."""
    expected = np.clip(np.asarray(reference_shares, float), EPSILON, None)
    actual = np.clip(np.asarray(current_shares, float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _numeric_shares(reference: np.ndarray, current: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    def bin_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
        index = np.searchsorted(edges, values, side="right")
        return np.where(np.isfinite(values), index, len(edges) + 1)  # the last bin: missing

    finite = reference[np.isfinite(reference)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if finite.size else np.empty(0)
    size = len(edges) + 2
    return (np.bincount(bin_of(reference, edges), minlength=size) / max(len(reference), 1),
            np.bincount(bin_of(current, edges), minlength=size) / max(len(current), 1))


def _category_shares(reference: pl.Series, current: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    reference = reference.cast(pl.String).fill_null(MISSING)
    current = current.cast(pl.String).fill_null(MISSING)
    categories = sorted(set(reference.unique().to_list()) | set(current.unique().to_list()))

    def shares(values: pl.Series) -> np.ndarray:
        counts = dict(values.value_counts().iter_rows())
        return np.array([counts.get(c, 0) for c in categories], float) / max(len(values), 1)

    return shares(reference), shares(current)


def _to_polars(frame: Any) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    return pl.from_arrow(nw.from_native(frame, eager_only=True).to_arrow())


def population_stability(reference: Any, current: Any, *, features: Sequence[str] | None = None, bins: int = 10,
                         threshold: float = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """One row per feature: psi, the number of bins, the rows of each frame and is_drifted (psi > threshold),
    the most drifted first. `features` defaults to the columns both frames have."""
    reference, current = _to_polars(reference), _to_polars(current)
    if features is None:
        features = [c for c in reference.columns if c in current.columns]
    missing = [c for c in features if c not in reference.columns or c not in current.columns]
    if missing:
        raise KeyError(f"features {missing} are not in both frames")
    if bins < 2:
        raise ValueError("bins must be at least 2")
    rows = []
    for feature in features:
        left, right = reference[feature], current[feature]
        if left.dtype.is_numeric() and right.dtype.is_numeric() or left.dtype == pl.Boolean:
            expected, actual = _numeric_shares(left.cast(pl.Float64).fill_null(np.nan).to_numpy(),
                                               right.cast(pl.Float64).fill_null(np.nan).to_numpy(), bins)
        else:
            expected, actual = _category_shares(left, right)
        value = psi(expected, actual) if len(left) and len(right) else float("nan")
        rows.append({"feature": feature, "psi": value, "bins": int(np.count_nonzero((expected > 0) | (actual > 0))),
                     "reference_rows": len(left), "current_rows": len(right), "is_drifted": bool(value > threshold)})
    return pl.DataFrame(rows, schema=RESULT_SCHEMA).sort("psi", descending=True, nulls_last=True)


PSI_WARNING = DEFAULT_THRESHOLD


def feature_drift(reference: Any, current: Any, features: Sequence[str], *, bins: int = 10) -> pd.Series:
    """PSI per feature as a pandas Series indexed by feature, the most drifted first (what the scoring assets'
    drift check reads)."""
    import pandas as pd

    table = population_stability(reference, current, features=list(features), bins=bins)
    return pd.Series(table["psi"].to_list(), index=table["feature"].to_list(), name="psi", dtype=float)
