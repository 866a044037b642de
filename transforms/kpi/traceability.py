"""End-to-end lead time through the lot genealogy: from the earliest supplier receipt behind a shipped lot to
its shipment, per material of the shipped lot and plant-local ship day.

This one runs on the genealogy's CSR index (numpy, `transforms.genealogy.GenealogyIndex`), not on Narwhals:
the earliest receipt is a minimum carried down the graph to any depth. Each lot starts with its own earliest
receipt time (receipt edges `SUP:<supplier lot>` -> lot); then, until nothing changes, every production edge
(consumption, split, merge) passes its parent's value to its child if earlier. A minimum converges even on a
cycle; it takes as many passes as the longest chain of production edges. The result is the same as a backward
trace from every shipped lot (`transforms.genealogy.trace`), for all lots at once.

One item per shipped lot and shipment (a lot shipped in several rows of one shipment counts once, at its last
row): seconds from the earliest receipt to the shipment. A shipped lot with no supplier receipt behind it is
not measurable and is left out. The result is a Polars-backed Narwhals LazyFrame in the long KPI shape.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import numpy as np
import polars as pl

from transforms.genealogy.index import EDGE_TYPE_CODE, GenealogyIndex
from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day
from transforms.kpi.scopes import with_material_scope

Frame = nw.LazyFrame[Any]
NEVER = np.iinfo(np.int64).max
PRODUCTION_EDGE_TYPES = ("consumption", "split", "merge")


def earliest_receipt_us(index: GenealogyIndex) -> np.ndarray:
    """Per node id: the earliest receipt time (epoch us) of the node or any ancestor, NEVER if none."""
    earliest = np.full(index.node_count, NEVER, dtype=np.int64)
    receipts = index.edge_type == EDGE_TYPE_CODE["receipt"]
    np.minimum.at(earliest, index.child[receipts], index.occurred_at_us[receipts])
    flows = np.isin(index.edge_type, [EDGE_TYPE_CODE[t] for t in PRODUCTION_EDGE_TYPES])
    parents, children = index.parent[flows], index.child[flows]
    while True:
        before = earliest.copy()
        np.minimum.at(earliest, children, earliest[parents])
        if np.array_equal(before, earliest):
            return earliest


def _utc(epoch_us: str) -> pl.Expr:
    return pl.from_epoch(pl.col(epoch_us), time_unit="us").dt.replace_time_zone("UTC")


def shipped_lots(index: GenealogyIndex) -> pl.DataFrame:
    """One row per shipped lot and shipment: lot, shipment node, material_code, shipped_at, first_receipt_at
    (null when no supplier receipt lies behind the lot)."""
    shipping = np.flatnonzero(index.edge_type == EDGE_TYPE_CODE["shipment"])
    earliest = earliest_receipt_us(index)[index.parent[shipping]]
    rows = pl.DataFrame({
        "lot": index.node_names(index.parent[shipping]), "shipment": index.node_names(index.child[shipping]),
        "material_code": index.rows["material_code"].gather(shipping),
        "shipped_us": pl.Series(index.occurred_at_us[shipping], dtype=pl.Int64),
        "first_receipt_us": pl.Series(earliest, dtype=pl.Int64)})
    traced = pl.col("first_receipt_us") != NEVER
    return (rows.group_by("lot", "shipment")
            .agg(pl.col("material_code").max(), pl.col("shipped_us").max(), pl.col("first_receipt_us").min())
            .select("lot", "shipment", "material_code", _utc("shipped_us").alias("shipped_at"),
                    pl.when(traced).then(_utc("first_receipt_us")).alias("first_receipt_at"),
                    pl.when(traced).then((pl.col("shipped_us") - pl.col("first_receipt_us")) / 1e6)
                    .alias("lead_time_s")))


def end_to_end_lead_time(edges: pl.DataFrame | GenealogyIndex, material_codes: pl.DataFrame, *,
                         plant_timezone: str) -> Frame:
    """end_to_end_lead_time: seconds from the earliest supplier receipt behind each shipped lot to its shipment
    / shipped lots with a receipt behind them; scope = the shipped lot's material (edge material_code, WMS)."""
    index = edges if isinstance(edges, GenealogyIndex) else GenealogyIndex.build(edges)
    lots = shipped_lots(index).filter(pl.col("first_receipt_at").is_not_null())
    items = nw.from_native(lots.lazy()).with_columns(plant_day("shipped_at", plant_timezone).alias("day"))
    scoped = with_material_scope(items, nw.from_native(material_codes.lazy()), system="WMS")
    return kpi_rows(scoped, kpi="end_to_end_lead_time", scope_type="material", numerator=nw.col("lead_time_s"),
                    denominator=nw.lit(1.0))
