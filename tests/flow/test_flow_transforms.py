"""The flow transforms on hand-made rows: state intervals and time lookups, operation facts, WIP, Little's
law, the active-period sweep and virtual blocking; Polars and PySpark give the same rows."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import narwhals as nw
import polars as pl
import pyarrow as pa
import pytest

from lakehouse.parity import assert_engine_parity
from transforms.flow.bottleneck import active_periods, bottleneck_by_line_shift, virtual_blocking
from transforms.flow.intervals import state_intervals
from transforms.flow.operations import operation_flow
from transforms.flow.wip import littles_law, wip_over_time

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)
END = T0 + timedelta(days=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def lazy(rows: dict) -> nw.LazyFrame:
    return nw.from_native(pl.DataFrame(rows).lazy())


# M1 runs op 10 of WO-1 (setup 10 min, producing 50, breakdown 20 inside), M2 waits starved, then runs op 20.
STATES = {"machine_id": ["M1", "M1", "M1", "M1", "M1", "M2", "M2", "M2", "M2"],
          "occurred_at": [at(0), at(5), at(15), at(45), at(65), at(0), at(30), at(95), at(125)],
          "reason_code": ["no_order", "changeover", "producing", "breakdown", "producing", "no_order", "starved",
                          "producing", "no_order"]}
OPERATIONS = {"event_type": ["operation_started", "operation_completed", "operation_started", "operation_completed"],
              "occurred_at": [at(5), at(95), at(95), at(125)], "work_order_id": ["WO-1"] * 4,
              "operation_seq": [10, 10, 20, 20], "machine_id": ["M1", "M1", "M2", "M2"],
              "operator_id": ["OP-A", None, "OP-B", None]}
RELEASES = {"work_order_id": ["WO-1"], "released_at": [at(-30)]}
ISSUES = {"work_order_id": ["WO-1", "WO-1", "WO-1"], "issued_at": [at(-10), at(2), at(40)]}


def _flow(operation_events, state_events, releases, issues):
    return operation_flow(operation_events, state_intervals(state_events, period_end=END), releases, issues)


def test_operation_flow_splits_each_operation_into_its_times() -> None:
    rows = _flow(lazy(OPERATIONS), lazy(STATES), lazy(RELEASES), lazy(ISSUES)).to_native().collect()
    first, second = rows.sort("operation_seq").to_dicts()
    # ready at the last issue before the start (at 2 min; the one at 40 min came after the start)
    assert first["ready_at"] == at(2) and first["queue_s"] == pytest.approx(180.0)
    assert (first["setup_s"], first["processing_s"], first["stopped_s"]) == pytest.approx((600.0, 3600.0, 1200.0))
    assert first["starved_s"] == 0.0 and first["operator_id"] == "OP-A"
    assert second["ready_at"] == at(95) and second["queue_s"] == 0.0
    assert second["processing_s"] == pytest.approx(1800.0)
    assert second["starved_s"] == pytest.approx(65 * 60.0)  # M2 starved from 30 to 95 min
    assert second["blocked_s"] == 0.0 and second["operator_id"] == "OP-B"


def test_wip_steps_and_littles_law() -> None:
    flow = _flow(lazy(OPERATIONS), lazy(STATES), lazy(RELEASES), lazy(ISSUES))
    wip = wip_over_time(flow).to_native().collect().sort("machine_id", "changed_at")
    assert wip.filter(pl.col("machine_id") == "M1").select("queue_wip", "in_process_wip").rows() == [
        (1, 0), (0, 1), (0, 0)]
    orders = lazy({"released_at": [at(0), at(60), at(120)], "completed_at": [at(120), at(180), None]})
    law = littles_law(orders, window_start=at(0), window_end=at(240)).to_native().collect().row(0, named=True)
    # in the system 120 + 120 + 120 minutes over 240: L = 1.5; 2 completed, mean lead time 120 min
    assert law["mean_wip"] == pytest.approx(1.5)
    assert law["throughput_per_s"] * law["mean_lead_time_s"] == pytest.approx(1.0)
    assert law["relative_gap"] == pytest.approx(1 / 3)


def test_active_period_sweep_names_sole_and_shifting_bottlenecks() -> None:
    # A active 0-60 and 90-120; B active 40-120: B's period (80 min) is the longest from 40 on, A's from 0 to 40
    intervals = pl.DataFrame({
        "machine_id": ["A", "A", "A", "B", "B"], "reason_code": ["producing", "starved", "producing", "starved",
                                                                 "producing"],
        "start_s": [0.0, 3600.0, 5400.0, 0.0, 2400.0], "end_s": [3600.0, 5400.0, 7200.0, 2400.0, 7200.0]})
    assert active_periods(intervals).rows() == [("A", 0.0, 3600.0), ("A", 5400.0, 7200.0), ("B", 2400.0, 7200.0)]
    shifts = pl.DataFrame({"shift_date": [T0.date()], "shift_id": ["S1"], "start_s": [0.0], "end_s": [7200.0],
                           "break_s": [0.0]})
    result = bottleneck_by_line_shift(intervals, pl.DataFrame({"machine_id": ["A", "B"], "line_id": ["L", "L"]}),
                                      shifts).sort("machine_id")
    # A leads 0-40 min; its period overlaps B's 40-60: shifting 20 min for both; B alone 60-120
    assert result["sole_bottleneck_s"].to_list() == [1200.0, 3600.0]
    assert result["shifting_bottleneck_s"].to_list() == [1200.0, 1200.0]
    assert result["is_line_bottleneck"].to_list() == [False, True]
    assert result["active_time_s"].to_list() == [5400.0, 4800.0]
    assert result["utilization"].to_list() == pytest.approx([0.75, 4800 / 7200])


def test_virtual_blocking_stops_machines_ahead_of_a_backlog() -> None:
    machines = pl.DataFrame({"machine_id": ["M1", "M2", "M3"], "line_id": ["L", "L", "L"]})
    wip = pl.DataFrame({"machine_id": ["M2", "M2", "M3", "M3"], "changed_at": [at(0), at(30), at(10), at(20)],
                        "queue_wip": [2, 0, 1, 0], "in_process_wip": [0, 0, 0, 0]})
    blocked = virtual_blocking(wip, machines, buffer_capacity=3).sort("machine_id", "start_s")
    # M1 sees M2's and M3's queues together: 3 between 10 and 20 min; M2 sees only M3's, never 3
    assert blocked.rows() == [("M1", at(10).timestamp(), at(20).timestamp())]


@pytest.mark.spark
def test_state_intervals_and_wip_same_on_polars_and_spark(spark) -> None:  # noqa: ANN001
    intervals = assert_engine_parity(lambda state_events: state_intervals(state_events, period_end=END),
                                     {"state_events": pa.table(STATES)}, spark=spark, sort_by=["machine_id", "start_s"])
    assert intervals.rows == 9
    steps = {"machine_id": ["M1", "M1", "M1"], "ready_at": [at(0), at(5), at(9)], "started_at": [at(1), at(6), at(10)],
             "ended_at": [at(5), at(9), at(12)]}
    wip = assert_engine_parity(wip_over_time, {"operation_flow": pa.table(steps)}, spark=spark,
                               sort_by=["machine_id", "changed_at"])
    assert wip.rows == 7  # seven distinct instants (0, 1, 5, 6, 9, 10, 12 min)


@pytest.mark.spark
@pytest.mark.slow
def test_operation_flow_same_on_polars_and_spark(spark) -> None:  # noqa: ANN001
    inputs = {"operation_events": pa.table(OPERATIONS), "state_events": pa.table(STATES),
              "releases": pa.table(RELEASES), "issues": pa.table(ISSUES)}
    result = assert_engine_parity(_flow, inputs, spark=spark, sort_by=["work_order_id", "operation_seq"])
    assert result.rows == 2
