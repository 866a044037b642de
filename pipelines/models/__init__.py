"""Model assets: features (gold), training with the registry and champion check, scoring and drift."""

import dagster as dg

from pipelines.models.features import FEATURE_ASSETS, FEATURE_CHECKS
from pipelines.models.scoring import SCORING_ASSETS, SCORING_CHECKS
from pipelines.models.training import TRAINING_ASSETS, TRAINING_CHECKS
from pipelines.production import lake_writer_tags

MODEL_ASSETS = [*FEATURE_ASSETS, *TRAINING_ASSETS, *SCORING_ASSETS]
MODEL_CHECKS = [*FEATURE_CHECKS, *TRAINING_CHECKS, *SCORING_CHECKS]

weekly_model_training = dg.define_asset_job(
    "weekly_model_training", selection=dg.AssetSelection.groups("models"), tags=lake_writer_tags(),
    description="Refresh the model features, train both models (a new registry version each), let the champion "
                "checks decide, and rescore machine_risk and quality_risk.")
weekly_training_schedule = dg.ScheduleDefinition(
    job=weekly_model_training, cron_schedule="0 3 * * 1", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING)
