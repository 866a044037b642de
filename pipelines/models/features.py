"""Feature assets (gold): machine_hour_features and work_order_quality_features, rebuilt from their inputs."""

from __future__ import annotations

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from pipelines.checks import primary_key_check, table_key
from pipelines.models.inputs import MAINTENANCE_SOURCES, QUALITY_SOURCES, machine_hour_rows, work_order_rows
from pipelines.resources import LakeResource


def _to_catalog(rows: pl.DataFrame, table: str) -> pl.DataFrame:
    schema = CATALOG[table].schema
    casts = {f.name: pl.Float64 for f in schema if str(f.type) == "double"}
    return rows.select(schema.names).cast(casts)


@dg.asset(key=table_key("machine_hour_features"), deps=[table_key(t) for t in MAINTENANCE_SOURCES],
          group_name="models", description=CATALOG["machine_hour_features"].description,
          kinds={"delta", "polars"}, owners=["team:plant-data"])
def machine_hour_features(lake: LakeResource) -> dg.MaterializeResult:
    rows = _to_catalog(machine_hour_rows(lake.lake(), keep_unobserved=True), "machine_hour_features")
    result = lake.lake().overwrite("machine_hour_features", rows)
    return dg.MaterializeResult(metadata={**result.as_metadata(), "machines": rows["machine_id"].n_unique(),
                                          "labelled_rows": int(rows["is_breakdown_within_horizon"].is_not_null().sum())})


@dg.asset(key=table_key("work_order_quality_features"), deps=[table_key(t) for t in QUALITY_SOURCES],
          group_name="models", description=CATALOG["work_order_quality_features"].description,
          kinds={"delta", "polars"}, owners=["team:plant-data"])
def work_order_quality_features(lake: LakeResource) -> dg.MaterializeResult:
    rows = _to_catalog(work_order_rows(lake.lake()), "work_order_quality_features")
    result = lake.lake().overwrite("work_order_quality_features", rows)
    return dg.MaterializeResult(metadata={**result.as_metadata(),
                                          "with_input_lot_history": int((rows["input_lot_prior_inspected_units"] > 0).sum())})


FEATURE_ASSETS = [machine_hour_features, work_order_quality_features]
FEATURE_CHECKS = [primary_key_check(CATALOG["machine_hour_features"]),
                  primary_key_check(CATALOG["work_order_quality_features"])]
