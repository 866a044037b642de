"""Predictive-maintenance features per machine and hour (pure Narwhals: the same code on Polars and PySpark).

A row describes machine m at prediction time `predicted_at` = the end of hour `hour_start_at`; every feature
uses only data with event time before `predicted_at` (signal samples and MES events of that hour and
earlier; the last shift's OEE only once the shift has ended). Rolling windows count hours of the machine's
hour grid (one row per hour that has signal samples).

- `hourly_signal_stats`: per machine and hour, sums and counts of each condition tag over the samples
  taken while the machine ran (the `state` tag = 1), the running share of the hour and the hour's MES
  events (breakdown, planned-maintenance and micro-stop starts).
- `machine_hour_features`: rolling means of each tag over 4, 12 and 48 h, slopes over 12 and 48 h (mean of
  the recent half minus the older half, per hour), run hours since the last planned maintenance and since
  the last breakdown, micro-stops in 24 h, breakdowns in 7 days, the speed against its 7-day level (speed
  loss), and the last ended shift's availability, performance and quality.
- `breakdown_labels`: `is_breakdown_within_horizon`: an MES breakdown starts within `horizon_h` hours after
  `predicted_at`; rows whose horizon reaches past the data are left out.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

CONDITION_TAGS = ("vibration_mm_s", "temperature_c", "motor_current_a", "speed_per_min")
MEAN_WINDOWS_H = (4, 12, 48)
SLOPE_WINDOWS_H = (12, 48)
STATUS_GOOD = 0

Frame = nw.LazyFrame[Any]


SHORT = {"vibration_mm_s": "vibration", "temperature_c": "temperature", "motor_current_a": "current",
         "speed_per_min": "speed"}


def hourly_signal_stats(signals: Frame, equipment_states: Frame) -> Frame:
    """One row per machine and hour with running sums/counts per condition tag and the hour's MES events."""
    good = signals.filter((nw.col("status_code") == STATUS_GOOD) & ~nw.col("value").is_null())
    good = good.with_columns(nw.col("source_at").dt.truncate("1h").alias("hour_start_at"))
    state = good.filter(nw.col("tag") == "state").select(
        "machine_id", "source_at", "hour_start_at", (nw.col("value") == 1).alias("is_running"))
    tags = good.filter(nw.col("tag").is_in(CONDITION_TAGS)).select("machine_id", "source_at", "tag", "value")
    joined = tags.join(state.select("machine_id", "source_at", "is_running", "hour_start_at"),
                       on=["machine_id", "source_at"], how="inner").filter(nw.col("is_running"))
    aggregations = []
    for tag in CONDITION_TAGS:
        name, is_tag = SHORT[tag], nw.col("tag") == tag
        aggregations += [nw.when(is_tag).then(nw.col("value")).otherwise(None).sum().alias(f"{name}_sum"),
                         nw.when(is_tag).then(1).otherwise(0).sum().alias(f"{name}_n"),
                         nw.when(is_tag).then(nw.col("value")).otherwise(None).max().alias(f"{name}_max")]
    running = joined.group_by("machine_id", "hour_start_at").agg(*aggregations)
    run_share = state.group_by("machine_id", "hour_start_at").agg(
        nw.col("is_running").cast(nw.Float64).mean().alias("run_share"))
    events = equipment_states.with_columns(nw.col("occurred_at").dt.truncate("1h").alias("hour_start_at"))
    reason = nw.col("reason_code")
    event_counts = events.group_by("machine_id", "hour_start_at").agg(
        nw.when(reason == "breakdown").then(1).otherwise(0).sum().alias("breakdown_starts"),
        nw.when(reason == "planned_maintenance").then(1).otherwise(0).sum().alias("maintenance_starts"),
        nw.when(reason == "micro_stop").then(1).otherwise(0).sum().alias("micro_stops"))
    hours = run_share.join(running, on=["machine_id", "hour_start_at"], how="left")
    hours = hours.join(event_counts, on=["machine_id", "hour_start_at"], how="left")
    zero_filled = ["breakdown_starts", "maintenance_starts", "micro_stops",
                   *(f"{SHORT[t]}_{part}" for t in CONDITION_TAGS for part in ("sum", "n"))]
    return hours.with_columns(*(nw.col(c).fill_null(0) for c in zero_filled))


def _rolling(column: str, window: int) -> nw.Expr:
    return nw.col(column).rolling_sum(window, min_samples=1).over("machine_id", order_by="hour_start_at")


def _lagged(column: str, lag: int) -> nw.Expr:
    return nw.col(column).shift(lag).over("machine_id", order_by="hour_start_at")


def machine_hour_features(hours: Frame, shift_oee: Frame | None = None) -> Frame:
    """Point-in-time features per machine and hour from `hourly_signal_stats` (see the module docstring)."""
    base = hours.with_columns(
        nw.col("hour_start_at").dt.offset_by("1h").alias("predicted_at"),
        nw.col("run_share").cum_sum().over("machine_id", order_by="hour_start_at").alias("cumulative_run_h"),
        nw.lit(1).alias("_one"),
    ).with_columns(
        nw.col("_one").cum_sum().over("machine_id", order_by="hour_start_at").alias("_hour_index"),
    ).with_columns(
        nw.when(nw.col("maintenance_starts") > 0).then(nw.col("cumulative_run_h")).otherwise(None)
        .fill_null(strategy="forward").over("machine_id", order_by="hour_start_at").alias("_run_h_at_maintenance"),
        nw.when(nw.col("breakdown_starts") > 0).then(nw.col("cumulative_run_h")).otherwise(None)
        .fill_null(strategy="forward").over("machine_id", order_by="hour_start_at").alias("_run_h_at_breakdown"),
        nw.when(nw.col("breakdown_starts") > 0).then(nw.col("_hour_index")).otherwise(None)
        .fill_null(strategy="forward").over("machine_id", order_by="hour_start_at").alias("_hour_at_breakdown"),
    )
    rolled = []
    for tag in CONDITION_TAGS:
        name = SHORT[tag]
        for window in MEAN_WINDOWS_H:
            rolled += [_rolling(f"{name}_sum", window).alias(f"_{name}_sum_{window}"),
                       _rolling(f"{name}_n", window).alias(f"_{name}_n_{window}")]
        for window in SLOPE_WINDOWS_H:
            half = window // 2
            rolled += [_rolling(f"{name}_sum", half).alias(f"_{name}_recent_sum_{window}"),
                       _rolling(f"{name}_n", half).alias(f"_{name}_recent_n_{window}")]
    rolled += [_rolling("micro_stops", 24).alias("micro_stops_24h"),
               _rolling("breakdown_starts", 168).alias("breakdowns_7d"),
               _rolling("speed_sum", 168).alias("_speed_sum_168"), _rolling("speed_n", 168).alias("_speed_n_168")]
    frame = base.with_columns(*rolled)
    lagged = []
    for tag in CONDITION_TAGS:
        name = SHORT[tag]
        for window in SLOPE_WINDOWS_H:
            half = window // 2
            lagged += [_lagged(f"_{name}_recent_sum_{window}", half).alias(f"_{name}_older_sum_{window}"),
                       _lagged(f"_{name}_recent_n_{window}", half).alias(f"_{name}_older_n_{window}")]
    frame = frame.with_columns(*lagged)
    features = []
    for tag in CONDITION_TAGS:
        name = SHORT[tag]
        features.append(_ratio(f"{name}_sum", f"{name}_n").alias(f"{name}_mean_1h"))
        features.append(nw.col(f"{name}_max").alias(f"{name}_max_1h"))
        for window in MEAN_WINDOWS_H:
            features.append(_ratio(f"_{name}_sum_{window}", f"_{name}_n_{window}").alias(f"{name}_mean_{window}h"))
        for window in SLOPE_WINDOWS_H:
            recent = _ratio(f"_{name}_recent_sum_{window}", f"_{name}_recent_n_{window}")
            older = _ratio(f"_{name}_older_sum_{window}", f"_{name}_older_n_{window}")
            features.append(((recent - older) / (window // 2)).alias(f"{name}_slope_{window}h"))
    features += [
        (nw.col("cumulative_run_h") - nw.col("_run_h_at_maintenance")).alias("run_h_since_maintenance"),
        (nw.col("cumulative_run_h") - nw.col("_run_h_at_breakdown")).alias("run_h_since_breakdown"),
        (nw.col("_hour_index") - nw.col("_hour_at_breakdown")).cast(nw.Float64).alias("hours_since_breakdown"),
        (_ratio("_speed_sum_12", "_speed_n_12") / _ratio("_speed_sum_168", "_speed_n_168")).alias("speed_vs_7d"),
    ]
    result = frame.select("machine_id", "hour_start_at", "predicted_at", "run_share", "micro_stops_24h",
                          "breakdowns_7d", "breakdown_starts", *features)
    if shift_oee is not None:
        result = _with_last_shift(result, shift_oee)
    return result


def _ratio(numerator: str, denominator: str) -> nw.Expr:
    return nw.when(nw.col(denominator) > 0).then(nw.col(numerator) / nw.col(denominator)).otherwise(None)


def _with_last_shift(features: Frame, shift_oee: Frame) -> Frame:
    """Availability, performance and quality of the last shift that ended at or before `predicted_at`."""
    ended = shift_oee.select(
        "machine_id", nw.col("shift_end_at").dt.truncate("1h").alias("_end_hour"), "shift_end_at",
        "availability", "performance", "quality")
    # a shift ending on the hour is known at the end of the previous hour; else at the end of its own hour
    ended = ended.with_columns(
        nw.when(nw.col("shift_end_at") == nw.col("_end_hour")).then(nw.col("_end_hour").dt.offset_by("-1h"))
        .otherwise(nw.col("_end_hour")).alias("hour_start_at"))
    ended = ended.group_by("machine_id", "hour_start_at").agg(
        nw.col("availability").mean().alias("_a"), nw.col("performance").mean().alias("_p"),
        nw.col("quality").mean().alias("_q"))
    joined = features.join(ended, on=["machine_id", "hour_start_at"], how="left")
    return joined.with_columns(
        nw.col("_a").fill_null(strategy="forward").over("machine_id", order_by="hour_start_at").alias("last_shift_availability"),
        nw.col("_p").fill_null(strategy="forward").over("machine_id", order_by="hour_start_at").alias("last_shift_performance"),
        nw.col("_q").fill_null(strategy="forward").over("machine_id", order_by="hour_start_at").alias("last_shift_quality"),
    ).drop("_a", "_p", "_q")


def breakdown_labels(features: Frame, *, horizon_h: int = 24, keep_unobserved: bool = False) -> Frame:
    """`features` with `is_breakdown_within_horizon`; rows whose horizon is not fully observed are dropped
    (or, with `keep_unobserved`, kept with a null label: the rows scoring needs)."""
    counted = features.with_columns(nw.col("breakdown_starts").cum_sum().over("machine_id", order_by="hour_start_at").alias("_breakdowns_so_far"))
    ahead = counted.with_columns(
        nw.col("_breakdowns_so_far").shift(-horizon_h).over("machine_id", order_by="hour_start_at").alias("_breakdowns_ahead"))
    if not keep_unobserved:
        ahead = ahead.filter(~nw.col("_breakdowns_ahead").is_null())
    return ahead.with_columns(
        nw.when(~nw.col("_breakdowns_ahead").is_null())
        .then(nw.col("_breakdowns_ahead") > nw.col("_breakdowns_so_far")).otherwise(None)
        .alias("is_breakdown_within_horizon"),
    ).drop("_breakdowns_so_far", "_breakdowns_ahead")
