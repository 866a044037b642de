"""A time window with one label class only is refused with a clear reason, and the simulator evaluation says
which model it could not train instead of stopping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.training import TooFewLabels, fit_calibrated, split_by_time
from plantlake.model_evaluation import SimulatorEvaluation


def _rows(positive_from: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame({"t": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
                         "x": rng.normal(size=n), "y": np.arange(n) >= positive_from})


def test_a_validation_window_without_positives_is_refused_by_name():
    rows = _rows(positive_from=10**6)
    index = np.arange(len(rows))
    rows["y"] = (index % 7 == 0) & ((index < 200) | (index > 300))  # none in the validation weeks
    split = split_by_time(rows, time_column="t")
    assert int(split.train["y"].sum()) > 20 and int(split.test["y"].sum()) > 10
    with pytest.raises(TooFewLabels, match=r"^the validation window \(60 rows\) holds 0 positive 'y' rows"):
        fit_calibrated(split, label="y", numeric=["x"], categorical=[])
    rows["y"] = index >= 395  # positives only in the test window: the training window is named first
    with pytest.raises(TooFewLabels, match=r"^the train window \(220 rows\) holds 0 positive"):
        fit_calibrated(split_by_time(rows, time_column="t"), label="y", numeric=["x"], categorical=[])


def test_both_classes_in_each_window_fit():
    rows = _rows(positive_from=10**6)
    rows["y"] = np.arange(len(rows)) % 7 == 0
    model = fit_calibrated(split_by_time(rows, time_column="t"), label="y", numeric=["x"], categorical=[])
    assert model.predict_proba(rows[["x"]]).shape == (len(rows), 2)


def test_the_evaluation_names_the_model_it_could_not_train():
    lines = SimulatorEvaluation("the train window has no positives", "the validation window (30 rows) holds 0 "
                                "positive 'is_high_scrap' rows: a model needs both classes in it").lines()
    assert lines == ["maintenance (breakdown within 24 h): not evaluated: the train window has no positives",
                     "quality (scrap share >= 4 %): not evaluated: the validation window (30 rows) holds 0 positive "
                     "'is_high_scrap' rows: a model needs both classes in it"]
