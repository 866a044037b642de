"""Stopping: a graceful stop flushes everything; a crashed collector's successor books a collector_restart gap."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from conftest import make_config

from ingestion.opcua import Collector
from ingestion.opcua.demo_server import DemoServer
from ingestion.opcua.state import read_state, state_path
from lakehouse.delta_io import DeltaLake

REPO = Path(__file__).resolve().parents[3]


async def _graceful(lake: DeltaLake, port: int) -> list[datetime]:
    async with DemoServer(port) as server:
        # The flush interval outlasts the run: only the flush at stop can land these values.
        config = make_config(server.endpoint, flush_interval_s=60, flush_max_values=100_000)
        run = asyncio.create_task(Collector(config, lake).run(duration_s=2.0))
        await asyncio.sleep(1.0)
        written = [await server.write("M1", "temperature_c", 40.0 + i) for i in range(20)]
        await run
    return written


def test_graceful_stop_flushes_everything(lake: DeltaLake, port: int) -> None:
    written = asyncio.run(_graceful(lake, port))
    rows = lake.scan("machine_signals").filter(pl.col("source_at").is_in(written)).collect()
    assert sorted(rows["value"].to_list()) == [40.0 + i for i in range(20)]
    state = read_state(state_path(lake.root, "test"))
    assert state is not None and state.running is False and state.stopped_at is not None


async def _wait_for_flush(path: Path, timeout_s: float) -> datetime:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = read_state(path) if path.exists() else None
        if state is not None and state.running and state.last_flush_at and state.last_flush_at > state.started_at:
            return state.last_flush_at
        await asyncio.sleep(0.1)
    raise AssertionError(f"collector subprocess never flushed (state {path})")


async def _crash_and_restart(lake: DeltaLake, port: int, tmp_path: Path) -> dict:
    config_file = tmp_path / "collector.toml"
    async with DemoServer(port) as server:
        config_file.write_text(f'''
endpoint = "{server.endpoint}"
collector_id = "crashy"
flush_interval_s = 0.5
[[nodes]]
node_id = "ns=2;s=M1.temperature_c"
machine_id = "M1"
tag = "temperature_c"
''')
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ingestion.opcua.cli", "--config", str(config_file), "--lake", str(lake.root),
            "--duration-s", "60", cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            await server.write("M1", "temperature_c", 50.0)
            await _wait_for_flush(state_path(lake.root, "crashy"), timeout_s=20)
            await asyncio.sleep(0.7)  # at least one flush with data
        finally:
            process.send_signal(signal.SIGKILL)  # a crash: no flush, no graceful state
            await asyncio.wait_for(process.wait(), 10)
        crashed = read_state(state_path(lake.root, "crashy"))
        landed_before = lake.row_count("machine_signals")
        restarted_at = datetime.now(UTC)
        run = asyncio.create_task(Collector(make_config(server.endpoint, [("M1", "temperature_c")],
                                                        collector_id="crashy"), lake).run(duration_s=2.0))
        await asyncio.sleep(1.0)
        after = await server.write("M1", "temperature_c", 51.0)
        report = await run
    return {"crashed": crashed, "landed_before": landed_before, "restarted_at": restarted_at, "after": after,
            "report": report}


def test_crash_then_restart_books_collector_restart_gap(lake: DeltaLake, port: int, tmp_path: Path) -> None:
    seen = asyncio.run(_crash_and_restart(lake, port, tmp_path))
    crashed = seen["crashed"]
    assert crashed.running is True and seen["landed_before"] >= 1
    gaps = lake.scan("machine_signal_gaps").filter(pl.col("reason") == "collector_restart").collect()
    assert gaps.height == 1
    gap = gaps.row(0, named=True)
    assert gap["scope"] == "connection"
    assert gap["started_at"] == crashed.last_flush_at
    assert seen["restarted_at"] <= gap["ended_at"] <= seen["restarted_at"] + timedelta(seconds=5)
    rows = lake.scan("machine_signals").collect()
    assert rows.filter(pl.col("source_at") == seen["after"])["value"].to_list() == [51.0]
    assert rows.select("machine_id", "tag", "source_at").unique().height == rows.height
    final = read_state(state_path(lake.root, "crashy"))
    assert final.running is False and final.run_id == seen["report"].run_id
