"""Population stability index per feature (ml/drift.py)."""

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ml.drift import EPSILON, PSI_WARNING, feature_drift, population_stability, psi


def test_psi_of_known_shares() -> None:
    # bins 0.5/0.5 -> 0.7/0.3: (0.2 ln 1.4) + (-0.2 ln 0.6) = 0.0673 + 0.1022
    assert psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(0.2 * math.log(1.4) - 0.2 * math.log(0.6))
    assert psi([0.25] * 4, [0.25] * 4) == 0.0
    assert psi([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2 * (1 - EPSILON) * math.log(1 / EPSILON))  # an empty bin counts as EPSILON


def test_a_shifted_feature_drifts_and_a_stable_one_does_not() -> None:
    rng = np.random.default_rng(0)
    reference = pl.DataFrame({"stable": rng.normal(0, 1, 20_000), "shifted": rng.normal(0, 1, 20_000),
                              "kind": rng.choice(["a", "b"], 20_000)})
    current = pd.DataFrame({"stable": rng.normal(0, 1, 5_000), "shifted": rng.normal(1, 1, 5_000),
                            "kind": rng.choice(["a", "b", "c"], 5_000, p=[0.4, 0.4, 0.2])})
    table = population_stability(reference, current)
    rows = {r["feature"]: r for r in table.iter_rows(named=True)}
    assert table["feature"].to_list()[-1] == "stable"  # the most drifted first
    assert rows["stable"]["psi"] < 0.01 and not rows["stable"]["is_drifted"] and rows["stable"]["bins"] == 10
    assert rows["shifted"]["psi"] > 0.5 and rows["shifted"]["is_drifted"]
    assert rows["kind"]["is_drifted"] and rows["kind"]["bins"] == 3
    assert (rows["stable"]["reference_rows"], rows["stable"]["current_rows"]) == (20_000, 5_000)


def test_a_feature_that_starts_going_missing_drifts() -> None:
    reference = pd.DataFrame({"x": np.arange(1000, dtype=float)})
    current = pd.DataFrame({"x": np.where(np.arange(1000) % 2 == 0, np.nan, np.arange(1000, dtype=float))})
    row = population_stability(reference, current).row(0, named=True)
    # half the rows moved into the missing bin: 0.5 ln(0.5 / 1e-4) plus the halved deciles
    expected = (0.5 - EPSILON) * math.log(0.5 / EPSILON) + 10 * (0.05 - 0.1) * math.log(0.05 / 0.1)
    assert row["psi"] == pytest.approx(expected, rel=1e-6) and row["is_drifted"]


def test_feature_drift_is_a_series_for_the_scoring_check() -> None:
    reference = pd.DataFrame({"a": np.linspace(0, 1, 500), "b": np.linspace(0, 1, 500)})
    current = pd.DataFrame({"a": np.linspace(0, 1, 500), "b": np.linspace(0.5, 1.5, 500)})
    drift = feature_drift(reference, current, ["a", "b"])
    assert drift.index.tolist() == ["b", "a"] and drift["a"] == 0.0 and drift["b"] > PSI_WARNING


def test_unknown_features_are_refused() -> None:
    with pytest.raises(KeyError, match="not in both frames"):
        population_stability(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}), features=["a"])
