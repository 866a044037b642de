"""Per operation of every work order: when it could start, how long it queued, and how its machine's time
split while it ran - from MES operation events, equipment state intervals, releases and the WMS issues.

- `ready_at`: operation 20, 30, ...: the previous operation's completion. The first operation: the release,
  or the line-side arrival of the order's last issue before its start when later (material line-side; an
  issue arriving after the start - the order ran on stock already line-side - gated nothing; WMS times are
  whole seconds, so "before" allows `ISSUE_CLOCK_S`, and ready_at never passes the start).
- `queue_s` = started_at - ready_at.
- `setup_s`, `processing_s`: the machine's changeover and producing time between start and completion;
  `stopped_s` the rest of that span (breakdowns, micro stops, maintenance, breaks, time off shift), so
  setup + processing + stopped = the operation's span.
- `starved_s`: the machine's starved and material-shortage time between its previous operation's completion
  and this start (the machine waited for this work). `blocked_s`: its blocked time between this completion
  and its next start (the finished work could not leave).
Only operations with both a start and a completion event are reported.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.flow.intervals import category_time_at, epoch_s

Frame = nw.LazyFrame[Any]
KEY = ["work_order_id", "operation_seq"]
ISSUE_CLOCK_S = 1.0  # WMS times are whole seconds: an issue stamped up to 1 s after the start may have gated it


def operation_spans(operation_events: Frame) -> Frame:
    """One row per started and completed operation: work_order_id, operation_seq, machine_id, operator_id,
    started_at, ended_at and the same as started_s, ended_s (epoch seconds)."""
    kind = nw.col("event_type")
    return (operation_events
            .group_by(KEY)
            .agg(nw.col("machine_id").max(),
                 nw.when(kind == "operation_started").then(nw.col("operator_id")).max().alias("operator_id"),
                 nw.when(kind == "operation_started").then(nw.col("occurred_at")).min().alias("started_at"),
                 nw.when(kind == "operation_completed").then(nw.col("occurred_at")).max().alias("ended_at"))
            .filter(~nw.col("started_at").is_null() & ~nw.col("ended_at").is_null())
            .with_columns(epoch_s("started_at").alias("started_s"), epoch_s("ended_at").alias("ended_s")))


def operation_flow(operation_events: Frame, state_intervals: Frame, releases: Frame, issues: Frame) -> Frame:
    """`releases` (work_order_id, released_at); `issues` (work_order_id, issued_at: arrival line-side);
    `state_intervals` from `transforms.flow.intervals.state_intervals`."""
    spans = operation_spans(operation_events)
    first_start = spans.group_by("work_order_id").agg(nw.col("started_s").min().alias("first_start_s"))
    material = (issues.select("work_order_id", "issued_at", epoch_s("issued_at").alias("issued_s"))
                .join(first_start, on="work_order_id", how="inner")
                .filter(nw.col("issued_s") <= nw.col("first_start_s") + ISSUE_CLOCK_S)
                .group_by("work_order_id").agg(nw.col("issued_at").max().alias("material_at"),
                                               nw.col("issued_s").max().alias("material_s")))
    released = (releases.group_by("work_order_id").agg(nw.col("released_at").min())
                .with_columns(epoch_s("released_at").alias("released_s")))
    spans = (spans
             .join(released, on="work_order_id", how="left")
             .join(material, on="work_order_id", how="left")
             .with_columns(
                 nw.col("ended_s").shift(1).over("work_order_id", order_by="operation_seq").alias("previous_s"),
                 nw.col("ended_at").shift(1).over("work_order_id", order_by="operation_seq").alias("previous_at"),
                 nw.col("ended_s").shift(1).over("machine_id", order_by="started_s").alias("machine_free_s"),
                 nw.col("started_s").shift(-1).over("machine_id", order_by="started_s").alias("machine_next_s"))
             .with_columns(nw.when(nw.col("material_s") > nw.col("released_s")).then(nw.col("material_at"))
                          .otherwise(nw.col("released_at")).alias("gate_at"),
                          nw.max_horizontal(nw.col("released_s"), nw.col("material_s")).alias("gate_s"))
            .with_columns(nw.when(~nw.col("previous_s").is_null()).then(nw.col("previous_at"))
                          .when(nw.col("gate_s") > nw.col("started_s")).then(nw.col("started_at"))
                          .otherwise(nw.col("gate_at")).alias("ready_at"),
                          nw.when(~nw.col("previous_s").is_null()).then(nw.col("previous_s"))
                          .otherwise(nw.min_horizontal(nw.col("gate_s"), nw.col("started_s"))).alias("ready_s")))
    points = nw.concat([
        spans.select(*KEY, "machine_id", nw.lit("free").alias("point"),
                     nw.coalesce(nw.col("machine_free_s"), nw.lit(0.0)).alias("at_s")),
        spans.select(*KEY, "machine_id", nw.lit("start").alias("point"), nw.col("started_s").alias("at_s")),
        spans.select(*KEY, "machine_id", nw.lit("end").alias("point"), nw.col("ended_s").alias("at_s")),
        spans.select(*KEY, "machine_id", nw.lit("next").alias("point"),
                     nw.coalesce(nw.col("machine_next_s"), nw.col("ended_s")).alias("at_s"))], how="vertical")
    located = category_time_at(points.with_columns(nw.col("operation_seq").cast(nw.String)), state_intervals,
                               keys=[*KEY, "point"])
    wanted = {"free": ["starved"], "start": ["setup", "processing", "starved"],
              "end": ["setup", "processing", "blocked"], "next": ["blocked"]}
    result = spans.with_columns(nw.col("operation_seq").cast(nw.String).alias("seq_key"))
    for point, categories in wanted.items():
        part = located.filter(nw.col("point") == point).select(
            nw.col("work_order_id"), nw.col("operation_seq").alias("seq_key"),
            *[nw.col(f"{c}_until_s").alias(f"{point}_{c}_s") for c in categories])
        result = result.join(part, on=["work_order_id", "seq_key"], how="left")
    setup = nw.col("end_setup_s") - nw.col("start_setup_s")
    processing = nw.col("end_processing_s") - nw.col("start_processing_s")
    return result.select(
        "work_order_id", nw.col("operation_seq").cast(nw.Int64), "machine_id", "operator_id",
        "ready_at", "started_at", "ended_at",
        (nw.col("started_s") - nw.col("ready_s")).alias("queue_s"), setup.alias("setup_s"),
        processing.alias("processing_s"),
        (nw.col("ended_s") - nw.col("started_s") - setup - processing).alias("stopped_s"),
        (nw.col("start_starved_s") - nw.col("free_starved_s")).alias("starved_s"),
        (nw.col("next_blocked_s") - nw.col("end_blocked_s")).alias("blocked_s"))
