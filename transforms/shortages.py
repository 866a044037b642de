"""From time-phased requirements and stock: when each line side runs short, and the picks that cover it.

- Line-side stock (`line_side_estimate`): what the line's orders can draw on, robust to what MES and WMS
  fail to report (the way an ERP backflushes and an inventory controller reads a negative balance):
  the ledger's balance at the line side without the output lots staged there for putaway; minus, for every
  started order and component, the BOM standard the MES did not report consumed (an unreported consumption,
  a report quarantined or malformed): the order took it all the same; and, since a line side never holds less
  than nothing, whenever that running balance drops below zero (an issue or another inbound booking was
  lost) it starts again from zero.
- Shortage: per line and material, the line-side stock is drawn down by the requirements in time order
  (`cumulative_quantity`); the line side runs short at the first requirement the stock does not cover
  (`short_at_us`). `shortfall_quantity` is what the whole horizon needs beyond the line-side stock.
- Picks: each shortfall is covered from warehouse lots first-in first-out (oldest receipt first; the lake
  holds no expiry dates, so first-expiry-first-out has nothing to order by). Shortfalls of one material on
  several lines take lots in the order they run short: demand and supply are laid out as cumulative intervals
  and each overlap is one pick. A pick should leave `lead_time_s` (the observed issue lead time) before the
  line runs short: `pick_by_us`.
Times are epoch microseconds (see `transforms.material_requirements`).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

US = 1_000_000
# output lots staged at the line side until they are put away: not material for the line's orders
STAGING_MOVEMENTS = ("production", "split", "merged", "putaway")
SETTLE_S = 60.0  # WMS stamps whole seconds, MES microseconds (as transforms.reconciliation allows)


def line_side_estimate(line_side_ledger: nw.LazyFrame[Any], reported_consumption: nw.LazyFrame[Any],
                       started_standards: nw.LazyFrame[Any], *,
                       settle_s: float = SETTLE_S) -> nw.LazyFrame[Any]:
    """line_id, material_id, book_quantity, unreported_quantity, restored_quantity, quantity: what is still at
    each line side for its orders.

    - book_quantity: the ledger's balance at the line side, without the output lots staged there for putaway
      (`STAGING_MOVEMENTS`: the line's orders draw only on what was issued to it);
    - unreported_quantity: backflush, per started order and component, of the BOM standard the MES did not
      report consumed (never negative: over-reported consumption stays as booked);
    - restored_quantity: book minus backflush, run in time order, cannot hold less than nothing: each time it
      settles below zero an inbound booking was lost (an issue quarantined), and the estimate starts again from
      zero. A balance settles after a run of lines no more than `settle_s` apart, so that an issue the WMS
      stamped a moment after the consumption it fed (whole seconds against microseconds) is not taken for one;
    - quantity = book_quantity - unreported_quantity + restored_quantity.

    line_side_ledger: line_id, material_id, movement_type, occurred_us, quantity_delta (the ledger lines at the
    line sides); reported_consumption: work_order_id, material_id, quantity (MES consumption the lake holds);
    started_standards: work_order_id, line_id, material_id, standard_quantity, started_us (the BOM standard of
    each component of every started order, with its start; the line is the order's). Pass only records from
    before the forecast moment."""
    settle_us = int(settle_s * US)
    book = (line_side_ledger.filter(~nw.col("movement_type").is_in(list(STAGING_MOVEMENTS)))
            .select("line_id", "material_id", "occurred_us", nw.col("quantity_delta").cast(nw.Float64).alias("book"),
                    nw.lit(0.0).alias("unreported")))
    reported = reported_consumption.group_by("work_order_id", "material_id").agg(
        nw.col("quantity").sum().alias("reported_quantity"))
    unreported = (started_standards.group_by("work_order_id", "line_id", "material_id")
                  .agg(nw.col("standard_quantity").sum(), nw.col("started_us").min())
                  .join(reported, on=["work_order_id", "material_id"], how="left")
                  .select("line_id", "material_id", nw.col("started_us").alias("occurred_us"), nw.lit(0.0).alias("book"),
                          nw.max_horizontal(nw.col("standard_quantity") - nw.col("reported_quantity").fill_null(0.0),
                                            nw.lit(0.0)).alias("unreported")))
    keys = ["line_id", "material_id"]
    # settled balances: the running balance after each run of lines no more than `settle_s` apart
    gap = nw.col("occurred_us").diff().over(*keys, order_by="occurred_us")
    windows = (nw.concat([book, unreported], how="vertical")
               .with_columns((gap.is_null() | (gap > settle_us)).cast(nw.Int64).alias("opens"))
               .with_columns(nw.col("opens").cum_sum().over(*keys, order_by="occurred_us").alias("window"))
               .group_by(*keys, "window").agg(nw.col("book").sum(), nw.col("unreported").sum())
               .with_columns((nw.col("book") - nw.col("unreported")).cum_sum().over(*keys, order_by="window")
                             .alias("running")))
    return (windows.group_by(*keys)
            .agg(nw.col("book").sum().alias("book_quantity"), nw.col("unreported").sum().alias("unreported_quantity"),
                 nw.col("running").min().alias("lowest"))
            .with_columns(nw.when(nw.col("lowest") < 0).then(-nw.col("lowest")).otherwise(nw.lit(0.0))
                          .alias("restored_quantity"))
            .with_columns((nw.col("book_quantity") - nw.col("unreported_quantity") + nw.col("restored_quantity"))
                          .alias("quantity"))
            .filter(~nw.col("line_id").is_null())
            .select(*keys, "book_quantity", "unreported_quantity", "restored_quantity", "quantity"))


def shortage_forecast(requirements: nw.LazyFrame[Any], line_side_stock: nw.LazyFrame[Any],
                      warehouse_stock: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """line_id, material_id, forecast_at_us, short_at_us, work_order_id (the first order not covered),
    line_side_quantity, required_quantity (horizon), shortfall_quantity, warehouse_quantity.

    line_side_stock: line_id, material_id, quantity; warehouse_stock: material_id, quantity."""
    side = line_side_stock.group_by("line_id", "material_id").agg(nw.col("quantity").sum().alias("line_side_quantity"))
    store = warehouse_stock.group_by("material_id").agg(nw.col("quantity").sum().alias("warehouse_quantity"))
    drawn = (requirements.join(side, on=["line_id", "material_id"], how="left")
             .with_columns(nw.col("line_side_quantity").fill_null(0.0)))
    short = drawn.filter(nw.col("cumulative_quantity") > nw.col("line_side_quantity") + 1e-9)
    first = (short.group_by("line_id", "material_id").agg(nw.col("required_at_us").min().alias("short_at_us"))
             .join(short.select("line_id", "material_id", "required_at_us", "work_order_id"),
                   left_on=["line_id", "material_id", "short_at_us"],
                   right_on=["line_id", "material_id", "required_at_us"])
             .group_by("line_id", "material_id", "short_at_us").agg(nw.col("work_order_id").min()))
    totals = drawn.group_by("line_id", "material_id").agg(
        nw.col("required_quantity").sum(), nw.col("line_side_quantity").max(), nw.col("forecast_at_us").max())
    return (first.join(totals, on=["line_id", "material_id"])
            .join(store, on="material_id", how="left")
            .with_columns(nw.col("warehouse_quantity").fill_null(0.0),
                          (nw.col("required_quantity") - nw.col("line_side_quantity")).alias("shortfall_quantity"))
            .select("line_id", "material_id", "forecast_at_us", "short_at_us", "work_order_id", "line_side_quantity",
                    "required_quantity", "shortfall_quantity", "warehouse_quantity"))


def pick_suggestions(shortages: nw.LazyFrame[Any], warehouse_lots: nw.LazyFrame[Any],
                     line_sides: nw.LazyFrame[Any], *, lead_time_s: float) -> nw.LazyFrame[Any]:
    """line_id, material_id, lot_id, from_location_id, to_location_id, pick_quantity, lot_received_at_us,
    short_at_us, pick_by_us, lead_time_s, pick_rule, forecast_at_us: the picks covering every shortfall FIFO.

    warehouse_lots: material_id, lot_id, location_id, quantity, received_at_us (positive stock at storage
    locations); line_sides: line_id, location_id."""
    demand = (shortages.filter(nw.col("shortfall_quantity") > 0)
              .with_columns(nw.col("shortfall_quantity").cum_sum()
                            .over("material_id", order_by=["short_at_us", "line_id"]).alias("demand_to"))
              .with_columns((nw.col("demand_to") - nw.col("shortfall_quantity")).alias("demand_from")))
    supply = (warehouse_lots.filter(nw.col("quantity") > 0)
              .with_columns(nw.col("quantity").cum_sum()
                            .over("material_id", order_by=["received_at_us", "lot_id", "location_id"])
                            .alias("supply_to"))
              .with_columns((nw.col("supply_to") - nw.col("quantity")).alias("supply_from")))
    return (demand.join(supply.select("material_id", "lot_id", nw.col("location_id").alias("from_location_id"),
                                      nw.col("received_at_us").alias("lot_received_at_us"), "supply_from",
                                      "supply_to"), on="material_id")
            .with_columns((nw.min_horizontal("demand_to", "supply_to")
                           - nw.max_horizontal("demand_from", "supply_from")).alias("pick_quantity"))
            .filter(nw.col("pick_quantity") > 1e-9)
            .join(line_sides.select("line_id", nw.col("location_id").alias("to_location_id")), on="line_id",
                  how="left")
            .select("line_id", "material_id", "lot_id", "from_location_id", "to_location_id", "pick_quantity",
                    "lot_received_at_us", "short_at_us",
                    (nw.col("short_at_us") - int(lead_time_s * US)).alias("pick_by_us"),
                    nw.lit(float(lead_time_s)).alias("lead_time_s"), nw.lit("FIFO").alias("pick_rule"),
                    "forecast_at_us"))
