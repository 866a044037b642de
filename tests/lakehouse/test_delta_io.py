"""Delta IO: table state after each kind of write, time travel, maintenance and schema errors."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from lakehouse.delta_io import DeltaLake
from lakehouse.schema import SchemaMismatchError

UTC = dt.timezone.utc


def signals(day: int, values: list[float], *, machine: str = "M1", start_minute: int = 0) -> pl.DataFrame:
    """Samples one minute apart on 2026-01-<day>."""
    at = [dt.datetime(2026, 1, day, 0, start_minute + i, tzinfo=UTC) for i in range(len(values))]
    return pl.DataFrame({
        "machine_id": [machine] * len(values), "tag": ["temperature_c"] * len(values), "source_at": at,
        "server_at": at, "value": values, "status_code": [0] * len(values),
        "source_date": [a.date() for a in at], "ingested_at": [dt.datetime(2026, 2, 1, tzinfo=UTC)] * len(values),
        "node_id": [f"ns=2;s={machine}.temperature_c"] * len(values), "ingest_run_id": ["run-1"] * len(values),
        "source_file": ["f.parquet"] * len(values),
    })


def active_files(lake: DeltaLake, name: str) -> set[str]:
    return set(lake.table(name).file_uris())


def test_create_is_empty_version_zero_and_idempotent(lake: DeltaLake) -> None:
    lake.create("machine_signals")
    lake.create("machine_signals")
    assert lake.version("machine_signals") == 0
    assert lake.row_count("machine_signals") == 0
    assert lake.table("machine_signals").metadata().partition_columns == ["source_date"]


def test_append_adds_rows_and_a_write_commit(lake: DeltaLake) -> None:
    first = lake.append("machine_signals", signals(5, [1.0, 2.0]))
    second = lake.append("machine_signals", signals(6, [3.0]))
    assert (first.version, second.version) == (1, 2)
    assert lake.row_count("machine_signals") == 3
    history = lake.history("machine_signals")
    assert [h["operation"] for h in history[:2]] == ["WRITE", "WRITE"]
    assert history[0]["operationParameters"]["mode"] == "Append"


def test_overwrite_partitions_replaces_only_the_partitions_in_the_batch(lake: DeltaLake) -> None:
    lake.append("machine_signals", signals(5, [1.0, 2.0]))
    lake.append("machine_signals", signals(6, [3.0, 4.0]))
    result = lake.overwrite_partitions("machine_signals", signals(6, [30.0, 40.0, 50.0]))
    rows = lake.read_arrow("machine_signals").to_pylist()
    by_day = sorted((r["source_date"].day, r["value"]) for r in rows)
    assert by_day == [(5, 1.0), (5, 2.0), (6, 30.0), (6, 40.0), (6, 50.0)]
    assert result.version == 3
    assert lake.history("machine_signals", 1)[0]["operationParameters"]["predicate"] \
        == "source_date = '2026-01-06'::date"


def test_insert_new_twice_keeps_one_copy_and_adds_no_files(lake: DeltaLake) -> None:
    batch = signals(5, [1.0, 2.0, 3.0])
    first = lake.insert_new("machine_signals", batch)
    files, version = active_files(lake, "machine_signals"), lake.version("machine_signals")
    second = lake.insert_new("machine_signals", batch)
    assert (first.rows_written, second.rows_written, second.duplicates_skipped) == (3, 0, 3)
    assert lake.row_count("machine_signals") == 3
    assert lake.version("machine_signals") == version
    assert active_files(lake, "machine_signals") == files


def test_insert_new_appends_only_new_keys_and_dedups_within_the_batch(lake: DeltaLake) -> None:
    lake.insert_new("machine_signals", signals(5, [1.0, 2.0]))
    files_before = active_files(lake, "machine_signals")
    overlapping = pl.concat([signals(5, [9.0, 9.0, 7.0]), signals(5, [7.5], start_minute=2)])
    result = lake.insert_new("machine_signals", overlapping)
    assert (result.rows_in, result.rows_written, result.duplicates_skipped) == (4, 1, 3)
    values = sorted(r["value"] for r in lake.read_arrow("machine_signals").to_pylist())
    assert values == [1.0, 2.0, 7.0]  # stored rows are never rewritten; the first of in-batch twins wins
    assert files_before <= active_files(lake, "machine_signals")
    assert lake.history("machine_signals", 1)[0]["operationParameters"]["mode"] == "Append"


def test_upsert_updates_matches_and_inserts_the_rest(lake: DeltaLake) -> None:
    lake.append("dim_material", pa.table({"material_id": ["A", "B"], "material_name": ["a", "b"],
                                          "material_type": ["raw", "raw"], "base_unit": ["EA", "KG"],
                                          "gtin": ["09520000000014", None]}))
    result = lake.upsert("dim_material", pa.table({"material_id": ["B", "C"], "material_name": ["b2", "c"],
                                                   "material_type": ["raw", "finished"], "base_unit": ["KG", "EA"],
                                                   "gtin": [None, None]}))
    rows = sorted((r["material_id"], r["material_name"]) for r in lake.read_arrow("dim_material").to_pylist())
    assert rows == [("A", "a"), ("B", "b2"), ("C", "c")]
    assert result.rows_written == 2
    assert lake.history("dim_material", 1)[0]["operation"] == "MERGE"
    again = lake.upsert("dim_material", pa.table({"material_id": ["B", "C"], "material_name": ["b2", "c"],
                                                  "material_type": ["raw", "finished"], "base_unit": ["KG", "EA"],
                                                  "gtin": [None, None]}))
    assert again.rows_in == 2 and lake.row_count("dim_material") == 3


def test_time_travel_by_version_and_by_timestamp(lake: DeltaLake) -> None:
    lake.append("machine_signals", signals(5, [1.0]))
    time.sleep(0.05)
    between = dt.datetime.now(UTC)
    time.sleep(0.05)
    lake.append("machine_signals", signals(6, [2.0, 3.0]))
    assert lake.read_arrow("machine_signals", version=1).num_rows == 1
    assert lake.read_arrow("machine_signals", version=between).num_rows == 1
    assert lake.scan("machine_signals", version=1).collect().height == 1
    assert lake.scan("machine_signals").collect().height == 3


def test_optimize_compacts_and_vacuum_removes_unreferenced_files(lake: DeltaLake) -> None:
    for minute in range(5):
        lake.append("machine_signals", signals(5, [float(minute)], start_minute=minute))
    assert len(active_files(lake, "machine_signals")) == 5
    metrics = lake.optimize("machine_signals")
    assert (metrics["numFilesRemoved"], metrics["numFilesAdded"]) == (5, 1)
    assert lake.history("machine_signals", 1)[0]["operation"] == "OPTIMIZE"
    assert len(active_files(lake, "machine_signals")) == 1
    assert lake.row_count("machine_signals") == 5

    assert lake.vacuum("machine_signals") == []  # the default 7-day retention keeps recent files
    removed = lake.vacuum("machine_signals", retention_hours=0)
    assert len(removed) == 5
    parquet_on_disk = list(Path(lake.uri("machine_signals")).rglob("*.parquet"))
    assert len(parquet_on_disk) == 1
    assert lake.row_count("machine_signals") == 5


def test_checkpoint_is_written_and_the_table_still_opens(lake: DeltaLake) -> None:
    for minute in range(3):
        lake.append("machine_signals", signals(5, [1.0], start_minute=minute))
    lake.checkpoint("machine_signals")
    log = Path(lake.uri("machine_signals")) / "_delta_log"
    assert (log / "_last_checkpoint").exists()
    assert list(log.glob("*.checkpoint.parquet"))
    assert DeltaLake(lake.root).row_count("machine_signals") == 3


def test_schema_mismatch_names_table_and_columns_and_writes_nothing(lake: DeltaLake) -> None:
    lake.append("machine_signals", signals(5, [1.0]))
    wrong = signals(5, [2.0]).drop("status_code").with_columns(pl.lit("x").alias("colour"))
    with pytest.raises(SchemaMismatchError) as missing:
        lake.append("machine_signals", wrong)
    assert "bronze.machine_signals" in str(missing.value)
    assert missing.value.missing == ["status_code"] and missing.value.extra == ["colour"]

    mistyped = signals(5, [2.0]).with_columns(pl.lit("hot").alias("value"))
    with pytest.raises(SchemaMismatchError, match="value") as typed:
        lake.append("machine_signals", mistyped)
    assert list(typed.value.mistyped) == ["value"]

    naive = signals(5, [2.0]).with_columns(pl.col("source_at").dt.replace_time_zone(None))
    with pytest.raises(SchemaMismatchError, match="no time zone"):
        lake.append("machine_signals", naive)

    null_key = signals(5, [2.0]).with_columns(pl.lit(None, dtype=pl.String).alias("machine_id"))
    with pytest.raises(SchemaMismatchError) as nulls:
        lake.append("machine_signals", null_key)
    assert nulls.value.null_in_required == ["machine_id"]
    assert lake.version("machine_signals") == 1 and lake.row_count("machine_signals") == 1


def test_reading_a_missing_table_says_which(lake: DeltaLake) -> None:
    with pytest.raises(FileNotFoundError, match="silver.dim_material"):
        lake.read_arrow("dim_material")
