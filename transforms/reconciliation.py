"""MES <-> WMS reconciliation per work order, material and lot.

For each work order and component: the BOM standard quantity (planned quantity x BOM quantity per parent, in
base units), what the WMS issued to the line for the order, and what the MES reports consumed. Differences get
a named type:

| type | rule |
|---|---|
| unreported_consumption | the order started, but MES reports less than the standard consumed (and none of its MES records were quarantined) |
| quarantined_report | as above, but an MES record of the order was quarantined at ingestion: the report exists, it was rejected |
| over_issue | the WMS issued more than the standard plus one handling unit (issues round up to whole handling units and may add one buffer unit) |
| wrong_lot | MES consumed a lot that was not at that line side (its line-side balance goes negative), and no issue for the same order brings it there later |
| timing_difference | MES consumed a lot before the WMS booked the order's issue of it to the line side; the issue arrives more than a minute later |
| quarantined_report | a lot whose line-side balance goes negative is named in a quarantined record (e.g. an issue with an unknown location) |

Unit mismatches are caught earlier: the record is quarantined at ingestion with the reason.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

Frame = nw.LazyFrame[Any]
TOLERANCE = 1e-6
CLOCK_TOLERANCE_S = 60.0  # WMS stamps whole seconds, MES milliseconds: a minute covers clocks and precision
KEYS = ["work_order_id", "material_id"]
OUTPUT = ["work_order_id", "material_id", "lot_id", "difference_type", "standard_quantity", "issued_quantity",
          "consumed_quantity", "difference_quantity", "occurred_at"]


def standard_quantities(releases: Frame, code_map: Frame, factors: Frame, bom: Frame) -> Frame:
    """(work_order_id, material_id = component, standard_quantity, released_at) in the component's base unit."""
    parents = code_map.filter(nw.col("system") == "MES").select(
        nw.col("system_material_code").alias("material_code"), nw.col("material_id").alias("parent_material_id"))
    return (releases.join(parents, on="material_code", how="inner")
            .join(factors.select(nw.col("material_id").alias("parent_material_id"), "unit", "factor_to_base"),
                  on=["parent_material_id", "unit"], how="inner")
            .join(bom.select("parent_material_id", "component_material_id", "quantity_per_parent"),
                  on="parent_material_id", how="inner")
            .select("work_order_id", nw.col("component_material_id").alias("material_id"),
                    (nw.col("planned_quantity") * nw.col("factor_to_base") * nw.col("quantity_per_parent"))
                    .alias("standard_quantity"), nw.col("occurred_at").alias("released_at")))


def handling_units(code_map: Frame, factors: Frame) -> Frame:
    """The WMS handling unit of each material in base units (1 BOX = 250 EA)."""
    return (code_map.filter(nw.col("system") == "WMS")
            .select("material_id", nw.col("system_unit").alias("unit"))
            .join(factors, on=["material_id", "unit"], how="inner")
            .select("material_id", nw.col("factor_to_base").alias("handling_unit_quantity")))


def _totals(movements: Frame, movement_type: str, name: str) -> Frame:
    return (movements.filter((nw.col("movement_type") == movement_type) & ~nw.col("work_order_id").is_null())
            .group_by(*KEYS).agg(nw.col("quantity").sum().alias(name), nw.col("occurred_at").min().alias(f"{name}_at")))


def order_differences(movements: Frame, standards: Frame, units: Frame, started_orders: Frame,
                      quarantined_orders: Frame) -> Frame:
    """unreported_consumption, quarantined_report and over_issue per work order and material."""
    issued = _totals(movements, "issue", "issued_quantity")
    consumed = _totals(movements, "consumption", "consumed_quantity")
    started = started_orders.select("work_order_id", nw.lit(True).alias("is_started")).unique()
    rejected = quarantined_orders.select("work_order_id", nw.lit(True).alias("has_quarantined_report")).unique()
    rows = (standards.join(issued, on=KEYS, how="left").join(consumed, on=KEYS, how="left")
            .join(units, on="material_id", how="left").join(started, on="work_order_id", how="left")
            .join(rejected, on="work_order_id", how="left")
            .with_columns(nw.col("issued_quantity").fill_null(0.0), nw.col("consumed_quantity").fill_null(0.0),
                          nw.col("is_started").fill_null(False), nw.col("has_quarantined_report").fill_null(False)))
    short = nw.col("is_started") & (nw.col("consumed_quantity") < nw.col("standard_quantity") - TOLERANCE)
    missing = rows.filter(short).with_columns(
        nw.when(nw.col("has_quarantined_report")).then(nw.lit("quarantined_report"))
        .otherwise(nw.lit("unreported_consumption")).alias("difference_type"),
        (nw.col("standard_quantity") - nw.col("consumed_quantity")).alias("difference_quantity"),
        nw.col("released_at").alias("occurred_at"))
    excess = nw.col("issued_quantity") - nw.col("standard_quantity")
    over = rows.filter(excess > nw.col("handling_unit_quantity") + TOLERANCE).with_columns(
        nw.lit("over_issue").alias("difference_type"), excess.alias("difference_quantity"),
        nw.col("issued_quantity_at").alias("occurred_at"))
    return nw.concat([frame.with_columns(nw.lit(None, nw.String).alias("lot_id")).select(OUTPUT)
                      for frame in (missing, over)], how="vertical")


def lot_differences(ledger: Frame, movements: Frame, standards: Frame, quarantined_lots: Frame,
                    clock_tolerance_s: float = CLOCK_TOLERANCE_S) -> Frame:
    """wrong_lot and timing_difference, one per episode: the first consumption that takes a lot's line-side
    balance below zero, until the balance is back at or above zero. An episode that recovers within the
    clock tolerance is the two systems' timestamp precision, not a difference; a lot named in a quarantined
    record is a quarantined_report."""
    keys = ["material_id", "lot_id", "location_id"]
    orders = movements.select("movement_id", "work_order_id")
    negative = ledger.filter((nw.col("movement_type") == "consumption") & (nw.col("entry_side") == 0)
                             & (nw.col("balance_after") < -TOLERANCE))
    later = (ledger.filter(nw.col("balance_after") >= -TOLERANCE)
             .select(*keys, nw.col("occurred_at").alias("recovered_at"), nw.col("movement_id").alias("recovery_id"))
             .join(orders.select(nw.col("movement_id").alias("recovery_id"),
                                 nw.col("work_order_id").alias("recovery_order_id")), on="recovery_id", how="left"))
    recovery = (negative.select(*keys, "movement_id", "occurred_at").join(later, on=keys, how="inner")
                .filter(nw.col("recovered_at") >= nw.col("occurred_at"))
                .with_columns(nw.col("recovered_at").min().over("movement_id").alias("first_recovery"))
                .filter(nw.col("recovered_at") == nw.col("first_recovery"))
                .unique(["movement_id"], keep="first", order_by=["recovery_id"])
                .select("movement_id", "recovered_at", "recovery_order_id"))
    lines = negative.join(recovery, on="movement_id", how="left").join(orders, on="movement_id", how="left")
    first = lines.with_columns(nw.col("occurred_at").min().over(*keys, "recovered_at").alias("episode_start"))
    episodes = first.filter(nw.col("occurred_at") == nw.col("episode_start")).unique(
        [*keys, "recovered_at"], keep="first", order_by=["movement_id"])
    late = nw.col("recovered_at") > nw.col("occurred_at").dt.offset_by(f"{int(clock_tolerance_s)}s")
    rejected = quarantined_lots.select("lot_id", nw.lit(True).alias("is_quarantined")).unique()
    same_order = nw.col("recovery_order_id") == nw.col("work_order_id")
    typed = (episodes.join(rejected, on="lot_id", how="left")
             .with_columns(nw.col("is_quarantined").fill_null(False))
             .filter(nw.col("recovered_at").is_null() | late)
             .with_columns(nw.when(nw.col("is_quarantined")).then(nw.lit("quarantined_report"))
                           .when(nw.col("recovered_at").is_null() | ~same_order.fill_null(False))
                           .then(nw.lit("wrong_lot"))
                           .otherwise(nw.lit("timing_difference")).alias("difference_type"))
             .with_columns(nw.when(nw.col("difference_type") == "wrong_lot").then(-nw.col("quantity_delta"))
                           .otherwise(0.0).alias("wrong_lot_deficit")))
    # a wrong lot leaves a lasting book deficit at that line side; later dips no deeper than the deficits
    # already reported are its consequence, not new differences
    earlier = (nw.col("wrong_lot_deficit").cum_sum().over(*keys, order_by=["occurred_at", "movement_id"])
               - nw.col("wrong_lot_deficit"))
    typed = typed.with_columns(earlier.alias("earlier_deficit")).filter(
        ~((nw.col("difference_type") == "wrong_lot") & (nw.col("earlier_deficit") > TOLERANCE)
          & (-nw.col("balance_after") <= nw.col("earlier_deficit") + TOLERANCE)))
    return (typed.join(standards.select(*KEYS, "standard_quantity"), on=KEYS, how="left")
            .with_columns(nw.lit(None, nw.Float64).alias("issued_quantity"),
                          (-nw.col("quantity_delta")).alias("consumed_quantity"),
                          (-nw.col("balance_after")).alias("difference_quantity"))
            .select(OUTPUT))


def reconciliation(movements: Frame, ledger: Frame, releases: Frame, started_orders: Frame,
                   quarantined_orders: Frame, quarantined_lots: Frame, code_map: Frame, factors: Frame,
                   bom: Frame) -> Frame:
    standards = standard_quantities(releases, code_map, factors, bom)
    return nw.concat([order_differences(movements, standards, handling_units(code_map, factors), started_orders,
                                        quarantined_orders),
                      lot_differences(ledger, movements, standards, quarantined_lots)], how="vertical")
