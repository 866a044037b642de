"""Plant-local days, calendar periods and exact durations as Narwhals expressions that agree on Polars and PySpark.

Narwhals cannot convert time zones on PySpark and has no duration arithmetic or ISO weekday there that matches
Polars, so this module builds them from what both engines do alike:

- `epoch_us` assembles epoch microseconds from calendar fields (year, day of year, hour, minute, second,
  microsecond): integers, so a duration is exact on both engines.
- `plant_day` shifts each instant by the plant's UTC offset in effect at that instant and takes the date. The
  offsets come from the IANA zone (zoneinfo) as comparisons against the zone's transitions between
  FIRST_YEAR and LAST_YEAR (newest first); an instant outside those years takes the offset at the nearest end.
- `week_start` (ISO week, Monday) and `month_start` work on dates.

Timestamps are instants read in UTC: a PySpark session must run with spark.sql.session.timeZone=UTC
(`lakehouse.spark` sets it), since Spark reads calendar fields in the session zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import narwhals as nw

FIRST_YEAR, LAST_YEAR = 2000, 2059
US_PER_DAY = 86_400_000_000
_PROBE_STEP = timedelta(hours=6)  # no zone changes its offset twice within six hours


def _days_since_epoch(moment: nw.Expr) -> nw.Expr:
    """Days from 1970-01-01 to the (UTC) date of a date or timestamp, proleptic Gregorian."""
    year = moment.dt.year().cast(nw.Int64)
    before = year - 1
    leap_days = before // 4 - before // 100 + before // 400 - 477  # 477 leap days fall before 1970
    return 365 * (year - 1970) + leap_days + moment.dt.ordinal_day().cast(nw.Int64) - 1


def epoch_us(column: str) -> nw.Expr:
    """Microseconds since 1970-01-01T00:00Z of a UTC timestamp column (Int64)."""
    moment = nw.col(column)
    micros = (moment.dt.microsecond().cast(nw.Int64) + 1_000_000) % 1_000_000  # Spark gives -1 before 1970
    return (_days_since_epoch(moment) * US_PER_DAY + moment.dt.hour().cast(nw.Int64) * 3_600_000_000
            + moment.dt.minute().cast(nw.Int64) * 60_000_000 + moment.dt.second().cast(nw.Int64) * 1_000_000
            + micros)


def seconds_between(start: str, end: str) -> nw.Expr:
    """end - start in seconds (Float64), exact to the microsecond; null when either is null."""
    return ((epoch_us(end) - epoch_us(start)) / 1_000_000).cast(nw.Float64)


@lru_cache(maxsize=32)
def utc_offsets(plant_timezone: str) -> tuple[tuple[datetime, int], ...]:
    """(start instant, UTC offset in seconds) of every offset period of the zone from FIRST_YEAR to LAST_YEAR;
    the first period starts at FIRST_YEAR-01-01T00:00Z."""
    zone = ZoneInfo(plant_timezone)

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    moment = datetime(FIRST_YEAR, 1, 1, tzinfo=timezone.utc)
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=timezone.utc)
    periods = [(moment, offset(moment))]
    while moment < end:
        following = moment + _PROBE_STEP
        if offset(following) != periods[-1][1]:
            low, high = moment, following  # the change lies in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (low, middle) if offset(middle) != periods[-1][1] else (middle, high)
            periods.append((high.replace(microsecond=0), offset(high)))
        moment = following
    return tuple(periods)


def plant_day(column: str, plant_timezone: str) -> nw.Expr:
    """The plant-local calendar date of a UTC timestamp column (Date)."""
    moment = nw.col(column)
    periods = utc_offsets(plant_timezone)
    distinct = sorted({seconds for _, seconds in periods})
    if len(distinct) == 1:
        local = moment.dt.offset_by(f"{distinct[0]}s") if distinct[0] else moment
        return local.dt.date()
    newest, *older = reversed(periods)
    chain = nw.when(moment >= nw.lit(newest[0])).then(nw.lit(newest[1]))
    for start, seconds in older[:-1]:
        chain = chain.when(moment >= nw.lit(start)).then(nw.lit(seconds))
    offset_s = chain.otherwise(nw.lit(periods[0][1]))
    local = nw.when(offset_s == distinct[0]).then(moment.dt.offset_by(f"{distinct[0]}s"))
    for seconds in distinct[1:]:
        local = local.when(offset_s == seconds).then(moment.dt.offset_by(f"{seconds}s"))
    return local.otherwise(moment).dt.date()


def week_start(day: nw.Expr) -> nw.Expr:
    """The Monday of the ISO week of a date (Date)."""
    days_after_monday = (_days_since_epoch(day) + 3) % 7  # 1970-01-01 was a Thursday
    start = nw.when(days_after_monday == 0).then(day)
    for back in range(1, 7):
        start = start.when(days_after_monday == back).then(day.dt.offset_by(f"-{back}d"))
    return start.otherwise(day).cast(nw.Date)


def month_start(day: nw.Expr) -> nw.Expr:
    """The first day of the month of a date (Date)."""
    return day.dt.truncate("1mo").cast(nw.Date)
