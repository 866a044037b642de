"""The ledger's blocking checks pass on a sound ledger and fail on a corrupted one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from pipelines.inventory.checks import (balances_match_recomputation, movement_pairs_sum_to_zero,
                                        no_unflagged_negative_balance)
from pipelines.resources import LakeResource
from transforms.standardize import VIRTUAL_LOCATIONS
from transforms.stock import ledger

UTC = dt.timezone.utc


def movements() -> pa.Table:
    at = [dt.datetime(2026, 1, 5, h, tzinfo=UTC) for h in (6, 7, 8, 9)]
    return pa.table({
        "movement_id": ["m1", "m2", "m3", "m4"], "occurred_at": pa.array(at, pa.timestamp("us", "UTC")),
        "event_date": pa.array([a.date() for a in at], pa.date32()),
        "material_id": ["RM"] * 4, "lot_id": ["L1"] * 4,
        "from_location_id": ["V-SUPPLIER", "DOCK", "BIN", "BIN"], "to_location_id": ["DOCK", "BIN", "LINE", "LINE"],
        "quantity": [10.0, 10.0, 4.0, 9.0], "movement_type": ["receipt", "putaway", "issue", "issue"],
        "source_system": ["WMS"] * 4, "source_event_id": ["t1", "t2", "t3", "t4"],
        "work_order_id": [None, None, "WO-1", "WO-1"],
        "reported_material_code": ["ALU"] * 4, "reported_quantity": [10.0, 10.0, 4.0, 9.0],
        "reported_unit": ["KG"] * 4})


def build(tmp_path: Path) -> tuple[DeltaLake, LakeResource]:
    lake = DeltaLake(tmp_path / "lake")
    lake.overwrite("fct_inventory_movements", movements())
    entries = ledger(lazy_frame(movements().drop(["event_date", "source_system", "source_event_id", "work_order_id",
                                                  "reported_material_code", "reported_quantity", "reported_unit"])),
                     virtual_locations=VIRTUAL_LOCATIONS)
    lake.overwrite("fct_inventory_ledger", collect_arrow(entries))
    return lake, LakeResource(lake_root=str(lake.root))



def results(resource: LakeResource) -> dict[str, bool]:
    return {"pairs": movement_pairs_sum_to_zero(lake=resource).passed,
            "balances": balances_match_recomputation(lake=resource).passed,
            "negatives": no_unflagged_negative_balance(lake=resource).passed}


def test_sound_ledger_passes_and_flags_its_negative_balance(tmp_path: Path) -> None:
    lake, resource = build(tmp_path)
    assert results(resource) == {"pairs": True, "balances": True, "negatives": True}
    negative = lake.scan("fct_inventory_ledger").filter(pl.col("is_negative_balance")).collect()
    assert negative.select("movement_id", "location_id", "balance_after").rows() == [("m4", "BIN", -3.0)]


def test_corrupted_ledgers_fail_their_checks(tmp_path: Path) -> None:
    lake, resource = build(tmp_path)
    sound = lake.scan("fct_inventory_ledger").collect()

    unbalanced = sound.with_columns(pl.when((pl.col("movement_id") == "m2") & (pl.col("entry_side") == 1))
                                    .then(11.0).otherwise(pl.col("quantity_delta")).alias("quantity_delta"))
    lake.overwrite("fct_inventory_ledger", unbalanced)
    assert results(resource)["pairs"] is False

    drifted = sound.with_columns(pl.when(pl.col("movement_id") == "m3").then(pl.col("balance_after") + 1)
                                 .otherwise(pl.col("balance_after")).alias("balance_after"))
    lake.overwrite("fct_inventory_ledger", drifted)
    assert results(resource) == {"pairs": True, "balances": False, "negatives": True}

    hidden = sound.with_columns(pl.lit(False).alias("is_negative_balance"))
    lake.overwrite("fct_inventory_ledger", hidden)
    assert results(resource) == {"pairs": True, "balances": True, "negatives": False}
