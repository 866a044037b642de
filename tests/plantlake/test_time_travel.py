"""`Lake.read(..., as_of=...)` and `Lake.history`: a small table written in three versions reads back exactly as each
version was, whether `as_of` is a version number, a datetime, an ISO 8601 string or a date, through every local
engine; an `as_of` the history does not have is a `VersionNotFoundError`, one that is not a time a `QueryError`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from plantlake import Lake, QueryError, VersionNotFoundError

TABLE = "silver.dim_supplier"  # supplier_id (string, not null), supplier_name (string)
WRITES = [
    [("SUP-01", "Aluminium Works")],
    [("SUP-01", "Aluminium Works"), ("SUP-02", "Polymer GmbH")],
    [("SUP-03", "Screws & Co"), ("SUP-04", "Cartons Ltd"), ("SUP-05", "Copper Wire AG")],
]


@dataclass(frozen=True)
class Written:
    lake: Lake
    versions: list[int]  # the version each write made
    before: datetime  # a moment before the first write
    after: list[datetime]  # after[i]: a moment after write i, before write i + 1


@pytest.fixture
def written(tmp_path: Path) -> Written:
    lake = Lake(tmp_path / "lake")
    before = datetime.now(timezone.utc)
    time.sleep(0.01)
    versions, after = [], []
    for rows in WRITES:
        result = lake.delta.overwrite("dim_supplier", pa.table({"supplier_id": [r[0] for r in rows],
                                                                "supplier_name": [r[1] for r in rows]}))
        versions.append(result.version)
        time.sleep(0.01)
        after.append(datetime.now(timezone.utc))
        time.sleep(0.01)
    return Written(lake, versions, before, after)


def rows_of(frame: Any) -> list[tuple[str, str | None]]:
    """The rows of whatever the engine returned, sorted."""
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if isinstance(frame, pd.DataFrame):
        frame = pl.from_pandas(frame)
    if isinstance(frame, pa.Table):
        frame = pl.from_arrow(frame)
    if isinstance(frame, duckdb.DuckDBPyRelation):
        return sorted(frame.fetchall())
    assert isinstance(frame, pl.DataFrame), type(frame)
    assert frame.columns == ["supplier_id", "supplier_name"]
    return sorted(frame.iter_rows())


def engines(lake: Lake, as_of: Any) -> dict[str, Any]:
    return {"polars": lake.read(TABLE, as_of=as_of), "lazy polars": lake.read(TABLE, as_of=as_of, lazy=True),
            "pandas": lake.read(TABLE, as_of=as_of, engine="pandas"),
            "arrow": lake.read(TABLE, as_of=as_of, engine="arrow"),
            "duckdb": lake.read(TABLE, as_of=as_of, engine="duckdb")}


def assert_reads(lake: Lake, as_of: Any, rows: list[tuple[str, str]]) -> None:
    for engine, frame in engines(lake, as_of).items():
        assert rows_of(frame) == sorted(rows), f"as_of={as_of!r} through {engine}"


def test_each_write_is_a_version(written: Written) -> None:
    # the first overwrite creates the table (version 0, empty) and writes version 1
    assert written.versions == [1, 2, 3]
    assert_reads(written.lake, 0, [])
    for version, rows in zip(written.versions, WRITES, strict=True):
        assert_reads(written.lake, version, rows)
        assert_reads(written.lake, str(version), rows)
    assert_reads(written.lake, None, WRITES[-1])


def test_as_of_a_moment_reads_the_version_current_then(written: Written) -> None:
    for moment, rows in zip(written.after, WRITES, strict=True):
        assert_reads(written.lake, moment, rows)
        assert_reads(written.lake, moment.isoformat(), rows)
        assert_reads(written.lake, moment.replace(tzinfo=None), rows)  # naive means UTC
        assert_reads(written.lake, moment.astimezone(timezone(timedelta(hours=-5))).isoformat(), rows)
        assert_reads(written.lake, moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), rows)


def test_as_of_a_date_is_its_midnight_utc(written: Written) -> None:
    today = datetime.now(timezone.utc).date()
    if written.before.date() != today:  # pragma: no cover - the writes straddled midnight UTC
        pytest.skip("the writes straddled midnight UTC")
    tomorrow = today + timedelta(days=1)
    assert_reads(written.lake, tomorrow, WRITES[-1])
    assert_reads(written.lake, tomorrow.isoformat(), WRITES[-1])
    for before_first_write in (today, today.isoformat(), date(2000, 1, 1)):
        with pytest.raises(VersionNotFoundError, match="did not exist yet"):
            written.lake.read(TABLE, as_of=before_first_write)


def test_as_of_before_the_first_write_or_past_the_last_version_is_not_found(written: Written) -> None:
    lake = written.lake
    for engine in ("polars", "pandas", "arrow", "duckdb"):
        with pytest.raises(VersionNotFoundError, match="did not exist yet"):
            lake.read(TABLE, as_of=written.before, engine=engine)
        with pytest.raises(VersionNotFoundError, match="versions 0 to 3, not 4"):
            lake.read(TABLE, as_of=4, engine=engine)
    with pytest.raises(VersionNotFoundError):
        lake.read(TABLE, as_of=written.before.isoformat(), lazy=True)
    with pytest.raises(VersionNotFoundError):
        lake.read(TABLE, as_of="4")
    with pytest.raises(VersionNotFoundError):
        lake.read(TABLE, as_of=10**6, lazy=True)


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "3 days ago", "", -1, True, 1.5])
def test_as_of_that_is_not_a_version_or_a_time_is_a_query_error(written: Written, as_of: Any) -> None:
    with pytest.raises(QueryError):
        written.lake.read(TABLE, as_of=as_of)


def test_history_lists_the_versions_newest_first(written: Written) -> None:
    history = written.lake.history(TABLE)
    assert history.columns == ["version", "committed_at", "operation", "parameters", "metrics"]
    assert history["version"].to_list() == [3, 2, 1, 0]
    assert history["operation"].to_list() == ["WRITE", "WRITE", "WRITE", "CREATE TABLE"]
    committed = history["committed_at"].to_list()
    assert committed == sorted(committed, reverse=True)
    assert written.before <= committed[-1] and committed[0] <= written.after[-1]
    for moment, when in zip(written.after, reversed(committed[:3]), strict=True):
        assert when <= moment
    assert written.lake.history("dim_supplier", limit=2)["version"].to_list() == [3, 2]
    # as of a write's own commit time, the table is that write (version 0, the CREATE TABLE, is left out: the first
    # overwrite commits it a moment before version 1, possibly within the same millisecond)
    for version, when in zip(history["version"][:3], committed[:3], strict=True):
        assert rows_of(written.lake.read(TABLE, as_of=when)) == sorted(WRITES[version - 1])
