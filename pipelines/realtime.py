"""Current within seconds: the inventory refresh `plantlake listen --refresh` runs after landed micro-batches, and
the freshness of each source it records (`bronze.source_freshness`) with the Dagster check that reads it.

The refresh is the existing incremental one (`pipelines/inventory`: movements of the dirty event dates, the
ledger of the touched materials, stock on hand), executed as the job `refresh_inventory` with its blocking
checks, in-process on an ephemeral Dagster instance (a refresh every few seconds would fill the run history),
and published like every run (write-audit-publish), so `plantlake stock` and `Lake.stock` serve it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.schema import rows_to_arrow
from pipelines.checks import table_key
from pipelines.inventory.assets import fct_inventory_ledger, standardize_movements, stock_on_hand_asset
from pipelines.inventory.refresh import MOVEMENT_SOURCES
from pipelines.publication import publish_run
from pipelines.resources import LakeResource
from pipelines.production import lake_writer_tags

REFRESH_INVENTORY_JOB = "refresh_inventory"
FRESHNESS = "source_freshness"
LANDED_TO_GOLD_LIMIT = timedelta(seconds=60)  # the check fails when p95 landed -> gold is slower than this

refresh_inventory = dg.define_asset_job(
    REFRESH_INVENTORY_JOB, selection=dg.AssetSelection.assets(standardize_movements, fct_inventory_ledger,
                                                             stock_on_hand_asset),
    tags=lake_writer_tags(),
    description="Extend movements, the ledger and stock on hand from newly landed events (incrementally), with "
                "their checks: what `plantlake listen --refresh` runs after landed micro-batches.")


@dataclass(frozen=True)
class RefreshOutcome:
    success: bool
    run_id: str
    seconds: float
    published: int
    freshness: pl.DataFrame


class InventoryRefresher:
    """Runs `refresh_inventory` on one lake and records the sources' freshness after each published refresh."""

    def __init__(self, lake_root: Path, spool_root: Path) -> None:
        from pipelines.definitions import ALL_CHECKS, build_definitions

        self.lake = DeltaLake(lake_root)
        self.checks = ALL_CHECKS
        self.job = build_definitions(lake_root=str(lake_root), source_dir=str(spool_root)).resolve_job_def(
            REFRESH_INVENTORY_JOB)
        self.quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

    def refresh(self) -> RefreshOutcome:
        since = last_refreshed_at(self.lake)
        started = datetime.now(timezone.utc)
        for table in MOVEMENT_SOURCES:  # a lake fed only by messages may lack a source so far: empty, not missing
            self.lake.create(table)
        instance = dg.DagsterInstance.ephemeral()
        result = self.job.execute_in_process(instance=instance, raise_on_error=False, run_config=self.quiet)
        rows = publish_run(instance, result.run_id, self.lake, self.checks)
        finished = datetime.now(timezone.utc)
        published = sum(r["is_published"] for r in rows)
        freshness = pl.DataFrame()
        if result.success and published:
            freshness = record_freshness(self.lake, since=since, landed_until=started, refreshed_at=finished,
                                         run_id=result.run_id)
        return RefreshOutcome(result.success, result.run_id, (finished - started).total_seconds(), published,
                              freshness)


def last_refreshed_at(lake: DeltaLake) -> datetime | None:
    """When movements were last refreshed (by this loop, `plantlake run` or the landing sensor's runs)."""
    if not lake.exists("refresh_log"):
        return None
    return (lake.scan("refresh_log").filter(pl.col("table_name") == "fct_inventory_movements")
            .select(pl.col("refreshed_at").max()).collect().item())


def record_freshness(lake: DeltaLake, *, since: datetime | None, landed_until: datetime, refreshed_at: datetime,
                     run_id: str | None = None) -> pl.DataFrame:
    """One row per source and channel with the rows landed after the previous refresh (`since`) and before this
    one started (`landed_until`): those reached gold with this refresh."""
    frames = []
    for table in MOVEMENT_SOURCES:
        if not lake.exists(table):
            continue
        scan = lake.scan(table).filter(pl.col("ingested_at") <= landed_until)
        if since is not None:
            scan = scan.filter(pl.col("ingested_at") > since)
        frames.append(scan.select(pl.lit(table).alias("source"), "occurred_at", "ingested_at",
                                  pl.when(pl.col("source_file").str.starts_with("messages/"))
                                  .then(pl.lit("messages")).otherwise(pl.lit("files")).alias("channel")))
    if not frames:
        return pl.DataFrame()
    landed = pl.concat(frames).collect()
    if landed.is_empty():
        return landed
    rows = freshness_rows(landed, refreshed_at=refreshed_at, landed_until=landed_until,
                          run_id=run_id or uuid.uuid4().hex[:12])
    lake.insert_new(FRESHNESS, rows_to_arrow(lake.spec(FRESHNESS), rows.to_dicts()))
    return rows


def freshness_rows(landed: pl.DataFrame, *, refreshed_at: datetime, landed_until: datetime,
                   run_id: str) -> pl.DataFrame:
    """Pure: landed rows (source, channel, occurred_at, ingested_at) -> lag quantiles per source and channel."""
    def seconds(expr: pl.Expr) -> pl.Expr:
        return expr.dt.total_microseconds() / 1e6

    to_landed = seconds(pl.col("ingested_at") - pl.col("occurred_at"))
    to_gold = seconds(pl.lit(refreshed_at) - pl.col("ingested_at"))
    event_to_gold = seconds(pl.lit(refreshed_at) - pl.col("occurred_at"))
    return landed.group_by("source", "channel").agg(
        pl.len().cast(pl.Int64).alias("rows"), pl.col("occurred_at").max().alias("last_event_at"),
        pl.col("ingested_at").max().alias("last_landed_at"),
        to_landed.quantile(0.5, "linear").alias("event_to_landed_p50_s"),
        to_landed.quantile(0.95, "linear").alias("event_to_landed_p95_s"),
        to_gold.quantile(0.5, "linear").alias("landed_to_gold_p50_s"),
        to_gold.quantile(0.95, "linear").alias("landed_to_gold_p95_s"),
        event_to_gold.quantile(0.95, "linear").alias("event_to_gold_p95_s"),
    ).with_columns(pl.lit(run_id).alias("refresh_run_id"), pl.lit(refreshed_at).alias("refreshed_at"),
                   pl.lit(landed_until).alias("refresh_started_at")).sort("source", "channel")


# Written by `plantlake listen --refresh`, not by a Dagster run: an external asset with a check on it.
source_freshness = dg.AssetSpec(
    table_key(FRESHNESS), description="Freshness per source: event time -> landed -> in gold (seconds), one row "
    "per real-time inventory refresh.", group_name="realtime", kinds={"delta", "mqtt"}, owners=["team:plant-data"])


@dg.asset_check(asset=table_key(FRESHNESS), name="landed_rows_reach_gold",
                description=f"the latest refresh published landed rows in gold within "
                            f"{LANDED_TO_GOLD_LIMIT.total_seconds():.0f} s (p95), for every source")
def landed_rows_reach_gold(lake: LakeResource) -> dg.AssetCheckResult:
    delta = lake.lake()
    if not delta.exists(FRESHNESS):
        return dg.AssetCheckResult(passed=True, metadata={"note": "no real-time refresh has run on this lake"})
    latest = (delta.scan(FRESHNESS).sort("refreshed_at").group_by("source", "channel").last().collect())
    limit = LANDED_TO_GOLD_LIMIT.total_seconds()
    slow = latest.filter(pl.col("landed_to_gold_p95_s") > limit)
    return dg.AssetCheckResult(passed=slow.is_empty(), metadata={
        "sources": latest.height, "limit_s": limit,
        "slowest_p95_s": float(latest["landed_to_gold_p95_s"].max() or 0.0),
        "slow_sources": dg.MetadataValue.json(slow.select("source", "channel").to_dicts())})

