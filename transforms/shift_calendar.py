"""Shift instances from the master-data shift calendar: which shifts ran on which local dates, in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pyarrow as pa

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _utc_us(day: date, local: str, zone: ZoneInfo) -> int:
    moment = datetime.combine(day, time.fromisoformat(local), tzinfo=zone).astimezone(timezone.utc)
    return int(moment.timestamp() * 1_000_000)


def shift_instances(shifts: pa.Table, breaks: pa.Table, plant_timezone: str, first_day: date,
                    last_day: date) -> pa.Table:
    """shift_date, shift_id, shift_start_us, shift_end_us (UTC microseconds) and break_s, for every scheduled
    shift on the local dates first_day..last_day. Shifts end on the local date they start (no overnight)."""
    zone = ZoneInfo(plant_timezone)
    break_rows = breaks.to_pylist()
    rows = []
    day = first_day
    while day <= last_day:
        for shift in sorted(shifts.to_pylist(), key=lambda s: s["start_local_time"]):
            if WEEKDAYS[day.weekday()] not in shift["scheduled_weekdays"].split(","):
                continue
            own = [b for b in break_rows if b["shift_id"] == shift["shift_id"]]
            break_us = sum(_utc_us(day, b["break_end_local_time"], zone) - _utc_us(day, b["break_start_local_time"], zone)
                           for b in own)
            rows.append({"shift_date": day, "shift_id": shift["shift_id"],
                         "shift_start_us": _utc_us(day, shift["start_local_time"], zone),
                         "shift_end_us": _utc_us(day, shift["end_local_time"], zone), "break_s": break_us / 1e6})
        day += timedelta(days=1)
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("shift_date", pa.date32()), ("shift_id", pa.string()), ("shift_start_us", pa.int64()),
        ("shift_end_us", pa.int64()), ("break_s", pa.float64())]))


OFF_SHIFT_ID = ""
OFF_SHIFT_DATE = date(1970, 1, 1)
CALENDAR_SCHEMA = pa.schema([("at_us", pa.int64()), ("seq", pa.int64()), ("cal_kind", pa.string()),
                             ("shift_date", pa.date32()), ("shift_id", pa.string())])


def calendar_boundaries(shifts: pa.Table, breaks: pa.Table, plant_timezone: str, first_day: date,
                        last_day: date) -> pa.Table:
    """Where the calendar changes, in UTC microseconds: at_us, seq (order among equal instants), cal_kind
    (work | break | off) and the shift the period belongs to (shift_id '' and 1970-01-01 when off)."""
    zone = ZoneInfo(plant_timezone)
    break_rows = breaks.to_pylist()
    instances = shift_instances(shifts, breaks, plant_timezone, first_day, last_day).to_pylist()
    rows: list[dict] = []
    for shift in sorted(instances, key=lambda s: s["shift_start_us"]):
        day, shift_id = shift["shift_date"], shift["shift_id"]
        own = sorted((_utc_us(day, b["break_start_local_time"], zone), _utc_us(day, b["break_end_local_time"], zone))
                     for b in break_rows if b["shift_id"] == shift_id)
        rows.append((shift["shift_start_us"], "work", day, shift_id))
        for start_us, end_us in own:
            rows += [(start_us, "break", day, shift_id), (end_us, "work", day, shift_id)]
        rows.append((shift["shift_end_us"], "off", OFF_SHIFT_DATE, OFF_SHIFT_ID))
    return pa.Table.from_pylist([{"at_us": at, "seq": seq, "cal_kind": kind, "shift_date": day, "shift_id": sid}
                                 for seq, (at, kind, day, sid) in enumerate(rows)], schema=CALENDAR_SCHEMA)


def shift_utc_days(instances: pa.Table) -> pa.Table:
    """The shift instances once per UTC day they touch (utc_day = days since the epoch), so that timestamps can
    find their shift with an equi-join on the day instead of a join against every shift."""
    day_us = 86_400_000_000
    rows = [{**shift, "utc_day": day} for shift in instances.to_pylist()
            for day in range(shift["shift_start_us"] // day_us, (shift["shift_end_us"] - 1) // day_us + 1)]
    return pa.Table.from_pylist(rows, schema=instances.schema.append(pa.field("utc_day", pa.int64())))


def calendar_days(plant_timezone: str, first_day: date, last_day: date) -> pa.Table:
    """day and calendar_day_s: the length of each plant-local day (86,400 s, or 82,800/90,000 on DST changes),
    the calendar time TEEP divides by."""
    zone = ZoneInfo(plant_timezone)
    rows, day = [], first_day
    while day <= last_day:
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        rows.append({"day": day, "calendar_day_s": (end.astimezone(timezone.utc) - start.astimezone(timezone.utc))
                     .total_seconds()})
        day += timedelta(days=1)
    return pa.Table.from_pylist(rows, schema=pa.schema([("day", pa.date32()), ("calendar_day_s", pa.float64())]))
