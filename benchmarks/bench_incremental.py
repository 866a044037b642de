"""Incremental refresh vs full rebuild of the inventory (movements, ledger, stock, genealogy edges) when about
1% new events arrive: a simulated plant's last day lands after the rest, then the inventory refreshes."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.definitions import build_definitions
from pipelines.run import run_everything
from simulator import FaultRates, PlantConfig, simulate

DATED = re.compile(r"(\d{4}-\d{2}-\d{2})")
INVENTORY = ["silver/fct_inventory_movements", "quarantine/quarantine_inventory_movements",
             "gold/fct_inventory_ledger", "gold/stock_on_hand", "silver/fct_genealogy_edges"]


REFRESHABLE_OPS = ("standardize_movements", "gold__fct_inventory_ledger", "gold__stock_on_hand",
                   "silver__fct_genealogy_edges")


def refresh(lake: Path, landing: Path, *, full: bool, tables: list[str] = INVENTORY, checks: bool = True) -> float:
    """Seconds to materialize `tables` (asset key paths) in-process, incrementally or as a full refresh (with
    their asset checks unless `checks` is False)."""
    defs = build_definitions(lake_root=str(lake), source_dir=str(landing))
    selection = dg.AssetSelection.assets(*[dg.AssetKey(k.split("/")) for k in tables])
    if not checks:
        selection = selection.without_checks()
    job = dg.define_asset_job("refresh", selection=selection).resolve(asset_graph=defs.resolve_asset_graph())
    in_job = {node.name for node in job.graph.nodes}
    config = {"ops": {name: {"config": {"full_refresh": full}} for name in REFRESHABLE_OPS if name in in_job}}
    instance = dg.DagsterInstance.ephemeral()  # a deployment's instance exists before its runs
    start = time.perf_counter()
    result = job.execute_in_process(run_config={**config, "loggers": {"console": {"config": {"log_level": "ERROR"}}}},
                                    instance=instance, resources=defs.resources)  # type: ignore[arg-type]
    assert result.success
    return time.perf_counter() - start


def run(days: int = 100, lines: int = 4, machines_per_line: int = 5) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench_incremental_"))
    try:
        plant, landing = work / "plant", work / "landing"
        simulate(PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=3,
                             fault_rates=FaultRates.none(), signal_interval_s=3600), plant)
        last_day = max(m.group(1) for p in plant.rglob("*") if (m := DATED.search(p.as_posix())))
        for path in sorted(p for p in plant.rglob("*") if p.is_file() and "truth" not in p.parts):
            relative = path.relative_to(plant)
            if last_day not in relative.as_posix():
                (landing / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, landing / relative)
        assert run_everything(lake_root=work / "lake", source_dir=landing, echo=lambda _: None).success
        for path in plant.rglob(f"*{last_day}*"):
            if path.is_file():
                relative = path.relative_to(plant)
                (landing / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, landing / relative)
        from ingestion.landing import Lander
        from lakehouse.delta_io import DeltaLake

        lake = DeltaLake(work / "lake")
        before = lake.row_count("fct_inventory_movements")
        Lander(lake, landing).land_all()
        incremental = refresh(work / "lake", landing, full=False)
        new = lake.row_count("fct_inventory_movements") - before
        full = refresh(work / "lake", landing, full=True)
        return {"movements": lake.row_count("fct_inventory_movements"), "new_movements": new,
                "incremental_s": incremental, "full_s": full}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def format_table(r: dict[str, float]) -> str:
    share = r["new_movements"] / r["movements"]
    ratio = r["incremental_s"] / r["full_s"]
    return "\n".join([
        f"incremental inventory refresh: {r['new_movements']:,} new of {r['movements']:,} movements ({share:.1%})",
        "| refresh | seconds | vs full rebuild |", "|---|---|---|",
        f"| incremental (dirty days, touched keys from the earliest dirty day, touched orders) | "
        f"{r['incremental_s']:.2f} | {ratio:.2f}x |",
        f"| full rebuild | {r['full_s']:.2f} | 1.00x |",
        f"goal: 1% new events -> refresh <= 0.10x of a full rebuild: {'met' if ratio <= 0.10 else 'MISSED'}"])




# ---- at scale: the ledger and stock of a lake of N movements, then 1 % new movements of which 5 % are late ----

LEDGER_AND_STOCK = ["gold/fct_inventory_ledger", "gold/stock_on_hand"]


def _movements_rows(data: "pa.Table") -> "pa.Table":
    """Benchmark movements as `silver.fct_inventory_movements` rows (a WMS source, nothing reported)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = data.num_rows
    rows = (data.append_column("event_date", pc.cast(data["occurred_at"], pa.date32()))
            .append_column("source_system", pa.array(["WMS"] * n))
            .append_column("source_event_id", data["movement_id"]))
    for name, kind in (("work_order_id", pa.string()), ("reported_material_code", pa.string()),
                       ("reported_quantity", pa.float64()), ("reported_unit", pa.string())):
        rows = rows.append_column(name, pa.nulls(n, kind))
    return rows


def _fingerprint(lake: "DeltaLake", table: str) -> tuple[int, int]:
    import polars as pl

    frame = lake.scan(table)
    return frame.select(pl.len(), pl.struct(pl.all()).hash(7).sum()).collect().row(0)  # type: ignore[return-value]


DAY_US = 86_400_000_000
START_US = 1_767_571_200_000_000  # 2026-01-05, as bench_ledger's movements
KEY_SHAPES = ("random", "plant")


def random_arrivals(movements: int, new_share: float, late_share: float, seed: int) -> tuple[pa.Table, pa.Table, int]:
    """`bench_ledger.movements` (every movement a random material, lot and pair of 204 locations over 90 days: nearly
    every movement its own key, none ever back at zero, so stock on hand is as large as the ledger), then new ones of
    the same kind in the day after, `late_share` of them backdated up to a week."""
    from benchmarks.bench_ledger import movements as generate

    base = generate(movements, seed=seed)
    count = int(movements * new_share)
    rng = np.random.default_rng(seed + 1)
    last_us = pc.max(base["occurred_at"]).cast(pa.int64()).as_py()
    late = rng.random(count) < late_share
    offsets = np.where(late, -rng.integers(1, 7 * DAY_US, count), rng.integers(1, DAY_US, count))
    new = generate(count, seed=seed + 2)
    new = new.set_column(0, "movement_id", pc.binary_join_element_wise("N", new["movement_id"], ""))
    new = new.set_column(1, "occurred_at", pa.array(last_us + offsets, pa.int64()).cast(pa.timestamp("us", "UTC")))
    return base, new, int(late.sum())


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")


def _joined(arrays: list[pa.Array | pa.ChunkedArray]) -> pa.ChunkedArray:
    return pa.chunked_array([chunk for array in arrays
                             for chunk in (array.chunks if isinstance(array, pa.ChunkedArray) else [array])])


def plant_movements(lots: int, seed: int, days: int = 90) -> pa.Table:
    """Movements shaped like a plant's: each lot (one of 500 materials) is received from the supplier at the dock,
    put away to one of 200 bins within hours, picked to one of 20 line-side locations in two halves over the next
    1-10 days and consumed there by production 1-48 h after its second pick: five movements per lot, and a lot's
    balance goes back to zero wherever it leaves, so stock on hand holds the lots in the plant now."""
    from transforms.standardize import CONSUMPTION, SUPPLIER

    rng = np.random.default_rng(seed)
    received = START_US + rng.integers(0, days * DAY_US, lots)
    put_away = received + rng.integers(DAY_US // 48, DAY_US // 6, lots)
    picks = put_away[:, None] + np.sort(rng.integers(DAY_US, 10 * DAY_US, (lots, 2)), axis=1)
    consumed = picks[:, 1] + rng.integers(DAY_US // 24, 2 * DAY_US, lots)
    lot, material = _ids("LOT-", np.arange(lots)), _ids("MAT-", rng.integers(0, 500, lots))
    bin_, line_side = _ids("BIN-", rng.integers(0, 200, lots)), _ids("LS-", rng.integers(0, 20, lots))
    supplier, dock, production = (pa.array(np.full(lots, name)) for name in (SUPPLIER, "DOCK", CONSUMPTION))
    quantity = rng.integers(10, 1000, lots).astype(float)
    half = np.round(quantity / 2, 3)
    steps = [(received, supplier, dock, quantity, "receipt"), (put_away, dock, bin_, quantity, "putaway"),
             (picks[:, 0], bin_, line_side, half, "pick"), (picks[:, 1], bin_, line_side, quantity - half, "pick"),
             (consumed, line_side, production, quantity, "consumption")]
    times = np.concatenate([step[0] for step in steps])
    order = pa.array(np.argsort(times, kind="stable"))
    table = pa.table({
        "occurred_at": pa.array(times).cast(pa.timestamp("us", "UTC")),
        "material_id": _joined([material] * 5), "lot_id": _joined([lot] * 5),
        "from_location_id": _joined([step[1] for step in steps]),
        "to_location_id": _joined([step[2] for step in steps]),
        "quantity": np.concatenate([step[3] for step in steps]),
        "movement_type": _joined([pa.array(np.full(lots, step[4])) for step in steps])}).take(order)
    return table.add_column(0, "movement_id", _ids("M", np.arange(5 * lots)))


def plant_arrivals(movements: int, new_share: float, late_share: float, seed: int) -> tuple[pa.Table, pa.Table, int]:
    """`plant_movements` in event order: the first `movements` of them (less the late ones) are the lake, the next
    ones in time arrive new, and `late_share` of the arrivals are movements of the lake's last week held back until
    now (late reports of what happened then)."""
    count = int(movements * new_share)
    late = int(count * late_share)
    lots = (movements + count) // 4  # a fifth more than needed, so the cut falls where lots arrive steadily
    flow = plant_movements(lots, seed=seed, days=108)
    times = flow["occurred_at"].cast(pa.int64()).to_numpy()
    rng = np.random.default_rng(seed + 1)
    position = np.arange(len(times))
    last_week = np.flatnonzero((times >= times[movements + late - 1] - 7 * DAY_US) & (position < movements + late))
    held_back = np.zeros(len(times), bool)
    held_back[rng.choice(last_week, late, replace=False)] = True
    in_lake = (position < movements + late) & ~held_back
    arriving = held_back | ((position >= movements + late) & (position < movements + count))
    return flow.filter(pa.array(in_lake)), flow.filter(pa.array(arriving)), late


def run_at_scale(movements: int = 10_000_000, new_share: float = 0.01, late_share: float = 0.05,
                 seed: int = 11, keys: str = "random") -> dict[str, float]:
    """Full ledger + stock refresh of `movements`, then `new_share` more movements (`late_share` of them late:
    up to a week before the lake's last movement) logged as the movements asset logs a refresh, the incremental
    refresh, and a full rebuild to compare with (same rows, bit for bit). `keys`: how the movements spread over
    material/lot/location keys (`random_arrivals` or `plant_arrivals`)."""
    from lakehouse.delta_io import DeltaLake
    from pipelines.inventory.refresh import Scope, log_refresh

    arrivals = {"random": random_arrivals, "plant": plant_arrivals}[keys]
    work = Path(tempfile.mkdtemp(prefix="bench_incremental_scale_"))
    try:
        lake = DeltaLake(work / "lake")
        generated, new, late_count = arrivals(movements, new_share, late_share, seed)
        base = _movements_rows(generated)
        del generated
        lake.overwrite("fct_inventory_movements", base)
        log_refresh(lake, "fct_inventory_movements", Scope(True), base.num_rows,
                    touched_material_ids=sorted(pc.unique(base["material_id"]).to_pylist()))
        full_first = refresh(lake.root, lake.root.parent / "no_landing", tables=LEDGER_AND_STOCK, full=True)
        new = _movements_rows(new)
        del base
        lake.append("fct_inventory_movements", new)
        log_refresh(lake, "fct_inventory_movements",
                    Scope(False, event_dates=sorted(pc.unique(new["event_date"]).to_pylist())), new.num_rows,
                    touched_material_ids=sorted(pc.unique(new["material_id"]).to_pylist()))
        incremental = refresh(lake.root, lake.root.parent / "no_landing", tables=LEDGER_AND_STOCK, full=False,
                              checks=False)
        after_incremental = {t: _fingerprint(lake, t) for t in ("fct_inventory_ledger", "stock_on_hand")}
        full = refresh(lake.root, lake.root.parent / "no_landing", tables=LEDGER_AND_STOCK, full=True, checks=False)
        after_full = {t: _fingerprint(lake, t) for t in ("fct_inventory_ledger", "stock_on_hand")}
        assert after_incremental == after_full, (after_incremental, after_full)
        return {"movements": lake.row_count("fct_inventory_movements"), "new_movements": new.num_rows,
                "late_movements": late_count, "incremental_s": incremental, "full_s": full, "keys": keys,
                "first_full_s": full_first, "ledger_lines": after_full["fct_inventory_ledger"][0],
                "stock_rows": after_full["stock_on_hand"][0]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


SHAPES = {"random": "random keys: nearly every movement its own material/lot/location, stock as large as the ledger",
          "plant": "plant-shaped lots: receipt, putaway, two picks, consumption; stock holds the lots in the plant"}


def format_scale_table(r: dict[str, float]) -> str:
    ratio = r["incremental_s"] / r["full_s"]
    return "\n".join([
        f"incremental ledger + stock refresh at scale, {SHAPES[str(r['keys'])]}: {r['new_movements']:,} new movements "
        f"({r['late_movements']:,} of them late, up to a week back) on {r['movements'] - r['new_movements']:,}; "
        f"{r['ledger_lines']:,} ledger lines, {r['stock_rows']:,} stock rows; the incremental result equals the full "
        f"rebuild (row fingerprints)",
        "| refresh | seconds | vs full rebuild |", "|---|---|---|",
        f"| incremental (the keys whose lines the new and late movements change, from the earliest touched date on; "
        f"their stock rows) | {r['incremental_s']:.1f} | {ratio:.2f}x |",
        f"| full rebuild | {r['full_s']:.1f} | 1.00x |",
        f"goal: 1% new events -> refresh <= 0.10x of a full rebuild: {'met' if ratio <= 0.10 else 'MISSED'} "
        f"({ratio:.3f}x)"])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=0, help="movements of the at-scale run (0: the simulated plant)")
    parser.add_argument("--keys", choices=KEY_SHAPES, nargs="+", default=list(KEY_SHAPES),
                        help="how the at-scale movements spread over keys")
    args = parser.parse_args()
    if args.scale:
        print("\n\n".join(format_scale_table(run_at_scale(args.scale, keys=shape)) for shape in args.keys))
    else:
        print(format_table(run()))
