"""Looking ahead at the line side: open work orders -> time-phased material requirements per line.

Times are epoch microseconds (`*_us`, UTC) so that the arithmetic is the same on every engine; the callers
convert at the edges. The model of a line:

- Work orders run their first operation on the line's first machine (routing `operation_seq` minimum) one after
  the other in release order; an order consumes all its components (BOM quantity x planned quantity) when its
  first operation starts (the MES books consumption at the order's start).
- An order started but still running its first operation holds the first machine for
  (planned - counted on that machine) x ideal cycle x rate factor; each waiting order then holds it for
  planned quantity x ideal cycle x rate factor. The rate factor is the machine's actual rate: working seconds
  its recent first operations took over planned quantity x ideal cycle (`machine_rate_factors`).
- Working seconds run only inside `work_periods` (shift time without breaks), so an order predicted to start
  2 working hours from a Friday evening starts on Monday.

`requirement_at_us` of an order = the instant its cumulative working-second offset is reached on the working
clock that starts at `as_of_us`.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

US = 1_000_000
DEFAULT_RATE_FACTOR = 1.25  # a machine with no completed first operation in the look-back window


def open_work_orders(work_order_events: nw.LazyFrame[Any], production_counts: nw.LazyFrame[Any],
                     mes_materials: nw.LazyFrame[Any], routing: nw.LazyFrame[Any], *,
                     as_of_us: int) -> nw.LazyFrame[Any]:
    """Orders released before `as_of_us` and not completed then: work_order_id, line_id, material_id,
    planned_quantity (base unit), released_us, is_started, first_machine_id, first_cycle_s, first_op_counted.

    work_order_events: event_type, occurred_us, work_order_id, line_id, material_code, planned_quantity;
    production_counts: occurred_us, work_order_id, machine_id, quantity; mes_materials: system_material_code,
    material_id, factor (MES unit -> base unit)."""
    seen = work_order_events.filter(nw.col("occurred_us") < as_of_us)
    released = released_orders(work_order_events, mes_materials, as_of_us=as_of_us)
    completed = seen.filter(nw.col("event_type") == "work_order_completed").select("work_order_id").unique()
    # started: its start event, or a count of it (the start report may have been lost or quarantined)
    started = (started_orders(work_order_events, production_counts.select("occurred_us", "work_order_id"),
                              as_of_us=as_of_us)
               .select("work_order_id", nw.lit(True).alias("is_started")))
    first_seq = routing.group_by("material_id", "line_id").agg(nw.col("operation_seq").min())
    first_op = (routing.join(first_seq, on=["material_id", "line_id", "operation_seq"])
                .select("material_id", "line_id", nw.col("machine_id").alias("first_machine_id"),
                        nw.col("ideal_cycle_time_s").alias("first_cycle_s")))
    counted = (production_counts.filter(nw.col("occurred_us") < as_of_us)
               .group_by("work_order_id", "machine_id").agg(nw.col("quantity").sum().alias("first_op_counted")))
    return (released.join(completed, on="work_order_id", how="anti")
            .join(started, on="work_order_id", how="left")
            .join(first_op, on=["material_id", "line_id"])
            .join(counted, left_on=["work_order_id", "first_machine_id"], right_on=["work_order_id", "machine_id"],
                  how="left")
            .with_columns(nw.col("is_started").fill_null(False), nw.col("first_op_counted").fill_null(0.0)))


def started_orders(work_order_events: nw.LazyFrame[Any], *evidence: nw.LazyFrame[Any],
                   as_of_us: int) -> nw.LazyFrame[Any]:
    """work_order_id, started_us of every order started before `as_of_us`: its `work_order_started` or
    `work_order_completed` event, or any other record of the order before then (`evidence`: frames with
    occurred_us and work_order_id, e.g. operation events, production counts, reported consumption), so an
    order whose start report was lost or quarantined still counts as started; started_us is the earliest."""
    seen = work_order_events.filter(nw.col("event_type").is_in(["work_order_started", "work_order_completed"]))
    frames = [frame.filter(nw.col("occurred_us") < as_of_us).select("work_order_id", "occurred_us")
              for frame in (seen, *evidence)]
    return (nw.concat(frames, how="vertical").filter(~nw.col("work_order_id").is_null())
            .group_by("work_order_id").agg(nw.col("occurred_us").min().alias("started_us")))


def released_orders(work_order_events: nw.LazyFrame[Any], mes_materials: nw.LazyFrame[Any], *,
                    as_of_us: int) -> nw.LazyFrame[Any]:
    """Orders released before `as_of_us` (one row each): work_order_id, line_id, material_id,
    planned_quantity (base unit), released_us."""
    return (work_order_events.filter(nw.col("occurred_us") < as_of_us,
                                     nw.col("event_type") == "work_order_released")
            .join(mes_materials, left_on="material_code", right_on="system_material_code")
            .select("work_order_id", "line_id", "material_id",
                    (nw.col("planned_quantity") * nw.col("factor")).alias("planned_quantity"),
                    nw.col("occurred_us").alias("released_us"))
            .unique(["work_order_id"], keep="any"))


def component_standards(orders: nw.LazyFrame[Any], bom: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The orders' rows (`released_orders`, any further columns kept) once per component: material_id becomes
    the component and standard_quantity = planned quantity x BOM quantity per parent (base unit)."""
    return (orders.join(bom, left_on="material_id", right_on="parent_material_id")
            .with_columns(nw.col("component_material_id").alias("material_id"),
                          (nw.col("planned_quantity") * nw.col("quantity_per_parent")).alias("standard_quantity"))
            .drop("component_material_id", "quantity_per_parent"))


def machine_rate_factors(operation_events: nw.LazyFrame[Any], order_materials: nw.LazyFrame[Any],
                         routing: nw.LazyFrame[Any], work_periods: nw.LazyFrame[Any], *, as_of_us: int,
                         lookback_s: float) -> nw.LazyFrame[Any]:
    """machine_id, rate_factor = working seconds the operations completed in the look-back window took on the
    machine / their quantity x ideal cycle (1.0 = ideal speed; changeovers, stops and slow running push it up).

    operation_events: event_type, occurred_us, work_order_id, operation_seq, machine_id, quantity;
    order_materials: work_order_id, material_id."""
    window = operation_events.filter(nw.col("occurred_us") < as_of_us,
                                     nw.col("occurred_us") >= as_of_us - int(lookback_s * US))
    keys = ["work_order_id", "operation_seq", "machine_id"]
    starts = (window.filter(nw.col("event_type") == "operation_started")
              .select(*keys, nw.col("occurred_us").alias("start_us")).unique(keys, keep="any"))
    ends = (window.filter(nw.col("event_type") == "operation_completed")
            .select(*keys, "quantity", nw.col("occurred_us").alias("end_us")).unique(keys, keep="any"))
    ops = (starts.join(ends, on=keys).join(order_materials, on="work_order_id")
           .join(routing.select("material_id", "machine_id", "operation_seq", "ideal_cycle_time_s"),
                 on=["material_id", "machine_id", "operation_seq"]))
    worked = (ops.join(work_periods, how="cross")
              .with_columns(nw.min_horizontal("end_us", "period_end_us").alias("overlap_end"),
                            nw.max_horizontal("start_us", "period_start_us").alias("overlap_start"))
              .filter(nw.col("overlap_end") > nw.col("overlap_start"))
              .group_by(*keys).agg(((nw.col("overlap_end") - nw.col("overlap_start")).sum() / US).alias("worked_s")))
    return (ops.join(worked, on=keys)
            .group_by("machine_id")
            .agg(nw.col("worked_s").sum(), (nw.col("quantity") * nw.col("ideal_cycle_time_s")).sum().alias("ideal_s"))
            .filter(nw.col("ideal_s") > 0)
            .select("machine_id", (nw.col("worked_s") / nw.col("ideal_s")).alias("rate_factor")))


def line_material_requirements(orders: nw.LazyFrame[Any], bom: nw.LazyFrame[Any], rates: nw.LazyFrame[Any],
                               work_periods: nw.LazyFrame[Any], *, as_of_us: int,
                               horizon_s: float) -> nw.LazyFrame[Any]:
    """Requirement per line, material and waiting order inside the horizon: line_id, material_id,
    work_order_id, required_at_us, required_quantity, cumulative_quantity (per line and material up to and
    including this order), forecast_at_us.

    orders: `open_work_orders`; rates: machine_id, rate_factor; work_periods: period_start_us, period_end_us."""
    queue_order = ["queue_rank", "released_us", "work_order_id"]
    held = (orders.join(rates, left_on="first_machine_id", right_on="machine_id", how="left")
            .with_columns(nw.col("rate_factor").fill_null(DEFAULT_RATE_FACTOR),
                          nw.when(nw.col("is_started")).then(nw.lit(0)).otherwise(nw.lit(1)).alias("queue_rank"),
                          nw.when(nw.col("is_started"))
                          .then(nw.max_horizontal(nw.col("planned_quantity") - nw.col("first_op_counted"), nw.lit(0.0)))
                          .otherwise(nw.col("planned_quantity")).alias("first_op_left"))
            .with_columns((nw.col("first_op_left") * nw.col("first_cycle_s") * nw.col("rate_factor")).alias("hold_s"))
            .with_columns(nw.col("hold_s").cum_sum().over("line_id", order_by=queue_order).alias("done_s")))
    waiting = (held.filter(~nw.col("is_started"))
               .with_columns((nw.col("done_s") - nw.col("hold_s")).alias("start_offset_s")))
    starts = (waiting.join(working_clock(work_periods, as_of_us=as_of_us), how="cross")
              .filter(nw.col("start_offset_s") >= nw.col("clock_from_s"),
                      nw.col("start_offset_s") < nw.col("clock_to_s"))
              .with_columns((nw.col("clock_start_us")
                             + ((nw.col("start_offset_s") - nw.col("clock_from_s")) * US).round(0).cast(nw.Int64))
                            .alias("required_at_us"))
              .filter(nw.col("required_at_us") <= as_of_us + int(horizon_s * US)))
    return (starts.join(bom, left_on="material_id", right_on="parent_material_id")
            .select("line_id", nw.col("component_material_id").alias("material_id"), "work_order_id",
                    "required_at_us",
                    (nw.col("planned_quantity") * nw.col("quantity_per_parent")).alias("required_quantity"))
            .with_columns(nw.col("required_quantity").cum_sum()
                          .over("line_id", "material_id", order_by=["required_at_us", "work_order_id"])
                          .alias("cumulative_quantity"),
                          nw.lit(as_of_us).cast(nw.Int64).alias("forecast_at_us")))


def working_clock(work_periods: nw.LazyFrame[Any], *, as_of_us: int) -> nw.LazyFrame[Any]:
    """The working periods from `as_of_us` on with the working seconds elapsed at their start and end:
    clock_start_us, clock_from_s, clock_to_s."""
    ahead = (work_periods.filter(nw.col("period_end_us") > as_of_us)
             .with_columns(nw.max_horizontal("period_start_us", nw.lit(as_of_us)).alias("clock_start_us"))
             .with_columns(((nw.col("period_end_us") - nw.col("clock_start_us")) / US).alias("length_s")))
    return (ahead.with_columns(nw.col("length_s").cum_sum().over(order_by="clock_start_us").alias("clock_to_s"))
            .select("clock_start_us", (nw.col("clock_to_s") - nw.col("length_s")).alias("clock_from_s"),
                    "clock_to_s"))
