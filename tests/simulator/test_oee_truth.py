from datetime import date

import pandas as pd
import pytest

from simulator.oee_truth import oee_from_intervals


def ts(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-01-05T{hhmm}:00Z")


def test_hand_computed_shift():
    # 06:00-14:00 shift (480 min) with a 30 min break 10:00-10:30 and a 45 min breakdown.
    intervals = pd.DataFrame([
        ("M1", "running", "producing", ts("06:00"), ts("08:00")),
        ("M1", "unplanned_stop", "breakdown", ts("08:00"), ts("08:45")),
        ("M1", "running", "producing", ts("08:45"), ts("10:00")),
        ("M1", "planned_stop", "break", ts("10:00"), ts("10:30")),
        ("M1", "running", "producing", ts("10:30"), ts("14:00")),
        ("M1", "idle", "not_scheduled", ts("14:00"), ts("18:00")),
    ], columns=["machine_id", "state", "reason_code", "started_at", "ended_at"])
    counts = pd.DataFrame([
        ("M1", "P1", ts("07:00"), 300, 290),
        ("M1", "P1", ts("12:00"), 500, 470),
        ("M1", "P1", ts("15:00"), 999, 999),  # outside the shift, ignored
    ], columns=["machine_id", "material_id", "counted_at", "total_count", "good_count"])
    shifts = pd.DataFrame([(date(2026, 1, 5), "S1", ts("06:00"), ts("14:00"), 1800.0)],
                          columns=["shift_date", "shift_id", "shift_start_at", "shift_end_at", "break_s"])
    ideal = pd.DataFrame([("M1", "P1", 27.0)], columns=["machine_id", "material_id", "ideal_cycle_time_s"])

    row = oee_from_intervals(intervals, counts, shifts, ideal).iloc[0]

    assert row["planned_time_s"] == 450 * 60
    assert row["run_time_s"] == 405 * 60
    assert row["ideal_time_s"] == 800 * 27.0
    assert (row["total_count"], row["good_count"]) == (800, 760)
    assert row["availability"] == pytest.approx(0.9)
    assert row["performance"] == pytest.approx(21600 / 24300)
    assert row["quality"] == pytest.approx(0.95)
    assert row["oee"] == pytest.approx(0.9 * 21600 / 24300 * 0.95)
    assert row["oee"] == pytest.approx(0.76)


def test_planned_maintenance_is_excluded_and_changeover_is_loss():
    intervals = pd.DataFrame([
        ("M1", "planned_stop", "planned_maintenance", ts("06:00"), ts("07:00")),
        ("M1", "planned_stop", "changeover", ts("07:00"), ts("07:30")),
        ("M1", "running", "producing", ts("07:30"), ts("14:00")),
    ], columns=["machine_id", "state", "reason_code", "started_at", "ended_at"])
    counts = pd.DataFrame([("M1", "P1", ts("08:00"), 700, 700)],
                          columns=["machine_id", "material_id", "counted_at", "total_count", "good_count"])
    shifts = pd.DataFrame([(date(2026, 1, 5), "S1", ts("06:00"), ts("14:00"), 0.0)],
                          columns=["shift_date", "shift_id", "shift_start_at", "shift_end_at", "break_s"])
    ideal = pd.DataFrame([("M1", "P1", 30.0)], columns=["machine_id", "material_id", "ideal_cycle_time_s"])
    row = oee_from_intervals(intervals, counts, shifts, ideal).iloc[0]
    assert row["planned_time_s"] == 420 * 60
    assert row["run_time_s"] == 390 * 60
    assert row["availability"] == pytest.approx(390 / 420)
    assert row["performance"] == pytest.approx(700 * 30 / (390 * 60))
    assert row["quality"] == 1.0
