"""Stock from movements: double-entry ledger lines and running balances.

A movement moves `quantity` (base unit) of one material lot from one location to another; virtual
locations stand for suppliers, production, customers, scrap and inventory adjustments. Each movement
becomes two ledger lines that sum to zero: -quantity at the source, +quantity at the destination.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

BALANCE_KEYS = ("material_id", "lot_id", "location_id")
EVENT_ORDER = ("occurred_at", "movement_id", "entry_side")


def ledger_entries(movements: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Two signed lines per movement: entry_side 0 leaves the source, entry_side 1 reaches the destination."""
    common = ["movement_id", "occurred_at", "material_id", "lot_id",
              *(["movement_type"] if "movement_type" in movements.collect_schema().names() else [])]
    leaving = movements.select(
        *common, nw.col("from_location_id").alias("location_id"),
        (-nw.col("quantity")).alias("quantity_delta"), nw.lit(0).cast(nw.Int8).alias("entry_side"))
    arriving = movements.select(
        *common, nw.col("to_location_id").alias("location_id"),
        nw.col("quantity").alias("quantity_delta"), nw.lit(1).cast(nw.Int8).alias("entry_side"))
    return nw.concat([leaving, arriving], how="vertical")


def running_balances(entries: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Balance after each ledger line per material/lot/location, in event-time order
    (ties broken by movement id, then source line before destination line)."""
    return entries.with_columns(
        nw.col("quantity_delta").cum_sum().over(*BALANCE_KEYS, order_by=list(EVENT_ORDER)).alias("balance_after"))


def stock_on_hand(entries: nw.LazyFrame[Any], *, include_virtual: bool = False,
                  virtual_locations: tuple[str, ...] = ()) -> nw.LazyFrame[Any]:
    """Quantity per material/lot/location summed over all lines; zero balances are left out."""
    stock = (entries.group_by(*BALANCE_KEYS).agg(nw.col("quantity_delta").sum().alias("quantity"))
             .filter(nw.col("quantity") != 0))
    if not include_virtual and virtual_locations:
        stock = stock.filter(~nw.col("location_id").is_in(list(virtual_locations)))
    return stock


def ledger(movements: nw.LazyFrame[Any], *, virtual_locations: tuple[str, ...] = ()) -> nw.LazyFrame[Any]:
    """The stored ledger: entries with running balances, the event date and a flag on negative balances of
    real locations (virtual ones such as the supplier are negative by construction)."""
    real = ~nw.col("location_id").is_in(list(virtual_locations))
    return (running_balances(ledger_entries(movements))
            .with_columns(((nw.col("balance_after") < 0) & real).alias("is_negative_balance"),
                          nw.col("occurred_at").dt.date().alias("event_date")))


def stock_as_of(entries: nw.LazyFrame[Any], as_of: Any, *, virtual_locations: tuple[str, ...] = ()) -> nw.LazyFrame[Any]:
    """Stock per material/lot/location from the ledger lines that occurred at or before `as_of`."""
    return stock_on_hand(entries.filter(nw.col("occurred_at") <= as_of), virtual_locations=virtual_locations)
