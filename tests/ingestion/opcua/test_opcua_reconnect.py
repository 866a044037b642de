"""Connection outages: the collector reconnects, re-subscribes, books one gap per outage, never duplicates rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import polars as pl
from conftest import CuttableProxy, free_port, make_config

from ingestion.opcua import Collector
from ingestion.opcua.demo_server import DemoServer
from lakehouse.delta_io import DeltaLake


def _connection_gaps(lake: DeltaLake) -> pl.DataFrame:
    return lake.scan("machine_signal_gaps").filter(pl.col("scope") == "connection").collect()


def _assert_no_duplicate_samples(lake: DeltaLake) -> pl.DataFrame:
    rows = lake.scan("machine_signals").collect()
    assert rows.select("machine_id", "tag", "source_at").unique().height == rows.height
    return rows


async def _server_restart(lake: DeltaLake, port: int) -> dict:
    server = await DemoServer(port).start()
    stop = asyncio.Event()
    run = asyncio.create_task(Collector(make_config(server.endpoint), lake).run(stop))
    try:
        await asyncio.sleep(1.0)
        before = await server.write("M1", "temperature_c", 21.0)
        await asyncio.sleep(0.8)
        stopping_at = datetime.now(UTC)
        await server.stop()
        stopped_at = datetime.now(UTC)
        await asyncio.sleep(2.0)
        server = await DemoServer(port).start()
        restarted_at = datetime.now(UTC)
        await asyncio.sleep(2.5)
        after = await server.write("M1", "temperature_c", 30.0)
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        report = await asyncio.wait_for(run, 15)
        await server.stop()
    return {"report": report, "before": before, "after": after, "stopping_at": stopping_at, "stopped_at": stopped_at,
            "restarted_at": restarted_at}


def test_server_restart_books_one_gap_and_lands_later_values(lake: DeltaLake, port: int) -> None:
    seen = asyncio.run(_server_restart(lake, port))
    gaps = _connection_gaps(lake)
    assert gaps.height == 1
    gap = gaps.row(0, named=True)
    assert gap["reason"] == "connection_lost"
    # Keep-alives arrive about every second, so the last sign of life is at most ~1.5 s before the stop.
    assert seen["stopping_at"] - timedelta(seconds=1.5) <= gap["started_at"] <= seen["stopped_at"]
    assert seen["restarted_at"] <= gap["ended_at"] <= seen["restarted_at"] + timedelta(seconds=3)
    rows = _assert_no_duplicate_samples(lake)
    m1 = rows.filter((pl.col("machine_id") == "M1") & (pl.col("tag") == "temperature_c"))
    assert m1.filter(pl.col("source_at") == seen["before"])["value"].to_list() == [21.0]
    assert m1.filter(pl.col("source_at") == seen["after"])["value"].to_list() == [30.0]
    assert seen["report"].reconnects == 1


async def _network_cut(lake: DeltaLake, server_port: int) -> dict:
    async with DemoServer(server_port) as server:
        proxy = await CuttableProxy(free_port(), server_port).start()
        stop = asyncio.Event()
        run = asyncio.create_task(Collector(make_config(proxy.endpoint), lake).run(stop))
        try:
            await asyncio.sleep(1.0)
            for value in (21.0, 22.0, 23.0):
                await server.write("M1", "temperature_c", value)
                await server.write("M2", "temperature_c", value + 10)
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.8)
            await proxy.cut()
            await asyncio.sleep(1.5)
            during = await server.write("M1", "temperature_c", 24.0)  # the collector cannot see this one live
            await proxy.start()
            await asyncio.sleep(2.5)
            after = await server.write("M1", "temperature_c", 25.0)
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            report = await asyncio.wait_for(run, 15)
            await proxy.cut()
    return {"report": report, "during": during, "after": after}


def test_resubscribe_after_network_cut_repeats_values_without_duplicating_rows(lake: DeltaLake, port: int) -> None:
    seen = asyncio.run(_network_cut(lake, port))
    report = seen["report"]
    assert report.reconnects == 1
    assert _connection_gaps(lake).height == 1
    rows = _assert_no_duplicate_samples(lake)
    # Each re-subscribe repeats both nodes' current values: the initial subscription's 2 notifications and the
    # repeats of M2's unchanged value are dropped as duplicates of rows already stored.
    assert report.duplicates_skipped >= 1
    assert report.received == rows.height + report.duplicates_skipped
    m1 = rows.filter((pl.col("machine_id") == "M1") & (pl.col("tag") == "temperature_c"))
    # The value written during the cut is the node's current value at re-subscribe, so it still lands.
    assert m1.filter(pl.col("source_at") == seen["during"])["value"].to_list() == [24.0]
    assert m1.filter(pl.col("source_at") == seen["after"])["value"].to_list() == [25.0]
    assert sorted(m1["value"].to_list())[-5:] == [21.0, 22.0, 23.0, 24.0, 25.0]
