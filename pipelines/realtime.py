"""Current within seconds: the inventory refresh `plantlake listen --refresh` runs after landed micro-batches, and
the freshness of each source it records (`bronze.source_freshness`) with the Dagster check that reads it.

The refresh is the existing incremental one (`pipelines/inventory`: movements of the dirty event dates, the
ledger of the touched materials, stock on hand), executed as the job `refresh_inventory` with its blocking
checks, in-process on an ephemeral Dagster instance (a refresh every few seconds would fill the run history),
and published like every run (write-audit-publish), so `plantlake stock` and `Lake.stock` serve it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.schema import rows_to_arrow
from lakehouse.lake_lock import LakeBusyError, lake_writer
from pipelines.checks import table_key
from pipelines.inventory.assets import fct_inventory_ledger, standardize_movements, stock_on_hand_asset
from pipelines.inventory.refresh import MOVEMENT_SOURCES, last_source_version
from pipelines.publication import publish_run
from pipelines.resources import LakeResource
from pipelines.production import lake_writer_tags

REFRESH_INVENTORY_JOB = "refresh_inventory"
FRESHNESS = "source_freshness"
LANDED_TO_GOLD_LIMIT = timedelta(seconds=60)  # the check fails when p95 landed -> gold is slower than this
LOCK_WAIT_S = 5.0  # how long a refresh waits for another writer before it is put off to the next round

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
    busy: str | None = None  # the lake was busy (another writer): nothing refreshed, the rows wait for the next


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
        """One refresh, holding the lake's writer lock (waiting up to LOCK_WAIT_S for a `plantlake run` or
        `ingest` to finish); a lake still busy after that is an outcome (`busy`), not an error."""
        started = datetime.now(timezone.utc)
        try:
            with lake_writer(self.lake.root, "listen --refresh", wait_s=LOCK_WAIT_S):
                return self._refresh(started)
        except LakeBusyError as busy:
            seconds = (datetime.now(timezone.utc) - started).total_seconds()
            return RefreshOutcome(False, "", seconds, 0, pl.DataFrame(), busy=str(busy))

    def _refresh(self, started: datetime) -> RefreshOutcome:
        before = last_source_version(self.lake, "fct_inventory_movements")
        for table in MOVEMENT_SOURCES:  # a lake fed only by messages may lack a source so far: empty, not missing
            self.lake.create(table)
        with dg.DagsterInstance.ephemeral() as instance:  # disposed here: its SQLite belongs to this thread
            result = self.job.execute_in_process(instance=instance, raise_on_error=False, run_config=self.quiet)
            rows = publish_run(instance, result.run_id, self.lake, self.checks)
        finished = datetime.now(timezone.utc)
        published = sum(r["is_published"] for r in rows)
        freshness = pl.DataFrame()
        if result.success and published:
            runs = ingest_runs_between(self.lake, before, last_source_version(self.lake, "fct_inventory_movements"))
            freshness = record_freshness(self.lake, runs=runs,
                                         landed_until=started, refreshed_at=finished, run_id=result.run_id)
        return RefreshOutcome(result.success, result.run_id, (finished - started).total_seconds(), published,
                              freshness)


class RefreshLoop:
    """Runs a refresher in its own thread beside the landing: after rows landed, at most every `interval_s`.

    Landing and refresh write different tables (bronze; silver and gold), and a refresh reads bronze as of one
    version, so neither waits for the other: rows that land while a refresh runs are taken by the next one."""

    def __init__(self, refresher: InventoryRefresher, interval_s: float,
                 report: Callable[[RefreshOutcome], None] = lambda _: None,
                 on_crash: Callable[[], None] = lambda: None) -> None:
        """`on_crash` runs when a refresh raises (the listener stops: landing without refreshing would leave
        stock silently stale); `finish()` re-raises the error."""
        self.refresher, self.interval_s, self.report, self.on_crash = refresher, interval_s, report, on_crash
        self._pending = 0
        self._landed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="plantlake-refresh", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def landed(self, rows: int) -> None:
        with self._landed:
            self._pending += rows
            self._landed.notify()

    def finish(self, timeout_s: float = 600.0) -> None:
        """Stop after one last refresh of what is still pending; re-raise a refresh that crashed."""
        with self._landed:
            self._stopping = True
            self._landed.notify()
        self._thread.join(timeout_s)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        last = 0.0
        try:
            while True:
                with self._landed:
                    while not self._pending and not self._stopping:
                        self._landed.wait(0.5)
                    if not self._pending:
                        return  # stopping, nothing left
                    pending_since_wait = time.monotonic()
                wait = self.interval_s - (pending_since_wait - last)
                if wait > 0 and not self._stopping:
                    time.sleep(wait)
                with self._landed:
                    self._pending = 0
                last = time.monotonic()
                outcome = self.refresher.refresh()
                if outcome.busy and not self._stopping:
                    with self._landed:  # nothing was refreshed: the rows are still pending (the last round
                        self._pending += 1  # when stopping is not repeated: `plantlake run` refreshes them)
                self.report(outcome)
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that calls finish()
            self.error = exc
            self.on_crash()


def ingest_runs_between(lake: DeltaLake, before: int | None, until: int | None) -> list[str]:
    """Ingest runs that marked event dates dirty after version `before` of `dirty_partitions` (from the start
    when None) up to version `until`: the runs a movements refresh that read `until` took in, after the one that
    read `before` (rows landing while a refresh runs belong to the next one)."""
    if until is None or not lake.exists("dirty_partitions"):
        return []

    def runs(version: int) -> pl.LazyFrame:
        return pl.scan_delta(lake.uri("dirty_partitions"), version=version).select("ingest_run_id").unique()

    taken = runs(until)
    if before is not None:
        taken = taken.join(runs(before), on="ingest_run_id", how="anti")
    return sorted(taken.collect()["ingest_run_id"].to_list())


def record_freshness(lake: DeltaLake, *, runs: list[str], landed_until: datetime, refreshed_at: datetime,
                     run_id: str | None = None) -> pl.DataFrame:
    """One row per source and channel with the rows of ingest `runs` (those this refresh took in), with their
    lag to `refreshed_at`; `landed_until` (when the refresh started) is recorded beside."""
    frames = []
    for table in MOVEMENT_SOURCES:
        if not lake.exists(table) or not runs:
            continue
        scan = lake.scan(table).filter(pl.col("ingest_run_id").is_in(runs))
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

