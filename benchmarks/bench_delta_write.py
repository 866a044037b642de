"""Delta write through plantlake (schema conform + deltalake) against a plain pyarrow Parquet write."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import Measurement, best_of
from lakehouse.delta_io import DeltaLake


def signal_rows(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    start_us = 1_767_571_200_000_000  # 2026-01-05T00:00Z
    at = pa.array(start_us + np.sort(rng.integers(0, 14 * 86_400_000_000, n)), pa.int64()).cast(
        pa.timestamp("us", "UTC"))
    return pa.table({
        "machine_id": pa.array(rng.choice([f"L{i // 4 + 1}-M{i % 4 + 1}" for i in range(8)], n)),
        "tag": pa.array(rng.choice(["temperature_c", "vibration_mm_s", "motor_current_a", "speed_per_min"], n)),
        "source_at": at, "server_at": at, "value": rng.normal(50, 5, n), "status_code": np.zeros(n, np.int64),
        "source_date": at.cast(pa.date32()),
        "ingested_at": pa.array(np.full(n, start_us + 15 * 86_400_000_000), pa.int64()).cast(pa.timestamp("us", "UTC")),
        "node_id": pa.array(np.full(n, None, object), pa.string()), "ingest_run_id": pa.array(np.full(n, "bench")),
        "source_file": pa.array(np.full(n, "signals.parquet")),
    })


def run(rows: int = 2_000_000, repeats: int = 3) -> tuple[Measurement, Measurement]:
    data = signal_rows(rows)
    workdir = Path(tempfile.mkdtemp(prefix="bench_delta_"))
    try:
        def reset() -> None:
            shutil.rmtree(workdir / "lake", ignore_errors=True)

        ours, _ = best_of(repeats, lambda: DeltaLake(workdir / "lake").append("machine_signals", data), setup=reset)
        peer, _ = best_of(repeats, lambda: pq.write_table(data, workdir / "plain.parquet"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return (Measurement("delta_write", "plantlake append (deltalake, partitioned by day)", ours, rows, "rows"),
            Measurement("delta_write", "pyarrow.parquet.write_table (one file)", peer, rows, "rows"))
