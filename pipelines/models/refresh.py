"""What changed in a feature table's inputs since its last refresh: the earliest event time touched.

The feature inputs are compared by Delta version, not through `bronze.dirty_partitions`: the OPC UA writer appends
`machine_signals` without marking dirty dates (only file ingestion marks them), and the gold/silver inputs
(`oee_by_machine_shift`, rewritten whole on every run, and `fct_genealogy_edges`, upserted) are never marked. Each
refresh logs, besides its own `refresh_log` row, one row per input named `<table><-<input>` with the input's
version it read (`source_version`); the next refresh compares each input's current version with that one:
- a table partitioned by a date (bronze sources): the partitions of the data files added or removed between the two
  versions (a compaction marks its partitions too: more work, never a missed change), from their midnight on;
- an unpartitioned table: the rows that differ between the two versions (both ways), from their earliest event
  time on.
A first refresh, an input without a logged version, or a version history that can no longer be read (vacuumed)
means a full refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from lakehouse.errors import VersionNotFoundError
from pipelines.inventory.refresh import Scope, last_source_version, log_refresh


@dataclass(frozen=True)
class Change:
    """`is_full`, or the earliest event time any input changed at (None: nothing changed), with the input
    versions this refresh reads (logged when it is done)."""
    is_full: bool
    since: datetime | None = None
    versions: dict[str, int] = field(default_factory=dict)
    dates: list[date] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.is_full and self.since is None


def _log_name(table: str, source: str) -> str:
    return f"{table}<-{source}"


def _partition_dates(lake: DeltaLake, source: str, version: int) -> pl.DataFrame:
    column = lake.spec(source).partition_by[0]
    actions = pl.DataFrame(pa.table(lake.table(source, version=version).get_add_actions(flatten=True)))
    return actions.select("path", pl.col(f"partition.{column}").cast(pl.Date).alias("day"))


def changed_dates(lake: DeltaLake, source: str, since_version: int) -> list[date]:
    """Dates of the partitions with a data file added or removed since `since_version` (a date-partitioned input)."""
    now, before = _partition_dates(lake, source, lake.version(source)), _partition_dates(lake, source, since_version)
    changed = pl.concat([now.join(before, on="path", how="anti"), before.join(now, on="path", how="anti")])
    return sorted(changed["day"].unique().to_list())


def changed_rows_since(lake: DeltaLake, source: str, since_version: int, time_column: str) -> datetime | None:
    """The earliest `time_column` of rows that differ between `since_version` and now (an unpartitioned input)."""
    now, before = lake.scan(source).collect(), lake.scan(source, version=since_version).collect()
    columns = now.columns if now.columns == before.columns else [time_column]
    diff = pl.concat([now.join(before, on=columns, how="anti", nulls_equal=True).select(time_column),
                      before.join(now, on=columns, how="anti", nulls_equal=True).select(time_column)])
    return diff[time_column].min() if diff.height else None  # type: ignore[return-value]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def input_change(lake: DeltaLake, table: str, time_columns: dict[str, str], *, full: bool,
                 derived: tuple[str, ...] = ()) -> Change:
    """The earliest event time the inputs (`time_columns`: input -> its event-time column, used for the
    unpartitioned ones) changed at since `table`'s last refresh. `derived` tables must exist too (they are written
    with `table`, so a missing one means a full refresh)."""
    versions = {source: lake.version(source) for source in time_columns if lake.exists(source)}
    if full or not all(lake.exists(t) for t in (table, *derived)):
        return Change(True, versions=versions)
    earliest: list[datetime] = []
    dates: set[date] = set()
    for source, version in versions.items():
        previous = last_source_version(lake, _log_name(table, source))
        if previous is None or previous > version:
            return Change(True, versions=versions)
        if previous == version:
            continue
        try:
            if lake.spec(source).partition_by:
                touched = changed_dates(lake, source, previous)
                dates.update(touched)
                earliest += [midnight(d) for d in touched[:1]]
            else:
                at = changed_rows_since(lake, source, previous, time_columns[source])
                earliest += [] if at is None else [at]
        except (VersionNotFoundError, FileNotFoundError):  # a version that can no longer be read (vacuumed)
            return Change(True, versions=versions)
    return Change(False, since=min(earliest, default=None), versions=versions, dates=sorted(dates))


def log_feature_refresh(lake: DeltaLake, table: str, change: Change, rows_written: int) -> None:
    """The refresh's `refresh_log` row and one per input with the version it read (the next refresh's start)."""
    for source, version in change.versions.items():
        log_refresh(lake, _log_name(table, source), Scope(change.is_full, source_version=version), rows_written)
    log_refresh(lake, table, Scope(change.is_full, event_dates=change.dates), rows_written)
