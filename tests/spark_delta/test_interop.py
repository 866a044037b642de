"""delta-rs and delta-spark read and write the same tables: both directions, time travel, protocol features,
concurrent writers and maintenance by either side. One Spark session (the suite's, with Delta)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

from lakehouse.delta_io import DeltaLake
from lakehouse.spark_delta import SparkDeltaLake, spark_schema
from tests.spark_delta.conftest import MOVEMENTS, movements

pytestmark = pytest.mark.spark
DAY1, DAY2, DAY3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)


def rows(data: Any) -> pl.DataFrame:
    """Any engine's rows as one Polars frame in a fixed order (Spark timestamps come back in UTC)."""
    if hasattr(data, "toArrow"):
        data = data.toArrow()
    frame = pl.from_arrow(data) if not isinstance(data, pl.DataFrame) else data
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC"))
    return frame.select(sorted(frame.columns)).sort("movement_id")


def spark_read(spark: Any, uri: str, **options: Any) -> pl.DataFrame:
    reader = spark.read.format("delta")
    for key, value in options.items():
        reader = reader.option(key, value)
    return rows(reader.load(uri))


def log_entries(uri: str) -> list[dict[str, Any]]:
    entries = []
    for commit in sorted(Path(uri, "_delta_log").glob("*.json")):
        entries += [json.loads(line) for line in commit.read_text().splitlines() if line.strip()]
    return entries


# ---- delta-rs -> Spark ---------------------------------------------------------------------------------------------
def test_a_delta_rs_table_reads_the_same_in_spark_at_every_version_and_timestamp(spark_delta: Any, tmp_path: Path
                                                                                  ) -> None:
    lake = DeltaLake(tmp_path / "lake")
    lake.create(MOVEMENTS)                                                               # v0
    lake.append(MOVEMENTS, movements(DAY1, 8))                                           # v1
    lake.append(MOVEMENTS, movements(DAY2, 8))                                           # v2
    lake.overwrite_partitions(MOVEMENTS, movements(DAY1, 3, quantity=100.0))             # v3
    lake.upsert(MOVEMENTS, movements(DAY2, 2, start=7, quantity=50.0))                   # v4: 1 update, 1 insert
    uri = lake.uri(MOVEMENTS)
    assert lake.version(MOVEMENTS) == 4
    for version in range(5):
        want = rows(lake.read_arrow(MOVEMENTS, version=version))
        assert_frame_equal(spark_read(spark_delta, uri, versionAsOf=version), want, check_dtypes=False)
    assert rows(lake.read_arrow(MOVEMENTS)).height == 3 + 9
    # time travel by timestamp: both resolve a time to the last commit whose log file is not newer (its mtime,
    # a little after the commitInfo timestamp): the time version 2's file was written gives version 2's rows
    history = {h["version"]: h for h in lake.history(MOVEMENTS)}
    written_ms = -(-Path(uri, "_delta_log", f"{2:020d}.json").stat().st_mtime_ns // 1_000_000)
    at = datetime.fromtimestamp(written_ms / 1000, tz=timezone.utc)
    by_time = spark_read(spark_delta, uri, timestampAsOf=at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
    assert_frame_equal(by_time, rows(lake.read_arrow(MOVEMENTS, version=at)), check_dtypes=False)
    assert_frame_equal(by_time, rows(lake.read_arrow(MOVEMENTS, version=2)), check_dtypes=False)
    # schema, partitioning and history as Spark sees them
    frame = spark_delta.read.format("delta").load(uri)
    expected = spark_schema(lake.spec(MOVEMENTS))
    assert [(f.name, f.dataType) for f in frame.schema] == [(f.name, f.dataType) for f in expected]
    detail = spark_delta.sql(f"DESCRIBE DETAIL delta.`{uri}`").first()
    assert list(detail["partitionColumns"]) == ["event_date"]
    from delta.tables import DeltaTable as SparkDeltaTable

    spark_history = (SparkDeltaTable.forPath(spark_delta, uri).history().select("version", "operation")
                     .orderBy("version").collect())
    assert [(r["version"], r["operation"]) for r in spark_history] == [
        (v, history[v]["operation"]) for v in sorted(history)]


# ---- Spark -> delta-rs, Polars, DuckDB, pandas ---------------------------------------------------------------------
def test_a_spark_written_table_reads_the_same_in_delta_rs_polars_duckdb_and_pandas(spark_delta: Any, tmp_path: Path
                                                                                   ) -> None:
    lake = SparkDeltaLake(tmp_path / "lake", spark_delta)
    assert lake.append(MOVEMENTS, movements(DAY1, 6)).rows_written == 6                  # v0 create, v1
    lake.append(MOVEMENTS, spark_delta.createDataFrame(movements(DAY2, 6).to_pandas()))  # v2: a Spark frame as is
    replaced = lake.overwrite_partitions(MOVEMENTS, movements(DAY1, 3, quantity=100.0))  # v3
    upserted = lake.upsert(MOVEMENTS, movements(DAY2, 2, start=5, quantity=50.0))         # v4
    inserted = lake.insert_new(MOVEMENTS, movements(DAY2, 2, start=6, tag="-again"))      # v5: 1 new, 1 known
    assert (replaced.rows_written, upserted.rows_written) == (3, 2)
    assert (inserted.rows_written, inserted.duplicates_skipped) == (1, 1)
    want = rows(pl.concat([pl.from_arrow(movements(DAY1, 3, quantity=100.0)),  # type: ignore[list-item]
                           pl.from_arrow(movements(DAY2, 5)), pl.from_arrow(movements(DAY2, 2, start=5, quantity=50.0)),
                           pl.from_arrow(movements(DAY2, 1, start=7, tag="-again"))]))
    assert want.height == 11
    reader = DeltaLake(lake.root)
    assert_frame_equal(rows(reader.read_arrow(MOVEMENTS)), want)
    assert_frame_equal(rows(pl.scan_delta(lake.uri(MOVEMENTS)).collect()), want, check_dtypes=False)
    assert_frame_equal(rows(reader.duckdb().sql(f"SELECT * FROM silver.{MOVEMENTS}").to_arrow_table()), want,
                       check_dtypes=False)
    assert_frame_equal(rows(pl.from_pandas(reader.read_pandas(MOVEMENTS))), want, check_dtypes=False)
    assert_frame_equal(rows(reader.read_arrow(MOVEMENTS, version=1)), rows(movements(DAY1, 6)))
    # the catalog's schema and partitioning, and Spark as the writer of every commit
    table = reader.table(MOVEMENTS)
    assert table.metadata().partition_columns == ["event_date"]
    stored = table.schema().to_arrow()
    assert [(f.name, f.nullable) for f in stored] == [(f.name, f.nullable) for f in lake.spec(MOVEMENTS).schema]
    commits = [e["commitInfo"] for e in log_entries(lake.uri(MOVEMENTS)) if "commitInfo" in e]
    assert len(commits) == 6 and all(c["engineInfo"].startswith("Apache-Spark/") and "Delta-Lake/" in c["engineInfo"]
                                     for c in commits)
    assert [c["operation"] for c in commits] == ["CREATE TABLE", "WRITE", "WRITE", "WRITE", "MERGE", "MERGE"]


# ---- protocol features ---------------------------------------------------------------------------------------------
# what both writers give a table of this project, and what each reads of the other's: listed in README "Spark on Delta"
PROTOCOL = (1, 2)


def test_protocol_checkpoints_and_column_statistics_work_with_both_implementations(spark_delta: Any, tmp_path: Path
                                                                                   ) -> None:
    by_rs, by_spark = DeltaLake(tmp_path / "rs"), SparkDeltaLake(tmp_path / "spark", spark_delta)
    for lake in (by_rs, by_spark):
        lake.append(MOVEMENTS, movements(DAY1, 5))
        lake.append(MOVEMENTS, movements(DAY2, 5))
    for lake in (by_rs, by_spark):
        protocol = DeltaTable(lake.uri(MOVEMENTS)).protocol()
        detail = spark_delta.sql(f"DESCRIBE DETAIL delta.`{lake.uri(MOVEMENTS)}`").first()
        assert (protocol.min_reader_version, protocol.min_writer_version) == PROTOCOL
        assert (detail["minReaderVersion"], detail["minWriterVersion"]) == PROTOCOL
        assert not protocol.reader_features and not protocol.writer_features
    # a checkpoint written by delta-rs, read by Spark; one written by Spark (checkpointInterval), read by delta-rs
    by_spark.checkpoint(MOVEMENTS)
    spark_uri, rs_uri = by_spark.uri(MOVEMENTS), by_rs.uri(MOVEMENTS)
    assert list(Path(spark_uri, "_delta_log").glob("*.checkpoint.parquet"))
    by_spark.append(MOVEMENTS, movements(DAY3, 5))
    assert spark_delta.read.format("delta").load(spark_uri).count() == 15
    spark_delta.sql(f"ALTER TABLE delta.`{rs_uri}` SET TBLPROPERTIES ('delta.checkpointInterval' = '2')")  # v3
    SparkDeltaLake(by_rs.root, spark_delta).append(MOVEMENTS, movements(DAY3, 5))                # v4: checkpoint
    assert Path(rs_uri, "_delta_log", f"{4:020d}.checkpoint.parquet").exists()
    assert DeltaTable(rs_uri).version() == 4 and DeltaLake(by_rs.root).row_count(MOVEMENTS) == 15
    assert DeltaTable(rs_uri).protocol().min_writer_version == PROTOCOL[1]
    # column statistics: every file either writer added carries them, and each side reads the other's
    for uri in (rs_uri, spark_uri):
        adds = [e["add"] for e in log_entries(uri) if "add" in e]
        stats = [json.loads(a["stats"]) for a in adds]
        assert adds and all({"numRecords", "minValues", "maxValues", "nullCount"} <= set(s) for s in stats)
        assert all(s["minValues"]["quantity"] <= s["maxValues"]["quantity"] for s in stats)
        actions = pl.from_arrow(pa.table(DeltaTable(uri).get_add_actions(flatten=True)))
        assert isinstance(actions, pl.DataFrame) and actions["num_records"].sum() == 15
        assert actions["min.movement_id"].null_count() == 0


# ---- concurrency ---------------------------------------------------------------------------------------------------
def committing(write: Any, attempts: int = 6) -> int:
    """Run a write, retrying it when the other writer committed first (each implementation's conflict error);
    returns how many conflicts it met. Any other error fails the test."""
    for conflict in range(attempts):
        try:
            write()
            return conflict
        except Exception as error:  # delta-rs CommitFailedError, Spark's Concurrent*Exception
            text = f"{type(error).__name__}: {error}"
            if not any(word in text for word in ("Concurrent", "CommitFailed", "conflict", "Conflict")):
                raise
    raise AssertionError(f"no commit after {attempts} attempts")


def test_a_delta_rs_writer_and_a_spark_writer_at_once_lose_no_rows(spark_delta: Any, tmp_path: Path) -> None:
    rs_lake = DeltaLake(tmp_path / "lake")
    rs_lake.append(MOVEMENTS, movements(DAY3, 1, start=999))
    spark_lake = SparkDeltaLake(rs_lake.root, spark_delta)
    start, conflicts, errors = threading.Barrier(2), [], []
    rs_days = [movements(DAY1, 4, start=4 * i) for i in range(3)]
    spark_days = [movements(DAY2, 4, start=4 * i) for i in range(3)]
    rs_replace = movements(DAY3, 3, tag="-rs")
    spark_replace = movements(DAY3, 2, tag="-spark")

    def writer(lake: DeltaLake, batches: list[Any], replace: Any) -> None:
        try:
            start.wait()
            for batch in batches:
                conflicts.append(committing(lambda b=batch: lake.append(MOVEMENTS, b)))
            conflicts.append(committing(lambda: lake.overwrite_partitions(MOVEMENTS, replace)))
        except Exception as error:  # surfaced below: a thread's error must fail the test
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(rs_lake, rs_days, rs_replace)),
               threading.Thread(target=writer, args=(spark_lake, spark_days, spark_replace))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    final = rows(rs_lake.read_arrow(MOVEMENTS))
    appended = rows(pl.concat([pl.from_arrow(t) for t in (*rs_days, *spark_days)]))  # type: ignore[misc]
    assert_frame_equal(final.filter(pl.col("event_date") != DAY3), appended)  # every appended row, once
    day3 = final.filter(pl.col("event_date") == DAY3)
    # the partition holds exactly one writer's replacement: whole, never a mix, never the rows it replaced
    assert day3.equals(rows(rs_replace)) or day3.equals(rows(spark_replace)), day3
    history = rs_lake.history(MOVEMENTS)
    assert len(history) == 1 + 1 + 8  # create, the first append, and each writer's 4 commits
    engines = [h.get("engineInfo", "delta-rs") for h in history]
    assert sum("Apache-Spark" in e for e in engines) == 4


# ---- maintenance ---------------------------------------------------------------------------------------------------
def test_optimize_and_vacuum_by_either_side_leave_the_table_readable_by_the_other(spark_delta: Any, tmp_path: Path
                                                                                   ) -> None:
    rs_lake = DeltaLake(tmp_path / "lake")
    for i in range(3):
        rs_lake.append(MOVEMENTS, movements(DAY1, 3, start=3 * i))
    uri = rs_lake.uri(MOVEMENTS)
    want = rows(rs_lake.read_arrow(MOVEMENTS))
    spark_delta.sql(f"OPTIMIZE delta.`{uri}`")
    spark_delta.sql(f"VACUUM delta.`{uri}` RETAIN 0 HOURS")
    assert len(list(Path(uri).rglob("*.parquet"))) == 1  # the three files compacted, the old ones deleted
    assert_frame_equal(rows(DeltaLake(rs_lake.root).read_arrow(MOVEMENTS)), want)
    assert_frame_equal(rows(pl.scan_delta(uri).collect()), want, check_dtypes=False)

    spark_lake = SparkDeltaLake(rs_lake.root, spark_delta)
    spark_lake.append(MOVEMENTS, movements(DAY1, 3, start=9))
    spark_lake.append(MOVEMENTS, movements(DAY2, 3))
    want = rows(rs_lake.read_arrow(MOVEMENTS))
    assert rs_lake.optimize(MOVEMENTS)["numFilesRemoved"] >= 3  # Spark's appends wrote a file per task
    assert rs_lake.vacuum(MOVEMENTS, retention_hours=0)
    assert len(list(Path(uri).rglob("*.parquet"))) == 2  # one per day left
    assert_frame_equal(spark_read(spark_delta, uri), want, check_dtypes=False)
    assert want.height == 15


def test_an_empty_table_with_a_list_column_is_written_by_spark_and_read_by_delta_rs(spark_delta: Any,
                                                                                      tmp_path: Path) -> None:
    """gold.quality_risk holds a list column and is written empty while no model is champion: PySpark rebuilds
    nested columns chunk by chunk, so an empty frame (no chunks) must reach it with one empty chunk."""
    lake = SparkDeltaLake(tmp_path, spark_delta)
    empty = pl.from_arrow(lake.spec("quality_risk").schema.empty_table())
    assert isinstance(empty, pl.DataFrame) and empty.schema["produced_lot_ids"] == pl.List(pl.String)
    assert lake.overwrite("quality_risk", empty).rows_written == 0
    assert DeltaLake(tmp_path).read_arrow("quality_risk").num_rows == 0
    one = pl.DataFrame({"work_order_id": ["WO-1"], "produced_lot_ids": [["LOT-1", "LOT-2"]]})
    row = empty.vstack(one.select(pl.all(), *[pl.lit(None, empty.schema[c]).alias(c) for c in empty.columns
                                              if c not in one.columns]).select(empty.columns)
                       .with_columns(pl.lit(False).alias("is_open"), pl.lit(0.5).alias("high_scrap_risk"),
                                     pl.lit("m").alias("model_name"), pl.lit("1").alias("model_version"),
                                     pl.lit(datetime(2026, 1, 5, tzinfo=timezone.utc)).alias("predicted_at"),
                                     pl.lit(datetime(2026, 1, 5, tzinfo=timezone.utc)).alias("scored_at")))
    lake.overwrite("quality_risk", row)
    assert DeltaLake(tmp_path).read_arrow("quality_risk").column("produced_lot_ids").to_pylist() == [["LOT-1", "LOT-2"]]
