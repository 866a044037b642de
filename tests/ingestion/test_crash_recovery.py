"""SIGKILL during file ingestion, then a rerun: every row lands exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from lakehouse.delta_io import DeltaLake
from pipelines.master_data.assets import MASTER_DATA_ASSETS
from pipelines.resources import LakeResource, LandingResource
from simulator import FaultRates, PlantConfig, simulate

TABLES = ("wms_transactions", "mes_work_order_events", "mes_operation_events", "mes_material_consumption",
          "mes_lot_events", "mes_quality_inspections", "mes_equipment_states", "machine_signals",
          "quarantine_wms_transactions", "quarantine_mes_events")
KEYS = {"wms_transactions": ["transaction_id"], "mes_lot_events": ["event_id", "line_seq"],
        "machine_signals": ["machine_id", "tag", "source_at"]}


def with_master_data(lake_root: Path, landing: Path) -> DeltaLake:
    result = dg.materialize(MASTER_DATA_ASSETS, resources={
        "lake": LakeResource(lake_root=str(lake_root)), "landing": LandingResource(source_dir=str(landing))})
    assert result.success
    return DeltaLake(lake_root)


def ingest_command(lake_root: Path, landing: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "plantlake"), "--lake", str(lake_root), "ingest", "--source",
            str(landing)]


def table_rows(lake: DeltaLake) -> dict[str, int]:
    return {t: lake.row_count(t) for t in TABLES if lake.exists(t)}


@pytest.fixture(scope="module")
def faulty_plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faulty_plant")
    simulate(PlantConfig(days=4, lines=2, machines_per_line=3, seed=5, fault_rates=FaultRates.default(),
                         signal_interval_s=10), out)
    return out


def test_sigkill_mid_ingest_then_rerun_lands_every_row_exactly_once(faulty_plant: Path, tmp_path: Path) -> None:
    reference = with_master_data(tmp_path / "reference", faulty_plant)
    first = subprocess.run(ingest_command(reference.root, faulty_plant), capture_output=True, text=True, timeout=600)
    assert first.returncode == 4, first.stderr[-2000:]  # landed, and the plant's injected faults were quarantined
    assert first.stdout.strip().splitlines()[-1].startswith("NOT CLEAN: ")
    expected = table_rows(reference)

    crashed = with_master_data(tmp_path / "crashed", faulty_plant)
    first_commit = Path(crashed.uri("wms_transactions")) / "_delta_log" / "00000000000000000001.json"
    process = subprocess.Popen(ingest_command(crashed.root, faulty_plant), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not first_commit.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "ingest finished before it could be killed"
    partial = table_rows(crashed)
    assert partial.get("wms_transactions", 0) > 0
    assert not crashed.exists("ingest_log") or crashed.row_count("ingest_log") == 0  # died before logging

    rerun = subprocess.run(ingest_command(crashed.root, faulty_plant), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 4, rerun.stderr[-2000:]
    assert table_rows(crashed) == expected
    for table, keys in KEYS.items():
        frame = crashed.scan(table).select(keys).collect()
        assert frame.height == frame.unique().height, f"duplicate keys in {table}"
    log = crashed.scan("ingest_log").collect()
    assert (log["rows_read"] == log["rows_landed"] + log["rows_quarantined"] + log["rows_duplicate"]).all()
    landed_per_file = log.filter(pl.col("status") == "landed").group_by("source_file").len()
    assert landed_per_file["len"].max() == 1  # each file logged as landed once
