"""Reading the lake tables the model features are built from (the IO side of `ml.features`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow
from ml.features.maintenance import breakdown_labels, hourly_signal_stats, machine_hour_features
from ml.features.quality import (input_supplier_lots, order_rows, orders_to_recompute, work_order_features,
                                 work_order_process_features)

MAINTENANCE_SOURCES = ("machine_signals", "mes_equipment_states", "oee_by_machine_shift")
QUALITY_SOURCES = ("mes_quality_inspections", "mes_material_consumption", "fct_genealogy_edges",
                   "machine_hour_features")


def input_versions(lake: DeltaLake, names: tuple[str, ...]) -> dict[str, int]:
    """The Delta version of each input table (so a model can be rebuilt from the exact data)."""
    return {name: lake.version(name) for name in names if lake.exists(name)}


def maintenance_frames(lake: DeltaLake, dates: list[date] | None = None) -> dict[str, Any]:
    """The maintenance inputs (signals and MES states of the event `dates` only, when given)."""
    signals, states = lake.scan("machine_signals"), lake.scan("mes_equipment_states")
    if dates is not None:
        signals = signals.filter(pl.col("source_date").is_in(dates))
        states = states.filter(pl.col("event_date").is_in(dates))
    frames = {
        "signals": nw.from_native(signals.select("machine_id", "tag", "source_at", "value", "status_code")),
        "equipment_states": nw.from_native(states.select("machine_id", "occurred_at", "state", "reason_code")),
    }
    if lake.exists("oee_by_machine_shift"):
        frames["shift_oee"] = nw.from_native(lake.scan("oee_by_machine_shift").select(
            "machine_id", "shift_end_at", "availability", "performance", "quality"))
    return frames


def machine_hour_rows(lake: DeltaLake, *, horizon_h: int = 24, keep_unobserved: bool = False) -> pl.DataFrame:
    """Features per machine and hour with the breakdown label (null for the latest hours with
    `keep_unobserved`, else those rows are left out)."""
    frames = maintenance_frames(lake)
    features = machine_hour_features(hourly_signal_stats(frames["signals"], frames["equipment_states"]),
                                     frames.get("shift_oee"))
    features = breakdown_labels(features, horizon_h=horizon_h, keep_unobserved=keep_unobserved)
    return pl.from_arrow(collect_arrow(features)).sort("machine_id", "hour_start_at")


def machine_hour_stats(lake: DeltaLake, dates: list[date] | None = None) -> pl.DataFrame:
    """`hourly_signal_stats` rows (of the event `dates` only, when given: an hour depends on its own samples and
    events only) with their `hour_date`, as `silver.machine_hour_signal_stats` stores them."""
    frames = maintenance_frames(lake, dates)
    stats = pl.from_arrow(collect_arrow(hourly_signal_stats(frames["signals"], frames["equipment_states"])))
    assert isinstance(stats, pl.DataFrame)
    return stats.with_columns(pl.col("hour_start_at").dt.date().alias("hour_date"))


def machine_hour_rows_from_stats(lake: DeltaLake, *, horizon_h: int = 24) -> pl.DataFrame:
    """Features per machine and hour from the stored hourly stats (all of them: run hours since maintenance and
    breakdown and the last shift's OEE look back without bound), the latest hours' labels null."""
    hours = nw.from_native(lake.scan("machine_hour_signal_stats").drop("hour_date"))
    shift_oee = maintenance_frames(lake).get("shift_oee")
    features = breakdown_labels(machine_hour_features(hours, shift_oee), horizon_h=horizon_h, keep_unobserved=True)
    return pl.from_arrow(collect_arrow(features)).sort("machine_id", "hour_start_at")


def breakdown_starts(lake: DeltaLake) -> pd.DataFrame:
    return lake.scan("mes_equipment_states").filter(pl.col("reason_code") == "breakdown").select(
        "machine_id", pl.col("occurred_at").alias("started_at")).collect().to_pandas()


def quality_frames(lake: DeltaLake) -> dict[str, Any]:
    """The quality inputs; `machine_hours` (the wear proxies of `gold.machine_hour_features`) is None while that
    table does not exist."""
    machine_hours = (nw.from_native(lake.scan("machine_hour_features").select(
        "machine_id", "predicted_at", "vibration_mean_48h", "run_h_since_maintenance"))
        if lake.exists("machine_hour_features") else None)
    return {
        "machine_hours": machine_hours,
        "inspections": nw.from_native(lake.scan("mes_quality_inspections").select(
            "work_order_id", "machine_id", "material_code", "occurred_at", "inspected_quantity", "scrap_quantity",
            "setpoint_deviation_c", "pressure_bar")),
        "consumption": nw.from_native(lake.scan("mes_material_consumption").select(
            "work_order_id", pl.col("consumed_lot_code").alias("lot_code"), "occurred_at")),
        "edges": nw.from_native(lake.scan("fct_genealogy_edges").select(
            "parent_node_id", "child_node_id", "edge_type", "supplier_id", "occurred_at")),
    }


def _collected(frame: nw.LazyFrame) -> nw.LazyFrame:
    return nw.from_native(pl.from_arrow(collect_arrow(frame)).lazy())  # type: ignore[union-attr]


def work_order_rows(lake: DeltaLake, *, changed_since: datetime | None = None) -> pl.DataFrame:
    """Features per work order (only the orders whose row inputs changed from `changed_since` on can change,
    when given: `ml.features.quality.orders_to_recompute`)."""
    frames = quality_frames(lake)
    if changed_since is None:
        rows = work_order_features(frames["inspections"], frames["consumption"], frames["edges"],
                                   machine_hours=frames["machine_hours"])
    else:
        inspected, consumed, edges = frames["inspections"], frames["consumption"], frames["edges"]
        # each used several times: computed once
        orders = _collected(work_order_process_features(inspected, frames["machine_hours"]))
        lots = _collected(input_supplier_lots(orders, consumed, edges))
        stored = nw.from_native(lake.scan("work_order_quality_features").select("work_order_id", "predicted_at"))
        only = orders_to_recompute(orders, lots, inspected, consumed, edges, stored, changed_since)
        rows = order_rows(orders.join(_collected(only), on="work_order_id", how="semi"), lots, inspected)
    return pl.from_arrow(collect_arrow(rows)).sort("predicted_at", "work_order_id")


def inspections(lake: DeltaLake) -> pd.DataFrame:
    return lake.scan("mes_quality_inspections").select(
        "machine_id", "occurred_at", "inspected_quantity", "scrap_quantity").collect().to_pandas()


FEATURE_SIGNIFICANT_DIGITS = 7  # about float32's precision: more than any sensor or model here can use


def feature_rows(delta, table: str, predicate: pl.Expr | None = None):  # noqa: ANN001, ANN201
    """A feature table as pandas in primary-key order, decimals to FEATURE_SIGNIFICANT_DIGITS: training and
    scoring see the same rows in the same order with the same values whichever engine wrote the table (and so
    whichever file layout and summation order: Spark's and Polars' means differ by about 1e-13, enough to move
    a value across a gradient-boosting bin edge), so a model is reproducible."""
    scan = delta.scan(table)
    if predicate is not None:
        scan = scan.filter(predicate)
    return (scan.sort(list(CATALOG[table].primary_key))
            .with_columns(pl.col(pl.Float64).round_sig_figs(FEATURE_SIGNIFICANT_DIGITS)).collect().to_pandas())

