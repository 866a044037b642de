"""The large lake the app's browser benchmark reads: 1 year of a 200-machine plant and >= 10M movements.

    python -m benchmarks.app_lake --workdir /tmp/plantlake-bench-app      # builds it once (about an hour on 2 cores)

A simulated year of 20 lines x 10 machines (`plantlake run`, signals sampled hourly: at a minute the signals alone
would be 525M samples, more than one machine holds) produces about 240k inventory movements, so the material
flow is then **tiled**: the plant's WMS transactions and MES consumption and lot events are copied into bronze
with every transaction, event, lot, supplier lot, shipment and work order id suffixed per copy (`~2`, `~3`, ...),
as if the same plant ran that many independent material flows through the same materials and locations, until
the movements reach the target. `refresh_inventory` then rebuilds movements, ledger and stock on hand from bronze
with their checks, and publishes them. Everything else (KPIs, OEE, genealogy, models) is the simulated year as
`plantlake run` wrote it; the tiled copies have no genealogy and no reconciliation of their own.
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

APPEND_ROWS = 1_000_000  # rows per bronze commit while tiling
MOVEMENT_SOURCES = {  # bronze table: the id columns a copy suffixes (materials, locations, machines stay)
    "wms_transactions": ("transaction_id", "lot_code", "supplier_lot_code", "shipment_id", "work_order_id"),
    "mes_material_consumption": ("event_id", "consumed_lot_code", "work_order_id"),
    "mes_lot_events": ("event_id", "lot_code", "source_lot_code", "work_order_id"),
}


def suffixed_copy(rows: pa.Table, id_columns: tuple[str, ...], copy: int) -> pa.Table:
    """`rows` with each id column's values suffixed `~copy` (nulls stay null)."""
    for name in id_columns:
        index = rows.schema.get_field_index(name)
        rows = rows.set_column(index, name, pc.binary_join_element_wise(rows[name], pa.scalar(f"~{copy}"), ""))
    return rows


def tile_material_flow(lake_root: Path, *, target_movements: int, echo=print) -> int:
    """Append suffixed copies of the movement sources to bronze until the movements reach `target_movements`;
    returns the number of copies in bronze (the original included)."""
    from lakehouse.delta_io import DeltaLake

    delta = DeltaLake(lake_root)
    movements = delta.row_count("fct_inventory_movements")
    copies = max(1, math.ceil(target_movements / max(movements, 1)))
    for table, id_columns in MOVEMENT_SOURCES.items():
        original = delta.read_arrow(table)
        per_commit = max(1, APPEND_ROWS // max(original.num_rows, 1))
        for first in range(2, copies + 1, per_commit):
            batch = range(first, min(first + per_commit, copies + 1))
            delta.append(table, pa.concat_tables(suffixed_copy(original, id_columns, copy) for copy in batch))
        echo(f"bronze.{table}: {original.num_rows:,} rows x {copies} copies")
    return copies


def build_large_lake(workdir: Path, *, days: int = 365, lines: int = 20, machines_per_line: int = 10,
                     movements: int = 10_000_000, seed: int = 7, echo=print) -> Path:
    """Simulate and run the plant once, then tile its material flow to `movements`; reused when built."""
    from benchmarks.bench_app import build_lake
    from pipelines.run import run_everything

    name = f"large-{days}d-{lines}x{machines_per_line}-{movements // 1_000_000}M-s{seed}"
    root = workdir / name / "lake"
    done = workdir / name / ".built"
    if done.exists():
        return root
    started = time.perf_counter()
    simulated = build_lake(workdir, days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                           signal_interval_s=3600)
    shutil.rmtree(workdir / name, ignore_errors=True)
    shutil.copytree(simulated, root)
    echo(f"simulated and ran the plant: {time.perf_counter() - started:.0f} s")
    copies = tile_material_flow(root, target_movements=movements, echo=echo)
    outcome = run_everything(lake_root=root, source_dir=workdir / name / "no-landing", echo=echo,
                             job_name="refresh_inventory", full_refresh=True)
    if not outcome.success:
        raise SystemExit(f"refresh_inventory failed: {outcome.failure}")
    done.write_text(f"{copies} copies, {time.perf_counter() - started:.0f} s\n")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/plantlake-bench-app"))
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(build_large_lake(args.workdir, days=args.days, movements=args.movements))


if __name__ == "__main__":
    main()
