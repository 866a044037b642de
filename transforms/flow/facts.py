"""The flow tables in one pass: state intervals -> operation facts -> WIP over time -> bottlenecks per line and
shift. The first three steps are Narwhals (Polars or PySpark frames in); the bottleneck sweep collects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import narwhals as nw
import polars as pl

from lakehouse.engines import collect_arrow
from transforms.flow.bottleneck import BUFFER_CAPACITY, bottleneck_by_line_shift
from transforms.flow.intervals import state_intervals
from transforms.flow.operations import operation_flow
from transforms.flow.wip import wip_over_time

Frame = nw.LazyFrame[Any]


@dataclass(frozen=True)
class FlowTables:
    operations: pl.DataFrame  # gold.fct_operation_flow
    wip: pl.DataFrame         # gold.wip_by_machine
    bottlenecks: pl.DataFrame  # gold.bottleneck_by_line_shift
    intervals: pl.DataFrame   # the state intervals (not stored)


def _collect(frame: Frame) -> pl.DataFrame:
    return pl.from_arrow(collect_arrow(frame))


def flow_tables(operation_events: Frame, state_events: Frame, releases: Frame, issues: Frame, *,
                machines: pl.DataFrame, shifts: pl.DataFrame, period_end: datetime,
                buffer_capacity: int = BUFFER_CAPACITY) -> FlowTables:
    intervals = state_intervals(state_events, period_end=period_end)
    operations = operation_flow(operation_events, intervals, releases, issues)
    operations_rows = _collect(operations)
    wip_rows = _collect(wip_over_time(nw.from_native(operations_rows.lazy())))
    interval_rows = _collect(intervals.select("machine_id", "reason_code", "start_s", "end_s"))
    bottlenecks = bottleneck_by_line_shift(interval_rows, machines, shifts, operations_rows, wip_rows,
                                           buffer_capacity=buffer_capacity)
    return FlowTables(operations_rows, wip_rows, bottlenecks, interval_rows)
