"""Time helpers. Simulation time is float seconds since the Unix epoch (UTC)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

SECONDS_PER_DAY = 86400


def utc_day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def local_to_epoch(day: date, local_time: time, tz: ZoneInfo) -> float:
    return datetime.combine(day, local_time, tzinfo=tz).timestamp()


def utc_date_of(epoch_s: float) -> date:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).date()


def local_date_of(epoch_s: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch_s, tz=tz).date()


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def datetime_us(epoch_s: float) -> datetime:
    """Aware UTC datetime of the epoch seconds rounded to whole microseconds exactly as `epoch_to_us` rounds
    (float64 product with 1e6, round half to even), so a text stamp and the truth agree to the microsecond."""
    return EPOCH + timedelta(microseconds=round(epoch_s * 1_000_000))


def iso_utc_us(epoch_s: float) -> str:
    """ISO 8601 in UTC with microsecond precision, e.g. 2026-01-05T05:12:33.120417+00:00."""
    return datetime_us(epoch_s).isoformat(timespec="microseconds")


def iso_local_us(epoch_s: float, tz: ZoneInfo) -> str:
    """ISO 8601 in plant local time with offset, microsecond precision (rounded like `iso_utc_us`)."""
    return datetime_us(epoch_s).astimezone(tz).isoformat(timespec="microseconds")


def iso_local_s(epoch_s: float, tz: ZoneInfo) -> str:
    """ISO 8601 in plant local time with offset, seconds precision."""
    return datetime.fromtimestamp(round(epoch_s), tz=tz).isoformat(timespec="seconds")


def epoch_to_us(values) -> np.ndarray:
    """Epoch seconds (scalar or sequence) to int64 microseconds."""
    return np.round(np.asarray(values, dtype=np.float64) * 1_000_000).astype(np.int64)


def day_offset(start: date, day_index: int) -> date:
    return start + timedelta(days=day_index)
