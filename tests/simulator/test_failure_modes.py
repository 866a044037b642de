"""The two failure modes of the simulated machines: wear and the thermal (spindle / drive) fault (machine_logic)."""

from __future__ import annotations

import math

import polars as pl
import pytest
from sim_test_support import small_config

from simulator import simulate
from simulator.machine_logic import THERMAL_FAILURE_MODES, WEAR_FAILURE_MODES
from simulator.risk_truth import machine_hour_rows

DAY_START = 1_767_571_200.0  # 2026-01-05 00:00 UTC


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    folder = tmp_path_factory.mktemp("failure_modes")
    simulate(small_config(days=21, signal_interval_s=120), folder)
    return folder


def hourly(folder) -> pl.DataFrame:
    """Per machine and hour: running means of the condition tags, joined to the hour's truth."""
    signals = pl.concat([pl.read_parquet(path) for path in sorted((folder / "signals").glob("*.parquet"))])
    signals = signals.with_columns(pl.col("machine_id").cast(pl.String), pl.col("tag").cast(pl.String))
    wide = (signals.pivot(on="tag", index=["machine_id", "source_at"], values="value")
            .filter(pl.col("state") == 1)
            .with_columns(pl.col("source_at").dt.truncate("1h").alias("hour_start_at"))
            .group_by("machine_id", "hour_start_at")
            # a sensor dropout (simulator/signal_anomalies.py) reports no value: left out of the means
            .agg(pl.col("temperature_c", "vibration_mm_s", "motor_current_a", "speed_per_min").fill_nan(None).mean()))
    truth = pl.read_parquet(folder / "truth" / "machine_hours.parquet")
    return truth.filter(pl.col("run_s") == 3600.0).join(wide, on=["machine_id", "hour_start_at"]).with_columns(
        # what the signals show beyond running and wear (signals.sample_machine)
        (pl.col("temperature_c") - 38.0 - 12.0 * pl.col("wear_end")).alias("temperature_excess_c"),
        (pl.col("vibration_mm_s") - 1.8 - 7.0 * pl.col("wear_end") ** 2).alias("vibration_excess_mm_s"),
        (pl.col("motor_current_a") - 5.6 - 0.05 * pl.col("speed_per_min") - 3.0 * pl.col("wear_end"))
        .alias("current_excess_a"))


def test_breakdowns_come_from_both_modes(plant):
    breakdowns = pl.read_parquet(plant / "truth" / "breakdowns.parquet")
    thermal = breakdowns.filter(pl.col("failure_mode").is_in(THERMAL_FAILURE_MODES)).height
    wear = breakdowns.filter(pl.col("failure_mode").is_in(WEAR_FAILURE_MODES)).height
    assert thermal + wear == breakdowns.height
    assert 0.25 <= thermal / breakdowns.height <= 0.6


def test_thermal_breakdowns_follow_a_thermal_fault(plant):
    breakdowns = pl.read_parquet(plant / "truth" / "breakdowns.parquet").filter(
        pl.col("failure_mode").is_in(THERMAL_FAILURE_MODES))
    truth = pl.read_parquet(plant / "truth" / "machine_hours.parquet")
    for machine_id, started_at in breakdowns.select("machine_id", "started_at").iter_rows():
        hour = started_at.replace(minute=0, second=0, microsecond=0)
        before = truth.filter(pl.col("machine_id") == machine_id, pl.col("hour_start_at") < hour).tail(1)
        assert before["thermal_fault"][0] > 0.0  # the fault was there at the start of the breakdown's hour


def test_the_fault_heats_and_loads_the_machine_but_does_not_shake_it(plant):
    hours = hourly(plant)
    faulty = hours.filter(pl.col("thermal_fault") >= 0.3)
    sound = hours.filter(pl.col("thermal_fault") == 0.0)
    assert faulty.height >= 20 and sound.height >= 50
    # +18 C and +3.5 A per unit of fault level: at least +5.4 C and +1.05 A at 0.3
    assert faulty["temperature_excess_c"].mean() > 5.0 > 1.0 > abs(sound["temperature_excess_c"].mean())
    assert faulty["current_excess_a"].mean() > 1.0 > 0.3 > abs(sound["current_excess_a"].mean())
    assert abs(faulty["vibration_excess_mm_s"].mean() - sound["vibration_excess_mm_s"].mean()) < 0.1


def test_truth_hazard_includes_the_fault_term(plant):
    hours = hourly(plant).filter(pl.col("thermal_fault") >= 0.3)
    wear, fault = hours["wear_end"], hours["thermal_fault"]
    full = 0.004 + 0.35 * wear ** 2 + 0.6 * fault ** 2
    # time-weighted over a fully running hour (no repair or maintenance inside), in which wear grows by less than
    # 0.035 and the fault by at most 0.05: between the total hazard at the levels the hour started and ended with
    assert (hours["hazard_per_run_h"] <= full + 1e-9).all()
    assert (hours["hazard_per_run_h"] >= 0.004 + 0.35 * (wear - 0.035) ** 2 + 0.6 * (fault - 0.05) ** 2).all()
    assert (hours["hazard_per_run_h"] - (0.004 + 0.35 * wear ** 2)).mean() > 0.05  # the wear term alone is short


def test_machine_hour_rows_integrate_both_terms_exactly():
    # one hour of running: wear constant 0.2, the fault level rising from 0 to 0.6 (mean square 0.12)
    segment = (DAY_START, DAY_START + 3600.0, 1, 10.0, 0, 0, 0, 0, 0.2, 0.2, 0.0, 6.0, 0.0, 0.6)
    idle = (DAY_START + 3600.0, DAY_START + 86400.0, 0, 0.0, 0, 0, 0, 0, 0.2, 0.2, 0.0, 0.0, 0.6, 0.6)
    rows = machine_hour_rows({"M": [segment, idle]}, DAY_START)
    machine_id, hour_start, run_s, wear_end, hazard, expected, fault_end = rows[0]
    assert (machine_id, hour_start, run_s, fault_end) == ("M", DAY_START, 3600.0, 0.6)
    assert hazard == pytest.approx(0.004 + 0.35 * 0.04 + 0.6 * 0.12)  # 0.09
    assert expected == pytest.approx(0.09)
    # an idle hour: no running, the hazard at its end level, no expected breakdowns
    assert rows[1][4] == pytest.approx(0.004 + 0.35 * 0.04 + 0.6 * 0.36) and rows[1][5] == 0.0
    assert math.isclose(rows[1][6], 0.6)
