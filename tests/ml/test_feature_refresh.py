"""The feature tables refreshed incrementally after new and late (backdated) input rows equal a full rebuild row for
row, recompute fewer rows, and a refresh with no new input writes nothing.

Keys, labels, counts and texts are compared exactly; decimals to 1e-12 relative: Polars' parallel group-by sums a
group's floats in an order that depends on how the rows are split between threads, so two full rebuilds of the same
lake already differ in the last bits (why `pipelines.models.inputs.feature_rows` rounds features for training)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lakehouse.delta_io import DeltaLake
from pipelines.checks import table_key
from pipelines.definitions import build_definitions
from tests.ml.model_plant import model_plant

TIMES = {"machine_signals": "source_at", "mes_equipment_states": "occurred_at", "oee_by_machine_shift": "shift_end_at",
         "mes_quality_inspections": "occurred_at", "mes_material_consumption": "occurred_at",
         "fct_genealogy_edges": "occurred_at"}
FEATURES = ("machine_hour_features", "work_order_quality_features")
KEYS = {"machine_hour_features": ["machine_id", "hour_start_at"], "work_order_quality_features": ["work_order_id"]}


def materialize(root: Path, *, full: bool) -> dict[str, dict]:
    """Both feature assets; their MaterializeResult metadata by table."""
    defs = build_definitions(lake_root=str(root), source_dir=str(root.parent / "no_landing"))
    job = dg.define_asset_job("features", selection=dg.AssetSelection.assets(
        *(table_key(t) for t in FEATURES))).resolve(asset_graph=defs.resolve_asset_graph())
    config = {"ops": {f"gold__{t}": {"config": {"full_refresh": full}} for t in FEATURES}}
    result = job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral(),
                                    resources=defs.resources)  # type: ignore[arg-type]
    assert result.success
    return {m.asset_key.path[-1]: {k: v.value for k, v in m.metadata.items()}
            for m in result.asset_materializations_for_node(f"gold__{FEATURES[0]}")
            + result.asset_materializations_for_node(f"gold__{FEATURES[1]}")}


def snapshot(lake: DeltaLake) -> dict[str, pl.DataFrame]:
    return {t: lake.scan(t).sort(KEYS[t]).collect() for t in FEATURES}


@pytest.fixture(scope="module")
def plant_lake(tmp_path_factory: pytest.TempPathFactory) -> DeltaLake:
    return model_plant(tmp_path_factory.getbasetemp())[0]


def test_incremental_features_equal_a_full_rebuild(plant_lake: DeltaLake, tmp_path: Path) -> None:
    source, lake = plant_lake, DeltaLake(tmp_path / "lake")
    end = source.scan("machine_signals").select(pl.col("source_at").max()).collect().item()
    cut = (end - timedelta(days=2)).replace(hour=6, minute=0, second=0, microsecond=0)
    late_from, late_to = cut - timedelta(days=3), cut - timedelta(days=3) + timedelta(hours=8)

    def held_back(table: str) -> pl.Expr:
        """Rows after the cut, and MES rows of an 8-hour window three days earlier that arrive late."""
        at = pl.col(TIMES[table])
        late = at.is_between(late_from, late_to, closed="left") if table.startswith("mes_") else pl.lit(False)
        return (at >= cut) | late

    rows = {t: source.scan(t).collect() for t in TIMES}
    for table, frame in rows.items():
        if source.spec(table).layer == "bronze":
            lake.append(table, frame.filter(~held_back(table)))
        else:
            lake.overwrite(table, frame.filter(~held_back(table)))
    assert rows["mes_equipment_states"].filter(held_back("mes_equipment_states") & (pl.col("occurred_at") < cut)
                                               & (pl.col("reason_code") == "breakdown")).height + rows[
        "mes_quality_inspections"].filter(held_back("mes_quality_inspections") & (pl.col("occurred_at") < cut)).height > 0

    first = materialize(lake.root, full=False)
    assert all(first[t]["full_refresh"] for t in FEATURES)

    for table, frame in rows.items():  # bronze appends what arrived; gold/silver inputs are rewritten in full
        if source.spec(table).layer == "bronze":
            lake.append(table, frame.filter(held_back(table)))
        else:
            lake.overwrite(table, frame)
    incremental = materialize(lake.root, full=False)
    after_increment = snapshot(lake)
    full = materialize(lake.root, full=True)
    rebuilt = snapshot(lake)

    for table in FEATURES:
        assert not incremental[table]["full_refresh"] and full[table]["full_refresh"]
        assert after_increment[table].height == rebuilt[table].height == full[table]["rows_recomputed"]
        assert 0 < incremental[table]["rows_recomputed"] < full[table]["rows_recomputed"] / 2, table
        exact = [c for c, dtype in rebuilt[table].schema.items() if dtype != pl.Float64]
        assert_frame_equal(after_increment[table].select(exact), rebuilt[table].select(exact), check_exact=True)
        assert_frame_equal(after_increment[table], rebuilt[table], check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    hours = after_increment["machine_hour_features"]
    assert hours.filter(pl.col("hour_start_at") >= cut).height > 0  # the new hours are there, labelled up to 24 h
    assert hours.filter(pl.col("hour_start_at") < end - timedelta(days=1))["is_breakdown_within_horizon"].null_count() == 0

    versions = {t: lake.version(t) for t in (*FEATURES, "machine_hour_signal_stats")}
    unchanged = materialize(lake.root, full=False)
    assert all(unchanged[t]["rows_recomputed"] == 0 and not unchanged[t]["full_refresh"] for t in FEATURES)
    assert {t: lake.version(t) for t in versions} == versions
