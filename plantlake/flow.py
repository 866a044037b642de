"""Queries over the production-flow tables: bottlenecks per line and shift, with a per-line summary."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError


def _day(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def bottleneck_rows(delta: DeltaLake, line: str | None = None, *, start: date | str | None = None,
                    end: date | str | None = None) -> pl.DataFrame:
    """Rows of gold.bottleneck_by_line_shift for `line` (every line by default) and shift dates start..end
    (inclusive), ordered by line, shift and bottleneck share (largest first)."""
    first, last = _day(start, "start"), _day(end, "end")
    if first and last and first > last:
        raise QueryError(f"start {first} is after end {last}")
    rows = delta.scan("bottleneck_by_line_shift")
    if line is not None:
        known = delta.scan("dim_machine").filter(pl.col("line_id") == line).select(pl.len()).collect().item()
        if not known:
            raise QueryError(f"line {line!r} is not in silver.dim_machine")
        rows = rows.filter(pl.col("line_id") == line)
    if first:
        rows = rows.filter(pl.col("shift_date") >= first)
    if last:
        rows = rows.filter(pl.col("shift_date") <= last)
    return rows.collect().sort(["line_id", "shift_date", "shift_id", "bottleneck_share"],
                               descending=[False, False, False, True])


def bottleneck_summary(rows: pl.DataFrame) -> pl.DataFrame:
    """Per line and machine: shifts as the line's bottleneck, mean share, sole and shifting hours."""
    return (rows.group_by("line_id", "machine_id")
            .agg(pl.col("is_line_bottleneck").sum().alias("bottleneck_shifts"), pl.len().alias("shifts"),
                 pl.col("bottleneck_share").mean().alias("mean_share"),
                 (pl.col("sole_bottleneck_s").sum() / 3600).alias("sole_h"),
                 (pl.col("shifting_bottleneck_s").sum() / 3600).alias("shifting_h"),
                 pl.col("is_queue_bottleneck").sum().alias("queue_bottleneck_shifts"),
                 pl.col("utilization").mean().alias("mean_utilization"))
            .sort(["line_id", "bottleneck_shifts", "mean_share"], descending=[False, True, True]))


def _moment(value: datetime | date | str | None, name: str) -> datetime | None:
    from plantlake.as_of import as_datetime

    try:
        return as_datetime(value)
    except (ValueError, TypeError) as exc:
        raise QueryError(f"{name} {value!r} is not an ISO date or time: {exc}") from None


def lots_touched(delta: DeltaLake, *, machine: str | None = None, operator: str | None = None,
                 start: datetime | date | str | None = None, end: datetime | date | str | None = None) -> pl.DataFrame:
    """Lots made by the operations on `machine` (or started by `operator`) overlapping [start, end)."""
    from transforms.flow.genealogy import lots_made
    from transforms.genealogy.persistence import EDGES_TABLE

    for table in ("fct_operation_flow", EDGES_TABLE):
        if not delta.exists(table):
            raise QueryError(f"{table} is not in the lake yet: run the pipeline first (plantlake run)")
    operations = delta.scan("fct_operation_flow")
    def count(column: str, value: str) -> int:
        return operations.filter(pl.col(column) == value).select(pl.len()).collect().item()

    if machine is not None and count("machine_id", machine) == 0:
        raise QueryError(f"machine {machine!r} ran no operation in gold.fct_operation_flow")
    if operator is not None and count("operator_id", operator) == 0:
        raise QueryError(f"operator {operator!r} started no operation in gold.fct_operation_flow")
    return lots_made(operations.collect(), delta.scan(EDGES_TABLE).collect(), machine_id=machine, operator_id=operator,
                     start=_moment(start, "start"), end=_moment(end, "end"))


def recall_from_lots(index, lots: list[str]) -> pl.DataFrame:  # noqa: ANN001
    """Every shipment a forward trace from any of `lots` reaches: lot (the shipped lot), shipment_id, customer_id,
    quantity, unit, occurred_at, source_lot (which starting lot led there)."""
    from transforms.genealogy.trace import trace

    frames = []
    for lot in sorted(set(lots)):
        edges = trace(index, lot, "forward").edges.filter(pl.col("edge_type") == "shipment")
        frames.append(edges.select(pl.col("parent_node_id").alias("lot"),
                                   pl.col("child_node_id").str.strip_prefix("SHP:").alias("shipment_id"),
                                   "customer_id", "quantity", "unit", "occurred_at", pl.lit(lot).alias("source_lot")))
    if not frames:
        return pl.DataFrame(schema={"lot": pl.String, "shipment_id": pl.String, "customer_id": pl.String,
                                    "quantity": pl.Float64, "unit": pl.String,
                                    "occurred_at": pl.Datetime("us", "UTC"), "source_lot": pl.String})
    return pl.concat(frames).unique().sort("occurred_at", "shipment_id", "lot", "source_lot")


def schedule_suggestion(delta: DeltaLake, line: str | None = None, *, horizon: str | float = "24h",
                        as_of: datetime | date | str | None = None, time_limit_s: float = 20.0
                        ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plan, orders): the suggested operations starting within `horizon` of the moment (the latest event the lake
    holds, or `as_of`), and per open work order its due date and completion, suggested and under FIFO."""
    from datetime import timedelta

    from pipelines.flow.schedule import lake_suggestions
    from plantlake.shortages import horizon_seconds

    seconds = horizon_seconds(horizon)
    suggestions = lake_suggestions(delta, line=line, now=_moment(as_of, "as_of"), time_limit_s=time_limit_s)
    plans = [s.plan.filter(pl.col("suggested_start_at") < s.now + timedelta(seconds=seconds))
             for s in suggestions if not s.plan.is_empty()]
    orders = [s.orders.with_columns(pl.lit(s.line_id).alias("line_id")) for s in suggestions if not s.orders.is_empty()]
    plan = pl.concat(plans) if plans else pl.DataFrame()
    order_rows = (pl.concat(orders).select(
        "line_id", "work_order_id", (pl.col("due_s") / 3600).alias("due_in_h"),
        (pl.col("suggested_end_s") / 3600).alias("suggested_done_in_h"),
        (pl.col("fifo_end_s") / 3600).alias("fifo_done_in_h"),
        (pl.col("suggested_tardiness_s") / 3600).alias("suggested_late_h"),
        (pl.col("fifo_tardiness_s") / 3600).alias("fifo_late_h")).sort("line_id", "suggested_done_in_h")
        if orders else pl.DataFrame())
    return plan, order_rows
