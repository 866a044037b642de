"""The one code location: every asset, check, job and resource of plantlake."""

from __future__ import annotations

import dagster as dg

from pipelines.anomalies.assets import ANOMALY_ASSETS, ANOMALY_CHECKS
from pipelines.flow.assets import FLOW_ASSETS, FLOW_CHECKS
from pipelines.flow.schedule import SCHEDULE_ASSETS, SCHEDULE_CHECKS
from pipelines.freshness import with_gold_freshness
from pipelines.ingestion.assets import land_landing_files, machine_signal_gaps
from pipelines.ingestion.maintenance import lake_maintenance, nightly_maintenance
from pipelines.ingestion.sensors import INGEST_JOB, landing_folder_sensor
from pipelines.inventory.assets import INVENTORY_ASSETS
from pipelines.inventory.checks import INVENTORY_CHECKS
from pipelines.inventory.genealogy import fct_genealogy_edges
from pipelines.inventory.reconciliation import reconciliation_differences
from pipelines.kpi.assets import KPI_ASSETS, KPI_CHECKS
from pipelines.master_data.assets import MASTER_DATA_ASSETS, MASTER_DATA_CHECKS
from pipelines.lookahead.assets import LOOKAHEAD_ASSETS, LOOKAHEAD_CHECKS
from pipelines.models import MODEL_ASSETS, MODEL_CHECKS, weekly_model_training, weekly_training_schedule
from pipelines.production import lake_writer_tags
from pipelines.publication import publication_sensor
from pipelines.realtime import landed_rows_reach_gold, refresh_inventory, source_freshness
from pipelines.resources import LakeResource, LandingResource

ALL_ASSETS = [*MASTER_DATA_ASSETS, land_landing_files, machine_signal_gaps, *INVENTORY_ASSETS, fct_genealogy_edges,
              reconciliation_differences, *KPI_ASSETS, source_freshness, *LOOKAHEAD_ASSETS,
              *ANOMALY_ASSETS, *FLOW_ASSETS, *MODEL_ASSETS, *SCHEDULE_ASSETS]
ALL_CHECKS = [*MASTER_DATA_CHECKS, *INVENTORY_CHECKS, *KPI_CHECKS, *LOOKAHEAD_CHECKS, landed_rows_reach_gold,
              *ANOMALY_CHECKS, *FLOW_CHECKS, *MODEL_CHECKS, *SCHEDULE_CHECKS]

# a transient IO error (a file still being written, a busy disk) is retried with backoff; a failed check is not
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

materialize_everything = dg.define_asset_job(
    "materialize_everything", selection=dg.AssetSelection.all(), op_retry_policy=TRANSIENT_RETRY,
    tags=lake_writer_tags(),
    description="Materialize every asset of the lake, in dependency order, with its checks.")

refresh_master_data = dg.define_asset_job(
    "refresh_master_data", selection=dg.AssetSelection.groups("master_data"), tags=lake_writer_tags(),
    description="Land the master data of the landing folder's master/ (what `plantlake ingest` runs first).")

ingest_landing_files = dg.define_asset_job(
    INGEST_JOB, selection=dg.AssetSelection.groups("bronze"), tags=lake_writer_tags(),
    description="Land every new file of the landing folder in bronze only (the landing sensor refreshes the "
                "whole chain with materialize_everything).")


def build_definitions(*, lake_root: str | None = None, source_dir: str | None = None) -> dg.Definitions:
    """Definitions with resources bound; unset paths are read from the environment at run time."""
    return with_gold_freshness(dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[materialize_everything, refresh_master_data, ingest_landing_files, lake_maintenance, refresh_inventory,
              weekly_model_training],
        schedules=[nightly_maintenance, weekly_training_schedule],
        sensors=[landing_folder_sensor, *publication_sensor(ALL_CHECKS)],
        resources={"lake": LakeResource(lake_root=lake_root), "landing": LandingResource(source_dir=source_dir)},
        executor=dg.in_process_executor,  # a run is one process: it holds the lake's writer lock once, start to end
    ))


defs = build_definitions()
