"""Inputs of the look-ahead transforms read from the lake, and one forecast at any moment (point in time).

`load_inputs` reads what the forecast needs once (MES work order, operation and count events, MES consumption,
BOM, routing, shift calendar, the inventory ledger, locations, observed issue lead times) with times as epoch
microseconds; `forecast_at(inputs, as_of)` then uses only records that occurred before `as_of`, so replaying it
at past moments gives what the forecast would have said then (`plantlake.shortage_eval`).

The line-side stock it draws on is the ledger's corrected for what MES and WMS fail to report (`line_side_at`,
`transforms.shortages.line_side_estimate`): unreported consumption is backflushed at the BOM standard of every
started order, output lots staged for putaway are not supply, and a balance below zero restarts from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
import pyarrow as pa

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.errors import QueryError
from transforms.material_requirements import (component_standards, line_material_requirements, machine_rate_factors,
                                              open_work_orders, released_orders, started_orders)
from transforms.shift_calendar import calendar_boundaries
from transforms.shortages import line_side_estimate, pick_suggestions, shortage_forecast
from transforms.units import unit_factors_to_base

DEFAULT_LEAD_TIME_S = 3600.0
RATE_LOOKBACK_S = 7 * 86400.0
STORAGE_TYPES = ("warehouse_bin",)
LINE_SIDE_STOCK = ("backflushed", "book")
NEEDED = ("mes_work_order_events", "dim_routing", "dim_bom", "fct_inventory_ledger", "dim_location",
          "map_material_code", "dim_shift", "dim_plant")


@dataclass(frozen=True)
class LookaheadInputs:
    work_order_events: pl.DataFrame
    operation_events: pl.DataFrame
    production_counts: pl.DataFrame
    mes_materials: pl.DataFrame
    routing: pl.DataFrame
    bom: pl.DataFrame
    work_periods: pl.DataFrame
    ledger: pl.DataFrame  # occurred_us, material_id, lot_id, location_id, quantity_delta, movement_type
    locations: pl.DataFrame  # location_id, location_type, line_id
    issues: pl.DataFrame  # occurred_us, lead_time_s (WMS issues to the line with their request time)
    consumption: pl.DataFrame  # occurred_us, work_order_id, material_id, quantity (MES consumption, base unit)


@dataclass(frozen=True)
class Forecast:
    requirements: pl.DataFrame
    shortages: pl.DataFrame
    picks: pl.DataFrame


def _us(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("us")


def _read(delta: DeltaLake, name: str, columns: list[str], time_column: str | None = None) -> pl.DataFrame:
    if not delta.exists(name):
        return pl.DataFrame()
    frame = delta.scan(name).select(columns).collect()
    return frame.with_columns(_us(time_column).alias("occurred_us")) if time_column else frame


def load_inputs(delta: DeltaLake) -> LookaheadInputs:
    """Everything the forecast reads, once; raises QueryError when the lake lacks the tables it needs."""
    missing = [name for name in NEEDED if not delta.exists(name)]
    if missing:
        raise QueryError(f"the lake in {delta.root} has no {', '.join(missing)}: run `plantlake run` first")
    wo = _read(delta, "mes_work_order_events", ["event_type", "occurred_at", "work_order_id", "line_id",
                                                "material_code", "planned_quantity"], "occurred_at")
    ops = _read(delta, "mes_operation_events", ["event_type", "occurred_at", "work_order_id", "operation_seq",
                                                "machine_id", "quantity"], "occurred_at")
    counts = _read(delta, "mes_production_counts", ["occurred_at", "work_order_id", "machine_id", "quantity"],
                   "occurred_at")
    factors = pl.from_arrow(unit_factors_to_base(delta.read_arrow("dim_material"),
                                                 delta.read_arrow("dim_unit_conversion")))
    mes_materials = (delta.scan("map_material_code").filter(pl.col("system") == "MES").collect()
                     .join(factors, left_on=["material_id", "system_unit"], right_on=["material_id", "unit"])
                     .select("system_material_code", "material_id", pl.col("factor_to_base").alias("factor")))
    ledger = (delta.scan("fct_inventory_ledger")
              .select(_us("occurred_at").alias("occurred_us"), "material_id", "lot_id", "location_id",
                      "quantity_delta", "movement_type").collect())
    consumption = pl.DataFrame(schema={"occurred_us": pl.Int64, "work_order_id": pl.String, "material_id": pl.String,
                                       "quantity": pl.Float64})
    if delta.exists("fct_inventory_movements"):
        consumption = (delta.scan("fct_inventory_movements")
                       .filter(pl.col("movement_type") == "consumption", pl.col("work_order_id").is_not_null())
                       .select(_us("occurred_at").alias("occurred_us"), "work_order_id", "material_id",
                               pl.col("quantity").cast(pl.Float64)).collect())
    issues = pl.DataFrame(schema={"occurred_us": pl.Int64, "lead_time_s": pl.Float64})
    if delta.exists("wms_transactions"):
        issues = (delta.scan("wms_transactions")
                  .filter(pl.col("transaction_type") == "ISSUE", pl.col("requested_at").is_not_null())
                  .select(_us("occurred_at").alias("occurred_us"),
                          ((pl.col("occurred_at") - pl.col("requested_at")).dt.total_microseconds() / 1e6)
                          .alias("lead_time_s")).collect())
    return LookaheadInputs(wo, ops, counts, mes_materials, pl.from_arrow(delta.read_arrow("dim_routing")),
                           pl.from_arrow(delta.read_arrow("dim_bom")), _work_periods(delta, wo), ledger,
                           pl.from_arrow(delta.read_arrow("dim_location")).select("location_id", "location_type",
                                                                                  "line_id"), issues,
                           consumption)


def _work_periods(delta: DeltaLake, work_orders: pl.DataFrame) -> pl.DataFrame:
    """Shift working periods (breaks excluded) from a week before the first event to a month after the last."""
    timezone_name = delta.read_arrow("dim_plant").column("plant_timezone")[0].as_py()
    breaks = (delta.read_arrow("dim_shift_break") if delta.exists("dim_shift_break")
              else pa.table({"shift_id": pa.array([], pa.string()), "break_seq": pa.array([], pa.int64()),
                             "break_start_local_time": pa.array([], pa.string()),
                             "break_end_local_time": pa.array([], pa.string())}))
    if work_orders.is_empty():
        first = last = datetime.now(timezone.utc).date()
    else:
        first, last = (datetime.fromtimestamp(work_orders["occurred_us"].min() / 1e6, timezone.utc).date(),
                       datetime.fromtimestamp(work_orders["occurred_us"].max() / 1e6, timezone.utc).date())
    boundaries = pl.from_arrow(calendar_boundaries(delta.read_arrow("dim_shift"), breaks, timezone_name,
                                                   first - timedelta(days=8), last + timedelta(days=31)))
    return (boundaries.sort("at_us", "seq").with_columns(pl.col("at_us").shift(-1).alias("period_end_us"))
            .filter(pl.col("cal_kind") == "work", pl.col("period_end_us") > pl.col("at_us"))
            .select(pl.col("at_us").alias("period_start_us"), "period_end_us"))


def forecast_at(inputs: LookaheadInputs, as_of: datetime, *, horizon_s: float = 8 * 3600.0,
                engine: str = "polars", spark: Any = None, line_side_stock: str = "backflushed") -> Forecast:
    """Requirements, shortages and picks as the lake knew them just before `as_of` (UTC).

    `line_side_stock`: "backflushed" (the default) draws on the book corrected by backflush
    (`line_side_at`); "book" on the ledger's line-side balance as booked (what the forecast did before,
    kept to measure what the correction is worth: `python -m plantlake.shortage_eval --book`)."""
    if line_side_stock not in LINE_SIDE_STOCK:
        raise ValueError(f"line_side_stock must be one of {', '.join(LINE_SIDE_STOCK)}, not {line_side_stock!r}")
    as_of_us = int(as_of.timestamp() * 1_000_000)

    def frame(data: pl.DataFrame) -> Any:
        return lazy_frame(data.to_arrow(), engine, spark=spark)

    before = inputs.ledger.filter(pl.col("occurred_us") < as_of_us)
    stock = (before.group_by("material_id", "lot_id", "location_id")
             .agg(pl.col("quantity_delta").sum().alias("quantity"), pl.col("occurred_us").min().alias("received_at_us"))
             .join(inputs.locations, on="location_id"))
    storage = storage_available(stock)
    lots = (storage.drop("received_at_us")
            .join(before.group_by("lot_id").agg(pl.col("occurred_us").min().alias("received_at_us")), on="lot_id")
            .select("material_id", "lot_id", "location_id", "quantity", "received_at_us"))
    orders = open_work_orders(frame(inputs.work_order_events), frame(inputs.production_counts),
                              frame(inputs.mes_materials), frame(inputs.routing), as_of_us=as_of_us)
    order_materials = frame(inputs.work_order_events.filter(pl.col("event_type") == "work_order_released")
                            .join(inputs.mes_materials, left_on="material_code", right_on="system_material_code")
                            .select("work_order_id", "material_id").unique("work_order_id"))
    rates = machine_rate_factors(frame(inputs.operation_events), order_materials, frame(inputs.routing),
                                 frame(inputs.work_periods), as_of_us=as_of_us, lookback_s=RATE_LOOKBACK_S)
    requirements = _collect(line_material_requirements(
        orders, frame(inputs.bom), frame(pl.from_arrow(collect_arrow(rates))), frame(inputs.work_periods),
        as_of_us=as_of_us, horizon_s=horizon_s))
    if line_side_stock == "book":
        line_side = _line_side_ledger(inputs, as_of_us).group_by("line_id", "material_id").agg(
            pl.col("quantity_delta").sum().alias("quantity"))
    else:
        line_side = _collect(_line_side_estimate(inputs, as_of_us, frame)).select("line_id", "material_id", "quantity")
    shortages = _collect(shortage_forecast(frame(requirements), frame(line_side),
                                           frame(storage.select("material_id", "quantity"))))
    lead = inputs.issues.filter(pl.col("occurred_us") < as_of_us)["lead_time_s"]
    lead_time_s = float(lead.median()) if lead.len() else DEFAULT_LEAD_TIME_S
    line_sides = inputs.locations.filter(pl.col("location_type") == "line_side").select("line_id", "location_id")
    picks = _collect(pick_suggestions(frame(shortages), frame(lots), frame(line_sides), lead_time_s=lead_time_s))
    return Forecast(*(_as_times(frame).select(CATALOG[table].schema.names) for frame, table in (
        (requirements, "line_material_requirements"), (shortages, "shortage_forecast"), (picks, "pick_suggestions"))))


def storage_available(stock: pl.DataFrame) -> pl.DataFrame:
    """The positive stock of each lot at storage locations that the lot's book can vouch for.

    `stock`: material_id, lot_id, location_id, location_type, quantity (the ledger's balance per key), ...
    A lot below zero at a physical location (a line side, a dock, a bin) was taken from storage without the
    booking that says so (an issue lost, quarantined or never sent; see `transforms.shortages`): its storage
    balance overstates what is on the shelf by that much. Seed 43 (60 days): LOT-0000002 of RM-1002 stood at
    +37,000 in WH-RAW-07 and -37,000 at LS-LINE-02 - the truth has none of it left anywhere - and the FIFO picks
    sent a picker for 600 of it. So each lot's storage balances are reduced, location by location, by its
    negative balances elsewhere (virtual locations are other books and do not count), which keeps every pick
    of a lot within the lot's net stock (the `picks_cover_shortfalls` check); FIFO then takes the next lot."""
    physical = stock.filter(pl.col("location_type") != "virtual")
    deficit = (physical.filter(pl.col("quantity") < 0)
               .group_by("lot_id").agg((-pl.col("quantity").sum()).alias("deficit")))
    storage = stock.filter(pl.col("location_type").is_in(STORAGE_TYPES), pl.col("quantity") > 0)
    return (storage.join(deficit, on="lot_id", how="left")
            .with_columns(pl.col("deficit").fill_null(0.0))
            .with_columns(pl.col("quantity").cum_sum().over("lot_id", order_by="location_id").alias("_upto"))
            .with_columns(pl.min_horizontal(pl.col("quantity"), pl.col("_upto") - pl.col("deficit")).alias("quantity"))
            .filter(pl.col("quantity") > 0)
            .drop("deficit", "_upto"))


def line_side_at(inputs: LookaheadInputs, as_of: datetime, *, engine: str = "polars",
                 spark: Any = None) -> pl.DataFrame:
    """What the forecast counts on at each line side just before `as_of`: line_id, material_id, book_quantity,
    unreported_quantity, restored_quantity, quantity (`transforms.shortages.line_side_estimate`)."""
    as_of_us = int(as_of.timestamp() * 1_000_000)
    return _collect(_line_side_estimate(inputs, as_of_us, lambda data: lazy_frame(data.to_arrow(), engine,
                                                                                   spark=spark)))


def _line_side_ledger(inputs: LookaheadInputs, as_of_us: int) -> pl.DataFrame:
    """The ledger lines at the line sides before `as_of_us`: line_id, material_id, movement_type, occurred_us,
    quantity_delta."""
    return (inputs.ledger.filter(pl.col("occurred_us") < as_of_us)
            .join(inputs.locations.filter(pl.col("location_type") == "line_side"), on="location_id")
            .select("line_id", "material_id", "movement_type", "occurred_us", "quantity_delta"))


def _line_side_estimate(inputs: LookaheadInputs, as_of_us: int, frame: Any) -> Any:
    """The line-side book corrected by backflush: every order started before `as_of_us` (its start or
    completion, an operation, a count or a consumption of it on record) has taken its BOM standard from its
    line side, reported or not; a balance below zero restarts from zero."""
    evidence = [frame(data.select("occurred_us", "work_order_id"))
                for data in (inputs.operation_events, inputs.production_counts, inputs.consumption)
                if {"occurred_us", "work_order_id"} <= set(data.columns)]
    started = started_orders(frame(inputs.work_order_events), *evidence, as_of_us=as_of_us)
    standards = component_standards(
        released_orders(frame(inputs.work_order_events), frame(inputs.mes_materials), as_of_us=as_of_us)
        .join(started, on="work_order_id"), frame(inputs.bom))
    reported = frame(inputs.consumption.filter(pl.col("occurred_us") < as_of_us)
                     .select("work_order_id", "material_id", "quantity"))
    return line_side_estimate(frame(_line_side_ledger(inputs, as_of_us)), reported, standards)


def _collect(frame: Any) -> pl.DataFrame:
    result = pl.from_arrow(collect_arrow(frame))
    assert isinstance(result, pl.DataFrame)
    return result


def _as_times(frame: pl.DataFrame) -> pl.DataFrame:
    """`*_us` epoch columns back to UTC timestamps named `*_at`."""
    return frame.with_columns(
        pl.from_epoch(pl.col(c).cast(pl.Int64), "us").dt.replace_time_zone("UTC").alias(
            c[:-3] if c.endswith("_at_us") else c[:-3] + "_at")
        for c in frame.columns if c.endswith("_us")).drop([c for c in frame.columns if c.endswith("_us")])


def latest_moment(inputs: LookaheadInputs) -> datetime:
    """Just after the latest MES or inventory event the lake holds: the moment the lake is current to."""
    latest = max((int(frame["occurred_us"].max()) for frame in (inputs.work_order_events, inputs.operation_events,
                                                                inputs.production_counts, inputs.ledger)
                  if not frame.is_empty() and frame["occurred_us"].max() is not None), default=None)
    if latest is None:
        raise QueryError("the lake holds no MES or inventory events to forecast from")
    return datetime.fromtimestamp((latest + 1) / 1e6, timezone.utc)
