"""The long KPI shape every KPI transform returns, its value, and roll-ups that sum before they divide.

One row per KPI, scope and plant-local day:

    kpi (String) | scope_type (String) | scope_id (String) | day (Date) | numerator (Float64) | denominator (Float64)

Every KPI is designed so that summing numerators and denominators over days and scopes gives the KPI of the
coarser grain; `value = numerator / denominator` is computed last (null when the denominator is 0 or null).
A record whose scope is unknown (no line, no customer, an unmapped material code) is kept under scope_id
UNASSIGNED, so a site roll-up counts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import narwhals as nw

from transforms.kpi.plant_time import month_start, week_start

Frame = nw.LazyFrame[Any]
Grain = Literal["day", "week", "month"]
KPI_COLUMNS = ("kpi", "scope_type", "scope_id", "day", "numerator", "denominator")
ROLL_UP_KEYS = ("kpi", "scope_type", "scope_id", "grain", "period_start")
UNASSIGNED = "unassigned"


def kpi_rows(items: Frame, *, kpi: str, scope_type: str, numerator: nw.Expr, denominator: nw.Expr) -> Frame:
    """Sum each item's numerator and denominator per scope_id and day (columns of `items`) into the long shape."""
    parts = items.select(
        nw.col("scope_id").cast(nw.String).fill_null(UNASSIGNED).alias("scope_id"), nw.col("day").cast(nw.Date),
        numerator.cast(nw.Float64).alias("numerator"), denominator.cast(nw.Float64).alias("denominator"))
    return (parts.group_by("scope_id", "day").agg(nw.col("numerator").sum(), nw.col("denominator").sum())
            .select(nw.lit(kpi).alias("kpi"), nw.lit(scope_type).alias("scope_type"), *KPI_COLUMNS[2:]))


def with_value(kpis: Frame) -> Frame:
    """Add value = numerator / denominator, null when the denominator is 0 or null."""
    ratio = nw.col("numerator") / nw.col("denominator")
    return kpis.with_columns(
        nw.when(nw.col("denominator") != 0).then(ratio).otherwise(nw.lit(None, nw.Float64)).alias("value"))


def sum_kpis(kpis: Frame, by: Sequence[str]) -> Frame:
    """Sum numerators and denominators over `by` (any grouping), then recompute the value."""
    summed = kpis.group_by(*by).agg(nw.col("numerator").sum(), nw.col("denominator").sum())
    return with_value(summed)


def period_start(day: nw.Expr, grain: Grain) -> nw.Expr:
    """The first day of the day's period: the day itself, its ISO week's Monday, or its month's first day."""
    if grain == "day":
        return day.cast(nw.Date)
    if grain == "week":
        return week_start(day)
    if grain == "month":
        return month_start(day)
    raise ValueError(f"grain must be day, week or month, got {grain!r}")


def roll_up(kpis: Frame, *, grain: Grain = "day", site: str | None = None) -> Frame:
    """Daily KPI rows summed to `grain` (columns grain and period_start replace day); with `site`, every scope
    of a KPI is summed into one (scope_type 'site', scope_id = site). Returns ROLL_UP_KEYS, numerator,
    denominator and value."""
    scoped = kpis if site is None else kpis.with_columns(
        nw.lit("site").alias("scope_type"), nw.lit(site).alias("scope_id"))
    periods = scoped.with_columns(nw.lit(grain).alias("grain"),
                                  period_start(nw.col("day"), grain).alias("period_start"))
    return sum_kpis(periods, ROLL_UP_KEYS).select(*ROLL_UP_KEYS, "numerator", "denominator", "value")
