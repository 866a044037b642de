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
