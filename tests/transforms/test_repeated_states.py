"""MES state events that repeat the machine's current state and reason code are one interval: a stop reported
again is classified on its whole length (micro-stop or not) and is one failure, also across a break or a shift
boundary and whatever the OPC UA tag or the collector's gaps say meanwhile; Polars equals PySpark.

The calendar of test_equipment_timeline: shift S1 06:00-14:00 with a break 10:00-10:30 (27,000 s planned), so
a machine running all shift has 27,000 s of run time; the micro-stop threshold is 300 s."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl
import pyarrow as pa
import pytest
from test_equipment_timeline import BREAKS, DAY, END_US, gaps, mes, opcua, per_shift, tables, us

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.equipment_time import mes_state_changes, shift_times
from transforms.kpi.equipment import equipment_kpis_per_shift
from transforms.loss_mapping import load_loss_mapping
from transforms.machine_shift_oee import OeeFrames, classified_time
from transforms.oee import oee_components
from transforms.shift_calendar import calendar_boundaries

PLANNED_S = 8 * 3600 - 1800
TWO_SHIFTS = pa.table({"shift_id": ["S1", "S2"], "shift_name": ["early", "late"],
                       "start_local_time": ["06:00:00", "14:00:00"], "end_local_time": ["14:00:00", "22:00:00"],
                       "scheduled_weekdays": ["Mon,Tue,Wed,Thu,Fri"] * 2})


def two_shift_tables(mes_rows: pa.Table) -> dict[str, pa.Table]:
    """S1 as above, S2 14:00-22:00 without a break (28,800 s planned)."""
    return {**tables(mes_rows), "calendar": calendar_boundaries(TWO_SHIFTS, BREAKS, "UTC", DAY, DAY)}


def shift_rows(inputs: dict[str, pa.Table], engine: str = "polars", spark: object = None) -> pl.DataFrame:
    mapping = load_loss_mapping()
    frames: dict[str, Any] = {name: lazy_frame(table, engine, spark=spark) for name, table in inputs.items()}
    frames.update(shift_days=None, counts=None, ideal=None)
    result = shift_times(classified_time(OeeFrames(**frames, end_us=END_US), mapping))
    return pl.from_arrow(collect_arrow(result)).sort("machine_id", "shift_id")


def per_machine_and_shift(inputs: dict[str, pa.Table]) -> dict[tuple[str, str], dict]:
    return {(row["machine_id"], row["shift_id"]): row for row in shift_rows(inputs).to_dicts()}


def mtbf_and_mttr(inputs: dict[str, pa.Table], machine_id: str) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of MTBF and MTTR per machine and shift, as `plantlake kpi` computes them."""
    times = nw.from_native(shift_rows(inputs).lazy()).with_columns(
        nw.lit(0).alias("total_count"), nw.lit(0).alias("good_count"), nw.lit(0.0).alias("ideal_time_s"))
    kpis = equipment_kpis_per_shift(oee_components(times)).to_native().collect()
    rows = kpis.filter(pl.col("scope_id") == machine_id, pl.col("kpi").is_in(["mtbf", "mttr"])).to_dicts()
    return {row["kpi"]: (row["numerator"], row["denominator"]) for row in rows}


@pytest.mark.parametrize(("reason", "failures"), [("breakdown", 1), ("material_shortage", 0)])
def test_a_stop_reported_again_is_one_stop_of_its_whole_length(reason: str, failures: int) -> None:
    """The issue's case: an unplanned stop of 601 s whose event is repeated after 121 s. Before, the 121 s piece
    was a micro-stop (run time 27,000 - 480 s) and the failure counted in the 480 s piece only."""
    stop = ("M1", us(8), "unplanned_stop", reason)
    repeat = ("M1", us(8, 2, 1), "unplanned_stop", reason)
    inputs = mes(("M1", us(5, 50), "running", "producing"), stop, repeat, ("M1", us(8, 10, 1), "running", "producing"))
    row = per_shift(tables(inputs))["M1"]
    assert row["planned_time_s"] == PLANNED_S
    assert row["run_time_s"] == PLANNED_S - 601 == 26_399
    assert row["micro_stop_time_s"] == 0
    assert row["failure_count"] == failures and row["failure_time_s"] == 601 * failures
    reported_once = per_shift(tables(mes(("M1", us(5, 50), "running", "producing"), stop,
                                         ("M1", us(8, 10, 1), "running", "producing"))))["M1"]
    assert row == reported_once
    if failures:
        assert mtbf_and_mttr(tables(inputs), "M1") == {"mtbf": (26_399.0, 1.0), "mttr": (601.0, 1.0)}


def test_a_short_stop_reported_again_stays_a_micro_stop() -> None:
    """A 150 s breakdown reported three times: one micro-stop inside run time, no failure."""
    inputs = mes(("M1", us(5, 50), "running", "producing"), ("M1", us(8), "unplanned_stop", "breakdown"),
                 ("M1", us(8, 1), "unplanned_stop", "breakdown"), ("M1", us(8, 2), "unplanned_stop", "breakdown"),
                 ("M1", us(8, 2, 30), "running", "producing"))
    row = per_shift(tables(inputs))["M1"]
    assert row["micro_stop_time_s"] == 150
    assert row["run_time_s"] == row["planned_time_s"] == PLANNED_S
    assert row["failure_count"] == 0 and row["failure_time_s"] == 0


def test_a_new_reason_code_is_a_new_interval() -> None:
    """material_shortage 120 s, then breakdown 600 s (same state, new reason): a micro-stop and a failure. Then
    breakdown 240 s, material_shortage 60 s, breakdown 240 s: not consecutive, so three micro-stops."""
    inputs = mes(("M1", us(5, 50), "running", "producing"),
                 ("M1", us(8), "unplanned_stop", "material_shortage"), ("M1", us(8, 2), "unplanned_stop", "breakdown"),
                 ("M1", us(8, 12), "running", "producing"),
                 ("M1", us(9), "unplanned_stop", "breakdown"), ("M1", us(9, 4), "unplanned_stop", "material_shortage"),
                 ("M1", us(9, 5), "unplanned_stop", "breakdown"), ("M1", us(9, 9), "running", "producing"))
    row = per_shift(tables(inputs))["M1"]
    assert row["micro_stop_time_s"] == 120 + 240 + 60 + 240
    assert row["run_time_s"] == PLANNED_S - 600
    assert row["failure_count"] == 1 and row["failure_time_s"] == 600


def test_a_repeated_running_event_changes_nothing() -> None:
    changes = [("M1", us(5, 50), "running", "producing"), ("M1", us(11), "unplanned_stop", "breakdown"),
               ("M1", us(11, 10), "running", "producing")]
    repeats = [("M1", us(7), "running", "producing"), ("M1", us(10, 15), "running", "producing"),
               ("M1", us(11, 10), "running", "producing"), ("M1", us(11, 10, 30), "running", "producing"),
               ("M1", us(13, 59, 59), "running", "producing"), ("M1", us(14, 30), "running", "producing")]
    once = per_shift(tables(mes(*changes)))["M1"]
    assert once["run_time_s"] == PLANNED_S - 600 and once["failure_count"] == 1 and once["failure_time_s"] == 600
    assert per_shift(tables(mes(*changes, *repeats)))["M1"] == once


@pytest.mark.parametrize("repeated_at", [us(10, 29), us(10, 31)], ids=["in the break", "after the break"])
def test_a_stop_repeated_across_a_break_is_one_failure(repeated_at: int) -> None:
    """A breakdown 09:58-10:33 across the 10:00-10:30 break: 120 s before and 180 s after it are working time,
    the break is a planned stop; the whole stop is 35 min, so no piece is a micro-stop and it is one failure."""
    inputs = mes(("M1", us(5, 50), "running", "producing"), ("M1", us(9, 58), "unplanned_stop", "breakdown"),
                 ("M1", repeated_at, "unplanned_stop", "breakdown"), ("M1", us(10, 33), "running", "producing"))
    row = per_shift(tables(inputs))["M1"]
    assert row["planned_time_s"] == PLANNED_S and row["break_time_s"] == 1800
    assert row["micro_stop_time_s"] == 0
    assert row["run_time_s"] == PLANNED_S - 300
    assert row["failure_count"] == 1 and row["failure_time_s"] == 300


def test_a_stop_repeated_across_a_shift_boundary_is_one_stop_split_between_the_shifts() -> None:
    """M1: a breakdown 13:57-14:02 repeated at 14:01 is 300 s long, not a micro-stop: one failure, in S1 where it
    starts, with 180 s of downtime in S1 and 120 s in S2. M2: a breakdown 13:58-14:01 repeated at 14:00:30 is
    180 s long: a micro-stop on both sides of the boundary, no failure."""
    inputs = mes(("M1", us(5, 50), "running", "producing"), ("M1", us(13, 57), "unplanned_stop", "breakdown"),
                 ("M1", us(14, 1), "unplanned_stop", "breakdown"), ("M1", us(14, 2), "running", "producing"),
                 ("M2", us(5, 50), "running", "producing"), ("M2", us(13, 58), "unplanned_stop", "breakdown"),
                 ("M2", us(14, 0, 30), "unplanned_stop", "breakdown"), ("M2", us(14, 1), "running", "producing"))
    rows = per_machine_and_shift(two_shift_tables(inputs))
    early, late = rows[("M1", "S1")], rows[("M1", "S2")]
    assert early["planned_time_s"] == PLANNED_S and late["planned_time_s"] == 8 * 3600
    assert early["run_time_s"] == PLANNED_S - 180 and late["run_time_s"] == 8 * 3600 - 120
    assert early["micro_stop_time_s"] == 0 and late["micro_stop_time_s"] == 0
    assert (early["failure_count"], early["failure_time_s"]) == (1, 180)
    assert (late["failure_count"], late["failure_time_s"]) == (0, 120)
    early, late = rows[("M2", "S1")], rows[("M2", "S2")]
    assert early["run_time_s"] == PLANNED_S and late["run_time_s"] == 8 * 3600
    assert early["micro_stop_time_s"] == 120 and late["micro_stop_time_s"] == 60
    assert early["failure_count"] == late["failure_count"] == 0
    assert early["failure_time_s"] == late["failure_time_s"] == 0


@pytest.mark.parametrize("gap_machine", ["M1", None], ids=["state-node gap", "connection gap"])
def test_opcua_states_and_collector_gaps_do_not_interrupt_an_mes_stop(gap_machine: str | None) -> None:
    """Between the 601 s breakdown and its repeat the PLC reports running and the collector loses the state tag:
    the MES owns the instant, so the stop stays one 601 s failure and no time is unknown or read from OPC UA."""
    inputs = mes(("M1", us(5, 50), "running", "producing"), ("M1", us(8), "unplanned_stop", "breakdown"),
                 ("M1", us(8, 2, 1), "unplanned_stop", "breakdown"), ("M1", us(8, 10, 1), "running", "producing"))
    signals = opcua(("M1", us(6), 1.0), ("M1", us(8, 0, 30), 3.0), ("M1", us(8, 1), 1.0), ("M1", us(8, 5), 3.0))
    row = per_shift(tables(inputs, signals, gaps((gap_machine, us(8, 1, 30), us(8, 3)))))["M1"]
    assert row["unknown_time_s"] == 0 and row["opcua_sourced_time_s"] == 0
    assert row["run_time_s"] == PLANNED_S - 601 and row["micro_stop_time_s"] == 0
    assert row["failure_count"] == 1 and row["failure_time_s"] == 601


def test_only_changes_of_state_or_reason_are_kept() -> None:
    """mes_state_changes drops the repeats, exact duplicates included, and measures each interval to the next
    change of the same machine."""
    inputs = mes(("M1", us(8), "unplanned_stop", "breakdown"), ("M2", us(8, 1), "unplanned_stop", "breakdown"),
                 ("M1", us(8, 2, 1), "unplanned_stop", "breakdown"), ("M1", us(8, 2, 1), "unplanned_stop", "breakdown"),
                 ("M1", us(8, 10, 1), "running", "producing"), ("M1", us(8, 11), "running", "producing"))
    changes = (pl.from_arrow(collect_arrow(mes_state_changes(lazy_frame(inputs, "polars"), us(9))))
               .sort("machine_id", "at_us"))
    assert changes.select("machine_id", "at_us", "state", "interval_us").rows() == [
        ("M1", us(8), "unplanned_stop", 601_000_000), ("M1", us(8, 10, 1), "running", us(9) - us(8, 10, 1)),
        ("M2", us(8, 1), "unplanned_stop", us(9) - us(8, 1))]


@pytest.mark.spark
def test_merged_repeats_agree_on_polars_and_pyspark(spark: object) -> None:
    inputs = two_shift_tables(mes(
        ("M1", us(5, 50), "running", "producing"), ("M1", us(8), "unplanned_stop", "breakdown"),
        ("M1", us(8, 2, 1), "unplanned_stop", "breakdown"), ("M1", us(8, 10, 1), "running", "producing"),
        ("M1", us(8, 10, 1), "running", "producing"), ("M1", us(9, 58), "unplanned_stop", "breakdown"),
        ("M1", us(10, 31), "unplanned_stop", "breakdown"), ("M1", us(10, 33), "running", "producing"),
        ("M1", us(13, 57), "unplanned_stop", "breakdown"), ("M1", us(14, 1), "unplanned_stop", "breakdown"),
        ("M1", us(14, 2), "running", "producing"),
        ("M2", us(6), "unplanned_stop", "material_shortage"), ("M2", us(6, 2), "unplanned_stop", "breakdown"),
        ("M2", us(6, 3), "unplanned_stop", "breakdown"), ("M2", us(6, 4), "running", "producing"),
        ("M2", us(13, 58), "unplanned_stop", "micro_stop"), ("M2", us(14, 0, 30), "unplanned_stop", "micro_stop"),
        ("M2", us(14, 1), "running", "producing"), ("M2", us(15), "running", "producing")))
    mapping = load_loss_mapping()

    def transform(**frames: Any) -> Any:
        frames.update(shift_days=None, counts=None, ideal=None)
        return shift_times(classified_time(OeeFrames(**frames, end_us=END_US), mapping))

    result = assert_engine_parity(transform, inputs, spark=spark, sort_by=["machine_id", "shift_id"])
    assert result.rows == 4
    rows = {(r["machine_id"], r["shift_id"]): r for r in result.polars.to_dicts()}
    assert rows[("M1", "S1")]["failure_count"] == 3 and rows[("M1", "S1")]["micro_stop_time_s"] == 0
    assert rows[("M1", "S1")]["run_time_s"] == PLANNED_S - 601 - 300 - 180
    assert rows[("M2", "S1")]["failure_count"] == 0 and rows[("M2", "S1")]["micro_stop_time_s"] == 120 + 120 + 120
    assert rows[("M2", "S2")]["micro_stop_time_s"] == 60

    def changes(mes: Any, **_: Any) -> Any:
        return mes_state_changes(mes, END_US)

    assert assert_engine_parity(changes, {"mes": inputs["mes"]}, spark=spark,
                                sort_by=["machine_id", "at_us"]).rows == 12
