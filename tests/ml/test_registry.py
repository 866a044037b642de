"""The registry: a run holds params, metrics, input versions and a skops model; a worse model never becomes champion."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from ml.maintenance import LABEL, naive_rule
from ml.registry import CHAMPION, ModelRegistry, load_model, save_model
from ml.training import fit_calibrated
from pipelines.models.inputs import MAINTENANCE_SOURCES, input_versions
from tests.ml.model_plant import evaluated, model_plant


def test_champion_moves_only_for_a_better_model(tmp_path_factory, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = tmp_path_factory.getbasetemp()
    lake, _ = model_plant(root)
    result = evaluated(root).maintenance
    test, features = result.split.test, result.features
    labels = test[LABEL].to_numpy()

    def challenge(model):
        return average_precision_score(labels, model.predict_proba(test[features])[:, 1])

    naive = average_precision_score(labels, naive_rule(test))
    registry = ModelRegistry(tmp_path / "lake")
    assert registry.uri.startswith("sqlite:///") and registry.uri.endswith("_mlflow/mlflow.db")
    versions = input_versions(lake, MAINTENANCE_SOURCES)
    good = registry.register("machine_breakdown", result.model, params={"horizon_h": 24},
                             metrics=result.reports["model"].as_dict(), input_versions=versions,
                             challenge=challenge, naive_score=naive, new_score=challenge(result.model))
    assert good.is_champion, good.reason

    # deliberately worse: trained and calibrated on inverted labels, so it ranks breakdowns last
    inverted = {LABEL: lambda rows: ~rows[LABEL].astype(bool)}
    worse_split = type(result.split)(result.split.train.assign(**inverted), result.split.validation.assign(**inverted),
                                     test, result.split.validation_start, result.split.test_start)
    worse = fit_calibrated(worse_split, label=LABEL, numeric=features, categorical=[])
    blocked = registry.register("machine_breakdown", worse, params={"horizon_h": 24, "labels": "inverted"},
                                metrics={}, input_versions=versions, challenge=challenge, naive_score=naive,
                                new_score=challenge(worse))
    assert not blocked.is_champion
    assert "not promoted" in blocked.reason
    champion = registry.client.get_model_version_by_alias("machine_breakdown", CHAMPION)
    assert champion.version == good.version
    run = registry.client.get_run(good.run_id)
    assert run.data.params["input_version.machine_signals"] == str(versions["machine_signals"])
    assert run.data.tags["code_version"]
    assert run.data.metrics["pr_auc"] == pytest.approx(result.reports["model"].pr_auc)
    model, version = registry.champion("machine_breakdown")
    assert version == good.version
    assert np.allclose(model.predict_proba(test[features])[:, 1], result.model.predict_proba(test[features])[:, 1])


def test_tracking_uri_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'shared.db'}")
    assert ModelRegistry(tmp_path / "lake").uri == f"sqlite:///{tmp_path / 'shared.db'}"


class Hook:
    """Any class outside the trusted list (a file could name one that runs code when loaded)."""


def test_skops_refuses_untrusted_types(tmp_path):
    path = tmp_path / "model.skops"
    save_model({"weights": np.arange(3), "hook": Hook()}, path)
    with pytest.raises(ValueError, match="trusted list"):
        load_model(path)
