"""First pass yield, scrap and rework ratios per machine and per line, on hand-counted inspections."""

from __future__ import annotations

import pyarrow as pa
import pytest
from kpi_support import PLANT_TZ, TIMESTAMP, at, by_scope_day, compute, day, table

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.kpi import first_pass_yield, rework_ratio, scrap_ratio, with_value

SCHEMA = {"inspection_id": pa.string(), "occurred_at": TIMESTAMP, "work_order_id": pa.string(),
          "machine_id": pa.string(), "inspected_quantity": pa.float64(), "good_quantity": pa.float64(),
          "scrap_quantity": pa.float64(), "defect_code": pa.string()}
COLUMNS = ("inspection_id", "occurred_at", "machine_id", "inspected_quantity", "good_quantity", "scrap_quantity")
INSPECTIONS = table([dict(zip(COLUMNS, row, strict=True)) for row in [
    ("I1", at(5, 8), "M1", 100.0, 90.0, 5.0),        # rework 5
    ("I2", at(5, 12), "M1", 50.0, 50.0, 0.0),
    ("I3", at(5, 9), "M2", 40.0, 30.0, 12.0),        # good + scrap > inspected: rework 0, not -2
    ("I4", at(5, 23, 15), "M3", 20.0, 18.0, None),   # plant day 01-06; no scrap reported: rework 2
    ("I5", at(6, 10), "M2", 0.0, 0.0, 0.0),          # nothing inspected: zero denominator
]], SCHEMA)
MACHINES = pa.table({"machine_id": ["M1", "M2", "M3"], "line_id": ["L1", "L1", "L2"]})


def test_first_pass_yield_per_machine_and_day() -> None:
    rows = compute(first_pass_yield, INSPECTIONS, plant_timezone=PLANT_TZ)
    assert by_scope_day(rows) == {("M1", day(5)): (140.0, 150.0), ("M2", day(5)): (30.0, 40.0),
                                  ("M2", day(6)): (0.0, 0.0), ("M3", day(6)): (18.0, 20.0)}
    values = {r["scope_id"] + str(r["day"]): r["value"]
              for r in collect_arrow(with_value(first_pass_yield(lazy_frame(INSPECTIONS), plant_timezone=PLANT_TZ)))
              .to_pylist()}
    assert values["M2" + str(day(6))] is None and values["M3" + str(day(6))] == 0.9


def test_scrap_ratio_per_machine_and_day() -> None:
    assert by_scope_day(compute(scrap_ratio, INSPECTIONS, plant_timezone=PLANT_TZ)) == {
        ("M1", day(5)): (5.0, 150.0), ("M2", day(5)): (12.0, 40.0), ("M2", day(6)): (0.0, 0.0),
        ("M3", day(6)): (0.0, 20.0)}


def test_rework_is_what_was_inspected_but_neither_good_nor_scrapped() -> None:
    assert by_scope_day(compute(rework_ratio, INSPECTIONS, plant_timezone=PLANT_TZ)) == {
        ("M1", day(5)): (5.0, 150.0), ("M2", day(5)): (0.0, 40.0), ("M2", day(6)): (0.0, 0.0),
        ("M3", day(6)): (2.0, 20.0)}


def test_line_scope_sums_the_machines_of_the_line() -> None:
    rows = compute(first_pass_yield, INSPECTIONS, MACHINES, plant_timezone=PLANT_TZ, scope="line")
    assert {r["scope_type"] for r in rows} == {"line"}
    assert by_scope_day(rows) == {("L1", day(5)): (170.0, 190.0), ("L1", day(6)): (0.0, 0.0),
                                  ("L2", day(6)): (18.0, 20.0)}


def test_line_scope_without_machines_is_refused() -> None:
    with pytest.raises(ValueError, match="machines"):
        first_pass_yield(lazy_frame(INSPECTIONS), plant_timezone=PLANT_TZ, scope="line")


@pytest.mark.spark
@pytest.mark.parametrize("kpi", [first_pass_yield, scrap_ratio, rework_ratio])
@pytest.mark.parametrize("scope", ["machine", "line"])
def test_quality_kpis_agree_on_polars_and_pyspark(spark: object, kpi: object, scope: str) -> None:
    result = assert_engine_parity(kpi, {"inspections": INSPECTIONS, "machines": MACHINES}, spark=spark,
                                  plant_timezone=PLANT_TZ, scope=scope)
    assert result.rows == (4 if scope == "machine" else 3)
