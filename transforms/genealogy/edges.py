"""Genealogy edges from bronze MES and WMS records: who came from whom.

One edge per physical relation, parent node -> child node:
- receipt:     `SUP:<supplier lot>` -> lot, from WMS RECEIPT transactions (WMS unit).
- consumption: consumed lot -> every lot its work order produced, from MES material consumption joined to
               `lot_produced` events of the same work order. A work order that consumes several lots of one
               material and produces several lots gives the full cross product. The consumed quantity is
               allocated to each produced lot in proportion to that lot's produced quantity; the edge happens
               when the child lot is produced (the child cannot exist earlier).
- split/merge: source lot -> resulting lot, from MES `lot_split` / `lot_merged` events (quantity moved).
- shipment:    lot -> `SHP:<shipment id>`, from WMS SHIPMENT transactions, with the customer.

`edge_id` is `<edge_type>:<source_event_id>:<parent>:<child>`: deterministic and unique per relation.
Quantities stay in the reporting system's unit (`unit` says which); nothing is converted here.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

SUPPLIER_PREFIX = "SUP:"
SHIPMENT_PREFIX = "SHP:"
EDGE_TYPES = ("receipt", "consumption", "split", "merge", "shipment")
EDGE_COLUMNS = ("edge_id", "parent_node_id", "child_node_id", "edge_type", "work_order_id", "machine_id",
                "material_code", "quantity", "unit", "occurred_at", "supplier_id", "customer_id",
                "source_event_id")


def _no_text() -> nw.Expr:
    return nw.lit(None, dtype=nw.String())


def _with_edge_id(edges: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    edge_id = nw.concat_str([nw.col("edge_type"), nw.col("source_event_id"), nw.col("parent_node_id"),
                             nw.col("child_node_id")], separator=":")
    return edges.with_columns(edge_id.alias("edge_id")).select(*EDGE_COLUMNS)


def consumption_edges(consumption: nw.LazyFrame[Any], lot_events: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Every consumed lot -> every lot produced by the same work order (quantity allocated by output share)."""
    produced = (lot_events
                .filter(nw.col("event_type") == "lot_produced", ~nw.col("work_order_id").is_null())
                .select(nw.col("work_order_id"), nw.col("lot_code").alias("produced_lot_code"),
                        nw.col("quantity").alias("produced_quantity"), nw.col("occurred_at").alias("produced_at")))
    output = produced.group_by("work_order_id").agg(nw.col("produced_quantity").sum().alias("work_order_output"))
    allocated = nw.when(nw.col("work_order_output") > 0).then(
        nw.col("quantity") * nw.col("produced_quantity") / nw.col("work_order_output")).otherwise(nw.col("quantity"))
    edges = (consumption.join(produced, on="work_order_id", how="inner")
             .join(output, on="work_order_id", how="inner")
             .select(nw.col("consumed_lot_code").alias("parent_node_id"),
                     nw.col("produced_lot_code").alias("child_node_id"),
                     nw.lit("consumption").alias("edge_type"), nw.col("work_order_id"), nw.col("machine_id"),
                     nw.col("material_code"), allocated.cast(nw.Float64()).alias("quantity"), nw.col("unit"),
                     nw.col("produced_at").alias("occurred_at"), _no_text().alias("supplier_id"),
                     _no_text().alias("customer_id"), nw.col("event_id").alias("source_event_id")))
    return _with_edge_id(edges)


def lot_relation_edges(lot_events: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Splits and merges: source lot -> resulting lot, one edge per event line."""
    edge_type = nw.when(nw.col("event_type") == "lot_split").then(nw.lit("split")).otherwise(nw.lit("merge"))
    edges = (lot_events
             .filter(nw.col("event_type").is_in(["lot_split", "lot_merged"]), ~nw.col("source_lot_code").is_null())
             .select(nw.col("source_lot_code").alias("parent_node_id"), nw.col("lot_code").alias("child_node_id"),
                     edge_type.alias("edge_type"), nw.col("work_order_id"), nw.col("machine_id"),
                     nw.col("material_code"), nw.col("quantity").cast(nw.Float64()), nw.col("unit"),
                     nw.col("occurred_at"), _no_text().alias("supplier_id"), _no_text().alias("customer_id"),
                     nw.col("event_id").alias("source_event_id")))
    return _with_edge_id(edges)


def receipt_edges(wms_transactions: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Supplier lot -> received lot."""
    edges = (wms_transactions
             .filter(nw.col("transaction_type") == "RECEIPT", ~nw.col("lot_code").is_null(),
                     ~nw.col("supplier_lot_code").is_null())
             .select(nw.concat_str([nw.lit(SUPPLIER_PREFIX), nw.col("supplier_lot_code")]).alias("parent_node_id"),
                     nw.col("lot_code").alias("child_node_id"), nw.lit("receipt").alias("edge_type"),
                     _no_text().alias("work_order_id"), _no_text().alias("machine_id"), nw.col("material_code"),
                     nw.col("quantity").cast(nw.Float64()), nw.col("unit"), nw.col("occurred_at"),
                     nw.col("supplier_id"), _no_text().alias("customer_id"),
                     nw.col("transaction_id").alias("source_event_id")))
    return _with_edge_id(edges)


def shipment_edges(wms_transactions: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Shipped lot -> shipment, with the customer who received it."""
    edges = (wms_transactions
             .filter(nw.col("transaction_type") == "SHIPMENT", ~nw.col("lot_code").is_null(),
                     ~nw.col("shipment_id").is_null())
             .select(nw.col("lot_code").alias("parent_node_id"),
                     nw.concat_str([nw.lit(SHIPMENT_PREFIX), nw.col("shipment_id")]).alias("child_node_id"),
                     nw.lit("shipment").alias("edge_type"), _no_text().alias("work_order_id"),
                     _no_text().alias("machine_id"), nw.col("material_code"),
                     nw.col("quantity").cast(nw.Float64()), nw.col("unit"), nw.col("occurred_at"),
                     _no_text().alias("supplier_id"), nw.col("customer_id"),
                     nw.col("transaction_id").alias("source_event_id")))
    return _with_edge_id(edges)


def genealogy_edges(consumption: nw.LazyFrame[Any], lot_events: nw.LazyFrame[Any],
                    wms_transactions: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """All genealogy edges (the rows of silver.fct_genealogy_edges), in the table's column order."""
    return nw.concat([receipt_edges(wms_transactions), consumption_edges(consumption, lot_events),
                      lot_relation_edges(lot_events), shipment_edges(wms_transactions)], how="vertical")
