"""OEE on published worked examples, roll-ups that sum rather than average, window invariance, parity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.oee import oee_components, roll_up


def computed(table: pa.Table, by: list[str] | None = None) -> pl.DataFrame:
    frame = lazy_frame(table)
    result = pl.from_arrow(collect_arrow(roll_up(frame, by) if by else oee_components(frame)))
    assert isinstance(result, pl.DataFrame)
    return result


def test_vorne_fast_guide_worked_example() -> None:
    """480-minute shift, 60 min breaks, 47 min downtime, ideal 60 parts/min, 19,271 parts, 423 rejects."""
    shift = pa.table({"planned_time_s": [(480 - 60) * 60.0], "run_time_s": [(420 - 47) * 60.0],
                      "ideal_time_s": [19_271 * 1.0], "total_count": [19_271], "good_count": [19_271 - 423]})
    row = computed(shift).row(0, named=True)
    assert row["planned_time_s"] == 420 * 60 and row["run_time_s"] == 373 * 60
    assert row["availability"] == pytest.approx(0.888095, abs=5e-7)
    assert row["performance"] == pytest.approx(0.861081, abs=5e-7)
    assert row["quality"] == pytest.approx(0.978050, abs=5e-7)
    assert row["oee"] == pytest.approx(0.747937, abs=5e-7)
    assert row["oee"] == pytest.approx(row["availability"] * row["performance"] * row["quality"], rel=1e-12)
    waterfall = row["availability_loss_s"] + row["performance_loss_s"] + row["quality_loss_s"]
    assert waterfall + row["fully_productive_time_s"] == pytest.approx(row["planned_time_s"], rel=1e-12)


def test_roll_up_weighs_by_planned_time_instead_of_averaging() -> None:
    """Machine X: 480 min planned, 240 fully productive; Y: 120 planned, 108 fully productive -> 348/600."""
    machines = pa.table({"line_id": ["L1", "L1"], "machine_id": ["X", "Y"],
                         "planned_time_s": [480 * 60.0, 120 * 60.0], "run_time_s": [480 * 60.0, 120 * 60.0],
                         "ideal_time_s": [240 * 60.0, 108 * 60.0], "total_count": [100, 100],
                         "good_count": [100, 100]})
    each = computed(machines).sort("machine_id")
    assert each["oee"].to_list() == pytest.approx([0.5, 0.9])
    line = computed(machines, ["line_id"]).row(0, named=True)
    assert line["oee"] == pytest.approx(348 / 600) and line["oee"] == pytest.approx(0.58)
    assert line["oee"] != pytest.approx(each["oee"].mean())


def test_a_p_q_of_ninety_percent_give_729() -> None:
    row = computed(pa.table({"planned_time_s": [1000.0], "run_time_s": [900.0], "ideal_time_s": [810.0],
                             "total_count": [1000], "good_count": [900]})).row(0, named=True)
    assert (row["availability"], row["performance"], row["quality"]) == pytest.approx((0.9, 0.9, 0.9))
    assert row["oee"] == pytest.approx(0.729)


def test_performance_above_one_is_flagged_not_clipped() -> None:
    row = computed(pa.table({"planned_time_s": [100.0], "run_time_s": [50.0], "ideal_time_s": [60.0],
                             "total_count": [60], "good_count": [60]})).row(0, named=True)
    assert row["performance"] == pytest.approx(1.2) and row["is_performance_above_one"] is True


def shifts(days: int = 14, machines: int = 4, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = days * machines * 2
    planned = rng.uniform(6 * 3600, 7.5 * 3600, n)
    run = planned * rng.uniform(0.6, 0.98, n)
    total = rng.integers(200, 900, n)
    return pa.table({
        "machine_id": [f"M{i % machines}" for i in range(n)],
        "shift_date": [dt.date(2026, 1, 5) + dt.timedelta(days=i // (machines * 2)) for i in range(n)],
        "planned_time_s": planned, "run_time_s": run, "ideal_time_s": run * rng.uniform(0.7, 1.0, n),
        "total_count": total, "good_count": (total * rng.uniform(0.9, 1.0, n)).astype(np.int64)})


def test_a_week_computed_directly_equals_the_roll_up_of_its_days() -> None:
    data = pl.from_arrow(shifts()).with_columns(pl.col("shift_date").dt.truncate("1w").alias("week"),
                                                pl.col("shift_date").alias("day"))
    days = computed(data.to_arrow(), ["machine_id", "week", "day"])
    from_days = computed(days.select("machine_id", "week", "planned_time_s", "run_time_s", "ideal_time_s",
                                     "fully_productive_time_s", "total_count", "good_count").to_arrow(),
                         ["machine_id", "week"])
    direct = computed(data.to_arrow(), ["machine_id", "week"])
    columns = ["machine_id", "week", "availability", "performance", "quality", "oee"]
    left, right = from_days.select(columns).sort("machine_id", "week"), direct.select(columns).sort("machine_id", "week")
    assert left.height == 8
    for column in columns[2:]:
        assert left[column].to_list() == pytest.approx(right[column].to_list(), rel=1e-12)
    naive = days.group_by("machine_id", "week").agg(pl.col("oee").mean()).sort("machine_id", "week")
    assert not np.allclose(naive["oee"].to_numpy(), right["oee"].to_numpy(), rtol=1e-6)


@pytest.mark.spark
def test_oee_roll_up_agrees_on_polars_and_pyspark(spark: object) -> None:
    result = assert_engine_parity(lambda shifts: roll_up(shifts, ["machine_id"]), {"shifts": shifts()},
                                  spark=spark, sort_by=["machine_id"], rel_tol=1e-9)
    assert result.rows == 4
