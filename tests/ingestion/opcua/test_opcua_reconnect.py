"""Connection outages: the collector reconnects, re-subscribes, books one gap per outage, never duplicates rows."""

from __future__ import annotations

import asyncio
import time
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
    # From the last value delivered (M1's 21.0, 0.8 s before the stop), not from the last keep-alive.
    assert gap["started_at"] == seen["before"] < seen["stopping_at"]
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


CAP_S = 2.0


def _rows_since(lake: DeltaLake, since: datetime) -> int:
    if not lake.exists("machine_signals"):
        return 0
    return lake.scan("machine_signals").filter(pl.col("source_at") >= since).select(pl.len()).collect().item()


async def _outage_longer_than_the_cap(lake: DeltaLake, port: int) -> dict:
    server = await DemoServer(port).start()
    # Uncapped, this backoff (0.25, 0.5, 1, 2, 4, 8 s...) would next try about 7 s after the server is back.
    config = make_config(server.endpoint, [("M1", "temperature_c")], flush_interval_s=0.2,
                         reconnect={"initial_s": 0.25, "max_s": CAP_S, "factor": 2.0})
    stop = asyncio.Event()
    run = asyncio.create_task(Collector(config, lake).run(stop))
    value_again_after_s = None
    try:
        await asyncio.sleep(1.0)
        await server.write("M1", "temperature_c", 21.0)
        await asyncio.sleep(0.5)
        await server.stop()
        await asyncio.sleep(8.0)  # 4x the cap: the backoff has long reached it
        server = await DemoServer(port).start()
        back_at, back = datetime.now(UTC), time.monotonic()
        value = 30.0
        while time.monotonic() - back < CAP_S + 6:  # bounded: fails below rather than waiting forever
            value += 0.5
            await server.write("M1", "temperature_c", value)
            if await asyncio.to_thread(_rows_since, lake, back_at):
                value_again_after_s = time.monotonic() - back
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        report = await asyncio.wait_for(run, 15)
        await server.stop()
    return {"report": report, "back_at": back_at, "value_again_after_s": value_again_after_s}


def test_reconnects_within_the_backoff_cap_after_a_long_outage(lake: DeltaLake, port: int) -> None:
    seen = asyncio.run(_outage_longer_than_the_cap(lake, port))
    margin_s = 1.5  # connect + subscribe, one flush (0.2 s), the write and this test's polling (0.1 s)
    assert seen["value_again_after_s"] is not None, "no value landed after the server came back"
    assert seen["value_again_after_s"] <= CAP_S + margin_s
    gap = _connection_gaps(lake).row(0, named=True)
    assert seen["back_at"] <= gap["ended_at"] <= seen["back_at"] + timedelta(seconds=CAP_S + 1.0)
    assert seen["report"].reconnects == 1


async def _quiet_then_outage(lake: DeltaLake, port: int) -> dict:
    server = await DemoServer(port).start()
    stop = asyncio.Event()
    run = asyncio.create_task(Collector(make_config(server.endpoint, flush_interval_s=0.2), lake).run(stop))
    try:
        await asyncio.sleep(1.0)
        written = []
        for i in range(3):
            written.append(await server.write("M1", "temperature_c", 21.0 + i))
            written.append(await server.write("M2", "temperature_c", 31.0 + i))
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.6)  # no new values, but keep-alives (about every second) after the last one
        landed = await asyncio.to_thread(lambda: lake.scan("machine_signals").collect())
        await server.stop()
        await asyncio.sleep(1.0)
        server = await DemoServer(port).start()
        await asyncio.sleep(2.0)
    finally:
        stop.set()
        report = await asyncio.wait_for(run, 15)
        await server.stop()
    return {"report": report, "written": written, "landed_before_outage": landed}


def test_connection_gap_starts_at_the_last_value_delivered(lake: DeltaLake, port: int) -> None:
    seen = asyncio.run(_quiet_then_outage(lake, port))
    last = seen["written"][-1]  # M2 = 33.0, the last value the server sent before it stopped
    landed = seen["landed_before_outage"]
    assert landed["source_at"].max() == last
    assert landed.filter(pl.col("source_at") == last).select("machine_id", "value").rows() == [("M2", 33.0)]
    gaps = _connection_gaps(lake)
    assert gaps.height == 1
    gap = gaps.row(0, named=True)
    assert gap["reason"] == "connection_lost"
    assert gap["started_at"] == last  # not the last keep-alive, which came 1-1.6 s later
    assert gap["ended_at"] - gap["started_at"] >= timedelta(seconds=2.5)
    m1_last = landed.filter(pl.col("machine_id") == "M1")["source_at"].max()
    assert m1_last == seen["written"][-2] < gap["started_at"]
    assert seen["report"].reconnects == 1
