"""The kill -9 loop: `plantlake ingest` and `plantlake run` killed at 10 or more random points (after the n-th
Delta commit each makes, n drawn with a fixed seed), one after another on the same lake, then one run to the end: the lake
equals one built without a kill - no duplicate key, no lost row - and the ingest log agrees with the tables."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from ingestion.log_check import ingest_log_disagreements
from lakehouse.delta_io import DeltaLake
from plantlake import Lake

PLANTLAKE = str(Path(sys.executable).parent / "plantlake")
KILLS = [("ingest", 7), ("run", 5)]  # command, how many times it is started to be killed
MOST_COMMITS = {"ingest": 12, "run": 40}  # kill points drawn from 1..this; each ingest and run makes more
BRONZE_KEYS = {"wms_transactions": ["transaction_id"], "mes_work_order_events": ["event_id"],
               "mes_operation_events": ["event_id"], "mes_material_consumption": ["event_id"],
               "mes_lot_events": ["event_id", "line_seq"], "mes_equipment_states": ["event_id"],
               "machine_signals": ["machine_id", "tag", "source_at"]}

pytestmark = pytest.mark.slow


def commits(lake_root: Path) -> int:
    return sum(1 for _ in lake_root.glob("*/*/_delta_log/*.json"))


def kill_after_commits(command: str, lake_root: Path, landing: Path, n: int) -> str:
    """Start `plantlake <command>`, SIGKILL its process group once it has made `n` more commits; 'killed' or
    'finished' (it made fewer)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = commits(lake_root)
    process = subprocess.Popen([PLANTLAKE, "--lake", str(lake_root), command, "--source", str(landing)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    deadline = time.monotonic() + 600
    while process.poll() is None and commits(lake_root) - start < n and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is not None:
        return "finished"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    return "killed"


def gold_snapshot(lake: DeltaLake) -> dict[str, pl.DataFrame]:
    return {
        "movements": lake.scan("fct_inventory_movements").sort("movement_id").collect(),
        "ledger": lake.scan("fct_inventory_ledger").sort("movement_id", "entry_side").collect(),
        "stock": lake.scan("stock_on_hand").drop("last_movement_at")
        .sort("material_id", "lot_id", "location_id").collect(),
        "genealogy": lake.scan("fct_genealogy_edges").sort("edge_id").collect(),
    }


def test_ingest_and_run_killed_at_random_points_converge(clean_plant: Path, tmp_path: Path) -> None:
    reference = Lake(tmp_path / "reference")
    assert reference.run(clean_plant, echo=lambda _: None).success

    root = tmp_path / "killed"
    rng = random.Random(15)
    outcomes = []
    for command, times in KILLS:
        for _ in range(times):
            n = rng.randint(1, MOST_COMMITS[command])
            outcomes.append((command, n, kill_after_commits(command, root, clean_plant, n)))
    killed = [o for o in outcomes if o[2] == "killed"]
    print(f"kill points (command, after n commits, outcome): {outcomes}")
    assert len(killed) >= 10, outcomes

    final = Lake(root).run(clean_plant, echo=lambda _: None)
    assert final.success and final.failed_checks == [], final.failure
    assert_same_as_a_clean_lake(root, reference.root, BRONZE_KEYS)


def assert_same_as_a_clean_lake(root: Path, reference_root: Path, keys_by_table: dict[str, list[str]]) -> None:
    """No duplicate key and as many rows as the clean lake in each table, the ingest log agreeing with the tables,
    and movements, ledger, stock and genealogy equal to the clean lake's."""
    lake, clean = DeltaLake(root), DeltaLake(reference_root)
    for table, keys in keys_by_table.items():
        rows = lake.scan(table).select(keys).collect()
        assert rows.height == rows.unique().height, f"duplicate keys in {table}"
        assert rows.height == clean.row_count(table), f"rows lost or doubled in {table}"
    assert ingest_log_disagreements(lake).is_empty()
    ours, theirs = gold_snapshot(lake), gold_snapshot(clean)
    for name in ours:
        assert ours[name].height > 0 and ours[name].equals(theirs[name]), name
