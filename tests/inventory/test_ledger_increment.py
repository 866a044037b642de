"""An incremental ledger + stock refresh after new, late (backdated), changed and deleted movements equals a full
rebuild row for row, and leaves the ledger's older files and the untouched keys' lines as they were."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from pipelines.checks import table_key
from pipelines.definitions import build_definitions
from pipelines.inventory.refresh import Scope, log_refresh
from transforms.standardize import SUPPLIER

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
LOCATIONS = [SUPPLIER, "DOCK", "BIN-1", "BIN-2", "LINE-1"]


def movements(ids: list[str], times: list[datetime], rng: np.random.Generator) -> pl.DataFrame:
    """`silver.fct_inventory_movements` rows over few materials, lots and locations (so keys repeat)."""
    n = len(ids)
    source = rng.integers(0, len(LOCATIONS) - 1, n)
    return pl.DataFrame({
        "movement_id": ids, "occurred_at": times,
        "material_id": [f"MAT-{i}" for i in rng.integers(0, 4, n)], "lot_id": [f"LOT-{i}" for i in rng.integers(0, 6, n)],
        "from_location_id": [LOCATIONS[i] for i in source], "to_location_id": [LOCATIONS[i + 1] for i in source],
        "quantity": rng.uniform(0.1, 50, n).round(3), "movement_type": ["move"] * n, "source_system": ["WMS"] * n,
        "source_event_id": ids}).with_columns(
        pl.col("occurred_at").dt.replace_time_zone("UTC").dt.date().alias("event_date"),
        pl.col("occurred_at").dt.replace_time_zone("UTC"),
        *(pl.lit(None, dtype).alias(c) for c, dtype in (("work_order_id", pl.String), ("reported_material_code",
                                                                                        pl.String),
                                                        ("reported_quantity", pl.Float64), ("reported_unit", pl.String))))


def refresh(root: Path, *, full: bool, tables: tuple[str, ...] = ("fct_inventory_ledger", "stock_on_hand")) -> None:
    defs = build_definitions(lake_root=str(root), source_dir=str(root.parent / "no_landing"))
    job = dg.define_asset_job("ledger_and_stock", selection=dg.AssetSelection.assets(
        *(table_key(t) for t in tables))).resolve(asset_graph=defs.resolve_asset_graph())
    config = {"ops": {f"gold__{t}": {"config": {"full_refresh": full}} for t in tables}}
    result = job.execute_in_process(run_config=config, instance=dg.DagsterInstance.ephemeral(),
                                    resources=defs.resources)  # type: ignore[arg-type]
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())


def snapshot(lake: DeltaLake) -> dict[str, pl.DataFrame]:
    return {"ledger": lake.scan("fct_inventory_ledger").sort("movement_id", "entry_side").collect(),
            "stock": lake.scan("stock_on_hand").sort("material_id", "lot_id", "location_id").collect()}


def ledger_files(lake: DeltaLake) -> pl.DataFrame:
    """The ledger's current data files with the event date of their partition."""
    return pl.DataFrame({"path": lake.table("fct_inventory_ledger").file_uris()}).with_columns(
        pl.col("path").str.extract(r"event_date=(\d{4}-\d{2}-\d{2})").str.to_date().alias("event_date"))


def built_lake(root: Path, rng: np.random.Generator, count: int, days: int) -> tuple[DeltaLake, pl.DataFrame]:
    """A lake of `count` movements over `days`, its ledger and stock refreshed in full."""
    lake = DeltaLake(root)
    times = sorted(START + timedelta(minutes=int(m)) for m in rng.integers(0, days * 24 * 60, count))
    base = movements([f"M{i:04d}" for i in range(count)], times, rng)
    lake.overwrite("fct_inventory_movements", base.to_arrow())
    log_refresh(lake, "fct_inventory_movements", Scope(True), base.height)
    refresh(lake.root, full=True)
    return lake, base


def test_incremental_ledger_and_stock_equal_a_full_rebuild_and_leave_older_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    lake, base = built_lake(tmp_path / "lake", rng, 600, 30)
    files_before, lines_before = ledger_files(lake), snapshot(lake)["ledger"]

    # new movements after the last one, late ones backdated into day 25, one changed and one deleted on day 26
    end = base["occurred_at"].max()
    late_day, edited_day = date(2026, 1, 25), date(2026, 1, 26)
    new = movements([f"N{i:03d}" for i in range(20)],
                    [end + timedelta(minutes=int(m)) for m in rng.integers(1, 600, 17)]
                    + [datetime(2026, 1, 25, h, tzinfo=timezone.utc) for h in (3, 9, 15)], rng)
    edited = base.filter(pl.col("event_date") == edited_day)
    assert edited.height >= 2
    changed = edited.head(1).with_columns(pl.col("quantity") + 7.5)
    kept = edited.slice(2)  # the second movement of the day is deleted
    dates = sorted({late_day, edited_day, *new["event_date"].to_list()})
    rewritten = pl.concat([base.filter(pl.col("event_date").is_in(dates) & (pl.col("event_date") != edited_day)),
                           changed, kept, new])
    lake.overwrite_partitions("fct_inventory_movements", rewritten.to_arrow(), partitions={"event_date": dates})
    log_refresh(lake, "fct_inventory_movements", Scope(False, event_dates=dates), rewritten.height)

    refresh(lake.root, full=False)
    log = lake.scan("refresh_log").filter(pl.col("table_name").is_in(["fct_inventory_ledger", "stock_on_hand"])
                                          ).sort("refreshed_at").collect()
    assert log["is_full"].to_list() == [True, True, False, False]
    incremental = snapshot(lake)

    start = min(dates)
    files_after = ledger_files(lake)
    older = files_before.filter(pl.col("event_date") < start)
    assert older.height > 0
    assert set(older["path"]) <= set(files_after["path"])  # older files were not rewritten
    assert files_after.join(files_before, on="path", how="anti")["event_date"].min() >= start
    ledger_now = incremental["ledger"]
    touched = pl.concat([pl.concat([rewritten, edited]).select("material_id", "lot_id", pl.col(side).alias("location_id"))
                         for side in ("from_location_id", "to_location_id")]).unique()
    untouched_before = lines_before.join(touched, on=["material_id", "lot_id", "location_id"], how="anti")
    assert untouched_before.height > 0
    assert untouched_before.join(ledger_now, on=list(ledger_now.columns), how="anti").height == 0

    refresh(lake.root, full=True)
    rebuilt = snapshot(lake)
    for name in ("ledger", "stock"):
        assert incremental[name].height > 0, name
        assert incremental[name].equals(rebuilt[name]), name
    assert incremental["ledger"].filter(pl.col("movement_id") == edited["movement_id"][1]).height == 0


def late_and_new(lake: DeltaLake, rng: np.random.Generator, prefix: str, day: date) -> None:
    """Movements after the last one and three backdated into `day`, landed and logged as the movements asset does."""
    end = lake.scan("fct_inventory_movements").select(pl.col("occurred_at").max()).collect().item()
    new = movements([f"{prefix}{i:03d}" for i in range(12)],
                    [end + timedelta(minutes=int(m)) for m in rng.integers(1, 600, 9)]
                    + [datetime(day.year, day.month, day.day, h, tzinfo=timezone.utc) for h in (2, 8, 14)], rng)
    dates = sorted(set(new["event_date"].to_list()))
    stored = lake.scan("fct_inventory_movements").filter(pl.col("event_date").is_in(dates)).collect()
    lake.overwrite_partitions("fct_inventory_movements", pl.concat([stored, new.select(stored.columns)]).to_arrow(),
                              partitions={"event_date": dates})
    log_refresh(lake, "fct_inventory_movements", Scope(False, event_dates=dates), new.height)


def test_stock_follows_several_ledger_refreshes_and_a_ledger_version_without_its_record(tmp_path: Path) -> None:
    """Stock on hand replaces the keys each incremental ledger refresh recorded, over several refreshes since its
    own; a ledger version whose record is missing (a refresh stopped between its two writes) makes it compare the
    versions' lines instead. Either way it equals a full rebuild, and the records it followed are dropped."""
    rng = np.random.default_rng(9)
    lake, base = built_lake(tmp_path / "lake", rng, 400, 20)
    assert not lake.exists("ledger_refreshed_keys") or lake.row_count("ledger_refreshed_keys") == 0

    for prefix, day in (("A", date(2026, 1, 15)), ("B", date(2026, 1, 17))):  # two ledger refreshes, no stock one
        late_and_new(lake, rng, prefix, day)
        refresh(lake.root, full=False, tables=("fct_inventory_ledger",))
    records = lake.scan("ledger_refreshed_keys").collect()
    assert records["ledger_version"].n_unique() == 2 and records.height > 0
    refresh(lake.root, full=False, tables=("stock_on_hand",))
    assert lake.row_count("ledger_refreshed_keys") == 0  # followed, so forgotten
    followed = snapshot(lake)["stock"]

    late_and_new(lake, rng, "C", date(2026, 1, 12))
    refresh(lake.root, full=False, tables=("fct_inventory_ledger",))
    assert lake.row_count("ledger_refreshed_keys") > 0
    lake.overwrite("ledger_refreshed_keys", lake.scan("ledger_refreshed_keys").head(0).collect())  # record lost
    refresh(lake.root, full=False, tables=("stock_on_hand",))
    compared = snapshot(lake)["stock"]
    assert not compared.equals(followed)  # the lost record's keys changed stock all the same

    log = lake.scan("refresh_log").filter(pl.col("table_name") == "stock_on_hand").sort("refreshed_at").collect()
    assert log["is_full"].to_list() == [True, False, False]
    refresh(lake.root, full=True)
    assert compared.equals(snapshot(lake)["stock"])


def test_differing_keys_names_the_keys_of_rows_either_side_lacks() -> None:
    from pipelines.inventory.ledger_increment import differing_keys

    stored = pl.DataFrame({"movement_id": ["M1", "M2", "M3", "M4", "M5"], "material_id": ["A", "A", "B", "C", "D"],
                           "lot_id": ["L1", "L1", None, "L3", "L4"], "location_id": ["X", "Y", "X", "X", "X"],
                           "quantity_delta": [1.0, 2.0, 3.0, 4.0, None]})
    current = (stored.filter(pl.col("movement_id") != "M2")  # M2 deleted: key (A, L1, Y)
               .with_columns(pl.when(pl.col("movement_id") == "M3").then(3.5)  # M3 changed: key (B, null, X)
                             .otherwise(pl.col("quantity_delta")).alias("quantity_delta"))
               .vstack(pl.DataFrame({"movement_id": ["M6"], "material_id": ["E"], "lot_id": ["L6"],
                                     "location_id": ["Z"], "quantity_delta": [6.0]})))  # M6 new: key (E, L6, Z)
    columns = stored.columns
    keys = differing_keys(current, stored, columns).sort("material_id")
    assert keys.rows() == [("A", "L1", "Y"), ("B", None, "X"), ("E", "L6", "Z")]
    assert differing_keys(stored, stored.reverse(), columns).height == 0  # same rows, other order; a null compares equal
    moved = stored.with_columns(pl.when(pl.col("movement_id") == "M4").then(pl.lit("Y")).otherwise("location_id")
                                .alias("location_id"))  # a key changed: the old and the new key
    assert differing_keys(moved, stored, columns).sort("location_id").rows() == [("C", "L3", "X"), ("C", "L3", "Y")]
