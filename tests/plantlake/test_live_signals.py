"""The demo's live path: the simulator's OPC UA server on loopback, read by the collector into bronze."""

from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake
from plantlake.live_signals import collect_live_signals, simulator_nodes
from simulator import FaultRates, PlantConfig


def test_live_signals_land_from_the_simulator_server(tmp_path: Path) -> None:
    config = PlantConfig(days=1, lines=1, machines_per_line=2, seed=9, fault_rates=FaultRates.none())
    report = collect_live_signals(config, tmp_path / "lake", seconds=4)
    nodes = simulator_nodes(config)
    assert report.targets == len(nodes) == 2 * 9
    assert report.written == report.received > 0 and report.gaps == []
    rows = DeltaLake(tmp_path / "lake").scan("machine_signals").collect()
    assert rows.height == report.written
    assert set(rows["machine_id"].unique()) == {n.machine_id for n in nodes}
    assert rows.filter(pl.col("tag") == "temperature_c")["value"].is_between(-50, 500).all()
    assert rows["server_at"].null_count() == 0 and rows["source_file"].null_count() == rows.height
