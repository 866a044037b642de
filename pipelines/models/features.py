"""Feature assets (gold): machine_hour_features and work_order_quality_features, refreshed incrementally.

Each refresh finds the earliest event time its inputs changed at since its last refresh (`pipelines/models/
refresh.py`: Delta versions of the inputs, logged in `refresh_log`) and replaces only the rows that can change:
- machine hours: the hourly signal stats (`silver.machine_hour_signal_stats`, partitioned by date) are recomputed
  for the changed event dates only, reading those dates of `machine_signals` and `mes_equipment_states` (an hour
  depends on its own samples and events only). The features are then computed from every stored hour, because some
  look back without bound (run hours since the last maintenance and breakdown, the last ended shift's OEE) and the
  rolling windows count up to 168 hour rows; the cheap hourly table is read whole, the raw signals never are. The
  rows replaced (MERGE) are each machine's from the 24th hour row before its first changed hour on: a label looks
  24 hour rows ahead, so a breakdown arriving now changes the label of the day before.
- work orders: the orders `ml.features.quality.orders_to_recompute` names (see that module for why) are recomputed
  and replaced (MERGE). Their machine wear proxies come from machine_hour_features rows whose `predicted_at` is at
  or before an order's inspections, so a changed machine-hour row (its `predicted_at` the change's time) only
  reaches orders with `predicted_at` at or after it, which that rule recomputes.
A first run, or run config `{"full_refresh": true}`, rebuilds both tables in full; the result is the same either
way (tested: decimals to 1e-12, as between two full rebuilds), and a run with no changed input writes nothing.
"""

from datetime import datetime, timedelta

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake, WriteResult
from pipelines.checks import primary_key_check, table_key
from pipelines.models.inputs import (MAINTENANCE_SOURCES, QUALITY_SOURCES, machine_hour_rows_from_stats,
                                     machine_hour_stats, work_order_rows)
from pipelines.models.refresh import input_change, log_feature_refresh
from pipelines.resources import LakeResource

HORIZON_H = 24
MAINTENANCE_TIMES = {"machine_signals": "source_at", "mes_equipment_states": "occurred_at",
                     "oee_by_machine_shift": "shift_end_at"}
QUALITY_TIMES = {"mes_quality_inspections": "occurred_at", "mes_material_consumption": "occurred_at",
                 "fct_genealogy_edges": "occurred_at", "machine_hour_features": "predicted_at"}
HOUR_KEYS = ["machine_id", "hour_start_at"]


class FeatureRefreshConfig(dg.Config):
    full_refresh: bool = False


def _to_catalog(rows: pl.DataFrame, table: str) -> pl.DataFrame:
    schema = CATALOG[table].schema
    casts = {f.name: pl.Float64 for f in schema if str(f.type) == "double"}
    return rows.select(schema.names).cast(casts)


def hour_rows_from(rows: pl.DataFrame, changed_at: datetime, *, horizon_h: int = HORIZON_H) -> pl.DataFrame:
    """Each machine's rows from the `horizon_h`-th hour row before its first hour that a change at `changed_at`
    reaches (a shift ending on the hour is known an hour earlier, so one hour before `changed_at`'s)."""
    first_hour = changed_at.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    indexed = rows.sort(HOUR_KEYS).with_columns(pl.int_range(pl.len()).over("machine_id").alias("_row"))
    starts = (indexed.filter(pl.col("hour_start_at") >= first_hour).group_by("machine_id")
              .agg((pl.col("_row").min() - horizon_h).alias("_from")))
    return indexed.join(starts, on="machine_id").filter(pl.col("_row") >= pl.col("_from")).drop("_row", "_from")


def _replace_hours(delta: DeltaLake, recomputed: pl.DataFrame) -> WriteResult:
    """MERGE `recomputed` over the stored rows of its machines from each one's first recomputed hour on."""
    cuts = recomputed.group_by("machine_id").agg(pl.col("hour_start_at").min().alias("_cut"))
    stored = (delta.scan("machine_hour_features").select(HOUR_KEYS).join(cuts.lazy(), on="machine_id")
              .filter(pl.col("hour_start_at") >= pl.col("_cut")).select(HOUR_KEYS).collect())
    return delta.replace_rows("machine_hour_features", pl.concat([stored, recomputed.select(HOUR_KEYS)]).to_arrow(),
                              recomputed.to_arrow())


@dg.asset(key=table_key("machine_hour_features"), deps=[table_key(t) for t in MAINTENANCE_SOURCES],
          group_name="models", description=CATALOG["machine_hour_features"].description,
          kinds={"delta", "polars"}, owners=["team:plant-data"])
def machine_hour_features(config: FeatureRefreshConfig, lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    change = input_change(delta, "machine_hour_features", MAINTENANCE_TIMES, full=config.full_refresh,
                          derived=("machine_hour_signal_stats",))
    if change.is_full:
        delta.overwrite_stream("machine_hour_signal_stats", [machine_hour_stats(delta).to_arrow()])
    elif change.dates:
        delta.overwrite_partitions("machine_hour_signal_stats", machine_hour_stats(delta, change.dates),
                                   partitions={"hour_date": change.dates})
    if change.is_empty:
        result, recomputed = delta.unchanged("machine_hour_features"), 0
    else:
        rows = _to_catalog(machine_hour_rows_from_stats(delta, horizon_h=HORIZON_H), "machine_hour_features")
        if change.is_full:
            result, recomputed = delta.overwrite("machine_hour_features", rows), rows.height
        else:
            assert change.since is not None
            replaced = hour_rows_from(rows, change.since)
            result, recomputed = _replace_hours(delta, replaced), replaced.height
    log_feature_refresh(delta, "machine_hour_features", change, recomputed)
    return dg.MaterializeResult(metadata={
        **result.as_metadata(), "full_refresh": change.is_full, "rows_recomputed": recomputed,
        "event_dates_recomputed": len(change.dates), "rows": delta.row_count("machine_hour_features")})


@dg.asset(key=table_key("work_order_quality_features"), deps=[table_key(t) for t in QUALITY_SOURCES],
          group_name="models", description=CATALOG["work_order_quality_features"].description,
          kinds={"delta", "polars"}, owners=["team:plant-data"])
def work_order_quality_features(config: FeatureRefreshConfig, lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    change = input_change(delta, "work_order_quality_features", QUALITY_TIMES, full=config.full_refresh)
    if change.is_empty:
        result, recomputed = delta.unchanged("work_order_quality_features"), 0
    else:
        rows = _to_catalog(work_order_rows(delta, changed_since=None if change.is_full else change.since),
                           "work_order_quality_features")
        result = (delta.overwrite("work_order_quality_features", rows) if change.is_full
                  else delta.replace_rows("work_order_quality_features", rows.select("work_order_id").to_arrow(),
                                          rows.to_arrow()))
        recomputed = rows.height
    log_feature_refresh(delta, "work_order_quality_features", change, recomputed)
    return dg.MaterializeResult(metadata={
        **result.as_metadata(), "full_refresh": change.is_full, "rows_recomputed": recomputed,
        "rows": delta.row_count("work_order_quality_features")})


FEATURE_ASSETS = [machine_hour_features, work_order_quality_features]
FEATURE_CHECKS = [primary_key_check(CATALOG["machine_hour_features"]),
                  primary_key_check(CATALOG["work_order_quality_features"])]
