"""Incremental refresh of the inventory tables: what changed since the last refresh, and the log of refreshes.

The movements table recomputes only the event dates that ingestion marked dirty since its last refresh (new
rows of `bronze.dirty_partitions`, found by comparing that table's versions, so a slow ingest run is never
missed); the ledger recomputes only the keys whose movements changed, from the earliest event date the movements
refreshes since its own touched on, and stock on hand follows the ledger lines that changed (see
`pipelines/inventory/ledger_increment.py`). `refresh_log` records each refresh, so the next one knows where to
start. A full refresh (first run, or asked for) recomputes everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from lakehouse.schema import columns_to_arrow

MOVEMENT_SOURCES = ("wms_transactions", "mes_material_consumption", "mes_lot_events")


@dataclass(frozen=True)
class Scope:
    is_full: bool
    event_dates: list[date] = field(default_factory=list)
    material_ids: list[str] = field(default_factory=list)
    source_version: int | None = None

    @property
    def is_empty(self) -> bool:
        return not self.is_full and not self.event_dates and not self.material_ids


def _last_refresh(lake: DeltaLake, table: str) -> dict | None:
    if not lake.exists("refresh_log"):
        return None
    rows = lake.scan("refresh_log").filter(pl.col("table_name") == table).sort("refreshed_at").collect()
    return rows.row(-1, named=True) if rows.height else None


def last_source_version(lake: DeltaLake, table: str) -> int | None:
    """The version of `dirty_partitions` the latest refresh of `table` read (None before the first)."""
    last = _last_refresh(lake, table)
    return None if last is None else last["source_version"]


def movements_scope(lake: DeltaLake, *, full: bool) -> Scope:
    return dirty_dates_scope(lake, "fct_inventory_movements", MOVEMENT_SOURCES, full=full)


def dirty_dates_scope(lake: DeltaLake, table: str, sources: tuple[str, ...], *, full: bool) -> Scope:
    """The event dates of `sources` that ingestion marked dirty since `table` was last refreshed."""
    version = lake.version("dirty_partitions") if lake.exists("dirty_partitions") else None
    last = _last_refresh(lake, table)
    if full or last is None or last["source_version"] is None or version is None or not lake.exists(table):
        return Scope(True, source_version=version)
    keys = ["table_name", "event_date", "ingest_run_id"]
    current = lake.scan("dirty_partitions").filter(pl.col("table_name").is_in(sources)).select(keys)
    before = pl.scan_delta(lake.uri("dirty_partitions"), version=last["source_version"]).select(keys)
    dates = current.join(before, on=keys, how="anti").select("event_date").unique().collect()["event_date"]
    return Scope(False, event_dates=sorted(dates.to_list()), source_version=version)


def _refreshes_since(lake: DeltaLake, table: str, since: datetime) -> pl.DataFrame:
    return (lake.scan("refresh_log").filter((pl.col("table_name") == table) & (pl.col("refreshed_at") > since))
            .collect())


def _touched_since(refreshes: pl.DataFrame, **scope: int | None) -> Scope:
    """Everything if one of `refreshes` was full, else the event dates and materials they touched."""
    if refreshes["is_full"].any():
        return Scope(True, **scope)
    dates = sorted({d for ds in refreshes["touched_event_dates"].to_list() for d in (ds or [])})
    materials = sorted({m for ms in refreshes["touched_material_ids"].to_list() for m in (ms or [])})
    return Scope(False, event_dates=dates, material_ids=materials, **scope)


def _laid_out_as_catalogued(lake: DeltaLake, table: str) -> bool:
    """Whether the stored table is partitioned as the catalog says (a table written before a change of layout
    is rebuilt in full once, which lays it out anew)."""
    return lake.table(table).metadata().partition_columns == list(lake.spec(table).partition_by)


def ledger_scope(lake: DeltaLake, *, full: bool) -> Scope:
    """The event dates (and materials) the movements refreshes since the ledger's last refresh touched."""
    last = _last_refresh(lake, "fct_inventory_ledger")
    if (full or last is None or not lake.exists("fct_inventory_ledger")
            or not _laid_out_as_catalogued(lake, "fct_inventory_ledger")):
        return Scope(True)
    return _touched_since(_refreshes_since(lake, "fct_inventory_movements", last["refreshed_at"]))


def stock_scope(lake: DeltaLake, *, full: bool) -> tuple[Scope, int | None]:
    """The event dates the ledger refreshes since stock on hand's last refresh touched, with the ledger version
    that refresh read (`source_version`: the stock follows the ledger's change since then)."""
    version = lake.version("fct_inventory_ledger")
    last = _last_refresh(lake, "stock_on_hand")
    if full or last is None or last["source_version"] is None or not lake.exists("stock_on_hand"):
        return Scope(True, source_version=version), None
    return (_touched_since(_refreshes_since(lake, "fct_inventory_ledger", last["refreshed_at"]),
                           source_version=version), last["source_version"])


def log_refresh(lake: DeltaLake, table: str, scope: Scope, rows_written: int, *,
                touched_material_ids: list[str] | None = None) -> None:
    lake.append("refresh_log", columns_to_arrow(lake.spec("refresh_log"), {
        "table_name": [table], "run_id": [uuid.uuid4().hex[:12]],
        "refreshed_at": pa.array([datetime.now(timezone.utc)], pa.timestamp("us", "UTC")),
        "is_full": [scope.is_full], "source_version": pa.array([scope.source_version], pa.int64()),
        "touched_event_dates": pa.array([scope.event_dates], pa.list_(pa.date32())),
        "touched_material_ids": pa.array([touched_material_ids or scope.material_ids], pa.list_(pa.string())),
        "rows_written": [rows_written]}))
