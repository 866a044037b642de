"""Stock from movements: double-entry ledger lines and running balances.

A movement moves `quantity` (base unit) of one material lot from one location to another; virtual
locations stand for suppliers, production, customers, scrap and inventory adjustments. Each movement
becomes two ledger lines that sum to zero: -quantity at the source, +quantity at the destination.

Balances are summed in whole millionths of the base unit (fixed point, `BALANCE_SCALE`), not in floating
point: a sum of integers is the same in any order, so every engine (Polars' sequential running sum, DuckDB's and
Spark's window operators), a full rebuild and an incremental refresh give the same balance to the last bit, and
a lot that leaves a location leaves exactly zero behind (0.1 + 0.2 - 0.3 is not 0 in floating point). It is also
what lets an incremental refresh extend a key's running balance from a stored one: the balance before a stored
line is `units(balance_after) - units(quantity_delta)`, exactly, and adding the new lines' units to it gives the
integer a full rebuild sums.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

BALANCE_KEYS = ("material_id", "lot_id", "location_id")
EVENT_ORDER = ("occurred_at", "movement_id", "entry_side")
BALANCE_SCALE = 1_000_000  # balances are kept to a millionth of the base unit
UNIT_PER_SCALE = 1 / BALANCE_SCALE  # multiplied, never divided: engines divide a column by a constant differently (Polars
# multiplies by the reciprocal in its vectorised kernel), a product is the same IEEE result everywhere


def fixed_point(quantity: nw.Expr) -> nw.Expr:
    """A quantity in whole millionths of its unit (rounded half up, the same on every engine)."""
    return (quantity * BALANCE_SCALE + 0.5).floor().cast(nw.Int64)


def from_fixed_point(units: nw.Expr) -> nw.Expr:
    return units.cast(nw.Float64) * UNIT_PER_SCALE


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


def balance_units(balance: nw.Expr) -> nw.Expr:
    """A stored balance back in whole millionths: exact, since it was stored as `units * UNIT_PER_SCALE`."""
    return (balance * BALANCE_SCALE).round(0).cast(nw.Int64)


def running_balances(entries: nw.LazyFrame[Any], opening: nw.LazyFrame[Any] | None = None) -> nw.LazyFrame[Any]:
    """Balance after each ledger line per material/lot/location, in event-time order
    (ties broken by movement id, then source line before destination line). `opening` (BALANCE_KEYS and
    `opening_units`, fixed point) is each key's balance before its first line here (zero for keys it lacks):
    how an incremental refresh continues balances from stored ones."""
    running = fixed_point(nw.col("quantity_delta")).cum_sum().over(*BALANCE_KEYS, order_by=list(EVENT_ORDER))
    if opening is None:
        return entries.with_columns(from_fixed_point(running).alias("balance_after"))
    return (entries.join(opening, on=list(BALANCE_KEYS), how="left")
            .with_columns(from_fixed_point(running + nw.col("opening_units").fill_null(0)).alias("balance_after"))
            .drop("opening_units"))


def _line_number() -> nw.Expr:
    """1 for each key's first line in event order, 2 for its second..."""
    return nw.col("occurred_at").cum_count().over(*BALANCE_KEYS, order_by=list(EVENT_ORDER))


def opening_balances(lines: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per key, the balance before its first of these stored ledger lines (`opening_units`, fixed point)."""
    return (lines.filter(_line_number() == 1)
            .select(*BALANCE_KEYS, (balance_units(nw.col("balance_after"))
                                    - fixed_point(nw.col("quantity_delta"))).alias("opening_units")))


def last_lines(lines: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Each key's last ledger line in event order (its balance after everything in `lines`)."""
    return lines.filter(_line_number() == nw.col("occurred_at").count().over(*BALANCE_KEYS))


def stock_on_hand(entries: nw.LazyFrame[Any], *, include_virtual: bool = False,
                  virtual_locations: tuple[str, ...] = ()) -> nw.LazyFrame[Any]:
    """Quantity per material/lot/location summed over all lines; zero balances are left out."""
    stock = (entries.group_by(*BALANCE_KEYS).agg(fixed_point(nw.col("quantity_delta")).sum().alias("units"))
             .filter(nw.col("units") != 0).select(*BALANCE_KEYS, from_fixed_point(nw.col("units")).alias("quantity")))
    if not include_virtual and virtual_locations:
        stock = stock.filter(~nw.col("location_id").is_in(list(virtual_locations)))
    return stock


def ledger(movements: nw.LazyFrame[Any], *, virtual_locations: tuple[str, ...] = (),
           opening: nw.LazyFrame[Any] | None = None) -> nw.LazyFrame[Any]:
    """The stored ledger: entries with running balances (from `opening`, see `running_balances`), the event date
    and a flag on negative balances of real locations (virtual ones such as the supplier are negative by
    construction)."""
    real = ~nw.col("location_id").is_in(list(virtual_locations))
    return (running_balances(ledger_entries(movements), opening)
            .with_columns(((nw.col("balance_after") < 0) & real).alias("is_negative_balance"),
                          nw.col("occurred_at").dt.date().alias("event_date")))


def stock_from_last_lines(last: nw.LazyFrame[Any], *, virtual_locations: tuple[str, ...] = ()) -> nw.LazyFrame[Any]:
    """`gold.stock_on_hand` rows from each key's last ledger line (see `last_lines`): the same values as the
    stock summed over all lines, since a running balance is that sum in fixed point."""
    return (last.filter(balance_units(nw.col("balance_after")) != 0,
                        ~nw.col("location_id").is_in(list(virtual_locations)))
            .select(*BALANCE_KEYS, nw.col("balance_after").alias("quantity"),
                    (nw.col("balance_after") < 0).alias("is_negative"),
                    nw.col("occurred_at").alias("last_movement_at")))


def stock_as_of(entries: nw.LazyFrame[Any], as_of: Any, *, virtual_locations: tuple[str, ...] = ()) -> nw.LazyFrame[Any]:
    """Stock per material/lot/location from the ledger lines that occurred at or before `as_of`."""
    return stock_on_hand(entries.filter(nw.col("occurred_at") <= as_of), virtual_locations=virtual_locations)
