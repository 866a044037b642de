"""Quality features per work order (pure Narwhals: the same code on Polars and PySpark).

A row describes work order w at `predicted_at` = its latest quality inspection (for an open order: the
inspections so far). Every feature uses only data with event time up to `predicted_at`:

- process parameters of its operations: inspected units, the quantity-weighted mean setpoint deviation,
  mean squared deviation, mean pressure excess beyond +-0.3 bar of 6 bar, the highest pressure;
- machine wear proxies of the machines that ran its operations (`WEAR_FEATURES`, when `machine_hours` =
  `gold.machine_hour_features` rows are given; null otherwise): at each inspection, the machine's row of the last
  hour that ended at or before it (signals joined to the operation's time), its 48-hour mean vibration while
  running (quantity-weighted over the order's inspections) and run hours since the last planned maintenance (the
  most of any of its machines);
- input lots through the genealogy: the supplier lots its input lots came from, directly or inside a
  subassembly (lot edges followed backwards, only edges that happened before `predicted_at`), how many
  suppliers and supplier lots, and the defect history of the *other* orders that consumed the same supplier
  lots, from their inspections before `predicted_at` (pooled and worst supplier lot), and per supplier lot
  the scrap share of each of those other orders: the lowest of them (a lot is suspect only while every order
  through it scraps) and the share of them at or above the high-scrap threshold, worst supplier lot of the
  order (so a sound lot that shares orders with an off-spec one is told apart by its other, sound orders);
- label: `scrap_share` = scrapped / inspected units of w, and `is_high_scrap` = scrap_share >= threshold.

Incremental refresh (`orders_to_recompute`): when inputs change from event time T on (new or late inspections,
consumption or genealogy edges, all with event time >= T), the orders whose row can change are
- every order with `predicted_at` >= T: a new inspection of an order moves its `predicted_at` to at least the
  inspection's time, and every other changed input only counts for orders whose `predicted_at` is at or after it
  (consumption and edges up to `predicted_at`, other orders' inspections strictly before it);
- every order through a supplier lot that one of those orders gained: an order's supplier lots are found as of
  its own `predicted_at`, so when a changed order's `predicted_at` moves on it can gain a lot (an input consumed
  after its earlier last inspection, or a new edge), and an order inspected before T through that lot now counts
  the changed order's earlier inspections in its lot history (only an order whose `predicted_at` is after the
  changed order's first inspection: a history holds inspections before the order's own `predicted_at`). The lots
  it had are those found as of the earlier of its stored `predicted_at` and just before T (inputs before T are as
  they were, and lots only accumulate), so the lots gained are its lots now minus those; an order with no stored
  row had no inspection before T and adds nothing to earlier orders' history.
Any other order (`predicted_at` < T, through no lot a changed order gained before it) reads only rows before T that
are as they were, so its stored row stays. Sharing a lot alone is not enough to recompute: with few supplier lots
every order shares one with a recent order. This assumes the inputs only grow (rows are added, not deleted or
edited in place), which is how bronze lands; a full refresh covers anything else.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import narwhals as nw

Frame = nw.LazyFrame[Any]
NOMINAL_PRESSURE_BAR = 6.0
PRESSURE_TOLERANCE_BAR = 0.3
MAX_GENEALOGY_DEPTH = 6
HIGH_SCRAP_SHARE = 0.04
PROCESS_FEATURES = ("inspected_units", "inspections", "deviation_mean_c", "deviation_square_mean",
                    "pressure_excess_mean_bar", "pressure_max_bar")
WEAR_FEATURES = ("machine_vibration_mean_48h", "machine_run_h_since_maintenance")
GENEALOGY_FEATURES = ("supplier_lots", "suppliers", "input_lot_prior_scrap_share",
                      "input_lot_prior_scrap_share_max", "input_lot_prior_inspected_units",
                      "input_lot_order_scrap_share_min_max", "input_lot_high_scrap_order_share_max")


def inspection_machine_wear(inspections: Frame, machine_hours: Frame | None) -> Frame:
    """Each inspection with its machine's wear proxies as of the last hour that ended at or before it (the
    `machine_hours` row whose `predicted_at` is the inspection's hour; its features use data before then):
    `_vibration` (48-hour mean vibration while running) and `_run_h` (run hours since the last planned
    maintenance); both null without `machine_hours` or without a row for that hour."""
    if machine_hours is None:
        return inspections.with_columns(nw.lit(None, dtype=nw.Float64()).alias("_vibration"),
                                        nw.lit(None, dtype=nw.Float64()).alias("_run_h"))
    hours = machine_hours.select("machine_id", nw.col("predicted_at").alias("_wear_at"),
                                 nw.col("vibration_mean_48h").cast(nw.Float64()).alias("_vibration"),
                                 nw.col("run_h_since_maintenance").cast(nw.Float64()).alias("_run_h"))
    return inspections.with_columns(nw.col("occurred_at").dt.truncate("1h").alias("_wear_at")).join(
        hours, on=["machine_id", "_wear_at"], how="left").drop("_wear_at")


def work_order_process_features(inspections: Frame, machine_hours: Frame | None = None) -> Frame:
    """Per work order: process parameters and machine wear proxies over its inspections and the scrap label
    columns."""
    weight = nw.col("inspected_quantity")
    deviation, pressure = nw.col("setpoint_deviation_c"), nw.col("pressure_bar")
    excess = nw.when((pressure - NOMINAL_PRESSURE_BAR).abs() > PRESSURE_TOLERANCE_BAR).then(
        (pressure - NOMINAL_PRESSURE_BAR).abs() - PRESSURE_TOLERANCE_BAR).otherwise(0.0)
    rows = inspection_machine_wear(inspections.filter(~nw.col("work_order_id").is_null() & (weight > 0)),
                                   machine_hours).with_columns(
        (deviation * weight).alias("_dev"), (deviation * deviation * weight).alias("_dev2"),
        (excess * weight).alias("_excess"), (nw.col("_vibration") * weight).alias("_vib"),
        nw.when(~nw.col("_vibration").is_null()).then(weight).otherwise(0).alias("_vib_weight"))
    grouped = rows.group_by("work_order_id").agg(
        nw.col("occurred_at").max().alias("predicted_at"), nw.col("machine_id").min().alias("first_machine_id"),
        nw.col("material_code").min().alias("material_code"),
        weight.sum().alias("inspected_units"), nw.col("scrap_quantity").sum().alias("scrap_units"),
        nw.len().alias("inspections"), nw.col("_dev").sum().alias("_dev"), nw.col("_dev2").sum().alias("_dev2"),
        nw.col("_excess").sum().alias("_excess"), pressure.max().alias("pressure_max_bar"),
        nw.col("_vib").sum().alias("_vib"), nw.col("_vib_weight").sum().alias("_vib_weight"),
        nw.col("_run_h").max().alias("machine_run_h_since_maintenance"))
    units = nw.col("inspected_units")
    return grouped.with_columns(
        (nw.col("_dev") / units).alias("deviation_mean_c"), (nw.col("_dev2") / units).alias("deviation_square_mean"),
        (nw.col("_excess") / units).alias("pressure_excess_mean_bar"),
        (nw.col("scrap_units") / units).alias("scrap_share"),
        nw.when(nw.col("_vib_weight") > 0).then(nw.col("_vib") / nw.col("_vib_weight")).otherwise(None)
        .cast(nw.Float64()).alias("machine_vibration_mean_48h"),
        nw.col("machine_run_h_since_maintenance").cast(nw.Float64()),
        nw.col("inspections").cast(nw.Float64), units.cast(nw.Float64),
    ).drop("_dev", "_dev2", "_excess", "_vib", "_vib_weight")


def input_supplier_lots(orders: Frame, consumption: Frame, edges: Frame) -> Frame:
    """(work_order_id, supplier_lot, supplier_id) for every supplier lot in the ancestry of the order's
    input lots, following lot edges (consumption, split, merge, receipt) that happened before `predicted_at`.

    orders: work_order_id, predicted_at; consumption: work_order_id, lot_code, occurred_at (the order's
    input lots); edges: parent_node_id, child_node_id, edge_type, supplier_id, occurred_at."""
    known = consumption.join(orders.select("work_order_id", "predicted_at"), on="work_order_id", how="inner")
    frontier = known.filter(nw.col("occurred_at") <= nw.col("predicted_at")).select(
        "work_order_id", "predicted_at", nw.col("lot_code").alias("node_id")).unique()
    lot_edges = edges.filter(nw.col("edge_type").is_in(["consumption", "split", "merge", "receipt"])).select(
        nw.col("parent_node_id"), nw.col("child_node_id").alias("node_id"), nw.col("supplier_id"),
        nw.col("occurred_at").alias("_edge_at"))
    found: list[Frame] = []
    for _ in range(MAX_GENEALOGY_DEPTH):
        step = frontier.join(lot_edges, on="node_id", how="inner").filter(nw.col("_edge_at") <= nw.col("predicted_at"))
        found.append(step.filter(nw.col("parent_node_id").str.starts_with("SUP:")).select(
            "work_order_id", nw.col("parent_node_id").str.slice(4).alias("supplier_lot"), "supplier_id"))
        frontier = step.filter(~nw.col("parent_node_id").str.starts_with("SUP:")).select(
            "work_order_id", "predicted_at", nw.col("parent_node_id").alias("node_id")).unique()
    return nw.concat(found, how="vertical").unique()


def genealogy_features(orders: Frame, supplier_lots: Frame, inspections: Frame, *,
                       high_scrap_share: float = HIGH_SCRAP_SHARE) -> Frame:
    """Per work order: supplier (lot) counts and the prior scrap of other orders through the same supplier
    lots (inspections strictly before the order's `predicted_at`): pooled, per worst supplier lot, and per
    other order (`input_lot_order_scrap_share_min_max`: over the order's supplier lots, the highest of the
    lowest scrap share among the other orders through the lot; `input_lot_high_scrap_order_share_max`: the
    highest share of other orders through one lot at or above `high_scrap_share`)."""
    order_lots = supplier_lots.join(orders.select("work_order_id", "predicted_at"), on="work_order_id", how="inner")
    other = supplier_lots.select("supplier_lot", nw.col("work_order_id").alias("other_work_order_id")).join(
        inspections.select(nw.col("work_order_id").alias("other_work_order_id"), nw.col("occurred_at"),
                           nw.col("inspected_quantity"), nw.col("scrap_quantity")),
        on="other_work_order_id", how="inner")
    history = order_lots.join(other, on="supplier_lot", how="inner").filter(
        (nw.col("other_work_order_id") != nw.col("work_order_id")) & (nw.col("occurred_at") < nw.col("predicted_at")))
    per_lot = history.group_by("work_order_id", "supplier_lot").agg(
        nw.col("inspected_quantity").sum().alias("_inspected"), nw.col("scrap_quantity").sum().alias("_scrap"))
    per_lot = per_lot.with_columns((nw.col("_scrap") / nw.col("_inspected")).alias("_share"))
    pooled = per_lot.group_by("work_order_id").agg(
        nw.col("_inspected").sum().alias("input_lot_prior_inspected_units"), nw.col("_scrap").sum().alias("_scrap"),
        nw.col("_share").max().alias("input_lot_prior_scrap_share_max"))
    worst = per_lot.join(pooled.select("work_order_id", "input_lot_prior_scrap_share_max"), on="work_order_id") \
        .filter(nw.col("_share") == nw.col("input_lot_prior_scrap_share_max")) \
        .group_by("work_order_id").agg(nw.col("supplier_lot").min().alias("riskiest_supplier_lot"))
    per_other = history.group_by("work_order_id", "supplier_lot", "other_work_order_id").agg(
        nw.col("inspected_quantity").sum().alias("_inspected"), nw.col("scrap_quantity").sum().alias("_scrap")) \
        .filter(nw.col("_inspected") > 0).with_columns((nw.col("_scrap") / nw.col("_inspected")).alias("_share"))
    per_lot_orders = per_other.group_by("work_order_id", "supplier_lot").agg(
        nw.col("_share").min().alias("_lowest"),
        (nw.col("_share") >= high_scrap_share).cast(nw.Float64).mean().alias("_high"))
    by_order = per_lot_orders.group_by("work_order_id").agg(
        nw.col("_lowest").max().alias("input_lot_order_scrap_share_min_max"),
        nw.col("_high").max().alias("input_lot_high_scrap_order_share_max"))
    counts = order_lots.group_by("work_order_id").agg(
        nw.col("supplier_lot").n_unique().cast(nw.Float64).alias("supplier_lots"),
        nw.col("supplier_id").n_unique().cast(nw.Float64).alias("suppliers"))
    result = orders.select("work_order_id").join(counts, on="work_order_id", how="left") \
        .join(pooled, on="work_order_id", how="left").join(worst, on="work_order_id", how="left") \
        .join(by_order, on="work_order_id", how="left")
    return result.with_columns(
        nw.when(nw.col("input_lot_prior_inspected_units") > 0)
        .then(nw.col("_scrap") / nw.col("input_lot_prior_inspected_units")).otherwise(None)
        .alias("input_lot_prior_scrap_share"),
        nw.col("input_lot_prior_inspected_units").fill_null(0.0).cast(nw.Float64),
        nw.col("supplier_lots").fill_null(0.0), nw.col("suppliers").fill_null(0.0),
    ).drop("_scrap")


def orders_to_recompute(orders: Frame, supplier_lots: Frame, inspections: Frame, consumption: Frame, edges: Frame,
                        stored: Frame, since: datetime) -> Frame:
    """`work_order_id` of the orders whose features can change when inputs change from `since` on (module doc).

    orders and supplier_lots: as now (`work_order_process_features`, `input_supplier_lots`); stored: the
    work_order_id and predicted_at of the rows stored before the change."""
    changed = orders.filter(nw.col("predicted_at") >= since).select("work_order_id", "predicted_at")
    before = since - timedelta(microseconds=1)
    seen = changed.join(stored.select("work_order_id", nw.col("predicted_at").alias("_stored_at")),
                        on="work_order_id", how="inner").select(
        "work_order_id", nw.when(nw.col("_stored_at") < nw.lit(before)).then(nw.col("_stored_at"))
        .otherwise(nw.lit(before)).alias("predicted_at"))
    lots_then = input_supplier_lots(seen, consumption, edges).select("work_order_id", "supplier_lot")
    first_inspected = inspections.group_by("work_order_id").agg(nw.col("occurred_at").min().alias("_first_at"))
    gained = (supplier_lots.join(seen.select("work_order_id"), on="work_order_id", how="semi")
              .select("work_order_id", "supplier_lot").join(lots_then, on=["work_order_id", "supplier_lot"], how="anti")
              .join(first_inspected, on="work_order_id", how="inner")
              .group_by("supplier_lot").agg(nw.col("_first_at").min()))
    sharing = (supplier_lots.join(gained, on="supplier_lot", how="inner").join(orders, on="work_order_id", how="inner")
               .filter(nw.col("predicted_at") > nw.col("_first_at")).select("work_order_id"))
    return nw.concat([changed.select("work_order_id"), sharing], how="vertical").unique()


def work_order_features(inspections: Frame, consumption: Frame, edges: Frame, *,
                        machine_hours: Frame | None = None, high_scrap_share: float = HIGH_SCRAP_SHARE) -> Frame:
    """The gold rows: process, machine wear (with `machine_hours`) and genealogy features per work order with the
    scrap label."""
    process = work_order_process_features(inspections, machine_hours)
    lots = input_supplier_lots(process, consumption, edges)
    return order_rows(process, lots, inspections, high_scrap_share=high_scrap_share)


def order_rows(orders: Frame, supplier_lots: Frame, inspections: Frame, *,
               high_scrap_share: float = HIGH_SCRAP_SHARE) -> Frame:
    """The gold rows of `orders` (`work_order_process_features` rows, all or some) from every order's
    `supplier_lots` (`input_supplier_lots`) and the inspections."""
    genealogy = genealogy_features(orders, supplier_lots, inspections, high_scrap_share=high_scrap_share)
    return orders.join(genealogy, on="work_order_id", how="left").with_columns(
        (nw.col("scrap_share") >= high_scrap_share).alias("is_high_scrap"))
