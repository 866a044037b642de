"""Training assets: each trains on the earlier weeks of its feature table, logs a registry version (MLflow:
params, metrics, input Delta versions, code version, skops model) and a blocking check moves the `champion`
alias only when the new version beats the champion and the naive rule on the same test window. A version that
loses is never promoted and never scores: the check then warns (the run goes on with the champion, or with no
scores while there is none), so a plant whose model cannot yet beat the naive rule still gets its other tables.

A plant with too little history (fewer than MIN_POSITIVES positives in a window, or a window empty) trains
nothing; the asset says why in its metadata and the check passes with that reason.
"""


import dagster as dg
import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score

from ml import maintenance, quality
from ml.registry import ModelRegistry
from pipelines.checks import table_key
from pipelines.models.inputs import (MAINTENANCE_SOURCES, QUALITY_SOURCES, breakdown_starts, feature_rows, input_versions,
                                     inspections)
from pipelines.resources import LakeResource

MAINTENANCE_MODEL, QUALITY_MODEL = "machine_breakdown", "work_order_high_scrap"
MIN_POSITIVES = 5
TIE = 1e-12


def model_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["models", name])


def _enough(split, label: str) -> str | None:
    for window in ("train", "validation", "test"):
        positives = int(getattr(split, window)[label].sum())
        if positives < MIN_POSITIVES:
            return f"{window} window has {positives} positives (< {MIN_POSITIVES}): not enough history to train"
    return None


def _register(lake: LakeResource, name: str, model, features: list[str], test, label: str, naive: np.ndarray,
              metrics: dict[str, float], sources: tuple[str, ...], params: dict) -> dg.MaterializeResult:
    registry = ModelRegistry(lake.settings().lake_root)
    labels = test[label].to_numpy()
    new_score = float(average_precision_score(labels, model.predict_proba(test[features])[:, 1]))
    naive_score = float(average_precision_score(labels, naive))
    current = registry.champion(name)
    champion_score = None
    if current is not None:
        try:
            champion_score = float(average_precision_score(labels, current[0].predict_proba(test[features])[:, 1]))
        except (KeyError, ValueError):  # the champion needs features this table no longer has
            champion_score = None
    run_id, version = registry.log_version(
        name, model, params=params, input_versions=input_versions(lake.lake(), sources),
        metrics={**metrics, "naive_pr_auc": naive_score,
                 **({"champion_pr_auc": champion_score} if champion_score is not None else {})})
    return dg.MaterializeResult(metadata={
        "trained": True, "model_name": name, "run_id": run_id, "version": version, "pr_auc": new_score,
        "naive_pr_auc": naive_score, "champion_version": current[1] if current else "none",
        "champion_pr_auc": champion_score if champion_score is not None else float("nan"),
        "test_rows": len(test), "tracking_uri": registry.uri})


@dg.asset(key=model_key(MAINTENANCE_MODEL), deps=[table_key("machine_hour_features")], group_name="models",
          kinds={"sklearn", "mlflow"}, owners=["team:plant-data"],
          description="Breakdown-within-24-h classifier (calibrated gradient boosting) trained on the earlier weeks "
                      "of gold.machine_hour_features; a new registry version per training.")
def machine_breakdown_model(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    rows = feature_rows(delta, "machine_hour_features", pl.col(maintenance.LABEL).is_not_null())
    try:
        result = maintenance.train_and_evaluate(rows, breakdown_starts(delta), importance=False)
    except ValueError as exc:
        return dg.MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    reason = _enough(result.split, maintenance.LABEL)
    if reason:
        return dg.MaterializeResult(metadata={"trained": False, "reason": reason})
    test = result.split.test
    metrics = {**result.reports["model"].as_dict(), **result.alerts["model"].as_dict()}
    return _register(lake, MAINTENANCE_MODEL, result.model, result.features, test, maintenance.LABEL,
                     maintenance.naive_rule(test), metrics, MAINTENANCE_SOURCES,
                     {"horizon_h": 24, "features": ",".join(result.features),
                      "test_start": str(result.split.test_start), "validation_start": str(result.split.validation_start)})


@dg.asset(key=model_key(QUALITY_MODEL), deps=[table_key("work_order_quality_features")], group_name="models",
          kinds={"sklearn", "mlflow"}, owners=["team:plant-data"],
          description="High-scrap (>= 4 %) work order classifier with genealogy features (calibrated gradient "
                      "boosting) trained on the earlier weeks of gold.work_order_quality_features.")
def work_order_high_scrap_model(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    rows = feature_rows(delta, "work_order_quality_features")
    history = inspections(delta)
    try:
        result = quality.train_and_evaluate(rows, history, importance=False)
    except ValueError as exc:
        return dg.MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    reason = _enough(result.split, quality.LABEL)
    if reason:
        return dg.MaterializeResult(metadata={"trained": False, "reason": reason})
    test = result.split.test
    return _register(lake, QUALITY_MODEL, result.model, result.features, test, quality.LABEL,
                     quality.naive_rule(test, history), result.reports["model"].as_dict(), QUALITY_SOURCES,
                     {"high_scrap_share": 0.04, "features": ",".join(result.features),
                      "test_start": str(result.split.test_start)})


def _champion_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=model_key(name), name="beats_champion_and_naive_rule", blocking=True,
                    description="The new version becomes champion only if its test-window PR-AUC beats the current "
                                "champion's and the naive rule's on the same rows; a worse model is not promoted "
                                "(the check warns; scoring keeps using the champion, or scores nothing without one).")
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
        event = context.instance.get_latest_materialization_event(model_key(name))
        metadata = {k: v.value for k, v in event.asset_materialization.metadata.items()} if event else {}
        if not metadata.get("trained"):
            return dg.AssetCheckResult(passed=True, metadata={"decision": f"no new model: {metadata.get('reason')}"})
        registry = ModelRegistry(lake.settings().lake_root)
        champion = metadata["champion_pr_auc"]
        champion = None if champion != champion else float(champion)  # NaN: no champion yet
        if champion is not None and abs(metadata["pr_auc"] - champion) <= TIE:
            return dg.AssetCheckResult(passed=True, metadata={
                "decision": f"unchanged: v{metadata['version']} scores as champion v{metadata['champion_version']}"})
        decision = registry.promote(name, metadata["run_id"], metadata["version"], new_score=metadata["pr_auc"],
                                    naive_score=metadata["naive_pr_auc"], champion_score=champion,
                                    champion_version=metadata["champion_version"])
        # a challenger that loses is not promoted: the champion (if any) keeps scoring, so the run goes on and the
        # failed check is a warning naming the decision; only a promoted version ever scores a row
        return dg.AssetCheckResult(
            passed=decision.is_champion, metadata={"decision": decision.reason, "version": decision.version},
            severity=dg.AssetCheckSeverity.ERROR if decision.is_champion else dg.AssetCheckSeverity.WARN)

    return _check


TRAINING_ASSETS = [machine_breakdown_model, work_order_high_scrap_model]
TRAINING_CHECKS = [_champion_check(MAINTENANCE_MODEL), _champion_check(QUALITY_MODEL)]
