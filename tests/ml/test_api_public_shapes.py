"""The data-scientist API (ml/api.py) on frames shaped like two public data sets (tests/ml/public_shapes.py):
leakage refused with a clear error, splits by time or by group, and the evaluation report's numbers."""

import re

import numpy as np
import pandas as pd
import polars as pl
import pytest
from public_shapes import AI4I_FAILURE_MODES, ai4i_like, cmapss_fd001_like
from sklearn.pipeline import Pipeline

from ml import api
from ml.api import LeakageError, fit_classifier, fit_regressor, remaining_useful_life

AI4I_LEAKS = ["Product ID", *AI4I_FAILURE_MODES]


@pytest.fixture(scope="module")
def ai4i() -> pd.DataFrame:
    return ai4i_like(rows=6000, seed=3)


@pytest.fixture(scope="module")
def trajectories() -> pd.DataFrame:
    return remaining_useful_life(cmapss_fd001_like(units=60, seed=4), unit_column="unit", time_column="cycle", cap=125)


def test_ai4i_failure_modes_and_identifier_are_refused(ai4i: pd.DataFrame) -> None:
    with pytest.raises(LeakageError) as refused:
        fit_classifier(ai4i, target="Machine failure", time_column="UDI")
    assert sorted(leak.column for leak in refused.value.leaks) == sorted(AI4I_LEAKS)
    message = str(refused.value)
    assert "'Product ID': an identifier" in message and "'TWF': a part of the target" in message
    assert "exclude=[" in message


@pytest.mark.parametrize("make_leak, reason", [
    (lambda f: f.assign(failed=f["Machine failure"]), "the target under another name (equal on every row)"),
    (lambda f: f.assign(outcome=np.where(f["Machine failure"] == 1, "broken", "ok")), "one-to-one relabelling"),
    (lambda f: f.assign(risk_score=f["Machine failure"] * 10 + np.random.default_rng(0).random(len(f))),
     "perfectly separates the target"),
    (lambda f: f.assign(row_key=[f"r{i}" for i in range(len(f))]), "an identifier"),
    (lambda f: f.assign(serial=np.random.default_rng(1).permutation(len(f))), "an identifier"),
])
def test_each_kind_of_leak_is_named(ai4i: pd.DataFrame, make_leak, reason: str) -> None:
    frame = make_leak(ai4i)
    leaked = frame.columns[-1]
    with pytest.raises(LeakageError, match=re.escape(reason)) as refused:
        fit_classifier(frame, target="Machine failure", time_column="UDI", exclude=AI4I_LEAKS)
    assert [leak.column for leak in refused.value.leaks] == [leaked]


def test_a_random_split_is_refused(ai4i: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="exactly one of time_column"):
        fit_classifier(ai4i, target="Machine failure", exclude=AI4I_LEAKS)


def test_ai4i_classifier_splits_by_time_and_reports_on_later_rows(ai4i: pd.DataFrame) -> None:
    shuffled = pl.from_pandas(ai4i.sample(frac=1.0, random_state=7))  # row order must not matter, Polars in
    model = fit_classifier(shuffled, target="Machine failure", time_column="UDI", exclude=AI4I_LEAKS)
    report = model.report
    assert isinstance(model.pipeline, Pipeline)
    assert report.rows == {"train": 3600, "validation": 1200, "test": 1200}
    assert report.split == "by time (UDI): validation from 3601, test from 4801"
    assert report.features == ["Type", "Air temperature [K]", "Process temperature [K]", "Rotational speed [rpm]",
                               "Torque [Nm]", "Tool wear [min]"]
    test = ai4i[ai4i["UDI"] >= 4801]
    assert report.metrics["prevalence"] == pytest.approx(test["Machine failure"].mean())
    assert report.metrics["pr_auc"] > 2 * report.metrics["prevalence"] and report.metrics["roc_auc"] > 0.85
    baseline_brier = report.metrics["prevalence"] * (1 - report.metrics["prevalence"])
    assert report.metrics["brier"] < baseline_brier
    assert 0 < report.threshold < 1 and 0 < report.metrics["precision"] <= 1 and 0 < report.metrics["recall"] <= 1
    probabilities = model.predict(test)
    assert probabilities.shape == (len(test),) and ((0 <= probabilities) & (probabilities <= 1)).all()
    assert "pr_auc" in str(report) and "by time (UDI)" in str(report)


def test_the_time_split_never_puts_one_moment_on_both_sides() -> None:
    frame = pd.DataFrame({"hour": np.repeat(np.arange(10), 7), "x": np.arange(70) % 5})
    parts, _ = api._split(frame, "hour", None, 0, ("train", "validation", "test"))
    hours = [set(part["hour"]) for part in parts.values()]
    assert hours == [set(range(6)), {6, 7}, {8, 9}]
    assert max(hours[0]) < min(hours[1]) and max(hours[1]) < min(hours[2])


def test_rul_regressor_on_cmapss_shape_holds_out_whole_units(trajectories: pd.DataFrame) -> None:
    assert trajectories["rul"].max() == 125 and (trajectories.groupby("unit")["rul"].min() == 0).all()
    model = fit_regressor(trajectories, target="rul", group_column="unit")
    report = model.report
    assert report.split == "by group (unit): train 45 groups, test 15 groups"
    parts, _ = api._split(trajectories, None, "unit", 0, ("train", "test"))
    assert not set(parts["train"]["unit"]) & set(parts["test"]["unit"])
    assert report.rows == {"train": len(parts["train"]), "test": len(parts["test"])}
    assert "unit" not in report.features and "rul" not in report.features and len(report.features) == 25
    assert report.metrics["rmse"] < 0.5 * report.metrics["rmse_of_mean"] and report.metrics["mae"] < 15


def test_rul_target_under_another_name_is_refused(trajectories: pd.DataFrame) -> None:
    leaky = trajectories.assign(cycles_left=trajectories["rul"] * 1.0, life_pct=trajectories["rul"] / 125 * 100)
    with pytest.raises(LeakageError) as refused:
        fit_regressor(leaky, target="rul", group_column="unit")
    assert {(leak.column, leak.reason.split(" (")[0]) for leak in refused.value.leaks} == {
        ("cycles_left", "the target under another name"), ("life_pct", "a linear function of the target")}
