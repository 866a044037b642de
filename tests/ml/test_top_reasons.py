"""Top reasons: the stacked single call gives the risks and reasons of one `predict_proba` call per feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.training import risk_and_top_reasons, shown_value, top_reasons
from tests.ml.model_plant import evaluated


def one_call_per_feature(model, rows: pd.DataFrame, reference: pd.DataFrame, features: list[str],
                         top: int = 3) -> tuple[np.ndarray, list[str]]:
    """The earlier implementation, kept as the reference: the feature set to its typical value, one call each."""
    base = model.predict_proba(rows[features])[:, 1]
    deltas = np.zeros((len(rows), len(features)))
    for index, feature in enumerate(features):
        column = reference[feature].dropna()
        if column.empty:
            continue
        typical = column.median() if pd.api.types.is_numeric_dtype(column) else column.mode().iloc[0]
        changed = rows[features].copy()
        changed[feature] = typical
        deltas[:, index] = base - model.predict_proba(changed)[:, 1]
    reasons = []
    for row_index in range(len(rows)):
        parts = []
        for index in np.argsort(-deltas[row_index])[:top]:
            if deltas[row_index, index] <= 0:
                continue
            parts.append(f"{features[index]}={shown_value(rows[features[index]].iloc[row_index])} "
                         f"(+{deltas[row_index, index]:.2f})")
        reasons.append("; ".join(parts))
    return base, reasons


@pytest.mark.parametrize("which", ["maintenance", "quality"])
def test_stacked_reasons_equal_one_call_per_feature(tmp_path_factory, which):
    result = getattr(evaluated(tmp_path_factory.getbasetemp()), which)
    model, split = result.model, result.split
    features = list(model.feature_names_in_)
    rows = split.test.head(150).reset_index(drop=True)
    reference = split.train.copy()
    reference[features[0]] = np.nan  # a feature without a reference value gives no reason
    risk, reasons = risk_and_top_reasons(model, rows, reference, features=features)
    expected_risk, expected_reasons = one_call_per_feature(model, rows, reference, features)
    np.testing.assert_array_equal(risk, expected_risk)
    np.testing.assert_array_equal(risk, model.predict_proba(rows[features])[:, 1])
    assert reasons == expected_reasons
    in_batches = risk_and_top_reasons(model, rows, reference, features=features, batch_rows=40)
    np.testing.assert_array_equal(in_batches[0], risk)
    assert in_batches[1] == reasons
    assert sum(bool(r) for r in reasons) > len(rows) // 2
    assert top_reasons(model, rows.head(0), reference, features=features) == []


def test_a_missing_value_shows_as_missing_in_a_reason():
    assert [shown_value(v) for v in (np.float64("nan"), float("nan"), None, 0.123456, np.float32(2.5), "S1-B7", 12)] == [
        "missing", "missing", "missing", "0.123", "2.5", "S1-B7", "12"]
