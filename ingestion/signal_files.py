"""Historical machine-signal files (Parquet) landed in `machine_signals` under the signals contract, with the
same fingerprints, ingest log, quarantine and dirty-partition marks as the MES and WMS files."""

from __future__ import annotations

import hashlib
from collections import Counter
import io
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts.runner import validate_rows
from data_contracts.signals import REQUIRED_COLUMNS, signal_suite, signal_validation_frame
from ingestion.landing import IN_FLIGHT, FileOutcome, Lander, file_stamp
from ingestion.limits import MAX_PARQUET_ROWS, FileLimitExceeded
from ingestion.opcua.backfill import to_signal_rows
from ingestion.reference import code_sets
from lakehouse.schema import columns_to_arrow

SOURCE = "signals_parquet"
PATTERNS = ("signals/*.parquet", "signals/**/*.parquet")


def pending_signal_files(lander: Lander) -> list[Path]:
    """Every entry but folders: reading rejects FIFOs, devices, loops and links leaving the folder."""
    return sorted({p for pattern in PATTERNS for p in lander.landing_root.glob(pattern)
                   if not p.is_dir() and lander.wanted(p)})


def land_signal_files(lander: Lander, progress: Callable[[FileOutcome], None] | None = None) -> list[FileOutcome]:
    suite = signal_suite(code_sets(lander.lake)["machine"], lander.now)
    outcomes = []
    for path in pending_signal_files(lander):
        outcome = land_signal_file(lander, path, suite)
        if outcome.status == IN_FLIGHT:
            continue
        stats = lander.table_stats.setdefault("machine_signals", Counter())
        stats.update(landed=outcome.rows_landed, quarantined=outcome.rows_quarantined,
                     duplicate=outcome.rows_duplicate)
        lander.log_files([outcome])
        lander.remember([outcome])
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def land_signal_file(lander: Lander, path: Path, suite: object) -> FileOutcome:
    outcome = FileOutcome(SOURCE, lander.relative_name(path))
    before = file_stamp(path)
    try:
        data = lander.read_inside_root(path)
        if before is None or file_stamp(path) != before:
            outcome.status, outcome.error = IN_FLIGHT, "the file changed while it was read"
            return outcome
        outcome.file_sha256, outcome.file_bytes = hashlib.sha256(data).hexdigest(), len(data)
        if lander.is_delivered(outcome.file_sha256):
            outcome.status = "duplicate_file"
            return outcome
        rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows  # from the footer, before decoding
        if rows > MAX_PARQUET_ROWS:
            raise FileLimitExceeded(f"Parquet file of {rows:,} rows, more than the limit of {MAX_PARQUET_ROWS:,} "
                                    "(ingestion.limits.MAX_PARQUET_ROWS)")
        frame = pl.read_parquet(io.BytesIO(data))
    except FileLimitExceeded as exc:
        outcome.status, outcome.error = "rejected", str(exc)
        return outcome
    except (OSError, ValueError, RuntimeError, pa.ArrowException, pl.exceptions.PolarsError) as exc:
        outcome.status, outcome.error = "rejected", f"unreadable: {exc}"
        return outcome
    problem = _file_problem(frame)
    if problem:
        outcome.status, outcome.error = "rejected", problem
        return outcome
    try:  # any failure on this file's values rejects this file only, with the reason
        return _land_rows(lander, outcome, frame, suite)
    except Exception as exc:  # noqa: BLE001
        Lander._reject_after_failure(outcome, exc)
        return outcome


def _land_rows(lander: Lander, outcome: FileOutcome, frame: pl.DataFrame, suite: object) -> FileOutcome:
    outcome.rows_read = frame.height
    verdicts = validate_rows(signal_validation_frame(frame), suite)
    bad = sorted(verdicts.failures) if not verdicts.table_failures else list(range(frame.height))
    if bad:
        _quarantine(lander, outcome, frame, bad, verdicts.failures, verdicts.table_failures)
    good = (frame.with_row_index("_row").filter(~pl.col("_row").is_in(bad)).drop("_row")
            .with_columns(pl.col("value").cast(pl.Float64).fill_nan(None)))  # NaN of a Bad sample: no value
    if good.height:
        rows = to_signal_rows(good, source_file=outcome.source_file, run_id=lander.run_id, ingested_at=lander.now)
        already = lander.existing_dates("machine_signals", column="source_date")
        result, inserted = lander.lake.insert_new_rows("machine_signals", rows.to_arrow())
        recovered = _landed_by_an_unlogged_run(lander, outcome.source_file, rows, inserted)
        outcome.rows_landed = result.rows_written + recovered
        outcome.rows_duplicate = result.duplicates_skipped - recovered
        outcome.event_dates = set(rows["source_date"].unique().to_list())
        lander.mark_dirty("machine_signals", outcome.event_dates, already)
    return outcome


def _landed_by_an_unlogged_run(lander: Lander, source_file: str, rows: pl.DataFrame, inserted: pl.DataFrame) -> int:
    """Rows of this file that a run killed before its log row already wrote (stored under this file's name by a
    run that never logged it as landed): counted as landed, not as duplicates, so the log's rows_landed keeps
    agreeing with the table after a crash (`ingestion/log_check.py`). A signals row carries its file's name,
    not its fingerprint; the fingerprint was not delivered before (else the file was skipped), so only a killed
    run of this very content, or an earlier file of the same name, can have stored it."""
    if rows.height == inserted.height:
        return 0
    keys = list(lander.lake.spec("machine_signals").merge_keys)
    skipped = rows.select(keys).join(inserted.select(keys), on=keys, how="anti")
    logged_runs = (lander.lake.scan("ingest_log").filter((pl.col("source_file") == source_file)
                                                          & pl.col("status").is_in(["landed", "replayed"]))
                   .select("ingest_run_id").collect()["ingest_run_id"].to_list()
                   if lander.lake.exists("ingest_log") else [])
    stored = (lander.lake.scan("machine_signals")
              .filter((pl.col("source_file") == source_file) & ~pl.col("ingest_run_id").is_in(logged_runs))
              .select(keys).join(skipped.lazy(), on=keys, how="semi"))
    return stored.select(pl.len()).collect().item()


def _file_problem(frame: pl.DataFrame) -> str | None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return f"missing columns {missing}"
    source_at = frame.schema["source_at"]
    if not isinstance(source_at, pl.Datetime) or source_at.time_zone is None:
        return f"source_at must be a timestamp with a time zone, found {source_at}"
    for column in ("server_at",):
        dtype = frame.schema.get(column)
        if dtype is not None and dtype != pl.Null and not (isinstance(dtype, pl.Datetime) and dtype.time_zone):
            return f"{column} must be a timestamp with a time zone, found {dtype}"
    for column, kinds in (("value", "numeric"), ("status_code", "integer")):
        dtype = frame.schema[column]
        if not (dtype.is_numeric() if kinds == "numeric" else dtype.is_integer()):
            return f"{column} must be {kinds}, found {dtype}"
    return None


def _quarantine(lander: Lander, outcome: FileOutcome, frame: pl.DataFrame, bad: list[int],
                failures: dict[int, list[str]], table_failures: list[str]) -> None:
    rows = frame[bad].with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")).to_dicts()
    payloads = [json.dumps(r, default=str, sort_keys=True) for r in rows]
    lander.lake.insert_new("quarantine_machine_signals", columns_to_arrow(lander.lake.spec("quarantine_machine_signals"), {
        "file_sha256": [outcome.file_sha256] * len(bad), "source_line": [i + 1 for i in bad],
        "record_seq": [0] * len(bad), "source_file": [outcome.source_file] * len(bad),
        "record_type": ["signal"] * len(bad), "raw_payload": payloads,
        "raw_payload_bytes": [len(p) for p in payloads],
        "reasons": [failures.get(i) or [f"table-level: {f}" for f in table_failures] for i in bad],
        "ingest_run_id": [lander.run_id] * len(bad),
        "quarantined_at": pa.array([lander.now] * len(bad), pa.timestamp("us", "UTC"))}))
    outcome.rows_quarantined = len(bad)
