"""MLflow tracking on the PostgreSQL server (database plantlake_mlflow), as README "Production services on
PostgreSQL" documents: a run's parameters and metrics written through one client are read back through another."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest


def test_mlflow_tracks_runs_in_postgres(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.tracking import MlflowClient

    uri = postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1) + "/plantlake_mlflow"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    writer = MlflowClient(tracking_uri=uri)
    name = f"plantlake-test-{uuid.uuid4().hex[:8]}"
    experiment_id = writer.create_experiment(name, artifact_location=(tmp_path / "artifacts").as_uri())
    run = writer.create_run(experiment_id)
    writer.log_param(run.info.run_id, "model", "maintenance_risk")
    writer.log_metric(run.info.run_id, "auc", 0.87)
    writer.set_terminated(run.info.run_id)
    reader = MlflowClient(tracking_uri=uri)
    stored = reader.get_run(run.info.run_id)
    assert stored.data.params == {"model": "maintenance_risk"}
    assert stored.data.metrics == {"auc": 0.87}
    assert stored.info.status == "FINISHED"
    assert reader.get_experiment_by_name(name).experiment_id == experiment_id
    reader.delete_experiment(experiment_id)
