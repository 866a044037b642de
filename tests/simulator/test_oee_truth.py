from datetime import date

import pandas as pd
import pytest

from simulator.oee_truth import MICRO_STOP_THRESHOLD_S, oee_from_intervals


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
    assert (row["unplanned_stop_count"], row["unplanned_stop_s"]) == (1, 45 * 60)


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


COLUMNS = ["machine_id", "state", "reason_code", "started_at", "ended_at"]
TWO_SHIFTS = pd.DataFrame([(date(2026, 1, 5), "S1", ts("06:00"), ts("14:00"), 1800.0),
                           (date(2026, 1, 5), "S2", ts("14:00"), ts("22:00"), 0.0)],
                          columns=["shift_date", "shift_id", "shift_start_at", "shift_end_at", "break_s"])
MICRO_AND_BREAKDOWNS = [
    ("M1", "running", "producing", ts("06:00"), ts("08:00")),
    ("M1", "unplanned_stop", "micro_stop", ts("08:00"), ts("08:02")),  # 120 s: run time (performance loss)
    ("M1", "running", "producing", ts("08:02"), ts("09:00")),
    ("M1", "unplanned_stop", "breakdown", ts("09:00"), ts("09:30")),  # 1,800 s: availability loss, a failure
    ("M1", "running", "producing", ts("09:30"), ts("10:00")),
    ("M1", "planned_stop", "break", ts("10:00"), ts("10:30")),
    ("M1", "running", "producing", ts("10:30"), ts("13:50")),
    ("M1", "unplanned_stop", "breakdown", ts("13:50"), ts("14:20")),  # 1,800 s: a failure of S1, 600 s in S1
    ("M1", "running", "producing", ts("14:20"), ts("21:55")),
    ("M1", "unplanned_stop", "material_shortage", ts("21:55"), ts("21:59")),  # 240 s: short, run time
    ("M1", "running", "producing", ts("21:59"), ts("22:00")),
    ("M1", "idle", "not_scheduled", ts("22:00"), ts("23:00")),
]
COUNTS = pd.DataFrame([("M1", "P1", ts("07:00"), 600, 570), ("M1", "P1", ts("15:00"), 800, 800)],
                      columns=["machine_id", "material_id", "counted_at", "total_count", "good_count"])
IDEAL = pd.DataFrame([("M1", "P1", 30.0)], columns=["machine_id", "material_id", "ideal_cycle_time_s"])


def test_micro_stops_are_run_time_and_long_unplanned_stops_are_counted():
    intervals = pd.DataFrame(MICRO_AND_BREAKDOWNS, columns=COLUMNS)
    s1, s2 = oee_from_intervals(intervals, COUNTS, TWO_SHIFTS, IDEAL).itertuples(index=False)

    assert MICRO_STOP_THRESHOLD_S == 300.0
    # S1: 7,200 + 120 (micro stop) + 3,480 + 1,800 + 12,000 s; breakdowns 1,800 s + the first 600 s of the second
    assert (s1.planned_time_s, s1.run_time_s) == (27000.0, 24600.0)
    assert (s1.unplanned_stop_count, s1.unplanned_stop_s) == (2, 2400.0)
    assert s1.availability == pytest.approx(24600 / 27000)
    assert s1.performance == pytest.approx(600 * 30 / 24600)
    assert s1.quality == pytest.approx(0.95)
    # S2: the breakdown that started in S1 costs 1,200 s but is not an S2 failure; the 240 s shortage is run time
    assert (s2.planned_time_s, s2.run_time_s) == (28800.0, 27300.0 + 240.0 + 60.0)
    assert (s2.unplanned_stop_count, s2.unplanned_stop_s) == (0, 1200.0)
    assert s2.performance == pytest.approx(800 * 30 / 27600)
    assert s2.oee == pytest.approx(27600 / 28800 * 800 * 30 / 27600)


def test_micro_stop_threshold_is_a_parameter():
    intervals = pd.DataFrame(MICRO_AND_BREAKDOWNS, columns=COLUMNS)
    s1, s2 = oee_from_intervals(intervals, COUNTS, TWO_SHIFTS, IDEAL,
                                micro_stop_threshold_s=100.0).itertuples(index=False)
    assert (s1.run_time_s, s1.unplanned_stop_count, s1.unplanned_stop_s) == (24480.0, 3, 2520.0)
    assert (s2.run_time_s, s2.unplanned_stop_count, s2.unplanned_stop_s) == (27360.0, 1, 1440.0)
    s1, s2 = oee_from_intervals(intervals, COUNTS, TWO_SHIFTS, IDEAL,
                                micro_stop_threshold_s=0.0).itertuples(index=False)
    assert s1.run_time_s == 24480.0 and s2.run_time_s == 27360.0  # no stop is short: running time only


def test_a_stop_split_into_touching_pieces_is_judged_by_its_whole_length():
    rows = []
    for machine, state, reason, start, end in MICRO_AND_BREAKDOWNS:
        middle = start + (end - start) / 2
        rows += [(machine, state, reason, start, middle), (machine, state, reason, middle, end)]
    split = oee_from_intervals(pd.DataFrame(rows, columns=COLUMNS), COUNTS, TWO_SHIFTS, IDEAL)
    whole = oee_from_intervals(pd.DataFrame(MICRO_AND_BREAKDOWNS, columns=COLUMNS), COUNTS, TWO_SHIFTS, IDEAL)
    pd.testing.assert_frame_equal(split, whole)
