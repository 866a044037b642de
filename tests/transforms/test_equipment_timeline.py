"""The equipment time model on hand-made timelines: source precedence, collector gaps booked as unknown,
micro-stops, failures, and the loss mapping configuration."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.equipment_time import OPCUA_STATE_CODES, shift_times
from transforms.loss_mapping import LossMapping, LossMappingError, load_loss_mapping
from transforms.machine_shift_oee import OeeFrames, classified_time
from transforms.shift_calendar import calendar_boundaries

DAY = dt.date(2026, 1, 5)  # a Monday; the plant runs on UTC so local times read as UTC
SHIFTS = pa.table({"shift_id": ["S1"], "shift_name": ["early"], "start_local_time": ["06:00:00"],
                   "end_local_time": ["14:00:00"], "scheduled_weekdays": ["Mon,Tue,Wed,Thu,Fri"]})
BREAKS = pa.table({"shift_id": ["S1"], "break_seq": [1], "break_start_local_time": ["10:00:00"],
                   "break_end_local_time": ["10:30:00"]})
END_US = int(dt.datetime(2026, 1, 6, tzinfo=dt.UTC).timestamp() * 1_000_000)


def us(hh: int, mm: int = 0, ss: int = 0) -> int:
    return int(dt.datetime(2026, 1, 5, hh, mm, ss, tzinfo=dt.UTC).timestamp() * 1_000_000)


def mes(*rows: tuple) -> pa.Table:
    return pa.table({"machine_id": [r[0] for r in rows], "at_us": pa.array([r[1] for r in rows], pa.int64()),
                     "state": [r[2] for r in rows], "reason_code": [r[3] for r in rows]},
                    schema=pa.schema([("machine_id", pa.string()), ("at_us", pa.int64()), ("state", pa.string()),
                                      ("reason_code", pa.string())]))


def opcua(*rows: tuple) -> pa.Table:
    return pa.table({"machine_id": [r[0] for r in rows], "at_us": pa.array([r[1] for r in rows], pa.int64()),
                     "value": pa.array([r[2] for r in rows], pa.float64()),
                     "status_code": pa.array([r[3] if len(r) > 3 else 0 for r in rows], pa.int64())},
                    schema=pa.schema([("machine_id", pa.string()), ("at_us", pa.int64()), ("value", pa.float64()),
                                      ("status_code", pa.int64())]))


def gaps(*rows: tuple) -> pa.Table:
    return pa.table({"machine_id": pa.array([r[0] for r in rows], pa.string()),
                     "started_at_us": pa.array([r[1] for r in rows], pa.int64()),
                     "ended_at_us": pa.array([r[2] for r in rows], pa.int64())})


def tables(mes_rows: pa.Table, opcua_rows: pa.Table | None = None, gap_rows: pa.Table | None = None,
           mapping: LossMapping | None = None) -> dict[str, pa.Table]:
    codes = pa.table({"value": list(OPCUA_STATE_CODES), "state": list(OPCUA_STATE_CODES.values())})
    return {"mes": mes_rows, "opcua": opcua_rows if opcua_rows is not None else opcua(),
            "opcua_codes": codes, "gaps": gap_rows if gap_rows is not None else gaps(),
            "calendar": calendar_boundaries(SHIFTS, BREAKS, "UTC", DAY, DAY),
            "machines": pa.table({"machine_id": ["M1", "M2"]}),
            "loss_mapping": (mapping or load_loss_mapping()).as_table()}


def per_shift(inputs: dict[str, pa.Table], mapping: LossMapping | None = None, engine: str = "polars",
              spark: object = None) -> dict[str, dict]:
    mapping = mapping or load_loss_mapping()
    frames = {name: lazy_frame(table, engine, spark=spark) for name, table in inputs.items()}
    for unused in ("shift_days", "counts", "ideal"):
        frames[unused] = None
    result = shift_times(classified_time(OeeFrames(**frames, end_us=END_US), mapping))
    return {row["machine_id"]: row for row in pl.from_arrow(collect_arrow(result)).to_dicts()}


def test_calendar_breaks_and_a_running_shift() -> None:
    row = per_shift(tables(mes(("M1", us(5, 50), "running", "producing"))))["M1"]
    assert row["calendar_time_s"] == 8 * 3600 and row["break_time_s"] == 1800
    assert row["planned_time_s"] == row["run_time_s"] == 8 * 3600 - 1800
    assert row["unknown_time_s"] == 0


def test_a_machine_without_any_state_is_unknown_never_running() -> None:
    row = per_shift(tables(mes(("M1", us(5), "running", "producing"))))["M2"]
    assert row["run_time_s"] == 0 and row["planned_time_s"] == 0
    assert row["unknown_time_s"] == 8 * 3600 - 1800


def test_mes_takes_precedence_over_the_opcua_state_tag_which_fills_before_the_first_mes_event() -> None:
    inputs = tables(mes(("M1", us(8), "unplanned_stop", "breakdown"), ("M1", us(9), "running", "producing")),
                    opcua(("M1", us(5), 1.0)))  # the PLC says running all day
    row = per_shift(inputs)["M1"]
    assert row["opcua_sourced_time_s"] == 2 * 3600       # 06:00-08:00, before the MES knew the machine
    assert row["run_time_s"] == 2 * 3600 + 5 * 3600 - 1800  # 06-08 from OPC UA, 09-14 from MES minus the break
    assert row["failure_count"] == 1 and row["failure_time_s"] == 3600


def test_a_bad_opcua_status_is_unknown() -> None:
    inputs = tables(mes(("M1", us(12), "running", "producing")),
                    opcua(("M1", us(6), 1.0), ("M1", us(7), 1.0, 0x80000000), ("M1", us(8), 1.0)))
    row = per_shift(inputs)["M1"]
    assert row["unknown_time_s"] == 3600
    assert row["run_time_s"] == 8 * 3600 - 1800 - 3600


@pytest.mark.parametrize("gap_machine", ["M1", None], ids=["state-node gap", "connection gap"])
def test_a_collector_gap_lowers_planned_and_known_time_and_never_adds_run_time(gap_machine: str | None) -> None:
    """OPC UA says running from 06:00 and stopped (unplanned) from 11:00; the collector lost 09:30-11:30,
    across the break and the stop. The gap's 2 h minus the 0.5 h break become unknown: planned time drops
    by 1.5 h, run time drops by the 1 h of running the gap hid; MES data is not affected by a collector gap."""
    signals = opcua(("M1", us(6), 1.0), ("M1", us(11), 3.0))
    without = per_shift(tables(mes(), signals))["M1"]
    with_gap = per_shift(tables(mes(), signals, gaps((gap_machine, us(9, 30), us(11, 30)))))["M1"]
    assert without["planned_time_s"] == 8 * 3600 - 1800 and without["unknown_time_s"] == 0
    assert without["run_time_s"] == 5 * 3600 - 1800
    assert with_gap["unknown_time_s"] == 5400
    assert with_gap["planned_time_s"] == without["planned_time_s"] - 5400
    assert with_gap["run_time_s"] == without["run_time_s"] - 3600
    assert with_gap["calendar_time_s"] == without["calendar_time_s"]
    other = per_shift(tables(mes(("M2", us(5), "running", "producing")), signals,
                             gaps((gap_machine, us(9, 30), us(11, 30)))))["M2"]
    assert other["unknown_time_s"] == 0  # the MES covers M2, so a collector gap takes nothing from it
    assert other["run_time_s"] == 8 * 3600 - 1800


def test_short_unplanned_stops_are_micro_stops_inside_run_time() -> None:
    inputs = tables(mes(("M1", us(5), "running", "producing"), ("M1", us(7), "unplanned_stop", "micro_stop"),
                        ("M1", us(7, 2), "running", "producing"), ("M1", us(8), "unplanned_stop", "breakdown"),
                        ("M1", us(8, 30), "running", "producing")))
    row = per_shift(inputs)["M1"]
    assert row["micro_stop_time_s"] == 120
    assert row["run_time_s"] == 8 * 3600 - 1800 - 1800  # only the 30-minute breakdown is lost availability
    assert row["failure_count"] == 1 and row["failure_time_s"] == 1800
    strict = dataclasses.replace(load_loss_mapping(), micro_stop_threshold_s=60.0)
    row = per_shift(inputs, strict)["M1"]
    assert row["micro_stop_time_s"] == 0 and row["run_time_s"] == 8 * 3600 - 1800 - 1800 - 120


def test_the_loss_mapping_is_configuration(tmp_path: Path) -> None:
    inputs = mes(("M1", us(5), "running", "producing"), ("M1", us(7), "planned_stop", "changeover"),
                 ("M1", us(8), "running", "producing"))
    default = per_shift(tables(inputs))["M1"]
    assert default["planned_time_s"] == 8 * 3600 - 1800 and default["run_time_s"] == 8 * 3600 - 1800 - 3600
    config = tmp_path / "plant.toml"
    config.write_text((Path("transforms/loss_mapping.toml").read_text()
                       .replace('changeover = "availability_loss"', 'changeover = "planned_stop"')))
    custom = LossMapping.from_toml(config)
    changed = per_shift(tables(inputs, mapping=custom), custom)["M1"]
    assert changed["planned_time_s"] == 8 * 3600 - 1800 - 3600 and changed["run_time_s"] == changed["planned_time_s"]
    unmapped = per_shift(tables(mes(("M1", us(5), "running", "producing"), ("M1", us(7), "setup", "tool_change"),
                                    ("M1", us(8), "running", "producing"))))["M1"]
    assert unmapped["unmapped_time_s"] == 3600  # a state the file does not know: an availability loss, counted
    assert unmapped["planned_time_s"] == 8 * 3600 - 1800 and unmapped["run_time_s"] == 8 * 3600 - 1800 - 3600
    config.write_text('micro_stop_threshold_s = 300.0\n[states]\nrunning = "runnning_fast"\n')
    with pytest.raises(LossMappingError, match="runnning_fast"):
        LossMapping.from_toml(config)


@pytest.mark.spark
def test_the_timeline_agrees_on_polars_and_pyspark(spark: object) -> None:
    inputs = tables(mes(("M1", us(8), "unplanned_stop", "breakdown"), ("M1", us(9), "running", "producing"),
                        ("M1", us(12), "unplanned_stop", "micro_stop"), ("M1", us(12, 3), "running", "producing"),
                        ("M2", us(7), "planned_stop", "changeover"), ("M2", us(7, 45), "running", "producing")),
                    opcua(("M1", us(5), 1.0), ("M2", us(6), 3.0)), gaps((None, us(6, 30), us(6, 50))))
    mapping = load_loss_mapping()

    def transform(**frames: object) -> object:
        frames.update(shift_days=None, counts=None, ideal=None)
        return shift_times(classified_time(OeeFrames(**frames, end_us=END_US), mapping))  # type: ignore[arg-type]

    result = assert_engine_parity(transform, inputs, spark=spark, sort_by=["machine_id"])
    assert result.rows == 2
