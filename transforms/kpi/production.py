"""Production KPIs per line and plant-local completion day, from MES work-order events.

`work_order_events` (bronze mes_work_order_events): work_order_id, event_type (work_order_released,
work_order_started, work_order_completed), occurred_at, line_id, and for schedule adherence due_at (on the
release), planned_quantity (on the release) and good_quantity (on the completion); these three may be absent
(bronze from before they were reported) and then count as null.

A work order counts once it has a completion; an unfinished order is in no KPI yet. An order released more than
once keeps its first release, its earliest due date and its largest planned quantity (the strictest promise);
an order completed in several events is complete at the last one with the good quantity of all of them.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day, seconds_between

Frame = nw.LazyFrame[Any]
TOLERANCE = 1e-9


def completed_work_orders(work_order_events: Frame, *, plant_timezone: str) -> Frame:
    """One row per completed work order: scope_id (line), day (completion day), released_at, completed_at,
    due_at, planned_quantity, good_quantity (release fields are null when the release is not in the input)."""
    names = work_order_events.collect_schema().names()
    kind = nw.col("event_type")
    optional = [nw.col(c) if c in names else nw.lit(None, nw.Float64).alias(c)
                for c in ("planned_quantity", "good_quantity")]
    due = nw.col("due_at") if "due_at" in names else nw.lit(None, nw.Datetime("us", "UTC")).alias("due_at")
    events = work_order_events.select("work_order_id", "event_type", "occurred_at", "line_id", due, *optional)
    released = (events.filter(kind == "work_order_released").group_by("work_order_id")
                .agg(nw.col("occurred_at").min().alias("released_at"), nw.col("due_at").min(),
                     nw.col("planned_quantity").max()))
    completed = (events.filter(kind == "work_order_completed").group_by("work_order_id")
                 .agg(nw.col("occurred_at").max().alias("completed_at"), nw.col("good_quantity").fill_null(0.0).sum()))
    lines = events.group_by("work_order_id").agg(nw.col("line_id").max().alias("scope_id"))
    return (completed.join(released, on="work_order_id", how="left").join(lines, on="work_order_id", how="left")
            .with_columns(plant_day("completed_at", plant_timezone).alias("day")))


def production_lead_time(work_order_events: Frame, *, plant_timezone: str) -> Frame:
    """throughput_time: seconds from release to completion / completed orders whose release is known."""
    orders = completed_work_orders(work_order_events, plant_timezone=plant_timezone)
    return kpi_rows(orders.filter(~nw.col("released_at").is_null()), kpi="throughput_time", scope_type="line",
                    numerator=seconds_between("released_at", "completed_at"), denominator=nw.lit(1.0))


def _on_time() -> nw.Expr:
    return nw.col("completed_at") <= nw.col("due_at")


def schedule_adherence(work_order_events: Frame, *, plant_timezone: str) -> Frame:
    """schedule_adherence: orders completed by their due date / completed orders with a due date."""
    orders = completed_work_orders(work_order_events, plant_timezone=plant_timezone)
    return kpi_rows(orders.filter(~nw.col("due_at").is_null()), kpi="schedule_adherence", scope_type="line",
                    numerator=nw.when(_on_time()).then(1.0).otherwise(0.0), denominator=nw.lit(1.0))


def schedule_adherence_in_full(work_order_events: Frame, *, plant_timezone: str) -> Frame:
    """schedule_adherence_in_full: orders completed by their due date with good quantity >= planned quantity /
    completed orders with a due date (an order without a planned quantity cannot be shown in full: it is not)."""
    orders = completed_work_orders(work_order_events, plant_timezone=plant_timezone)
    in_full = (nw.col("good_quantity") >= nw.col("planned_quantity") - TOLERANCE).fill_null(False)
    return kpi_rows(orders.filter(~nw.col("due_at").is_null()), kpi="schedule_adherence_in_full",
                    scope_type="line", numerator=nw.when(_on_time() & in_full).then(1.0).otherwise(0.0),
                    denominator=nw.lit(1.0))
