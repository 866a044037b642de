"""The equipment time model: state intervals from state-change events, and planned and run time per machine
and shift.

Times are integer microseconds since the epoch (`*_us`), so the same definition runs on Polars and PySpark
(engines disagree on timestamp differences; integers do not).

- An interval starts at a state event and lasts until the machine's next event (the last one until `end_us`).
- planned_time_s = shift length - the calendar's breaks - time in states excluded from planned production
  (planned maintenance, not scheduled); run_time_s = time in state `running` inside the shift.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

Frame = nw.LazyFrame[Any]
EXCLUDED_FROM_PLANNED = ("planned_maintenance", "not_scheduled")
SHIFT_KEYS = ["machine_id", "shift_date", "shift_id", "shift_start_us", "shift_end_us", "break_s"]


def state_intervals(events: Frame, end_us: int) -> Frame:
    """events: machine_id, occurred_at_us, state, reason_code -> intervals with started_at_us, ended_at_us."""
    following = nw.col("occurred_at_us").shift(-1).over("machine_id", order_by="occurred_at_us")
    return (events.with_columns(following.alias("ended_at_us"))
            .with_columns(nw.col("ended_at_us").fill_null(end_us))
            .rename({"occurred_at_us": "started_at_us"}))


def shift_times(intervals: Frame, shifts: Frame) -> Frame:
    """Planned and run time per machine and shift (shifts: shift_date, shift_id, shift_start_us, shift_end_us,
    break_s); every machine with intervals gets every shift, with zero run time where it never ran."""
    grid = intervals.select("machine_id").unique().join(shifts, how="cross")
    overlap = (nw.min_horizontal("ended_at_us", "shift_end_us") - nw.max_horizontal("started_at_us", "shift_start_us"))
    pairs = intervals.join(grid, on="machine_id", how="inner").with_columns(
        (nw.when(overlap > 0).then(overlap).otherwise(0) / 1_000_000).alias("overlap_s"))
    totals = pairs.group_by(*SHIFT_KEYS).agg(
        nw.when(nw.col("state") == "running").then(nw.col("overlap_s")).otherwise(0.0).sum().alias("run_time_s"),
        nw.when(nw.col("reason_code").is_in(list(EXCLUDED_FROM_PLANNED))).then(nw.col("overlap_s"))
        .otherwise(0.0).sum().alias("excluded_s"))
    length_s = (nw.col("shift_end_us") - nw.col("shift_start_us")) / 1_000_000
    return (grid.join(totals.select("machine_id", "shift_date", "shift_id", "run_time_s", "excluded_s"),
                      on=["machine_id", "shift_date", "shift_id"], how="left")
            .with_columns(nw.col("run_time_s").fill_null(0.0), nw.col("excluded_s").fill_null(0.0))
            .with_columns((length_s - nw.col("break_s") - nw.col("excluded_s")).alias("planned_time_s"))
            .select(*SHIFT_KEYS, "planned_time_s", "run_time_s"))


def shift_counts(counts: Frame, shifts: Frame, ideal_cycle_times: Frame) -> Frame:
    """Total and good counts and ideal time per machine and shift. counts: machine_id, material_id,
    counted_at_us, total_count, good_count; ideal_cycle_times: machine_id, material_id, ideal_cycle_time_s.
    A count belongs to the shift its period starts in."""
    inside = (nw.col("counted_at_us") >= nw.col("shift_start_us")) & (nw.col("counted_at_us") < nw.col("shift_end_us"))
    return (counts.join(ideal_cycle_times, on=["machine_id", "material_id"], how="left")
            .join(shifts, how="cross").filter(inside)
            .group_by("machine_id", "shift_date", "shift_id").agg(
                nw.col("total_count").sum(), nw.col("good_count").sum(),
                (nw.col("ideal_cycle_time_s") * nw.col("total_count")).sum().alias("ideal_time_s")))


def machine_shift_oee_inputs(times: Frame, counts: Frame) -> Frame:
    """Times and counts side by side; a shift with no count has zero counts and zero ideal time."""
    return (times.join(counts, on=["machine_id", "shift_date", "shift_id"], how="left")
            .with_columns(nw.col("total_count").fill_null(0), nw.col("good_count").fill_null(0),
                          nw.col("ideal_time_s").fill_null(0.0)))
