"""The collector against a real asyncua server on 127.0.0.1: values, status codes and timestamps land in Delta."""

from __future__ import annotations

import asyncio
from pathlib import Path
from datetime import UTC, datetime, timedelta

import polars as pl
from asyncua import ua
from conftest import make_config

from ingestion.opcua import Collector
from ingestion.opcua.demo_server import DemoServer
from ingestion.opcua.samples import SampleBatch, Target, batch_from_datavalues
from ingestion.opcua.sink import SignalSink
from ingestion.opcua.state import CollectorState
from lakehouse.delta_io import DeltaLake

UNCERTAIN = int(ua.StatusCodes.UncertainLastUsableValue)
BAD_SENSOR = int(ua.StatusCodes.BadSensorFailure)
NODES = [("M1", "temperature_c"), ("M2", "temperature_c"), ("M1", "speed_rpm"), ("M1", "running"), ("M1", "state"),
         ("M2", "state")]


async def _collect_while_writing(lake: DeltaLake, port: int) -> tuple[dict, list]:
    async with DemoServer(port) as server:
        config = make_config(server.endpoint, NODES, states={("M1", "state"): {"STOPPED": 0, "RUNNING": 1}})
        run = asyncio.create_task(Collector(config, lake).run(duration_s=3.0))
        await asyncio.sleep(1.0)
        t0 = datetime.now(UTC).replace(microsecond=0)
        written = [
            await server.write("M1", "temperature_c", 21.5, source_at=t0),
            await server.write("M1", "temperature_c", 22.5, source_at=t0 + timedelta(milliseconds=300)),
            await server.write("M2", "temperature_c", 19.0, status=UNCERTAIN, source_at=t0),
            await server.write("M1", "speed_rpm", None, status=BAD_SENSOR, source_at=t0),
            await server.write("M1", "running", True, source_at=t0),
            await server.write("M1", "state", "RUNNING", source_at=t0),
            await server.write("M2", "state", "FAULT", source_at=t0),
        ]
        await asyncio.sleep(0.3)
        await server.write("M1", "speed_rpm", 1450.0, source_at=t0 + timedelta(seconds=1))
        report = await run
    return {"report": report, "t0": t0}, written


def test_values_land_with_status_codes_and_timestamps(lake: DeltaLake, port: int) -> None:
    outcome, _written = asyncio.run(_collect_while_writing(lake, port))
    t0 = outcome["t0"]
    rows = lake.scan("machine_signals").filter(pl.col("source_at") >= t0).sort("machine_id", "tag", "source_at")
    got = {(r["machine_id"], r["tag"], r["source_at"]): (r["value"], r["status_code"]) for r in rows.collect().iter_rows(named=True)}
    assert got[("M1", "temperature_c", t0)] == (21.5, 0)
    assert got[("M1", "temperature_c", t0 + timedelta(milliseconds=300))] == (22.5, 0)
    assert got[("M2", "temperature_c", t0)] == (19.0, UNCERTAIN)
    assert got[("M1", "speed_rpm", t0)] == (None, BAD_SENSOR)
    assert got[("M1", "speed_rpm", t0 + timedelta(seconds=1))] == (1450.0, 0)
    assert got[("M1", "running", t0)] == (1.0, 0)
    assert got[("M1", "state", t0)] == (1.0, 0)  # mapped through the node's states table
    assert got[("M2", "state", t0)] == (None, int(ua.StatusCodes.BadTypeMismatch))  # unmapped string

    everything = lake.scan("machine_signals").collect()
    assert everything["server_at"].null_count() == 0 and everything["node_id"].null_count() == 0
    assert everything["source_file"].null_count() == everything.height
    assert (everything["source_date"] == everything["source_at"].dt.date()).all()
    assert everything.select("machine_id", "tag", "source_at").unique().height == everything.height
    assert outcome["report"].written == everything.height

    node_gaps = lake.scan("machine_signal_gaps").filter(pl.col("scope") == "node").collect()
    speed_gap = node_gaps.filter(pl.col("tag") == "speed_rpm").row(0, named=True)
    assert (speed_gap["reason"], speed_gap["started_at"], speed_gap["ended_at"]) == (
        "bad_status", t0, t0 + timedelta(seconds=1))
    assert node_gaps.height == 1  # the unmapped string is data, not a gap; no other node went Bad


def test_only_first_samples_after_subscribe_are_checked_against_the_table(tmp_path: Path) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    sink = SignalSink(endpoint="opc.tcp://127.0.0.1:1", run_id="r", state_file=tmp_path / "s.json",
                      state=CollectorState("c", "r", True, t0), flush_max_values=10)
    targets = [Target("ns=2;s=M1.t", "M1", "t")]

    def batch(*seconds: int) -> SampleBatch:
        return batch_from_datavalues(targets, [(0, ua.DataValue(ua.Variant(float(s), ua.VariantType.Double),
                                                                SourceTimestamp=t0 + timedelta(seconds=s)))
                                               for s in seconds], t0)

    fresh, checked, seeds = sink._split_fresh(batch(0, 1))
    assert (fresh, checked, seeds) == ([], [0, 1], {0: t0 + timedelta(seconds=1)})  # nothing known yet
    sink._watermarks.update(seeds)
    later = batch(1, 2, 3)
    fresh, checked, _ = sink._split_fresh(later)
    assert [later.value[i] for i in fresh] == [2.0, 3.0] and [later.value[i] for i in checked] == [1.0]
    sink.resubscribed()
    fresh, checked, _ = sink._split_fresh(batch(9))
    assert fresh == [] and checked == [0]  # a new subscription's first value is always checked
