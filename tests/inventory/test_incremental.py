"""An incremental refresh after new and late events equals a full rebuild, and recomputes only what changed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake
from pipelines.run import run_everything
from simulator import FaultRates, PlantConfig, simulate

DATED = re.compile(r"(\d{4}-\d{2}-\d{2})")


def split_landing(plant: Path, early: Path, late: Path, cutoff: str) -> None:
    """Files of days up to `cutoff` go to `early`, the rest to `late` (master data to both)."""
    for path in sorted(p for p in plant.rglob("*") if p.is_file() and "truth" not in p.parts):
        relative = path.relative_to(plant)
        match = DATED.search(relative.as_posix())
        target = late if match and match.group(1) > cutoff else early
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / relative)


def snapshot(lake: DeltaLake) -> dict[str, pl.DataFrame]:
    return {
        "movements": lake.scan("fct_inventory_movements").drop("event_date").sort("movement_id").collect(),
        "ledger": lake.scan("fct_inventory_ledger").sort("movement_id", "entry_side").collect(),
        "stock": lake.scan("stock_on_hand").drop("last_movement_at").sort("material_id", "lot_id", "location_id")
        .collect(),
        "genealogy": lake.scan("fct_genealogy_edges").sort("edge_id").collect(),
    }


def test_incremental_refresh_with_late_events_equals_a_full_rebuild(tmp_path: Path) -> None:
    plant = tmp_path / "plant"
    simulate(PlantConfig(days=8, lines=2, machines_per_line=3, seed=17,
                         fault_rates=FaultRates(late_event=0.05)), plant)
    landing = tmp_path / "landing"
    split_landing(plant, landing, tmp_path / "later", cutoff="2026-01-08")

    incremental = DeltaLake(tmp_path / "incremental")
    assert run_everything(lake_root=incremental.root, source_dir=landing, echo=lambda _: None).success
    shutil.copytree(tmp_path / "later", landing, dirs_exist_ok=True)
    second = run_everything(lake_root=incremental.root, source_dir=landing, echo=lambda _: None)
    assert second.success and second.failed_checks == []

    log = incremental.scan("refresh_log").sort("refreshed_at").collect()
    movements_runs = log.filter(pl.col("table_name") == "fct_inventory_movements")
    assert movements_runs["is_full"].to_list() == [True, False]
    late_dates = [d.isoformat() for d in movements_runs["touched_event_dates"][1]]
    assert any(d <= "2026-01-08" for d in late_dates), "late events reopened an already landed day"
    assert len(late_dates) < 8  # only the dirty days were recomputed
    ledger_runs = log.filter(pl.col("table_name") == "fct_inventory_ledger")
    assert ledger_runs["is_full"].to_list() == [True, False]
    genealogy_runs = log.filter(pl.col("table_name") == "fct_genealogy_edges")
    assert genealogy_runs["is_full"].to_list() == [True, False]
    recomputed = set(ledger_runs["touched_material_ids"][1].to_list())
    assert recomputed == set(movements_runs["touched_material_ids"][1].to_list())

    full = DeltaLake(tmp_path / "full")
    assert run_everything(lake_root=full.root, source_dir=landing, echo=lambda _: None).success
    ours, theirs = snapshot(incremental), snapshot(full)
    for name in ours:
        assert ours[name].height > 0, name
        assert ours[name].equals(theirs[name]), name

    # what two racing runs once left (issue 15): rows doubled in silver and gold, which no incremental refresh
    # repairs (it recomputes only what changed); a full refresh rebuilds them from bronze
    for table, key in (("fct_inventory_movements", ["movement_id"]), ("fct_genealogy_edges", ["edge_id"]),
                       ("fct_inventory_ledger", ["movement_id", "entry_side"])):
        assert not incremental.scan(table).select(pl.struct(key).is_duplicated().any()).collect().item(), table
        incremental.append(table, incremental.scan(table).head(40).collect().to_arrow())
        assert incremental.scan(table).select(pl.struct(key).is_duplicated().sum()).collect().item() == 80, table
    repaired = run_everything(lake_root=incremental.root, source_dir=landing, echo=lambda _: None, full_refresh=True)
    assert repaired.success and repaired.failed_checks == []
    log = incremental.scan("refresh_log").sort("refreshed_at").collect()
    for table in ("fct_inventory_movements", "fct_inventory_ledger", "fct_genealogy_edges"):
        assert log.filter(pl.col("table_name") == table)["is_full"].to_list()[-1], table
    ours = snapshot(incremental)
    for name in ours:
        assert ours[name].equals(theirs[name]), name
