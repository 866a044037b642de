"""Customer delivery KPIs per customer and plant-local ship day: on time, in full, and both (OTIF).

`wms_transactions` (bronze wms_transactions) SHIPMENT rows: shipment_id, customer_id, occurred_at, quantity,
ordered_quantity and due_at (the order line's, repeated on every row of the shipment: taken once).

A shipment is shipped at its last SHIPMENT row (that is its day), on time when shipped at or before due_at, in
full when the summed quantity reaches ordered_quantity (same WMS unit). A shipment without a due date is in no
on-time or OTIF denominator; without an ordered quantity it is in no in-full denominator and, for OTIF, cannot
be shown in full, so it counts as not in full.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day

Frame = nw.LazyFrame[Any]
TOLERANCE = 1e-9


def shipments(wms_transactions: Frame, *, plant_timezone: str) -> Frame:
    """One row per shipment: scope_id (customer), day, shipped_at, due_at, shipped_quantity, ordered_quantity."""
    rows = wms_transactions.filter((nw.col("transaction_type") == "SHIPMENT") & ~nw.col("shipment_id").is_null())
    return (rows.group_by("shipment_id")
            .agg(nw.col("customer_id").max().alias("scope_id"), nw.col("occurred_at").max().alias("shipped_at"),
                 nw.col("due_at").min(), nw.col("quantity").fill_null(0.0).sum().alias("shipped_quantity"),
                 nw.col("ordered_quantity").max())
            .with_columns(plant_day("shipped_at", plant_timezone).alias("day")))


def _on_time() -> nw.Expr:
    return nw.col("shipped_at") <= nw.col("due_at")


def _in_full() -> nw.Expr:
    return (nw.col("shipped_quantity") >= nw.col("ordered_quantity") - TOLERANCE).fill_null(False)


def on_time_delivery(wms_transactions: Frame, *, plant_timezone: str) -> Frame:
    """on_time_delivery: shipments shipped by their due date / shipments with a due date."""
    rows = shipments(wms_transactions, plant_timezone=plant_timezone).filter(~nw.col("due_at").is_null())
    return kpi_rows(rows, kpi="on_time_delivery", scope_type="customer",
                    numerator=nw.when(_on_time()).then(1.0).otherwise(0.0), denominator=nw.lit(1.0))


def in_full_delivery(wms_transactions: Frame, *, plant_timezone: str) -> Frame:
    """in_full_delivery: shipments with shipped >= ordered quantity / shipments with an ordered quantity."""
    rows = shipments(wms_transactions, plant_timezone=plant_timezone).filter(~nw.col("ordered_quantity").is_null())
    return kpi_rows(rows, kpi="in_full_delivery", scope_type="customer",
                    numerator=nw.when(_in_full()).then(1.0).otherwise(0.0), denominator=nw.lit(1.0))


def otif(wms_transactions: Frame, *, plant_timezone: str) -> Frame:
    """otif: shipments both on time and in full / shipments with a due date."""
    rows = shipments(wms_transactions, plant_timezone=plant_timezone).filter(~nw.col("due_at").is_null())
    return kpi_rows(rows, kpi="otif", scope_type="customer",
                    numerator=nw.when(_on_time() & _in_full()).then(1.0).otherwise(0.0), denominator=nw.lit(1.0))
