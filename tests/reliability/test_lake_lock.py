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
