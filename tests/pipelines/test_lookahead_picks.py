"""Picks draw only on warehouse stock the lot's book vouches for: a lot below zero at a line side (its issue was
lost) is not picked from the bin still booked to hold it, and FIFO takes the next lot instead."""

from __future__ import annotations

import narwhals as nw
import polars as pl

from pipelines.lookahead.forecast import storage_available
from transforms.shortages import pick_suggestions

H = 3_600_000_000
STOCK = pl.DataFrame({
    "material_id": ["RM-1"] * 5,
    "lot_id": ["LOT-OLD", "LOT-OLD", "LOT-OLD", "LOT-NEW", "LOT-OLD"],
    "location_id": ["WH-A", "LS-1", "WH-B", "WH-C", "V-CONSUMED"],
    "location_type": ["warehouse_bin", "line_side", "warehouse_bin", "warehouse_bin", "virtual"],
    # the line side consumed 500 of LOT-OLD that the WMS never issued: WH-A and WH-B book 500 too many
    "quantity": [300.0, -500.0, 400.0, 1000.0, 9000.0],
    "received_at_us": [0, 0, 0, 10 * H, 0]})


def picks(storage: pl.DataFrame) -> pl.DataFrame:
    shortages = pl.DataFrame({"line_id": ["L1"], "material_id": ["RM-1"], "forecast_at_us": [20 * H],
                              "short_at_us": [22 * H], "shortfall_quantity": [600.0]})
    lots = storage.select("material_id", "lot_id", "location_id", "quantity", "received_at_us")
    line_sides = pl.DataFrame({"line_id": ["L1"], "location_id": ["LS-1"]})
    return pick_suggestions(nw.from_native(shortages.lazy()), nw.from_native(lots.lazy()),
                            nw.from_native(line_sides.lazy()), lead_time_s=3600.0).to_native().collect()


def test_a_lots_negative_balance_comes_off_its_warehouse_stock() -> None:
    storage = storage_available(STOCK).sort("lot_id", "location_id")
    assert storage.select("lot_id", "location_id", "quantity").rows() == [("LOT-NEW", "WH-C", 1000.0),
                                                                          ("LOT-OLD", "WH-B", 200.0)]


def test_picks_stay_within_each_lots_net_stock() -> None:
    rows = picks(storage_available(STOCK)).sort("lot_id")
    assert rows.select("lot_id", "from_location_id", "pick_quantity").rows() == [("LOT-NEW", "WH-C", 400.0),
                                                                                 ("LOT-OLD", "WH-B", 200.0)]
    net = STOCK.filter(pl.col("location_type") != "virtual").group_by("lot_id").agg(pl.col("quantity").sum())
    over = rows.group_by("lot_id").agg(pl.col("pick_quantity").sum()).join(net, on="lot_id").filter(
        pl.col("pick_quantity") > pl.col("quantity") + 1e-6)
    assert over.is_empty()
