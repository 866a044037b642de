"""Work in progress over time and Little's law.

`wip_over_time`: per machine, the number of operations waiting in front of it (ready, not started: its
buffer) and in process on it, as a step function - one row per instant either count changes, valid until
the machine's next row. An operation still waiting (no start) or running (no end) counts until its step happens.

`littles_law`: over a window [start, end) of length T, with each work order in the system from release to
completion (or to the window's end while open):
    L      = mean WIP = sum of the orders' time in the system inside the window / T
    lambda = throughput = orders completed in the window / T
    W      = mean lead time (completion - release) of the orders completed in the window
Little's law says L = lambda x W for a stable system over a long window; `relative_gap` = |L - lambda W| / L
measures the edge effects (orders already in the system at the start, still open at the end)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

from transforms.flow.intervals import epoch_s

Frame = nw.LazyFrame[Any]
# Little's law holds over long windows; the edge effects (orders already in the system at the start, open at
# the end) shrink with the window: on the simulator 30 days gave gaps of 3.3-5.8 % (README "Production flow").
LITTLE_TOLERANCE = 0.10


def wip_over_time(operation_flow: Frame) -> Frame:
    steps = nw.concat([
        operation_flow.select("machine_id", nw.col("ready_at").alias("changed_at"), nw.lit(1).alias("queue_delta"),
                              nw.lit(0).alias("process_delta")),
        operation_flow.select("machine_id", nw.col("started_at").alias("changed_at"), nw.lit(-1).alias("queue_delta"),
                              nw.lit(1).alias("process_delta")),
        operation_flow.select("machine_id", nw.col("ended_at").alias("changed_at"), nw.lit(0).alias("queue_delta"),
                              nw.lit(-1).alias("process_delta"))], how="vertical")
    # an operation still waiting has no start yet, one still running no end: those steps have not happened
    steps = steps.filter(~nw.col("changed_at").is_null())
    return (steps.group_by("machine_id", "changed_at").agg(nw.col("queue_delta").sum(), nw.col("process_delta").sum())
            .select("machine_id", "changed_at",
                    nw.col("queue_delta").cum_sum().over("machine_id", order_by="changed_at").cast(nw.Int64)
                    .alias("queue_wip"),
                    nw.col("process_delta").cum_sum().over("machine_id", order_by="changed_at").cast(nw.Int64)
                    .alias("in_process_wip")))


def littles_law(work_orders: Frame, *, window_start: datetime, window_end: datetime) -> Frame:
    """`work_orders` (work_order_id, released_at, completed_at null while open) -> one row: window_s,
    mean_wip, throughput_per_s, mean_lead_time_s, completed_orders, relative_gap."""
    start_s, end_s = window_start.timestamp(), window_end.timestamp()
    window = end_s - start_s
    spans = work_orders.select(epoch_s("released_at").alias("released_s"), epoch_s("completed_at").alias("completed_s"))
    inside = (nw.min_horizontal(nw.col("completed_s").fill_null(end_s), nw.lit(end_s))
              - nw.max_horizontal(nw.col("released_s"), nw.lit(start_s)))
    completed = (~nw.col("completed_s").is_null() & (nw.col("completed_s") >= start_s)
                 & (nw.col("completed_s") < end_s))
    totals = spans.filter(nw.col("released_s") < end_s).select(
        nw.when(inside > 0).then(inside).otherwise(0.0).sum().alias("time_in_system_s"),
        nw.when(completed).then(1).otherwise(0).sum().alias("completed_orders"),
        nw.when(completed).then(nw.col("completed_s") - nw.col("released_s")).otherwise(0.0).sum()
        .alias("lead_time_sum_s"))
    return totals.select(
        nw.lit(window).alias("window_s"), (nw.col("time_in_system_s") / window).alias("mean_wip"),
        (nw.col("completed_orders") / window).alias("throughput_per_s"),
        (nw.col("lead_time_sum_s") / nw.col("completed_orders")).alias("mean_lead_time_s"),
        nw.col("completed_orders").cast(nw.Int64)).with_columns(
        ((nw.col("mean_wip") - nw.col("throughput_per_s") * nw.col("mean_lead_time_s")).abs()
         / nw.col("mean_wip")).alias("relative_gap"))
