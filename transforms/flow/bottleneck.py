"""Shifting-bottleneck detection by the active-period method (Roser, Nakano and Tanaka 2002, "Shifting bottleneck
detection", Winter Simulation Conference), per line and shift, plus the queue-time view.

- A machine is *active* while it works or could not work for its own reasons (processing, setup, failures,
  maintenance) and *inactive* while it waits for work or for space (no_order, starved, material_shortage, blocked).
  Buffers in this plant are unlimited, so a machine also counts as blocked while the operations waiting for the
  machines after it number `BUFFER_CAPACITY` or more (a virtual buffer limit: `virtual_blocking`; a line's machines
  are in machine-id order). A break or time off shift continues whatever the machine was doing before (all machines
  of a line stop together, so it favours none). An active period is an uninterrupted run of active time inside the
  shift.
- At each instant the momentary bottleneck is the machine in the longest active period covering it (the whole
  period's length, also where it reaches beyond the shift). Where the period of one bottleneck overlaps the period
  of the next one, the overlap is a *shifting* bottleneck (both machines constrain the line); the rest of a
  bottleneck's time is *sole*.
- Per line and shift and machine: active_time_s (inside the shift, through its breaks), idle_time_s (the rest of the
  shift), utilization = active / shift length, the number of active periods and the longest; sole_bottleneck_s,
  shifting_bottleneck_s, bottleneck_share = (sole + shifting) / the shift's length (periods run through breaks;
  shifting time counts for both machines, so shares may add up to more than 1); the line's bottleneck for the shift
  is the machine with the largest share (ties: the larger sole share, then the longer active period in the shift).
  The queue-time view names the machine in front of the longest queues: the largest sum of queue_s of the operations
  started on it in the shift.

Eager Polars and NumPy: the momentary bottleneck is a sweep along time within each line-shift, which no columnar
plan expresses well; the inputs are the Narwhals-built intervals and operation facts, collected."""

from __future__ import annotations

import numpy as np
import polars as pl

BUFFER_CAPACITY = 3  # operations; see virtual_blocking
INACTIVE_REASONS = frozenset({"no_order", "starved", "material_shortage", "blocked"})
NEUTRAL_REASONS = frozenset({"break", "not_scheduled"})
RESULT_SCHEMA = {"line_id": pl.String, "shift_date": pl.Date, "shift_id": pl.String, "machine_id": pl.String,
                 "working_time_s": pl.Float64, "active_time_s": pl.Float64, "idle_time_s": pl.Float64,
                 "utilization": pl.Float64, "active_period_count": pl.Int64,
                 "longest_active_period_s": pl.Float64, "sole_bottleneck_s": pl.Float64,
                 "shifting_bottleneck_s": pl.Float64, "bottleneck_share": pl.Float64,
                 "is_line_bottleneck": pl.Boolean, "queue_time_s": pl.Float64, "is_queue_bottleneck": pl.Boolean}


def virtual_blocking(wip: pl.DataFrame, machines: pl.DataFrame, *, buffer_capacity: int) -> pl.DataFrame:
    """Intervals (machine_id, start_s, end_s) in which the operations waiting for the machines after a machine
    on its line (`wip_over_time`'s queue_wip, summed over them) numbered at least `buffer_capacity`: the
    machine counts as blocked then. Buffers here are unlimited, so without this a machine that works ahead of
    the bottleneck would never stop and would look like one; the downstream buffers are treated as one of
    `buffer_capacity` operations, so the blocking reaches every machine before a backlog, as it would with
    finite buffers."""
    order = machines.sort("line_id", "machine_id").with_columns(
        pl.col("machine_id").cum_count().over("line_id").alias("position"))
    pairs = (order.join(order, on="line_id", suffix="_after").filter(pl.col("position_after") > pl.col("position"))
             .select("machine_id", pl.col("machine_id_after")))
    deltas = (wip.sort("machine_id", "changed_at")
              .with_columns((pl.col("changed_at").dt.epoch("us") / 1e6).alias("at_s"),
                            pl.col("queue_wip").diff().over("machine_id").fill_null(pl.col("queue_wip"))
                            .alias("delta"))
              .select(pl.col("machine_id").alias("machine_id_after"), "at_s", "delta"))
    downstream = (pairs.join(deltas, on="machine_id_after").group_by("machine_id", "at_s").agg(pl.col("delta").sum())
                  .sort("machine_id", "at_s")
                  .with_columns(pl.col("delta").cum_sum().over("machine_id").alias("waiting_after"),
                                pl.col("at_s").shift(-1).over("machine_id").alias("end_s")))
    return (downstream.drop_nulls("end_s").filter(pl.col("waiting_after") >= buffer_capacity)
            .select("machine_id", pl.col("at_s").alias("start_s"), "end_s"))


def active_periods(intervals: pl.DataFrame, blocked: pl.DataFrame | None = None) -> pl.DataFrame:
    """(machine_id, reason_code, start_s, end_s) -> merged active periods (machine_id, start_s, end_s); time
    inside `blocked` intervals (machine_id, start_s, end_s) is inactive whatever the machine's state."""
    if blocked is not None and blocked.height:
        intervals = _overlay_blocked(intervals.select("machine_id", "reason_code", "start_s", "end_s"), blocked)
    flagged = (intervals.sort("machine_id", "start_s")
               .with_columns(pl.when(pl.col("reason_code").is_in(list(NEUTRAL_REASONS))).then(None)
                             .otherwise(~pl.col("reason_code").is_in(list(INACTIVE_REASONS))).alias("active"))
               .with_columns(pl.col("active").forward_fill().over("machine_id").fill_null(False)))
    runs = flagged.with_columns(
        (pl.col("active") != pl.col("active").shift(1).over("machine_id")).fill_null(True)
        .cum_sum().over("machine_id").alias("run"))
    return (runs.filter("active").group_by("machine_id", "run")
            .agg(pl.col("start_s").min(), pl.col("end_s").max()).drop("run").sort("machine_id", "start_s"))


def _overlay_blocked(intervals: pl.DataFrame, blocked: pl.DataFrame) -> pl.DataFrame:
    """Split the state intervals at the blocked intervals' bounds and relabel the covered pieces `blocked`."""
    pieces = []
    for (machine_id,), states in intervals.group_by("machine_id"):
        states = states.sort("start_s")
        mine = blocked.filter(pl.col("machine_id") == machine_id).sort("start_s")
        starts, ends = states["start_s"].to_numpy(), states["end_s"].to_numpy()
        reasons = states["reason_code"].to_numpy()
        cuts = np.unique(np.concatenate([starts, ends, mine["start_s"].to_numpy(), mine["end_s"].to_numpy()]))
        cuts = cuts[(cuts >= starts.min()) & (cuts <= ends.max())]
        middles = (cuts[:-1] + cuts[1:]) / 2
        owner = np.searchsorted(starts, middles, side="right") - 1
        b_start, b_end = mine["start_s"].to_numpy(), mine["end_s"].to_numpy()
        slot = np.searchsorted(b_start, middles, side="right") - 1
        is_blocked = (slot >= 0) & (middles < b_end[np.clip(slot, 0, None)]) if len(b_start) else np.zeros(
            len(middles), bool)
        labels = np.where(is_blocked, "blocked", reasons[owner])
        pieces.append(pl.DataFrame({"machine_id": machine_id, "reason_code": labels, "start_s": cuts[:-1],
                                    "end_s": cuts[1:]}))
    return pl.concat(pieces) if pieces else intervals


def _sweep(machines: list[str], starts: np.ndarray, ends: np.ndarray, owners: np.ndarray, lengths: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Sole and shifting bottleneck seconds per machine index for one line-shift's periods (clipped to the
    shift by `starts`/`ends`; `lengths` are the whole periods', which decide the momentary bottleneck)."""
    sole, shifting = np.zeros(len(machines)), np.zeros(len(machines))
    if len(starts) == 0:
        return sole, shifting
    cuts = np.unique(np.concatenate([starts, ends]))
    middles = (cuts[:-1] + cuts[1:]) / 2
    covering = (starts[None, :] <= middles[:, None]) & (ends[None, :] > middles[:, None])
    score = np.where(covering, lengths[None, :], -1.0)
    best = score.argmax(axis=1)
    has = covering.any(axis=1)
    widths = np.diff(cuts)
    chain = [(best[i], widths[i]) for i in range(len(middles)) if has[i]]
    stretches: list[list] = []  # [period index, seconds]
    for period, width in chain:
        if stretches and stretches[-1][0] == period:
            stretches[-1][1] += width
        else:
            stretches.append([period, width])
    overlap_with_next = np.zeros(len(stretches))
    for k in range(len(stretches) - 1):
        a, b = stretches[k][0], stretches[k + 1][0]
        if owners[a] != owners[b]:
            overlap = max(0.0, min(ends[a], ends[b]) - max(starts[a], starts[b]))
            overlap_with_next[k] = overlap
    for k, (period, seconds) in enumerate(stretches):
        shared = overlap_with_next[k] + (overlap_with_next[k - 1] if k > 0 else 0.0)
        shared = min(shared, ends[period] - starts[period])
        shifting[owners[period]] += shared
        sole[owners[period]] += max(0.0, seconds - shared)
    return sole, shifting


def bottleneck_by_line_shift(intervals: pl.DataFrame, machines: pl.DataFrame, shifts: pl.DataFrame,
                             operation_flow: pl.DataFrame | None = None, wip: pl.DataFrame | None = None, *,
                             buffer_capacity: int = BUFFER_CAPACITY) -> pl.DataFrame:
    """`intervals` from `state_intervals` (machine_id, reason_code, start_s, end_s); `machines` (machine_id,
    line_id); `shifts` (shift_date, shift_id, start_s, end_s, break_s); `operation_flow` (machine_id,
    started_at, queue_s) for the queue view (optional)."""
    blocked = (virtual_blocking(wip, machines, buffer_capacity=buffer_capacity)
               if wip is not None and wip.height else None)
    periods = active_periods(intervals, blocked).join(machines, on="machine_id")
    queue_by_shift: dict[tuple, float] = {}
    if operation_flow is not None and operation_flow.height and shifts.height:
        started = operation_flow.select("machine_id", (pl.col("started_at").dt.epoch("us") / 1e6).alias("at_s"),
                                        "queue_s").sort("at_s")
        placed = started.join_asof(shifts.select("shift_date", "shift_id", "start_s", "end_s").sort("start_s"),
                                   left_on="at_s", right_on="start_s", strategy="backward")
        queue_by_shift = {(m, d, s): q for m, d, s, q in placed.filter(pl.col("at_s") < pl.col("end_s"))
                          .group_by("machine_id", "shift_date", "shift_id").agg(pl.col("queue_s").sum()).iter_rows()}
    rows = []
    lines = machines.group_by("line_id").agg(pl.col("machine_id").sort()).sort("line_id")
    by_line = {line: periods.filter(pl.col("line_id") == line) for line in lines["line_id"]}
    for line_id, line_machines in lines.iter_rows():
        index = {m: i for i, m in enumerate(line_machines)}
        line_periods = by_line[line_id]
        p_machine = line_periods["machine_id"].to_numpy()
        p_start, p_end = line_periods["start_s"].to_numpy(), line_periods["end_s"].to_numpy()
        for shift_date, shift_id, start_s, end_s, break_s in shifts.select(
                "shift_date", "shift_id", "start_s", "end_s", "break_s").iter_rows():
            inside = (p_end > start_s) & (p_start < end_s)
            starts, ends = np.maximum(p_start[inside], start_s), np.minimum(p_end[inside], end_s)
            owners = np.array([index[m] for m in p_machine[inside]], dtype=int)
            sole, shifting = _sweep(line_machines, starts, ends, owners, p_end[inside] - p_start[inside])
            working = end_s - start_s - break_s
            span = end_s - start_s  # active periods run through breaks (see the module docstring)
            share = (sole + shifting) / span
            queue = np.array([queue_by_shift.get((m, shift_date, shift_id), 0.0) for m in line_machines])
            longest = np.array([(ends[owners == i] - starts[owners == i]).max() if (owners == i).any() else 0.0
                                for i in range(len(line_machines))])
            # ties (two machines shifting the whole time) go to the larger sole share, then the longer period
            ranking = sorted(range(len(line_machines)), key=lambda i: (round(share[i], 6), sole[i], longest[i]))
            top = ranking[-1] if share.max() > 0 else -1
            queue_top = int(np.argmax(queue)) if queue.max() > 0 else -1
            for i, machine_id in enumerate(line_machines):
                mine = owners == i
                lengths = ends[mine] - starts[mine]
                active = float(lengths.sum())
                rows.append((line_id, shift_date, shift_id, machine_id, float(working), active, span - active,
                             active / span, int(mine.sum()), float(lengths.max()) if mine.any() else 0.0,
                             float(sole[i]),
                             float(shifting[i]), float(share[i]), i == top, float(queue[i]), i == queue_top))
    return pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row")
