"""Throughput time and schedule adherence per line and completion day, on hand-counted work orders."""

from __future__ import annotations

import pyarrow as pa
import pytest
from kpi_support import PLANT_TZ, TIMESTAMP, at, by_scope_day, compute, day, table

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.kpi import production_lead_time, roll_up, schedule_adherence, schedule_adherence_in_full

SCHEMA = {"event_id": pa.string(), "event_type": pa.string(), "occurred_at": TIMESTAMP,
          "work_order_id": pa.string(), "line_id": pa.string(), "planned_quantity": pa.float64(),
          "good_quantity": pa.float64(), "due_at": TIMESTAMP}


def released(order: str, line: str, when: object, planned: float, due: object = None) -> dict:
    return {"event_type": "work_order_released", "work_order_id": order, "line_id": line, "occurred_at": when,
            "planned_quantity": planned, "due_at": due}


def started(order: str, line: str, when: object) -> dict:
    return {"event_type": "work_order_started", "work_order_id": order, "line_id": line, "occurred_at": when}


def completed(order: str, line: str, when: object, good: float) -> dict:
    return {"event_type": "work_order_completed", "work_order_id": order, "line_id": line, "occurred_at": when,
            "good_quantity": good}


EVENTS = table([{"event_id": f"E{i:02d}", **row} for i, row in enumerate([
    released("WO1", "L1", at(5, 6), 100, due=at(5, 18)), started("WO1", "L1", at(5, 7)),
    completed("WO1", "L1", at(5, 16), 100),                   # 10 h, on time, in full
    released("WO2", "L1", at(5, 8), 50, due=at(5, 20)),
    completed("WO2", "L1", at(5, 23, 30), 48),                # 15.5 h, plant day 01-06, late, short
    released("WO3", "L1", at(6, 6), 20), completed("WO3", "L1", at(6, 10), 20),  # 4 h, no due date
    released("WO7", "L1", at(6, 7), 40, due=at(6, 20)),
    completed("WO7", "L1", at(6, 15), 39),                    # 8 h, on time, short by one
    released("WO4", "L2", at(5, 9), 10, due=at(6, 12)), started("WO4", "L2", at(5, 10)),  # unfinished
    completed("WO5", "L2", at(5, 12), 5),                     # its release is not in the input
    released("WO6", "L2", at(5, 10), 30, due=at(5, 12)),
    completed("WO6", "L2", at(5, 12), 30.5),                  # 2 h, completed exactly at its due time
])], SCHEMA)


def test_throughput_time_sums_seconds_per_completed_order_with_a_release() -> None:
    rows = compute(production_lead_time, EVENTS, plant_timezone=PLANT_TZ)
    assert {r["kpi"] for r in rows} == {"throughput_time"} and {r["scope_type"] for r in rows} == {"line"}
    assert by_scope_day(rows) == {("L1", day(5)): (36_000.0, 1.0),
                                  ("L1", day(6)): (55_800.0 + 14_400.0 + 28_800.0, 3.0),
                                  ("L2", day(5)): (7_200.0, 1.0)}


def test_schedule_adherence_counts_completions_with_a_due_date() -> None:
    rows = by_scope_day(compute(schedule_adherence, EVENTS, plant_timezone=PLANT_TZ))
    assert rows == {("L1", day(5)): (1.0, 1.0), ("L1", day(6)): (1.0, 2.0), ("L2", day(5)): (1.0, 1.0)}


def test_schedule_adherence_in_full_also_needs_the_planned_good_quantity() -> None:
    rows = by_scope_day(compute(schedule_adherence_in_full, EVENTS, plant_timezone=PLANT_TZ))
    assert rows == {("L1", day(5)): (1.0, 1.0), ("L1", day(6)): (0.0, 2.0), ("L2", day(5)): (1.0, 1.0)}


def test_an_order_without_a_line_is_kept_as_unassigned() -> None:
    events = table([released("WO9", None, at(5, 6), 1.0), completed("WO9", None, at(5, 7), 1.0)], SCHEMA)
    assert by_scope_day(compute(production_lead_time, events, plant_timezone=PLANT_TZ)) == {
        ("unassigned", day(5)): (3600.0, 1.0)}


def test_events_from_before_due_dates_were_reported_still_give_throughput_time() -> None:
    bare = EVENTS.select(["event_id", "event_type", "occurred_at", "work_order_id", "line_id"])
    assert by_scope_day(compute(production_lead_time, bare, plant_timezone=PLANT_TZ))[("L2", day(5))] == (7200.0, 1.0)
    assert compute(schedule_adherence, bare, plant_timezone=PLANT_TZ) == []


def test_the_week_of_the_line_is_the_mean_over_all_its_orders() -> None:
    daily = production_lead_time(lazy_frame(EVENTS), plant_timezone=PLANT_TZ)
    weeks = {r["scope_id"]: r for r in collect_arrow(roll_up(daily, grain="week")).to_pylist()}
    assert weeks["L1"]["period_start"] == day(5)
    assert (weeks["L1"]["numerator"], weeks["L1"]["denominator"]) == (135_000.0, 4.0)
    assert weeks["L1"]["value"] == 33_750.0


@pytest.mark.spark
@pytest.mark.parametrize("kpi", [production_lead_time, schedule_adherence, schedule_adherence_in_full])
def test_production_kpis_agree_on_polars_and_pyspark(spark: object, kpi: object) -> None:
    result = assert_engine_parity(kpi, {"work_order_events": EVENTS}, spark=spark, plant_timezone=PLANT_TZ)
    assert result.rows == 3


@pytest.mark.spark
def test_throughput_time_without_the_optional_columns_agrees_on_polars_and_pyspark(spark: object) -> None:
    bare = EVENTS.select(["event_id", "event_type", "occurred_at", "work_order_id", "line_id"])
    result = assert_engine_parity(production_lead_time, {"work_order_events": bare}, spark=spark,
                                  plant_timezone=PLANT_TZ)
    assert result.rows == 3
