"""What `as_of` may be, and what each form means: a version number, or a moment in time.

- an `int` is a table version (0 is the first write);
- a `datetime` is that moment (naive means UTC);
- a `date` is the start of that day, 00:00 UTC;
- a string is read as ISO 8601: `"2026-01-10"` like a date, `"2026-01-10T14:00:00+01:00"` like a datetime, and
  a string of digits (`"3"`) like a version number.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from lakehouse.errors import QueryError

AsOf = int | datetime | date | str | None


def resolve_as_of(as_of: AsOf) -> int | datetime | None:
    """A version number or a UTC datetime (None: the current version)."""
    if as_of is None or isinstance(as_of, bool):
        if isinstance(as_of, bool):
            raise QueryError("as_of must be a version number, a datetime, a date or an ISO 8601 string, not a bool")
        return None
    if isinstance(as_of, int):
        if as_of < 0:
            raise QueryError(f"as_of version must be 0 or more, got {as_of}")
        return as_of
    if isinstance(as_of, str):
        text = as_of.strip()
        if text.isdigit():
            return int(text)
        try:
            as_of = datetime.fromisoformat(text) if ("T" in text or " " in text) else date.fromisoformat(text)
        except ValueError:
            raise QueryError(f"as_of {as_of!r} is not a version number or an ISO 8601 date or time") from None
    if isinstance(as_of, datetime):
        return utc(as_of)
    if isinstance(as_of, date):
        return datetime.combine(as_of, time(0), tzinfo=timezone.utc)
    raise QueryError(f"as_of must be a version number, a datetime, a date or an ISO 8601 string, "
                     f"not {type(as_of).__name__}")


def utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def as_datetime(moment: datetime | date | str | None) -> datetime | None:
    """A moment for questions about event time (stock as of, trace windows): same rules as `as_of`, no versions."""
    if moment is None:
        return None
    if (isinstance(moment, str) and moment.strip().isdigit()) or (isinstance(moment, int)
                                                                  and not isinstance(moment, bool)):
        raise QueryError(f"{moment!r} is not an ISO 8601 date or time")
    resolved = resolve_as_of(moment)
    assert isinstance(resolved, datetime)
    return resolved
