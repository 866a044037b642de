"""Equipment KPIs per machine and production day, in the long KPI shape, from OEE per machine and shift.

Each KPI is a numerator and a denominator that are sums of shift times or counts, so any roll-up (machine ->
line -> area -> site, day -> week -> month) sums both and divides last:

    availability              run time / planned time
    performance               ideal time / run time
    quality                   good count / total count
    oee                       fully productive time / planned time
    teep                      fully productive time / calendar time (every hour of the day, scheduled or not)
    mtbf                      run time / failures         (ISO 22400 "mean operating time between failures")
    mttr                      failure downtime / failures (ISO 22400 "mean time to restoration")
    equipment_data_coverage   planned time with a known state / (that + unknown time)
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.kpi.long_format import kpi_rows

Frame = nw.LazyFrame[Any]
c = nw.col

EQUIPMENT_KPIS: dict[str, tuple[nw.Expr, nw.Expr]] = {
    "availability": (c("run_time_s"), c("planned_time_s")),
    "performance": (c("ideal_time_s"), c("run_time_s")),
    "quality": (c("good_count"), c("total_count")),
    "oee": (c("fully_productive_time_s"), c("planned_time_s")),
    "teep": (c("fully_productive_time_s"), c("calendar_day_s")),
    "mtbf": (c("run_time_s"), c("failure_count")),
    "mttr": (c("failure_time_s"), c("failure_count")),
    "equipment_data_coverage": (c("planned_time_s"), c("planned_time_s") + c("unknown_time_s")),
}
_SUMMED = ["planned_time_s", "run_time_s", "ideal_time_s", "fully_productive_time_s", "good_count", "total_count",
           "failure_count", "failure_time_s", "unknown_time_s"]


def machine_days(oee_by_machine_shift: Frame, calendar_days: Frame) -> Frame:
    """Every machine on every day (calendar_days: day, calendar_day_s = the plant-local day's length), with its
    shifts' times and counts summed (zero on a day without shifts, which still counts for TEEP)."""
    shifts = (oee_by_machine_shift.group_by("machine_id", "shift_date")
              .agg(*(c(name).sum() for name in _SUMMED)).rename({"shift_date": "day"}))
    grid = oee_by_machine_shift.select("machine_id").unique().join(calendar_days, how="cross")
    return (grid.join(shifts, on=["machine_id", "day"], how="left")
            .with_columns(*(c(name).fill_null(0) for name in _SUMMED)))


def equipment_kpis(oee_by_machine_shift: Frame, calendar_days: Frame) -> Frame:
    """All equipment KPIs per machine and day in the long shape (scope_type machine)."""
    days = machine_days(oee_by_machine_shift, calendar_days).with_columns(c("machine_id").alias("scope_id"))
    return nw.concat([kpi_rows(days, kpi=name, scope_type="machine", numerator=numerator, denominator=denominator)
                      for name, (numerator, denominator) in EQUIPMENT_KPIS.items()], how="vertical")


def equipment_kpis_per_shift(oee_by_machine_shift: Frame) -> Frame:
    """The equipment KPIs per machine and shift (TEEP excepted: its calendar time is the whole day), in the long
    shape plus shift_id: the `shift` grain of `plantlake kpi`."""
    rows = oee_by_machine_shift.with_columns(c("machine_id").alias("scope_id"), c("shift_date").alias("day"))
    return nw.concat([rows.select(nw.lit(name).alias("kpi"), nw.lit("machine").alias("scope_type"), "scope_id",
                                  c("day").cast(nw.Date), "shift_id", numerator.cast(nw.Float64).alias("numerator"),
                                  denominator.cast(nw.Float64).alias("denominator"))
                      for name, (numerator, denominator) in EQUIPMENT_KPIS.items() if name != "teep"], how="vertical")
