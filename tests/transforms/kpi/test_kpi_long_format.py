"""The long KPI shape: value with a zero denominator, roll-ups by week, month and site that sum before dividing."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pyarrow as pa
import pytest
from kpi_support import compute, day

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.kpi import KPI_COLUMNS, roll_up, with_value

SCHEMA = {"kpi": pa.string(), "scope_type": pa.string(), "scope_id": pa.string(), "day": pa.date32(),
          "numerator": pa.float64(), "denominator": pa.float64()}
# Sat 2026-01-31 and Sun 02-01 lie in the ISO week starting Mon 01-26; Mon 02-02 starts the next week.
DAILY = pa.table({
    "kpi": ["throughput_time"] * 5 + ["first_pass_yield"] * 3,
    "scope_type": ["line"] * 5 + ["machine"] * 3,
    "scope_id": ["L1", "L1", "L1", "L2", "L1", "M1", "M1", "M2"],
    "day": [day(26), day(31), day(1, month=2), day(31), day(2, month=2), day(30), day(31), day(31)],
    "numerator": [3600.0, 7200.0, 1800.0, 600.0, 900.0, 90.0, 0.0, 45.0],
    "denominator": [1.0, 2.0, 1.0, 1.0, 1.0, 100.0, 0.0, 50.0]}, schema=pa.schema(SCHEMA))


def rolled(**options: object) -> dict[tuple[str, str, dt.date], tuple[float, float, float | None]]:
    rows = collect_arrow(roll_up(lazy_frame(DAILY), **options)).to_pylist()
    return {(r["kpi"], r["scope_id"], r["period_start"]): (r["numerator"], r["denominator"], r["value"]) for r in rows}


def test_value_is_the_ratio_and_null_for_a_zero_denominator() -> None:
    values = [r["value"] for r in compute(with_value, DAILY)]
    assert values == [3600.0, 3600.0, 1800.0, 600.0, 900.0, 0.9, None, 0.9]


def test_a_week_is_the_sum_of_its_days() -> None:
    weeks = rolled(grain="week")
    assert weeks == {
        ("throughput_time", "L1", day(26)): (3600.0 + 7200.0 + 1800.0, 4.0, 12600.0 / 4),
        ("throughput_time", "L1", day(2, month=2)): (900.0, 1.0, 900.0),
        ("throughput_time", "L2", day(26)): (600.0, 1.0, 600.0),
        ("first_pass_yield", "M1", day(26)): (90.0, 100.0, 0.9),  # the empty Saturday adds nothing
        ("first_pass_yield", "M2", day(26)): (45.0, 50.0, 0.9),
    }
    days = {(r["kpi"], r["scope_id"], r["day"]): r for r in DAILY.to_pylist()}
    for (kpi, scope, start), (numerator, denominator, _) in weeks.items():
        members = [r for (k, s, d), r in days.items() if k == kpi and s == scope and 0 <= (d - start).days < 7]
        assert numerator == sum(r["numerator"] for r in members)
        assert denominator == sum(r["denominator"] for r in members)


def test_a_month_starts_on_its_first_day_and_a_site_sums_every_scope() -> None:
    months = rolled(grain="month")
    assert months[("throughput_time", "L1", day(1))] == (10800.0, 3.0, 3600.0)
    assert months[("throughput_time", "L1", day(1, month=2))] == (2700.0, 2.0, 1350.0)
    site = collect_arrow(roll_up(lazy_frame(DAILY), grain="week", site="PLANT-1")).to_pylist()
    first_week = {r["kpi"]: r for r in site if r["period_start"] == day(26)}
    throughput = first_week["throughput_time"]
    assert (throughput["scope_type"], throughput["scope_id"]) == ("site", "PLANT-1")
    assert throughput["value"] == (12600.0 + 600.0) / 5  # weighed by orders, not by lines
    assert first_week["first_pass_yield"]["value"] == pytest.approx(135 / 150)


def test_a_day_roll_up_keeps_every_row_and_names_its_grain() -> None:
    rows = collect_arrow(roll_up(lazy_frame(DAILY))).to_pylist()
    assert len(rows) == DAILY.num_rows and {r["grain"] for r in rows} == {"day"}
    assert sorted(rows[0]) == sorted(["kpi", "scope_type", "scope_id", "grain", "period_start", "numerator",
                                      "denominator", "value"])
    assert list(KPI_COLUMNS) == list(SCHEMA)


@pytest.mark.spark
@pytest.mark.parametrize("options", [{"grain": "day"}, {"grain": "week"}, {"grain": "month", "site": "PLANT-1"}])
def test_roll_up_agrees_on_polars_and_pyspark(spark: object, options: dict) -> None:
    assert_engine_parity(lambda kpis: roll_up(kpis, **options), {"kpis": DAILY}, spark=spark)


@pytest.mark.spark
def test_with_value_agrees_on_polars_and_pyspark(spark: object) -> None:
    assert_engine_parity(lambda kpis: with_value(kpis).select(nw.all()), {"kpis": DAILY}, spark=spark)
