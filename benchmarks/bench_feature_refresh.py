"""Incremental refresh vs full rebuild of the model features (machine_hour_features, work_order_quality_features)
when the last day(s) of a materialized plant's inputs arrive after the rest.

    python -m plantlake models evaluate --days 60 --work-dir DIR    # builds DIR/lake (60 days, 8 machines)
    python -m benchmarks.bench_feature_refresh --lake DIR/lake [--new-days 1]

The six feature inputs are copied into a new lake without their last `--new-days` days, the features are
materialized, the held-back rows are appended (bronze) or the tables rewritten (oee_by_machine_shift,
fct_genealogy_edges: their assets rewrite them in full), then the features refresh incrementally and, on the same
data, are rebuilt in full; both times (in-process Dagster runs, asset checks included) and their ratio are printed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from lakehouse.delta_io import DeltaLake
from pipelines.checks import table_key
from pipelines.definitions import build_definitions

TIMES = {"machine_signals": "source_at", "mes_equipment_states": "occurred_at", "oee_by_machine_shift": "shift_end_at",
         "mes_quality_inspections": "occurred_at", "mes_material_consumption": "occurred_at",
         "fct_genealogy_edges": "occurred_at"}
FEATURES = ("machine_hour_features", "work_order_quality_features")


def materialize(root: Path, *, full: bool) -> tuple[float, float, dict[str, int]]:
    """Seconds of the in-process run materializing both feature tables (with their checks), seconds of the two
    feature steps alone, and the rows each recomputed."""
    defs = build_definitions(lake_root=str(root), source_dir=str(root.parent / "no_landing"))
    job = dg.define_asset_job("features", selection=dg.AssetSelection.assets(
        *(table_key(t) for t in FEATURES))).resolve(asset_graph=defs.resolve_asset_graph())
    config = {"ops": {f"gold__{t}": {"config": {"full_refresh": full}} for t in FEATURES}}
    started = time.perf_counter()
    result = job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral(),
                                    resources=defs.resources)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    assert result.success
    rows = {m.asset_key.path[-1]: int(m.metadata["rows_recomputed"].value)  # type: ignore[arg-type]
            for t in FEATURES for m in result.asset_materializations_for_node(f"gold__{t}")}
    steps = sum(e.event_specific_data.duration_ms for e in result.all_events  # type: ignore[union-attr]
                if e.event_type_value == "STEP_SUCCESS" and e.step_key in {f"gold__{t}" for t in FEATURES}) / 1000
    return seconds, steps, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True, help="a materialized lake (e.g. models evaluate's)")
    parser.add_argument("--new-days", type=float, default=1.0)
    args = parser.parse_args()
    source = DeltaLake(args.lake)
    end = source.scan("machine_signals").select(pl.col("source_at").max()).collect().item()
    start = source.scan("machine_signals").select(pl.col("source_at").min()).collect().item()
    cut = end - timedelta(days=args.new_days)
    lake = DeltaLake(Path(tempfile.mkdtemp(prefix="bench_feature_refresh_")) / "lake")
    rows = {t: source.scan(t).collect() for t in TIMES}
    for table, frame in rows.items():
        write = lake.append if source.spec(table).layer == "bronze" else lake.overwrite
        write(table, frame.filter(pl.col(TIMES[table]) < cut))
    first, _, _ = materialize(lake.root, full=False)
    for table, frame in rows.items():
        if source.spec(table).layer == "bronze":
            lake.append(table, frame.filter(pl.col(TIMES[table]) >= cut))
        else:
            lake.overwrite(table, frame)
    share = args.new_days / ((end - start).total_seconds() / 86400)
    incremental, incremental_steps, recomputed = materialize(lake.root, full=False)
    unchanged, unchanged_steps, _ = materialize(lake.root, full=False)
    full, full_steps, total = materialize(lake.root, full=True)
    print(f"{(end - start).days + 1} days, {args.new_days:g} new ({share:.1%}); signal rows "
          f"{rows['machine_signals'].height:,}; first materialization {first:.1f} s")
    print(f"full rebuild: run {full:.1f} s, feature steps {full_steps:.2f} s, rows {total}")
    print(f"incremental refresh: run {incremental:.1f} s, feature steps {incremental_steps:.2f} s, rows recomputed "
          f"{recomputed}")
    print(f"ratio full/incremental: run {full / incremental:.2f}x, feature steps {full_steps / incremental_steps:.2f}x;"
          f" refresh with nothing new: run {unchanged:.1f} s, feature steps {unchanged_steps:.2f} s")


if __name__ == "__main__":
    main()
