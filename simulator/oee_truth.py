"""OEE ground truth per machine and shift, as a pure function of state intervals,
production counts, shift instances and ideal cycle times.

Definitions (the common convention):
- planned_time_s = shift length - scheduled breaks - planned maintenance - not scheduled
  time. Breaks and planned maintenance are *excluded* from planned production time.
- Changeovers, breakdowns, micro stops, material shortage, starvation and idling are
  availability losses (they stay inside planned time but are not run time).
- run_time_s = time in state `running` within the shift.
- ideal_time_s = sum over produced units of the product's ideal cycle time on the machine.
- availability = run / planned, performance = ideal / run, quality = good / total,
  oee = availability * performance * quality. A ratio whose denominator is zero is 0.
Counts are attributed to the shift containing their `counted_at` timestamp.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXCLUDED_FROM_PLANNED = ("planned_maintenance", "not_scheduled")
OEE_COLUMNS = ("machine_id", "shift_date", "shift_id", "shift_start_at", "shift_end_at", "planned_time_s",
               "run_time_s", "ideal_time_s", "total_count", "good_count", "availability", "performance",
               "quality", "oee")


def _seconds(values: pd.Series) -> np.ndarray:
    timestamps = pd.to_datetime(values, utc=True)
    return ((timestamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, 0.0)


def oee_from_intervals(intervals: pd.DataFrame, counts: pd.DataFrame, shifts: pd.DataFrame,
                       ideal_cycle_times: pd.DataFrame) -> pd.DataFrame:
    """OEE per machine and shift.

    intervals: machine_id, state, reason_code, started_at, ended_at (tz-aware UTC)
    counts: machine_id, material_id, counted_at, total_count, good_count
    shifts: shift_date, shift_id, shift_start_at, shift_end_at, break_s
    ideal_cycle_times: machine_id, material_id, ideal_cycle_time_s
    """
    machines = pd.DataFrame({"machine_id": sorted(set(intervals["machine_id"]) | set(counts["machine_id"]))})
    grid = machines.merge(shifts, how="cross")
    grid["_start"] = _seconds(grid["shift_start_at"])
    grid["_end"] = _seconds(grid["shift_end_at"])
    grid["_key"] = np.arange(len(grid))

    pairs = intervals.merge(grid[["machine_id", "_start", "_end", "_key"]], on="machine_id")
    overlap = np.clip(np.minimum(_seconds(pairs["ended_at"]), pairs["_end"].to_numpy())
                      - np.maximum(_seconds(pairs["started_at"]), pairs["_start"].to_numpy()), 0.0, None)
    pairs = pairs.assign(_overlap=overlap)
    run = pairs[pairs["state"] == "running"].groupby("_key")["_overlap"].sum()
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
    result["ideal_time_s"] = keys.map(sums["_ideal"]).fillna(0.0)
    result["total_count"] = keys.map(sums["total_count"]).fillna(0).astype("int64")
    result["good_count"] = keys.map(sums["good_count"]).fillna(0).astype("int64")
    result["availability"] = _ratio(result["run_time_s"].to_numpy(), result["planned_time_s"].to_numpy())
    result["performance"] = _ratio(result["ideal_time_s"].to_numpy(), result["run_time_s"].to_numpy())
    result["quality"] = _ratio(result["good_count"].to_numpy(float), result["total_count"].to_numpy(float))
    result["oee"] = result["availability"] * result["performance"] * result["quality"]
    return result.sort_values(["shift_start_at", "machine_id"]).loc[:, list(OEE_COLUMNS)].reset_index(drop=True)
