"""Read what the equipment time model and OEE need from the lake, as Arrow tables in the transforms' shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from transforms.equipment_time import OPCUA_STATE_CODES
from transforms.loss_mapping import LossMapping
from transforms.machine_shift_oee import OeeFrames
from transforms.shift_calendar import calendar_boundaries, shift_instances, shift_utc_days

STATE_TAG = "state"


@dataclass(frozen=True)
class EquipmentInputs:
    mes: pa.Table          # machine_id, at_us, state, reason_code
    opcua: pa.Table        # machine_id, at_us, value, status_code (the state tag)
    opcua_codes: pa.Table  # value, state
    gaps: pa.Table         # machine_id (null = whole connection), started_at_us, ended_at_us
    calendar: pa.Table     # at_us, seq, cal_kind, shift_date, shift_id
    machines: pa.Table     # machine_id
    shifts: pa.Table       # shift_date, shift_id, shift_start_us, shift_end_us, break_s
    shift_days: pa.Table   # shifts once per UTC day they touch
    counts: pa.Table       # machine_id, material_id, counted_at_us, total_count, good_count
    ideal: pa.Table        # machine_id, material_id, ideal_cycle_time_s
    end_us: int


def _us(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("us")


def day_bounds(delta: DeltaLake) -> tuple[date, date]:
    """The first and last day with equipment state events: the period the KPIs report."""
    first, last = delta.scan("mes_equipment_states").select(
        pl.col("event_date").min(), pl.col("event_date").max().alias("last")).collect().row(0)
    if first is None:
        raise ValueError("OEE needs bronze.mes_equipment_states: no equipment_state_changed events have landed")
    return first, last


def _opcua_state(delta: DeltaLake, start_us: int, end_us: int) -> pa.Table:
    schema = pa.schema([("machine_id", pa.string()), ("at_us", pa.int64()), ("value", pa.float64()),
                        ("status_code", pa.int64())])
    if not delta.exists("machine_signals"):
        return schema.empty_table()
    return (delta.scan("machine_signals").filter(pl.col("tag") == STATE_TAG)
            .select("machine_id", _us("source_at").alias("at_us"), "value", "status_code")
            .filter(pl.col("at_us").is_between(start_us, end_us, closed="left")).collect().to_arrow().cast(schema))


def _gaps(delta: DeltaLake) -> pa.Table:
    """Connection gaps (every machine) and gaps of a machine's state node."""
    schema = pa.schema([("machine_id", pa.string()), ("started_at_us", pa.int64()), ("ended_at_us", pa.int64())])
    if not delta.exists("machine_signal_gaps"):
        return schema.empty_table()
    gaps = delta.scan("machine_signal_gaps").filter(
        (pl.col("scope") == "connection") | (pl.col("tag") == STATE_TAG))
    return gaps.select(pl.when(pl.col("scope") == "connection").then(None).otherwise(pl.col("machine_id"))
                       .alias("machine_id"), _us("started_at").alias("started_at_us"),
                       _us("ended_at").alias("ended_at_us")).collect().to_arrow().cast(schema)


def _counts(delta: DeltaLake) -> pa.Table:
    if not delta.exists("mes_production_counts"):
        raise ValueError("OEE needs bronze.mes_production_counts: no MES production_counted events have landed")
    code_map = delta.scan("map_material_code").filter(pl.col("system") == "MES").select(
        pl.col("system_material_code").alias("material_code"), "material_id")
    return (delta.scan("mes_production_counts").join(code_map, on="material_code")
            .select("machine_id", "material_id", _us("occurred_at").alias("counted_at_us"),
                    pl.col("quantity").cast(pl.Int64).alias("total_count"),
                    pl.col("good_quantity").cast(pl.Int64).alias("good_count")).collect().to_arrow())


def equipment_inputs(delta: DeltaLake) -> EquipmentInputs:
    first, last = day_bounds(delta)
    timezone_name = delta.read_arrow("dim_plant").to_pylist()[0]["plant_timezone"]
    shifts_table, breaks = delta.read_arrow("dim_shift"), delta.read_arrow("dim_shift_break")
    shifts = shift_instances(shifts_table, breaks, timezone_name, first, last)
    start_us = int(datetime.combine(first, time(), timezone.utc).timestamp() * 1_000_000)
    end_us = int(datetime.combine(last + timedelta(days=1), time(), timezone.utc).timestamp() * 1_000_000)
    mes = delta.scan("mes_equipment_states").select(
        "machine_id", _us("occurred_at").alias("at_us"), "state", "reason_code").collect().to_arrow()
    machines = pl.concat([delta.scan("dim_machine").select("machine_id").collect(),
                          pl.from_arrow(mes).select("machine_id")]).unique().sort("machine_id").to_arrow()
    codes = pa.table({"value": list(OPCUA_STATE_CODES), "state": list(OPCUA_STATE_CODES.values())})
    ideal = delta.scan("dim_routing").select("machine_id", "material_id", "ideal_cycle_time_s").unique().collect()
    return EquipmentInputs(
        mes=mes, opcua=_opcua_state(delta, start_us, end_us), opcua_codes=codes, gaps=_gaps(delta),
        calendar=calendar_boundaries(shifts_table, breaks, timezone_name, first, last), machines=machines,
        shifts=shifts, shift_days=shift_utc_days(shifts), counts=_counts(delta), ideal=ideal.to_arrow(),
        end_us=end_us)


def oee_frames(inputs: EquipmentInputs, mapping: LossMapping, to_frame: Callable[[pa.Table], Any]) -> OeeFrames:
    """The inputs as lazy frames of one engine (`to_frame`: LakeResource.frame or lakehouse.engines.lazy_frame)."""
    tables = {f.name: getattr(inputs, f.name) for f in fields(OeeFrames) if f.name not in ("loss_mapping", "end_us")}
    return OeeFrames(**{name: to_frame(table) for name, table in tables.items()},
                     loss_mapping=to_frame(mapping.as_table()), end_us=inputs.end_us)
