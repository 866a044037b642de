"""Read what the flow transforms need from the lake, in their input shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError
from transforms.shift_calendar import shift_instances

OPERATION_COLUMNS = ["event_type", "occurred_at", "work_order_id", "operation_seq", "machine_id", "operator_id"]


@dataclass(frozen=True)
class FlowInputs:
    operation_events: pl.DataFrame  # event_type, occurred_at, work_order_id, operation_seq, machine_id, operator_id
    state_events: pl.DataFrame      # machine_id, occurred_at, reason_code
    releases: pl.DataFrame          # work_order_id, released_at
    completions: pl.DataFrame       # work_order_id, completed_at
    issues: pl.DataFrame            # work_order_id, issued_at (line-side arrival)
    machines: pl.DataFrame          # machine_id, line_id
    shifts: pl.DataFrame            # shift_date, shift_id, start_s, end_s, break_s
    period_end: datetime


def load_flow_inputs(delta: DeltaLake) -> FlowInputs:
    for table in ("mes_operation_events", "mes_equipment_states", "mes_work_order_events", "dim_machine"):
        if not delta.exists(table):
            raise QueryError(f"production flow needs {table}: nothing has landed there yet")
    operations = delta.scan("mes_operation_events")
    if "operator_id" not in operations.collect_schema().names():
        operations = operations.with_columns(pl.lit(None, pl.String).alias("operator_id"))
    operations = operations.select(OPERATION_COLUMNS).collect()
    states = delta.scan("mes_equipment_states").select("machine_id", "occurred_at", "reason_code").collect()
    orders = delta.scan("mes_work_order_events").select("event_type", "work_order_id", "occurred_at").collect()
    releases = orders.filter(pl.col("event_type") == "work_order_released").select(
        "work_order_id", pl.col("occurred_at").alias("released_at"))
    completions = orders.filter(pl.col("event_type") == "work_order_completed").select(
        "work_order_id", pl.col("occurred_at").alias("completed_at"))
    issues = (delta.scan("fct_inventory_movements").filter(pl.col("movement_type") == "issue")
              .select("work_order_id", pl.col("occurred_at").alias("issued_at")).drop_nulls("work_order_id").collect()
              if delta.exists("fct_inventory_movements")
              else pl.DataFrame(schema={"work_order_id": pl.String, "issued_at": pl.Datetime("us", "UTC")}))
    machines = delta.scan("dim_machine").select("machine_id", "line_id").collect()
    last = states["occurred_at"].max()
    first = states["occurred_at"].min()
    period_end = (datetime.combine(last.date() + timedelta(days=1), time(), timezone.utc) if last is not None
                  else datetime.now(timezone.utc))
    shifts = pl.DataFrame(schema={"shift_date": pl.Date, "shift_id": pl.String, "start_s": pl.Float64,
                                  "end_s": pl.Float64, "break_s": pl.Float64})
    if first is not None and delta.exists("dim_shift"):
        zone = delta.read_arrow("dim_plant").to_pylist()[0]["plant_timezone"]
        shifts = pl.from_arrow(shift_instances(delta.read_arrow("dim_shift"), delta.read_arrow("dim_shift_break"),
                                               zone, first.date(), last.date())).select(
            "shift_date", "shift_id", (pl.col("shift_start_us") / 1e6).alias("start_s"),
            (pl.col("shift_end_us") / 1e6).alias("end_s"), "break_s")
    return FlowInputs(operations, states, releases, completions, issues, machines, shifts, period_end)
