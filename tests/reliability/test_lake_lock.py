"""One writer per lake: a second writer gets "lake is busy" (exit 5 on the CLI), a retry after the first
finishes succeeds, and a lock whose owner died is taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hostile_corpus import GOOD, wms_file
from lakehouse.delta_io import DeltaLake
from lakehouse.lake_lock import LOCK_NAME, LakeBusyError, LakeLock, lake_writer
from landing_files import write_master_data


def test_a_second_writer_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    with lake_writer(tmp_path, "ingest"):
        with pytest.raises(LakeBusyError, match=r"lake is busy: ingest \(pid \d+ on "):
            LakeLock(tmp_path, "run").acquire()
    with lake_writer(tmp_path, "run") as lock:  # the retry succeeds
        assert json.loads((tmp_path / LOCK_NAME).read_text())["command"] == "run"
        assert lock.owner["pid"] == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_whose_owner_died_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK_NAME).write_text(json.dumps({
        "pid": int(dead.stdout), "host": socket.gethostname(), "command": "ingest", "token": "old",
        "started_at": "2026-01-01T00:00:00+00:00", "heartbeat_at": "2099-01-01T00:00:00+00:00"}))
    with lake_writer(tmp_path, "run"):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["token"] != "old"


def test_a_lock_without_a_heartbeat_is_stale_even_from_another_host(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(json.dumps({
        "pid": 1, "host": "elsewhere", "command": "run", "token": "old",
        "started_at": "2026-01-01T00:00:00+00:00", "heartbeat_at": "2026-01-01T00:00:00+00:00"}))
    with lake_writer(tmp_path, "ingest"):
        pass
    (tmp_path / LOCK_NAME).write_text(json.dumps({
        "pid": 1, "host": "elsewhere", "command": "run", "token": "live",
        "started_at": "2026-01-01T00:00:00+00:00", "heartbeat_at": "2099-01-01T00:00:00+00:00"}))
    with pytest.raises(LakeBusyError, match="run \\(pid 1 on elsewhere"):
        LakeLock(tmp_path, "ingest").acquire()


def test_cli_ingest_on_a_busy_lake_exits_5_and_succeeds_on_retry(tmp_path: Path) -> None:
    lake = write_master_data(DeltaLake(tmp_path / "lake"))
    landing = tmp_path / "landing" / "wms" / "receipts"
    landing.mkdir(parents=True)
    (landing / "2026-01-05.csv").write_bytes(wms_file(GOOD))
    command = [str(Path(sys.executable).parent / "plantlake"), "--lake", str(lake.root), "ingest", "--source",
               str(tmp_path / "landing")]
    with lake_writer(lake.root, "run"):
        busy = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert busy.returncode == 5, busy.stderr
    assert busy.stderr.strip().splitlines()[-1].startswith("Error: lake is busy: run (pid ")
    assert not lake.exists("wms_transactions")
    retry = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert retry.returncode == 0, retry.stderr[-2000:]
    assert lake.row_count("wms_transactions") == 1


def test_insert_only_writers_racing_on_one_table_never_duplicate_a_key(tmp_path: Path) -> None:
    """The collector and `ingest` both land machine signals insert-only (read the stored keys, append the rest):
    writers racing on one table keep each key once (lakehouse.lake_lock.table_write_lock)."""
    import threading
    from datetime import date, datetime, timezone

    import pyarrow as pa

    from lakehouse.delta_io import DeltaLake

    lake = DeltaLake(tmp_path / "lake")
    now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    batches = [pa.table({"table_name": ["t"] * 40, "event_date": [date(2026, 1, 1 + i % 28) for i in range(40)],
                         "ingest_run_id": [f"run-{(i + shift) % 60}" for i in range(40)], "is_late": [False] * 40,
                         "marked_at": [now] * 40}) for shift in range(0, 60, 3)]
    start = threading.Barrier(3)

    def writer() -> None:
        start.wait()
        for batch in batches:
            lake.insert_new("dirty_partitions", batch)

    failures: list[BaseException] = []

    def guarded() -> None:
        try:
            writer()
        except BaseException as error:  # noqa: BLE001 - a writer that died is a failure of the test
            failures.append(error)

    writers = [threading.Thread(target=guarded) for _ in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    assert not failures, failures
    rows = lake.scan("dirty_partitions").select("event_date", "ingest_run_id").collect()
    expected = pa.concat_tables(batches).to_pandas()[["event_date", "ingest_run_id"]].drop_duplicates()
    assert rows.height == rows.unique().height == len(expected)


def test_a_dagster_run_holds_the_lake_lock_and_finds_the_lake_busy(tmp_path: Path) -> None:
    """Runs started by Dagster (sensor, schedule, UI) take the lake's writer lock like `plantlake run`: while
    another writer holds it the run fails with "lake is busy"; after it, the run succeeds and holds the lock."""
    import threading

    import dagster as dg

    from pipelines.definitions import build_definitions

    root = tmp_path / "lake"
    job = build_definitions(lake_root=str(root), source_dir=str(tmp_path)).resolve_job_def("lake_maintenance")
    holder_has_it, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with lake_writer(root, "ingest"):
            holder_has_it.set()
            release.wait(60)

    thread = threading.Thread(target=other_writer)
    thread.start()
    holder_has_it.wait(10)
    try:
        busy = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    finally:
        release.set()
        thread.join(10)
    assert not busy.success
    failure = next(e for e in busy.all_events if e.is_failure)
    assert "lake is busy: ingest (pid " in str(failure.event_specific_data.error)

    seen: list[dict | None] = []
    original = LakeLock.release

    def spy(self: LakeLock) -> None:  # the run's own lock, read just before it is released
        import json
        seen.append(json.loads((root / LOCK_NAME).read_text()))
        original(self)

    LakeLock.release = spy  # type: ignore[method-assign]
    try:
        assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False).success
    finally:
        LakeLock.release = original  # type: ignore[method-assign]
    assert seen and seen[0]["command"].startswith("dagster run ") and seen[0]["command"].endswith("(lake_maintenance)")
    assert not (root / LOCK_NAME).exists()
