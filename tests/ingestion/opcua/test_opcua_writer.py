"""The shared writer: every endpoint's samples of a flush in one commit, counted back per run; a failed write loses
nothing; the sink knows the newest value of its current subscription (where a lost connection's gap starts);
`run_collectors` and `plantlake collect --config A --config B` collect several servers through one writer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from asyncua import ua
from click.testing import CliRunner
from conftest import free_port, make_config

from ingestion.opcua import run_collectors
from ingestion.opcua.cli import collect_command
from ingestion.opcua.demo_server import DemoServer
from ingestion.opcua.samples import Target
from ingestion.opcua.sink import SignalSink
from ingestion.opcua.state import CollectorState, read_state
from ingestion.opcua.writer import SIGNALS, SignalWriter
from lakehouse.delta_io import DeltaLake

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def sink(tmp_path: Path, name: str, machines: list[str]) -> SignalSink:
    made = SignalSink(endpoint=f"opc.tcp://127.0.0.1:1/{name}", run_id=f"run-{name}",
                      state_file=tmp_path / f"{name}.json", state=CollectorState(name, f"run-{name}", True, T0),
                      flush_max_values=1000)
    made.targets = [Target(f"ns=2;s={m}.t", m, "t") for m in machines]
    made.resubscribed()
    return made


def enqueue(into: SignalSink, handle: int, *seconds: float) -> None:
    for s in seconds:
        at = T0 + timedelta(seconds=s)
        into.enqueue(handle, ua.DataValue(ua.Variant(float(s), ua.VariantType.Double), SourceTimestamp=at,
                                          ServerTimestamp=at))


def test_one_commit_per_flush_for_all_endpoints_counted_per_run(tmp_path: Path) -> None:
    lake = DeltaLake(tmp_path / "lake")
    a, b = sink(tmp_path, "a", ["M1", "M2"]), sink(tmp_path, "b", ["M3"])
    writer = SignalWriter(lake, flush_interval_s=1.0)

    async def flushes() -> list[int]:
        versions = []
        enqueue(a, 0, 0, 1)  # first values after a subscribe: checked against the table
        enqueue(b, 0, 0)
        await writer.flush([a, b])
        versions.append(lake.version(SIGNALS))
        enqueue(a, 0, 2, 3)  # newer than the watermarks: appended directly
        enqueue(a, 1, 2)  # M2's first value: checked
        enqueue(b, 0, 1)
        await writer.flush([a, b])
        versions.append(lake.version(SIGNALS))
        enqueue(a, 0, 4)
        enqueue(b, 0, 2, 3)
        await writer.flush([a, b])
        versions.append(lake.version(SIGNALS))
        return versions

    first, second, third = asyncio.run(flushes())
    assert second - first == 2  # one insert_new commit (M2's first value) and one append, for both endpoints
    assert third - second == 1  # only appends: one commit
    rows = lake.scan(SIGNALS).collect()
    assert rows.height == 10
    by_run = dict(rows.group_by("ingest_run_id").len().iter_rows())
    assert by_run == {"run-a": 6, "run-b": 4}
    assert (a.counts.written, a.counts.received, b.counts.written, b.counts.received) == (6, 6, 4, 4)
    assert rows.filter(pl.col("machine_id") == "M3")["value"].sort().to_list() == [0.0, 1.0, 2.0, 3.0]
    assert read_state(a.state_file).last_flush_at is not None


def test_duplicates_after_a_resubscribe_are_counted_for_the_run_that_repeated_them(tmp_path: Path) -> None:
    lake = DeltaLake(tmp_path / "lake")
    a, b = sink(tmp_path, "a", ["M1"]), sink(tmp_path, "b", ["M3"])
    writer = SignalWriter(lake, flush_interval_s=1.0)

    async def run() -> None:
        enqueue(a, 0, 0, 1)
        enqueue(b, 0, 0)
        await writer.flush([a, b])
        a.resubscribed()
        enqueue(a, 0, 1, 2)  # the server repeats M1's current value (1 s), then a new one
        enqueue(b, 0, 1)
        await writer.flush([a, b])

    asyncio.run(run())
    assert (a.counts.received, a.counts.written, a.counts.duplicates_skipped) == (4, 3, 1)
    assert (b.counts.received, b.counts.written, b.counts.duplicates_skipped) == (2, 2, 0)
    assert lake.row_count(SIGNALS) == 5


def test_a_failed_write_puts_everything_back_in_order(tmp_path: Path) -> None:
    lake = DeltaLake(tmp_path / "lake")
    a = sink(tmp_path, "a", ["M1"])
    writer = SignalWriter(lake, flush_interval_s=1.0)
    write = writer._write
    failures = iter([True])

    def failing_once(prepared: list) -> dict:
        if next(failures, False):
            raise OSError("disk full")
        return write(prepared)

    writer._write = failing_once  # type: ignore[method-assign]

    async def run() -> None:
        enqueue(a, 0, 0, 1)
        await writer.flush([a])  # fails: both values go back to the buffer
        enqueue(a, 0, 2)
        await writer.flush([a])

    asyncio.run(run())
    assert lake.scan(SIGNALS).collect()["value"].sort().to_list() == [0.0, 1.0, 2.0]
    assert (a.counts.received, a.counts.written, a.counts.flushes) == (3, 3, 1)


def test_newest_delivered_covers_the_current_subscription_flushed_or_buffered(tmp_path: Path) -> None:
    a = sink(tmp_path, "a", ["M1", "M2"])
    assert a.newest_delivered() is None
    enqueue(a, 0, 50)
    a.resubscribed()  # what came before belongs to the previous connection
    assert a.newest_delivered() is None
    enqueue(a, 0, 5, 7)
    a.prepare(T0)
    enqueue(a, 1, 6)
    assert a.newest_delivered() == T0 + timedelta(seconds=7)  # flushed
    enqueue(a, 1, 9)
    assert a.newest_delivered() == T0 + timedelta(seconds=9)  # still buffered


def test_run_collectors_lands_two_servers_through_one_writer(tmp_path: Path, port: int) -> None:
    lake = DeltaLake(tmp_path / "lake")

    async def run() -> tuple[list, datetime]:
        async with DemoServer(port, ("M1",)) as one, DemoServer(free_port(), ("M2",)) as two:
            configs = [make_config(one.endpoint, [("M1", "temperature_c")], collector_id="one"),
                       make_config(two.endpoint, [("M2", "temperature_c")], collector_id="two")]
            running = asyncio.create_task(run_collectors(configs, lake, duration_s=2.5))
            await asyncio.sleep(1.0)
            at = datetime.now(UTC).replace(microsecond=0)
            await one.write("M1", "temperature_c", 21.5, source_at=at)
            await two.write("M2", "temperature_c", 19.0, source_at=at)
            return await running, at

    reports, at = asyncio.run(run())
    rows = lake.scan(SIGNALS).filter(pl.col("source_at") == at).sort("machine_id").collect()
    assert rows.select("machine_id", "value").rows() == [("M1", 21.5), ("M2", 19.0)]
    assert [r.received for r in reports] == [2, 2]  # each node's current value at subscribe, then the write
    assert sum(r.written for r in reports) == lake.row_count(SIGNALS) == 4
    assert {r.run_id for r in reports} == set(lake.scan(SIGNALS).collect()["ingest_run_id"].unique())
    assert all(read_state(tmp_path / "lake" / "_state" / "opcua" / f"{c}.json").running is False
               for c in ("one", "two"))


def test_cli_refuses_two_configs_sharing_a_state_file(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.toml").write_text('endpoint = "opc.tcp://127.0.0.1:4840"\ncollector_id = "line"\n'
                                               '[[nodes]]\nnode_id = "ns=2;s=M1.t"\nmachine_id = "M1"\ntag = "t"\n')
    result = CliRunner().invoke(collect_command, ["--config", str(tmp_path / "a.toml"),
                                                  "--config", str(tmp_path / "b.toml")])
    assert result.exit_code == 2 and "collector_id: each --config needs its own, got line, line" in result.output
