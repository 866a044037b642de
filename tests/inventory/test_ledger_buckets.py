"""The ledger asset computed in buckets of whole materials (what a large lake gets) equals the ledger computed at
once, passes its checks, and empties a material that no longer has movements."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from lakehouse.delta_io import DeltaLake
from pipelines.checks import table_key
from pipelines.definitions import build_definitions
from pipelines.run import run_everything
from simulator import FaultRates, PlantConfig, simulate


def refresh_ledger(lake: Path, landing: Path, *, rows_per_bucket: int) -> dg.ExecuteInProcessResult:
    defs = build_definitions(lake_root=str(lake), source_dir=str(landing))
    job = dg.define_asset_job("ledger_only", selection=dg.AssetSelection.assets(table_key("fct_inventory_ledger"))
                              ).resolve(asset_graph=defs.resolve_asset_graph())
    config = {"ops": {"gold__fct_inventory_ledger": {"config": {"full_refresh": True,
                                                               "rows_per_bucket": rows_per_bucket}}}}
    return job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral(),
                                  resources=defs.resources)  # type: ignore[arg-type]


def test_the_ledger_in_buckets_equals_the_ledger_at_once(tmp_path: Path) -> None:
    plant, root = tmp_path / "plant", tmp_path / "lake"
    simulate(PlantConfig(days=5, lines=2, machines_per_line=2, seed=23, fault_rates=FaultRates.default()), plant)
    assert run_everything(lake_root=root, source_dir=plant, echo=lambda _: None).success
    lake = DeltaLake(root)
    order = ["movement_id", "entry_side"]
    at_once = lake.scan("fct_inventory_ledger").sort(order).collect()
    movements = lake.row_count("fct_inventory_movements")
    assert at_once.height == 2 * movements > 0

    gone = at_once.head(3).with_columns(pl.lit("MAT-NO-LONGER-MOVED").alias("material_id"),
                                        pl.format("GONE-{}", pl.col("movement_id")).alias("movement_id"))
    lake.append("fct_inventory_ledger", gone.to_arrow())

    result = refresh_ledger(root, plant, rows_per_bucket=max(1, movements // 6))
    assert result.success
    materialized = result.asset_materializations_for_node("gold__fct_inventory_ledger")[-1].metadata
    assert materialized["buckets"].value >= 5
    assert all(c.passed for c in result.get_asset_check_evaluations())
    assert {c.check_name for c in result.get_asset_check_evaluations()} >= {"balances_match_recomputation"}
    in_buckets = lake.scan("fct_inventory_ledger").sort(order).collect()
    assert in_buckets.equals(at_once)  # the stale material is gone, every other line is the same bit for bit
