"""Scheduled compaction: the collector keeps `machine_signals`' active file count bounded, rows are conserved."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from conftest import make_config

from ingestion.opcua import Collector
from ingestion.opcua.cli import format_report
from ingestion.opcua.compaction_figure import simulate
from ingestion.opcua.demo_server import DemoServer
from lakehouse.delta_io import DeltaLake

KEY = ["machine_id", "tag", "source_at"]


def _active_files(lake: DeltaLake) -> int:
    return len(lake.table("machine_signals").file_uris()) if lake.exists("machine_signals") else 0


async def _collect_with_compaction(lake: DeltaLake, port: int) -> dict:
    async with DemoServer(port) as server:
        config = make_config(server.endpoint, flush_interval_s=0.2, compact_every_s=2.0)
        run = asyncio.create_task(Collector(config, lake).run(duration_s=6.5))
        await asyncio.sleep(0.5)
        written: list[tuple[str, datetime, float]] = []
        files_seen: list[int] = []
        loop = asyncio.get_running_loop()
        until = loop.time() + 5.5  # the run's final flush lands everything written before it stops
        i = 0
        while loop.time() < until:
            i += 1
            machine = ("M1", "M2")[i % 2]
            value = 20.0 + i * 0.01
            written.append((machine, await server.write(machine, "temperature_c", value), value))
            if i % 3 == 0:
                files_seen.append(await asyncio.to_thread(_active_files, lake))
            await asyncio.sleep(0.05)
        report = await asyncio.wait_for(run, 15)
    return {"report": report, "written": written, "files_seen": files_seen}


def test_compaction_bounds_the_file_count_and_conserves_rows(lake: DeltaLake, port: int) -> None:
    seen = asyncio.run(_collect_with_compaction(lake, port))
    report = seen["report"]
    rows = lake.scan("machine_signals").collect()
    # Conserved: every value written lands exactly once, nothing else is duplicated.
    assert rows.select(KEY).unique().height == rows.height == report.written
    assert report.received == rows.height + report.duplicates_skipped
    expected = pl.DataFrame(seen["written"], schema=["machine_id", "source_at", "value"], orient="row")
    landed = rows.join(expected.select("machine_id", "source_at"), on=["machine_id", "source_at"], how="semi")
    assert landed.height == expected.height > 50
    assert sorted(landed["value"].to_list()) == sorted(expected["value"].to_list())
    # Bounded: about 30 flushes wrote a file each, but at most ~10 flushes (2 s / 0.2 s) pass between compactions.
    writes = [h for h in lake.history("machine_signals") if h["operation"] == "WRITE"]
    assert len(writes) >= 20
    assert report.compactions >= 2 and report.files_compacted >= 15
    assert max(seen["files_seen"]) <= 14, seen["files_seen"]
    assert _active_files(lake) <= 14
    assert any(h["operation"] == "OPTIMIZE" for h in lake.history("machine_signals"))
    assert f"{report.compactions} compactions" in format_report(report)


def test_simulated_hour_of_flushes_stays_bounded(tmp_path: Path) -> None:
    """The sink driven directly on a simulated clock: 60 flushes at 1 s, compacting every 20 s."""
    lake = DeltaLake(tmp_path / "lake")
    figure = asyncio.run(simulate(lake, flushes=60, flush_interval_s=1.0, compact_every_s=20.0, nodes=2))
    assert figure.files_without_compaction == 60  # one file per flush
    assert figure.compactions == 3  # at 20, 40 and 60 s
    assert figure.active_files == 1 and figure.peak_active_files <= 21
    rows = lake.scan("machine_signals").collect()
    assert rows.height == figure.rows == 120 and rows.select(KEY).unique().height == 120
    start = rows["source_at"].min()
    assert start == datetime(2025, 1, 6, 6, 0, 1, tzinfo=UTC)
    assert rows["source_at"].max() == start + timedelta(seconds=59)
