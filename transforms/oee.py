"""OEE (ISO 22400) from times and counts — multiplied, never averaged; rolled up by summing, never averaging.

Inputs per row (a machine and a period): planned_time_s (planned production time whose equipment state is known:
calendar minus breaks, planned stops, not-scheduled and unknown time), run_time_s (planned time minus
availability losses; micro-stops stay inside it as a performance loss), ideal_time_s (ideal
cycle time x total count, summed over products), total_count, good_count.

    A   = run_time / planned_time
    P   = ideal_time / run_time          (a P above 1 is flagged, never clipped)
    Q   = good_count / total_count
    OEE = A x P x Q = fully_productive_time / planned_time, with fully_productive_time = ideal_time x Q

Fully productive time is additive: a roll-up sums it like every other time, so OEE at any grain is the
sum of fully productive time over the sum of planned time (Vorne's definition; the issue's 348/600 example).
At a coarser grain A x P x Q of the summed components equals it exactly when quality does not vary with the
product mix between the rows; otherwise the small difference is that mix, and the stored OEE is the sum.

Every ratio keeps its numerator and denominator as columns, so any roll-up (machine -> line -> site,
shift -> day -> week) sums the numerators and denominators first and divides last: a week computed directly
equals the roll-up of its days, and two machines' combined OEE weighs each by its planned time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

Frame = nw.LazyFrame[Any]
ADDITIVE = ["planned_time_s", "run_time_s", "ideal_time_s", "total_count", "good_count"]
# Summed too when present: the rest of the waterfall and the failures behind MTBF and MTTR.
ADDITIVE_DETAIL = ["calendar_time_s", "break_time_s", "planned_stop_time_s", "not_scheduled_time_s", "unknown_time_s",
                   "micro_stop_time_s", "failure_time_s", "failure_count", "opcua_sourced_time_s", "unmapped_time_s"]


def _safe_ratio(numerator: str, denominator: str) -> nw.Expr:
    return (nw.when(nw.col(denominator) > 0).then(nw.col(numerator) / nw.col(denominator))
            .otherwise(nw.lit(None, nw.Float64)))


def oee_components(frame: Frame) -> Frame:
    """A, P, Q and OEE with their time waterfall, from additive times and counts (no rounding anywhere).
    Fully productive time is ideal time x Q of the row, unless the frame already carries it (a roll-up)."""
    quality = _safe_ratio("good_count", "total_count")
    if "fully_productive_time_s" not in frame.collect_schema().names():
        frame = frame.with_columns((nw.col("ideal_time_s") * quality.fill_null(0.0)).alias("fully_productive_time_s"))
    with_parts = frame.with_columns(
        _safe_ratio("run_time_s", "planned_time_s").alias("availability"),
        _safe_ratio("ideal_time_s", "run_time_s").alias("performance"),
        quality.alias("quality"))
    return with_parts.with_columns(
        _safe_ratio("fully_productive_time_s", "planned_time_s").alias("oee"),
        (nw.col("performance") > 1).fill_null(False).alias("is_performance_above_one"),
        (nw.col("planned_time_s") - nw.col("run_time_s")).alias("availability_loss_s"),
        (nw.col("run_time_s") - nw.col("ideal_time_s")).alias("performance_loss_s"),
        (nw.col("ideal_time_s") - nw.col("fully_productive_time_s")).alias("quality_loss_s"))


def roll_up(frame: Frame, by: Sequence[str]) -> Frame:
    """Sum the additive times and counts over `by` (fully productive time included), then compute the ratios
    again: OEE = sum of fully productive time / sum of planned time at every grain."""
    rows = frame if "fully_productive_time_s" in frame.collect_schema().names() else oee_components(frame)
    present = rows.collect_schema().names()
    summed = rows.group_by(*by).agg(*(nw.col(c).sum() for c in [*ADDITIVE, "fully_productive_time_s",
                                                                 *ADDITIVE_DETAIL] if c in present))
    return oee_components(summed)
