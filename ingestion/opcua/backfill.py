"""Historical backfill: land a signal file (Parquet or CSV) in `machine_signals`, the table live collection fills.

The file needs columns machine_id, tag, source_at, value, status_code (node_id and server_at are optional).
source_at is UTC by contract: zoned timestamps are converted to UTC, naive ones and strings without an offset
are read as UTC. Rows land through insert_new, so backfilling the same file twice (or a file overlapping what
the live collector already stored) lands each (machine_id, tag, source_at) once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake

REQUIRED = ("machine_id", "tag", "source_at", "value", "status_code")


@dataclass(frozen=True)
class BackfillResult:
    source_file: str
    rows_read: int
    rows_landed: int
    duplicates_skipped: int


def read_signal_file(path: Path) -> pl.DataFrame:
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
    elif path.suffix.lower() == ".csv":
        frame = pl.read_csv(path, infer_schema_length=10_000)
    else:
        raise ValueError(f"{path}: expected a .parquet or .csv signal file")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing} (needs {', '.join(REQUIRED)})")
    return frame


def to_signal_rows(frame: pl.DataFrame, *, source_file: str, run_id: str, ingested_at: datetime) -> pl.DataFrame:
    """The file's rows shaped like `machine_signals` (pure; no IO)."""
    def utc(name: str) -> pl.Expr:
        dtype = frame.schema[name]
        column = pl.col(name)
        if dtype == pl.String:
            column = column.str.to_datetime(time_zone="UTC", time_unit="us")
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")

    optional = {name: pl.lit(None, pl.String) if name == "node_id" else pl.lit(None, pl.Datetime("us", "UTC"))
                for name in ("node_id", "server_at") if name not in frame.columns}
    return frame.with_columns(**optional).select(
        pl.col("machine_id").cast(pl.String), pl.col("tag").cast(pl.String), pl.col("node_id").cast(pl.String),
        utc("source_at").alias("source_at"),
        (utc("server_at") if "server_at" not in optional else pl.col("server_at")).alias("server_at"),
        pl.col("value").cast(pl.Float64), pl.col("status_code").cast(pl.Int64),
    ).with_columns(
        source_date=pl.col("source_at").dt.date(),
        ingested_at=pl.lit(ingested_at).dt.convert_time_zone("UTC").dt.cast_time_unit("us"),
        ingest_run_id=pl.lit(run_id), source_file=pl.lit(source_file))


def backfill_file(lake: DeltaLake, path: Path | str, *, run_id: str | None = None) -> BackfillResult:
    """Land one historical signal file; returns rows read / landed / skipped as already stored."""
    path = Path(path)
    frame = read_signal_file(path)
    rows = to_signal_rows(frame, source_file=str(path.resolve()), run_id=run_id or f"backfill-{uuid.uuid4().hex[:12]}",
                          ingested_at=datetime.now(UTC))
    result = lake.insert_new("machine_signals", rows.to_arrow())
    return BackfillResult(str(path.resolve()), frame.height, result.rows_written, result.duplicates_skipped)
