"""Plant-local days, epoch microseconds and calendar periods: against zoneinfo, and the same on both engines."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import narwhals as nw
import numpy as np
import pyarrow as pa
import pytest
from kpi_support import TIMESTAMP, UTC

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.kpi.plant_time import epoch_us, month_start, plant_day, seconds_between, utc_offsets, week_start

DST_EDGES = [  # Europe/Berlin: +1 in winter, +2 from 2026-03-29 01:00Z to 2026-10-25 01:00Z
    (dt.datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC), dt.date(2026, 3, 28)),
    (dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC), dt.date(2026, 3, 29)),
    (dt.datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC), dt.date(2026, 7, 1)),
    (dt.datetime(2026, 7, 1, 22, 0, tzinfo=UTC), dt.date(2026, 7, 2)),
    (dt.datetime(2026, 10, 24, 21, 59, tzinfo=UTC), dt.date(2026, 10, 24)),
    (dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC), dt.date(2026, 10, 25)),
    (dt.datetime(2026, 10, 25, 22, 59, tzinfo=UTC), dt.date(2026, 10, 25)),
    (dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC), dt.date(2026, 10, 26)),
]


def instants(n: int = 2_000, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    offsets_us = rng.integers(0, 40 * 365 * 86_400 * 1_000_000, n)
    moments = [dt.datetime(2005, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=int(u)) for u in offsets_us]
    return pa.table({"at": pa.array(moments, TIMESTAMP), "later": pa.array([m + dt.timedelta(hours=30, microseconds=7)
                                                                            for m in moments], TIMESTAMP),
                     "day": pa.array([m.date() for m in moments], pa.date32())})


def test_plant_day_changes_at_local_midnight_across_daylight_saving() -> None:
    data = pa.table({"at": pa.array([m for m, _ in DST_EDGES], TIMESTAMP)})
    days = collect_arrow(lazy_frame(data).select(plant_day("at", "Europe/Berlin").alias("day"))).column(0)
    assert days.to_pylist() == [d for _, d in DST_EDGES]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
def test_plant_day_and_epoch_match_zoneinfo(zone: str) -> None:
    data = instants()
    result = collect_arrow(lazy_frame(data).select(plant_day("at", zone).alias("day"), epoch_us("at").alias("us"),
                                                   seconds_between("at", "later").alias("s"))).to_pydict()
    moments = data.column("at").to_pylist()
    assert result["day"] == [m.astimezone(ZoneInfo(zone)).date() for m in moments]
    assert result["us"] == [(m - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1) for m in moments]
    assert set(result["s"]) == {30 * 3600 + 7e-6}


def test_offsets_of_a_zone_without_daylight_saving_are_one_period() -> None:
    assert [seconds for _, seconds in utc_offsets("Asia/Kolkata")] == [19_800]
    berlin = utc_offsets("Europe/Berlin")
    assert (dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200) in berlin
    assert (dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600) in berlin


def test_week_starts_on_monday_and_month_on_the_first() -> None:
    days = [dt.date(2026, 1, 4), dt.date(2026, 1, 5), dt.date(2026, 1, 11), dt.date(2024, 2, 29), dt.date(2027, 1, 1)]
    result = collect_arrow(lazy_frame(pa.table({"day": days})).select(
        week_start(nw.col("day")).alias("week"), month_start(nw.col("day")).alias("month"))).to_pydict()
    assert result["week"] == [dt.date(2025, 12, 29), dt.date(2026, 1, 5), dt.date(2026, 1, 5), dt.date(2024, 2, 26),
                              dt.date(2026, 12, 28)]
    assert result["month"] == [dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2024, 2, 1),
                               dt.date(2027, 1, 1)]


@pytest.mark.spark
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_plant_time_agrees_on_polars_and_pyspark(spark: object, zone: str) -> None:
    def calendar(instants: nw.LazyFrame) -> nw.LazyFrame:
        return instants.select(plant_day("at", zone).alias("plant_day"), epoch_us("at").alias("us"),
                               seconds_between("at", "later").alias("s"), week_start(nw.col("day")).alias("week"),
                               month_start(nw.col("day")).alias("month"))

    result = assert_engine_parity(calendar, {"instants": instants(500)}, spark=spark, rel_tol=0.0)
    assert result.rows == 500
