"""Schedule suggestions from the lake's state (gold.schedule_suggestions): the open work orders of each line at
the latest event the lake holds, their routings, due dates and WIP, the shift calendar and - where the
maintenance model has scored it - each machine's breakdown risk (gold.machine_risk); CP-SAT within a deterministic
time budget proportional to each line's operations, at most `TIME_LIMIT_S` (transforms/flow/schedule.py,
`solve_budget`). Recomputed whole each run (overwrite): a suggestion, not history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError
from pipelines.checks import primary_key_check, table_key
from pipelines.resources import LakeResource
from transforms.flow.schedule import ScheduleSuggestion, schedule_problem, suggest_schedule, working_calendar
from transforms.shift_calendar import shift_instances

SOURCES = ("mes_work_order_events", "mes_operation_events", "map_material_code", "dim_routing", "dim_shift",
           "dim_shift_break", "dim_plant")
TIME_LIMIT_S = 20.0  # upper bound per line; the budget is 0.05 deterministic s per operation, at least 1


def _calendar(delta: DeltaLake, first: datetime, days: int = 120):
    zone = delta.read_arrow("dim_plant").to_pylist()[0]["plant_timezone"]
    shifts = pl.from_arrow(shift_instances(delta.read_arrow("dim_shift"), delta.read_arrow("dim_shift_break"), zone,
                                           first.date(), first.date() + timedelta(days=days)))
    one_day = pl.from_arrow(delta.read_arrow("dim_shift_break"))
    breaks = []
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(zone)
    for shift_date, shift_id in shifts.select("shift_date", "shift_id").iter_rows():
        for b in one_day.filter(pl.col("shift_id") == shift_id).iter_rows(named=True):
            start = datetime.combine(shift_date, datetime.strptime(b["break_start_local_time"], "%H:%M:%S").time(), tz)
            end = datetime.combine(shift_date, datetime.strptime(b["break_end_local_time"], "%H:%M:%S").time(), tz)
            breaks.append((start.timestamp(), end.timestamp()))
    return working_calendar(shifts.select((pl.col("shift_start_us") / 1e6).alias("start_s"),
                                          (pl.col("shift_end_us") / 1e6).alias("end_s")),
                            pl.DataFrame(breaks, schema={"start_s": pl.Float64, "end_s": pl.Float64}, orient="row"))


def machine_risk(delta: DeltaLake) -> dict[str, float]:
    """Breakdown risk per machine from gold.machine_risk, or nothing while the maintenance model has not run."""
    if not delta.exists("machine_risk"):
        return {}
    rows = delta.scan("machine_risk").select("machine_id", "breakdown_risk").collect()
    return {machine: float(risk) for machine, risk in rows.iter_rows() if risk is not None}


def lake_suggestions(delta: DeltaLake, *, line: str | None = None, now: datetime | None = None,
                     time_limit_s: float = TIME_LIMIT_S) -> list[ScheduleSuggestion]:
    for table in SOURCES:
        if not delta.exists(table):
            raise QueryError(f"a schedule needs {table}: nothing has landed there yet")
    orders = delta.scan("mes_work_order_events").select(
        "event_type", "work_order_id", "occurred_at", "line_id", "material_code", "planned_quantity",
        "due_at").collect()
    operations = delta.scan("mes_operation_events").select(
        "event_type", "occurred_at", "work_order_id", "operation_seq", "machine_id").collect()
    if now is None:
        latest = max(v for v in (orders["occurred_at"].max(), operations["occurred_at"].max()) if v is not None)
        now = latest + timedelta(microseconds=1)
    codes = delta.scan("map_material_code").filter(pl.col("system") == "MES").select(
        pl.col("system_material_code").alias("material_code"), "material_id").unique().collect()
    completed = orders.filter(pl.col("event_type") == "work_order_completed").group_by("work_order_id").agg(
        pl.col("occurred_at").max().alias("completed_at"))
    released = (orders.filter(pl.col("event_type") == "work_order_released").join(codes, on="material_code")
                .select("work_order_id", "line_id", "material_id", "planned_quantity",
                        pl.col("occurred_at").alias("released_at"), "due_at")
                .unique("work_order_id").join(completed, on="work_order_id", how="left")
                .filter(pl.col("due_at").is_not_null()))
    routings = delta.scan("dim_routing").select("material_id", "line_id", "operation_seq", "machine_id",
                                                "ideal_cycle_time_s").collect()
    lines = sorted(routings["line_id"].unique())
    if line is not None:
        if line not in lines:
            raise QueryError(f"line {line!r} has no routing in silver.dim_routing")
        lines = [line]
    calendar = _calendar(delta, now - timedelta(days=40))
    risk = machine_risk(delta)
    return [suggest_schedule(schedule_problem(line_id=name, now=now, released=released, operation_events=operations,
                                              routings=routings, calendar=calendar, risk=risk),
                             time_limit_s=time_limit_s) for name in lines]


def suggestion_rows(suggestions: list[ScheduleSuggestion]) -> pl.DataFrame:
    frames = [s.plan.join(s.orders.select("work_order_id", "due_s"), on="work_order_id").with_columns(
        pl.lit(s.now).cast(pl.Datetime("us", "UTC")).alias("suggested_at"), pl.lit(s.status).alias("solver_status"))
        for s in suggestions if not s.plan.is_empty()]
    if not frames:
        return pl.from_arrow(CATALOG["schedule_suggestions"].schema.empty_table())
    rows = pl.concat(frames)
    return rows.select(CATALOG["schedule_suggestions"].schema.names)


# machine_risk: used where present (the maintenance model may not have run); listed so a run refreshes it first
@dg.asset(key=table_key("schedule_suggestions"), deps=[table_key(t) for t in (*SOURCES, "machine_risk")],
          group_name="flow",
          description=CATALOG["schedule_suggestions"].description, kinds={"delta", "polars"},
          owners=["team:plant-data"])
def schedule_suggestions(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    try:
        suggestions = lake_suggestions(delta)
    except QueryError as exc:
        result = delta.overwrite("schedule_suggestions", CATALOG["schedule_suggestions"].schema.empty_table())
        return dg.MaterializeResult(metadata={**result.as_metadata(), "note": str(exc)})
    result = delta.overwrite("schedule_suggestions", suggestion_rows(suggestions).to_arrow())
    summary = {f"{s.line_id}_{k}": round(v, 2) for s in suggestions if not s.orders.is_empty()
               for k, v in s.summary().items()}
    return dg.MaterializeResult(metadata={**result.as_metadata(), **summary})


SCHEDULE_ASSETS = [schedule_suggestions]
SCHEDULE_CHECKS = [primary_key_check(CATALOG["schedule_suggestions"])]
