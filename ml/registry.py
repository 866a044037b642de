"""The model registry: MLflow runs with parameters, metrics, input Delta versions, code version and the model
saved with skops; the `champion` alias moves only when a new model beats the champion and the naive rule.

Tracking goes to `MLFLOW_TRACKING_URI` when set, else to SQLite under the lake (`<lake>/_mlflow/mlflow.db`,
artifacts in `<lake>/_mlflow/artifacts`). Models are stored with `skops.io` and loaded only with the types
in `TRUSTED_TYPES` (no pickle from files).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import skops.io as sio

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no progress bars in run logs

CHAMPION = "champion"
TRUSTED_TYPES = [
    "sklearn.calibration.CalibratedClassifierCV", "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration", "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.link.LogitLink", "sklearn._loss.link.Interval", "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss", "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.pipeline.Pipeline", "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.utils._bunch.Bunch", "collections.OrderedDict", "numpy.dtype", "builtins.slice",
    # the categorical encoder's validation hook: functools.partial(sklearn.utils.validation.check_array, ...);
    # a partial of any other function is still refused, since the function it wraps is checked on its own
    "functools.partial", "sklearn.utils.validation.check_array",
]


def tracking_uri(lake_root: Path | str) -> str:
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    folder = Path(lake_root).absolute() / "_mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def code_version() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def save_model(model: object, path: Path) -> None:
    sio.dump(model, path)


def load_model(path: Path) -> object:
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ValueError(f"{path} holds types outside the trusted list: {', '.join(untrusted)}")
    return sio.load(path, trusted=TRUSTED_TYPES)


@dataclass(frozen=True)
class Registration:
    run_id: str
    version: str
    is_champion: bool
    reason: str


class ModelRegistry:
    """MLflow registry for one lake (see the module docstring)."""

    def __init__(self, lake_root: Path | str):
        from mlflow import MlflowClient

        self.lake_root = Path(lake_root)
        self.uri = tracking_uri(lake_root)
        # both URIs explicit, no global state: two lakes in one process keep two registries
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.artifacts = (self.lake_root.absolute() / "_mlflow" / "artifacts").as_uri()

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        return found.experiment_id if found else self.client.create_experiment(name, artifact_location=self.artifacts)

    def champion(self, name: str) -> tuple[object, str] | None:
        """The champion model and its version, or None."""
        try:
            version = self.client.get_model_version_by_alias(name, CHAMPION)
        except Exception:  # noqa: BLE001 - MLflow raises MlflowException when the alias or model is missing
            return None
        with tempfile.TemporaryDirectory() as folder:
            path = self.client.download_artifacts(version.run_id, "model.skops", folder)
            return load_model(Path(path)), version.version

    def log_version(self, name: str, model: object, *, params: dict, metrics: dict[str, float],
                    input_versions: dict[str, int]) -> tuple[str, str]:
        """Log a run (params, metrics, input Delta versions, code version, skops model) and register it as a
        new version of `name` without an alias; returns (run_id, version)."""
        run = self.client.create_run(self._experiment(name), tags={"code_version": code_version()})
        run_id = run.info.run_id
        for key, value in {**params, **{f"input_version.{t}": v for t, v in input_versions.items()}}.items():
            self.client.log_param(run_id, key, value)
        for key, value in metrics.items():
            self.client.log_metric(run_id, key, float(value))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.skops"
            save_model(model, path)
            self.client.log_artifact(run_id, str(path))
        self.client.set_terminated(run_id)
        try:
            self.client.create_registered_model(name)
        except Exception:  # noqa: BLE001 - already registered
            pass
        version = self.client.create_model_version(name, f"runs:/{run_id}/model.skops", run_id=run_id)
        return run_id, version.version

    def promote(self, name: str, run_id: str, version: str, *, new_score: float, naive_score: float,
                champion_score: float | None, champion_version: str | None) -> Registration:
        """Move `champion` to `version` only if `new_score` beats the naive rule's and the champion's (all
        PR-AUC on the same test window)."""
        if new_score > naive_score and (champion_score is None or new_score > champion_score):
            self.client.set_registered_model_alias(name, CHAMPION, version)
            reason = (f"champion: PR-AUC {new_score:.3f} beats naive {naive_score:.3f} and "
                      + (f"champion v{champion_version} {champion_score:.3f}" if champion_score is not None
                         else "no earlier champion"))
            return Registration(run_id, version, True, reason)
        reason = (f"not promoted: PR-AUC {new_score:.3f} against naive {naive_score:.3f}"
                  + (f" and champion v{champion_version} {champion_score:.3f}" if champion_score is not None else ""))
        return Registration(run_id, version, False, reason)

    def register(self, name: str, model: object, *, params: dict, metrics: dict[str, float],
                 input_versions: dict[str, int], challenge: Callable[[object], float], naive_score: float,
                 new_score: float) -> Registration:
        """`log_version`, then `promote` against the champion scored by `challenge(champion_model)`."""
        current = self.champion(name)
        run_id, version = self.log_version(name, model, params=params, metrics=metrics, input_versions=input_versions)
        return self.promote(name, run_id, version, new_score=new_score, naive_score=naive_score,
                            champion_score=challenge(current[0]) if current else None,
                            champion_version=current[1] if current else None)
