"""Equipment state intervals from MES state-change events, and the time each machine spends in each flow category, so a
later lookup can ask "how long was machine M in category C between t1 and t2" with an equi-join instead of an
interval join.

Categories (by reason code): `setup` (changeover), `processing` (producing), `starved` (starved, material_shortage:
waiting for the previous operation or for material), `blocked` (blocked: a finished part cannot leave), `idle`
(no_order), `off` (break, not_scheduled: not available), `stopped` (everything else: breakdowns, micro stops,
planned maintenance). A machine's interval lasts from its state event to its next one; the last one ends at
`period_end`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

from transforms.kpi.plant_time import epoch_us

Frame = nw.LazyFrame[Any]
CATEGORIES: dict[str, tuple[str, ...]] = {
    "setup": ("changeover",), "processing": ("producing",), "starved": ("starved", "material_shortage"),
    "blocked": ("blocked",), "idle": ("no_order",), "off": ("break", "not_scheduled")}
FLOW_CATEGORIES = (*CATEGORIES, "stopped")
WAITING_REASONS = ("no_order", "starved", "material_shortage", "blocked")


def epoch_s(column: str) -> nw.Expr:
    """Seconds since the epoch of a UTC timestamp column (exact to the microsecond on both engines)."""
    return epoch_us(column).cast(nw.Float64) / 1_000_000.0


def category_of(reason: nw.Expr) -> nw.Expr:
    expression = nw.lit("stopped")
    for category, reasons in CATEGORIES.items():
        expression = nw.when(reason.is_in(list(reasons))).then(nw.lit(category)).otherwise(expression)
    return expression


def state_intervals(state_events: Frame, *, period_end: datetime) -> Frame:
    """(machine_id, occurred_at, reason_code) events -> one row per interval: machine_id, reason_code,
    category, start_s, end_s (epoch seconds), ordinal (1, 2, ... per machine) and, per category,
    `cum_<category>_s`: the machine's time in that category before the interval starts."""
    end_s = period_end.timestamp()
    rows = (state_events.select("machine_id", "reason_code", epoch_s("occurred_at").alias("start_s"))
            .with_columns(nw.col("start_s").shift(-1).over("machine_id", order_by="start_s").alias("end_s"),
                          category_of(nw.col("reason_code")).alias("category"),
                          nw.lit(1).alias("one"))
            .with_columns(nw.col("end_s").fill_null(end_s))
            .with_columns((nw.col("end_s") - nw.col("start_s")).alias("duration_s"),
                          nw.col("one").cum_sum().over("machine_id", order_by="start_s").alias("ordinal")))
    cumulative = [(nw.when(nw.col("category") == category).then(nw.col("duration_s")).otherwise(0.0)
                   .cum_sum().over("machine_id", order_by="start_s")
                   - nw.when(nw.col("category") == category).then(nw.col("duration_s")).otherwise(0.0))
                  .alias(f"cum_{category}_s") for category in FLOW_CATEGORIES]
    return rows.with_columns(*cumulative).drop("one")


def category_time_at(points: Frame, intervals: Frame, *, keys: list[str]) -> Frame:
    """For each point (`keys`, machine_id, at_s): `<category>_until_s`, the machine's time in each category
    from its first state event up to `at_s` (0 before it). Points are placed among the intervals by one
    ordered running count (the ordinal of the interval each point falls in), then joined on it."""
    marks = intervals.select("machine_id", nw.col("start_s").alias("at_s"), nw.lit(1).alias("is_interval"),
                             *[nw.lit(None, nw.String).alias(key) for key in keys])
    placed = points.select("machine_id", "at_s", nw.lit(0).alias("is_interval"),
                           *[nw.col(key).cast(nw.String) for key in keys])
    stream = nw.concat([marks, placed], how="vertical").with_columns(
        nw.col("is_interval").cum_sum().over("machine_id", order_by=["at_s", "is_interval"]).alias("ordinal"))
    located = stream.filter(nw.col("is_interval") == 0).drop("is_interval")
    joined = located.join(intervals.drop("end_s", "duration_s", "reason_code"), on=["machine_id", "ordinal"],
                          how="left")
    return joined.select(*keys, "machine_id", "at_s", *[
        nw.when(nw.col("start_s").is_null()).then(0.0).otherwise(
            nw.col(f"cum_{category}_s") + nw.when(nw.col("category") == category)
            .then(nw.col("at_s") - nw.col("start_s")).otherwise(0.0)).alias(f"{category}_until_s")
        for category in FLOW_CATEGORIES])
