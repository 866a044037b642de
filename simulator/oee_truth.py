"""OEE ground truth per machine and shift, as a pure function of state intervals,
production counts, shift instances and ideal cycle times.

Definitions (the common convention):
- planned_time_s = shift length - scheduled breaks - planned maintenance - not scheduled
  time. Breaks and planned maintenance are *excluded* from planned production time.
- Changeovers, breakdowns, material shortage, starvation, idling (no order) and every other
  unplanned stop of at least `MICRO_STOP_THRESHOLD_S` are availability losses (they stay
  inside planned time but are not run time).
- Micro stops are a *performance* loss: an `unplanned_stop` interval whose whole duration
  is shorter than the threshold (e.g. the simulator's `micro_stop` reason, 30-240 s) counts
  as run time. "Whole" is the length of the contiguous stop as merged in the truth intervals
  (touching intervals with the same machine, state and reason are one stop), not its
  overlap with the shift.
- run_time_s = time in state `running` + time in unplanned stops shorter than the
  threshold, within the shift.
- unplanned_stop_count = unplanned stops of at least the threshold that *start* in the
  shift (the failures for MTBF); unplanned_stop_s = the overlap with the shift of every
  unplanned stop of at least the threshold, wherever it started (the downtime for MTTR).
- ideal_time_s = sum over produced units of the product's ideal cycle time on the machine.
- availability = run / planned, performance = ideal / run, quality = good / total,
  oee = availability * performance * quality. A ratio whose denominator is zero is 0.
Counts are attributed to the shift containing their `counted_at` timestamp.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXCLUDED_FROM_PLANNED = ("planned_maintenance", "not_scheduled")
MICRO_STOP_THRESHOLD_S = 300.0
OEE_COLUMNS = ("machine_id", "shift_date", "shift_id", "shift_start_at", "shift_end_at", "planned_time_s",
               "run_time_s", "unplanned_stop_count", "unplanned_stop_s", "ideal_time_s", "total_count",
               "good_count", "availability", "performance", "quality", "oee")


def _seconds(values: pd.Series) -> np.ndarray:
    timestamps = pd.to_datetime(values, utc=True)
    return ((timestamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def merge_touching(intervals: pd.DataFrame) -> pd.DataFrame:
    """Intervals with touching neighbours of the same machine, state and reason merged into one."""
    if intervals.empty:
        return intervals.loc[:, ["machine_id", "state", "reason_code", "started_at", "ended_at"]]
    ordered = intervals.sort_values(["machine_id", "started_at"], kind="stable").reset_index(drop=True)
    same = ordered[["machine_id", "state", "reason_code"]].eq(ordered[["machine_id", "state", "reason_code"]]
                                                                .shift()).all(axis=1)
    touching = same & (ordered["started_at"] == ordered["ended_at"].shift())
    group = (~touching).cumsum()
    return (ordered.groupby(group, sort=False)
            .agg(machine_id=("machine_id", "first"), state=("state", "first"), reason_code=("reason_code", "first"),
                 started_at=("started_at", "first"), ended_at=("ended_at", "last"))
            .reset_index(drop=True))


def oee_from_intervals(intervals: pd.DataFrame, counts: pd.DataFrame, shifts: pd.DataFrame,
                       ideal_cycle_times: pd.DataFrame, *,
                       micro_stop_threshold_s: float = MICRO_STOP_THRESHOLD_S) -> pd.DataFrame:
    """OEE per machine and shift.

    intervals: machine_id, state, reason_code, started_at, ended_at (tz-aware UTC)
    counts: machine_id, material_id, counted_at, total_count, good_count
    shifts: shift_date, shift_id, shift_start_at, shift_end_at, break_s
    ideal_cycle_times: machine_id, material_id, ideal_cycle_time_s
    micro_stop_threshold_s: unplanned stops shorter than this (whole duration) count as run time
    """
    machines = pd.DataFrame({"machine_id": sorted(set(intervals["machine_id"]) | set(counts["machine_id"]))})
    grid = machines.merge(shifts, how="cross")
    grid["_start"] = _seconds(grid["shift_start_at"])
    grid["_end"] = _seconds(grid["shift_end_at"])
    grid["_key"] = np.arange(len(grid))

    pairs = merge_touching(intervals).merge(grid[["machine_id", "_start", "_end", "_key"]], on="machine_id")
    started, ended = _seconds(pairs["started_at"]), _seconds(pairs["ended_at"])
    shift_start, shift_end = pairs["_start"].to_numpy(), pairs["_end"].to_numpy()
    overlap = np.clip(np.minimum(ended, shift_end) - np.maximum(started, shift_start), 0.0, None)
    pairs = pairs.assign(_overlap=overlap)
    unplanned = (pairs["state"] == "unplanned_stop").to_numpy()
    micro = unplanned & (ended - started < micro_stop_threshold_s)
    long_stop = unplanned & ~micro
    run = pairs[(pairs["state"] == "running").to_numpy() | micro].groupby("_key")["_overlap"].sum()
    stop_s = pairs[long_stop].groupby("_key")["_overlap"].sum()
    stop_count = pairs[long_stop & (started >= shift_start) & (started < shift_end)].groupby("_key").size()
    excluded = pairs[pairs["reason_code"].isin(EXCLUDED_FROM_PLANNED)].groupby("_key")["_overlap"].sum()

    counted = counts.merge(ideal_cycle_times, on=["machine_id", "material_id"], how="left")
    if counted["ideal_cycle_time_s"].isna().any():
        raise ValueError("counts reference a machine/material without ideal cycle time")
    counted = counted.merge(grid[["machine_id", "_start", "_end", "_key"]], on="machine_id")
    at = _seconds(counted["counted_at"])
    counted = counted[(at >= counted["_start"].to_numpy()) & (at < counted["_end"].to_numpy())]
    counted = counted.assign(_ideal=counted["ideal_cycle_time_s"] * counted["total_count"])
    sums = counted.groupby("_key")[["_ideal", "total_count", "good_count"]].sum()

    result = grid.copy()
    keys = result["_key"]
    result["planned_time_s"] = (result["_end"] - result["_start"] - result["break_s"]
                                - keys.map(excluded).fillna(0.0))
    result["run_time_s"] = keys.map(run).fillna(0.0)
    result["unplanned_stop_count"] = keys.map(stop_count).fillna(0).astype("int64")
    result["unplanned_stop_s"] = keys.map(stop_s).fillna(0.0)
    result["ideal_time_s"] = keys.map(sums["_ideal"]).fillna(0.0)
    result["total_count"] = keys.map(sums["total_count"]).fillna(0).astype("int64")
    result["good_count"] = keys.map(sums["good_count"]).fillna(0).astype("int64")
    result["availability"] = _ratio(result["run_time_s"].to_numpy(), result["planned_time_s"].to_numpy())
    result["performance"] = _ratio(result["ideal_time_s"].to_numpy(), result["run_time_s"].to_numpy())
    result["quality"] = _ratio(result["good_count"].to_numpy(float), result["total_count"].to_numpy(float))
    result["oee"] = result["availability"] * result["performance"] * result["quality"]
    return result.sort_values(["shift_start_at", "machine_id"]).loc[:, list(OEE_COLUMNS)].reset_index(drop=True)
