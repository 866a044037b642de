"""Shift calendar: two shifts on weekdays, each with two breaks; weekends not scheduled.

Representation (written to master data):
- `shift_calendar.csv`: one row per shift pattern (shift_id, shift_name, start/end local
  time, scheduled_weekdays).
- `shift_breaks.csv`: one row per break (shift_id, break_seq, break start/end local time).
Shifts never cross local midnight, so a shift belongs to exactly one local date.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from .timeutil import SECONDS_PER_DAY, local_date_of, local_to_epoch, utc_day_start


@dataclass(frozen=True)
class ShiftPattern:
    shift_id: str
    shift_name: str
    start_local_time: time
    end_local_time: time
    breaks: tuple[tuple[time, time], ...]


SHIFT_PATTERNS: tuple[ShiftPattern, ...] = (
    ShiftPattern("S1", "Early shift", time(6, 0), time(14, 0),
                 ((time(9, 0), time(9, 15)), (time(11, 45), time(12, 15)))),
    ShiftPattern("S2", "Late shift", time(14, 0), time(22, 0),
                 ((time(17, 0), time(17, 15)), (time(19, 15), time(19, 45)))),
)
SCHEDULED_WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday..Friday
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ShiftInstance:
    shift_id: str
    shift_date: date  # local date
    start_s: float
    end_s: float
    breaks: tuple[tuple[float, float], ...]

    @property
    def break_s(self) -> float:
        return sum(end - start for start, end in self.breaks)


def is_working_day(local_day: date) -> bool:
    return local_day.weekday() in SCHEDULED_WEEKDAYS


def shifts_on_local_date(local_day: date, tz: ZoneInfo) -> list[ShiftInstance]:
    if not is_working_day(local_day):
        return []
    return [
        ShiftInstance(
            shift_id=p.shift_id,
            shift_date=local_day,
            start_s=local_to_epoch(local_day, p.start_local_time, tz),
            end_s=local_to_epoch(local_day, p.end_local_time, tz),
            breaks=tuple((local_to_epoch(local_day, s, tz), local_to_epoch(local_day, e, tz))
                         for s, e in p.breaks),
        )
        for p in SHIFT_PATTERNS
    ]


def working_periods(shift: ShiftInstance) -> list[tuple[float, float]]:
    """The shift's working time: [start, end) pieces between its breaks."""
    periods, cursor = [], shift.start_s
    for break_start, break_end in shift.breaks:
        periods.append((cursor, break_start))
        cursor = break_end
    periods.append((cursor, shift.end_s))
    return periods


def working_time_end(start_s: float, work_s: float, tz: ZoneInfo) -> float:
    """The instant at which `work_s` seconds of scheduled shift time (breaks and unscheduled time excluded)
    have passed after `start_s`; for no work, the first working instant at or after `start_s`."""
    remaining = max(work_s, 0.0)
    local_day = local_date_of(start_s, tz)  # shifts never cross local midnight
    for _ in range(3660):
        for shift in shifts_on_local_date(local_day, tz):
            for period_start, period_end in working_periods(shift):
                period_start = max(period_start, start_s)
                if period_end <= period_start:
                    continue
                if period_end - period_start >= remaining:
                    return period_start + remaining
                remaining -= period_end - period_start
        local_day += timedelta(days=1)
    raise ValueError("shift calendar has no working time in ten years")


def shifts_starting_in_utc_day(utc_day: date, tz: ZoneInfo) -> list[ShiftInstance]:
    day_start = utc_day_start(utc_day)
    found = []
    for offset in (-1, 0, 1):
        for shift in shifts_on_local_date(utc_day + timedelta(days=offset), tz):
            if day_start <= shift.start_s < day_start + SECONDS_PER_DAY:
                found.append(shift)
    return sorted(found, key=lambda s: s.start_s)


class DayCalendar:
    """Work periods of one UTC day: 'off' (not scheduled), 'shift' or 'break'."""

    def __init__(self, utc_day: date, tz: ZoneInfo):
        self.day_start = utc_day_start(utc_day)
        self.day_end = self.day_start + SECONDS_PER_DAY
        self.shifts = shifts_starting_in_utc_day(utc_day, tz)
        marks: dict[float, str] = {self.day_start: "off"}
        shift_starts = {shift.start_s for shift in self.shifts}
        for shift in self.shifts:
            marks[shift.start_s] = "shift"
            for b_start, b_end in shift.breaks:
                marks[b_start] = "break"
                marks[b_end] = "shift"
            if shift.end_s not in shift_starts:
                marks[shift.end_s] = "off"
        ordered = sorted(t for t in marks if self.day_start <= t < self.day_end)
        self.boundaries = ordered + [self.day_end]
        self.labels = [marks[t] for t in ordered]

    def period_at(self, t: float) -> tuple[str, float]:
        """Period label at time t and the time the period ends (next boundary)."""
        index = bisect.bisect_right(self.boundaries, t) - 1
        index = min(max(index, 0), len(self.labels) - 1)
        return self.labels[index], self.boundaries[index + 1]

    def shift_at(self, t: float) -> ShiftInstance | None:
        for shift in self.shifts:
            if shift.start_s <= t < shift.end_s:
                return shift
        return None
