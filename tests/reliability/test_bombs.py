"""Memory and size bombs from issue 15, all in one landing folder, landed by a child process whose peak RSS is
measured: each bomb is rejected by its limit with the reason, the good file lands, and the peak stays ≤ 2 GB."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import threading
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hostile_corpus import GOOD, wms_file
from landing_files import write_master_data
from lakehouse.delta_io import DeltaLake
from reliability_corpus import nested_b2mml

REPO = Path(__file__).resolve().parents[2]
PEAK_RSS_LIMIT = 2 * 1024 ** 3
LAND_CHILD = Path(__file__).with_name("land_child.py")
# the child sees what a fresh shell would, not what earlier tests left in this process's environment
CHILD_ENV = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}


def gzip_of(path: Path, chunk: bytes, repeats: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=9) as stream:
        for _ in range(repeats):
            stream.write(chunk)


def parquet_of_rows(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    group = 1_000_000
    table = pa.table({"machine_id": pa.array(["L1-M1"] * group), "tag": pa.array(["speed"] * group),
                      "source_at": pa.array([0] * group, pa.timestamp("us", "UTC")),
                      "value": pa.array([1.0] * group), "status_code": pa.array([0] * group, pa.int64())})
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for _ in range(rows // group):
            writer.write_table(table)


def run_measured(args: list[str], env: dict[str, str], timeout_s: float = 300) -> tuple[int, str, str, int]:
    """Run a child and return (exit code, stdout, stderr, its own peak RSS in bytes), from wait4 on that child:
    the suite's RUSAGE_CHILDREN maximum also takes in whatever earlier child a later Popen happens to reap."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        killer = threading.Timer(timeout_s, child.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            killer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read().decode(), err.read().decode(), usage.ru_maxrss * 1024  # Linux: KiB


@pytest.fixture(scope="module")
def bomb_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bombs")
    landing = root / "landing"
    events = landing / "mes" / "events"
    events.mkdir(parents=True)
    (events / "blank-lines-40MB.ndjson").write_bytes(b"\n" * (40 * 1024 * 1024))
    gzip_of(events / "newlines-100MB.ndjson.gz", b"\n" * (1024 * 1024), 100)
    gzip_of(events / "empty-objects-300k.ndjson.gz", b"{}\n" * 1000, 300)
    parquet_of_rows(landing / "signals" / "rows-30M.parquet", 30_000_000)
    xml = landing / "mes" / "b2mml" / "deep.xml"
    xml.parent.mkdir(parents=True)
    xml.write_bytes(nested_b2mml(5000))
    good = landing / "wms" / "receipts" / "good.csv"
    good.parent.mkdir(parents=True)
    good.write_bytes(wms_file(GOOD))
    lake = write_master_data(DeltaLake(root / "lake"))
    return lake.root, landing


def test_every_bomb_is_rejected_by_its_limit_within_2_gb(bomb_folder: tuple[Path, Path]) -> None:
    lake_root, landing = bomb_folder
    assert (landing / "signals" / "rows-30M.parquet").stat().st_size < 2 * 1024 * 1024
    returncode, stdout, stderr, _ = run_measured(
        [sys.executable, str(LAND_CHILD), str(lake_root), str(landing)], env=CHILD_ENV | {"PYTHONPATH": str(REPO)})
    assert returncode == 0, stderr[-3000:]
    outcomes = json.loads(stdout.strip().splitlines()[-1])
    peak_bytes = int(stderr.rsplit("peak_rss_kib=", 1)[1].split()[0]) * 1024

    expected = {
        "mes/events/blank-lines-40MB.ndjson": "more than the limit of 5,000,000 (ingestion.limits.MAX_LINES)",
        "mes/events/newlines-100MB.ndjson.gz": "more than the limit of 5,000,000 (ingestion.limits.MAX_LINES)",
        "mes/events/empty-objects-300k.ndjson.gz": "300,000 records could not be read, more than the limit of "
                                                  "10,000 per file",
        "signals/rows-30M.parquet": "Parquet file of 30,000,000 rows, more than the limit of 10,000,000",
        "mes/b2mml/deep.xml": "XML nested deeper than 64 elements",
    }
    for name, reason in expected.items():
        status, error, *rows = outcomes[name]
        assert (status, rows) == ("rejected", [0, 0, 0, 0]), (name, error)
        assert reason in error, (name, error)
    assert outcomes["wms/receipts/good.csv"][0] == "landed" and outcomes["wms/receipts/good.csv"][3] == 1
    assert peak_bytes <= PEAK_RSS_LIMIT, f"peak RSS {peak_bytes / 1024 ** 3:.2f} GB"
    print(f"peak RSS of the landing child: {peak_bytes / 1024 ** 2:,.0f} MiB")
