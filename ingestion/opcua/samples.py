"""Pure conversions from OPC UA DataValues to `machine_signals` rows and from spans to `machine_signal_gaps` rows.

Value mapping (the `value` column is float64):
- numbers (any int/float width, IntEnum) -> float; booleans -> 1.0 / 0.0;
- strings found in the node's `states` table (e.g. RUNNING = 1) -> that number;
- anything else (unmapped strings, arrays, structures, byte strings, ...) -> value null and status_code
  BadTypeMismatch when the server said Good/Uncertain, because the row then holds no usable number. A sample the
  server already marked Bad keeps the server's status code (and usually carries no value).
source_at is the SourceTimestamp; a server that sends none gets the ServerTimestamp, and failing that the moment
the collector received the notification, so the not-null dedup key (machine_id, tag, source_at) always exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import pyarrow as pa
from asyncua import ua

from lakehouse.catalog import CATALOG

BAD_TYPE_MISMATCH = int(ua.StatusCodes.BadTypeMismatch)
SIGNALS_SCHEMA = CATALOG["machine_signals"].schema
GAPS_SCHEMA = CATALOG["machine_signal_gaps"].schema


@dataclass(frozen=True)
class Target:
    """A resolved node: where its samples land and how its string values map to numbers."""

    node_id: str
    machine_id: str
    tag: str
    states: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    target: Target
    source_at: datetime
    server_at: datetime | None
    value: float | None
    status_code: int


@dataclass(frozen=True)
class Gap:
    scope: str  # "connection" | "node"
    endpoint: str
    started_at: datetime
    ended_at: datetime
    reason: str
    target: Target | None = None


def is_bad(status_code: int) -> bool:
    return (status_code >> 30) == 2


def to_number(value: Any, states: Mapping[str, float]) -> float | None:
    """The float stored for an OPC UA value, or None when it has no numeric meaning (see module doc)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return states.get(value)
    if isinstance(value, ua.LocalizedText) and value.Text is not None:
        return states.get(value.Text)
    return None


def utc(moment: datetime | None) -> datetime | None:
    """asyncua hands out naive UTC datetimes in some paths and aware ones in others; store aware UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stamped_at(data_value: ua.DataValue) -> datetime | None:
    """The value's time as `sample_from_datavalue` stores it in source_at (SourceTimestamp, else ServerTimestamp),
    or None when the server sent neither."""
    return utc(data_value.SourceTimestamp) or utc(data_value.ServerTimestamp)


def sample_from_datavalue(target: Target, data_value: ua.DataValue, received_at: datetime) -> Sample:
    status = data_value.StatusCode.value if data_value.StatusCode is not None else 0
    variant = data_value.Value
    raw = variant.Value if variant is not None else None
    value = to_number(raw, target.states)
    if value is None and raw is not None and not is_bad(status):
        status = BAD_TYPE_MISMATCH
    server_at = utc(data_value.ServerTimestamp)
    source_at = utc(data_value.SourceTimestamp) or server_at or received_at
    return Sample(target, source_at, server_at, value, status)


def signals_table(samples: Sequence[Sample], ingested_at: datetime, run_id: str) -> pa.Table:
    """Arrow rows for `machine_signals` (live collection: source_file null)."""
    count = len(samples)
    source_at = [s.source_at for s in samples]
    return pa.Table.from_arrays([
        pa.array([s.target.machine_id for s in samples], pa.string()),
        pa.array([s.target.tag for s in samples], pa.string()),
        pa.array([s.target.node_id for s in samples], pa.string()),
        pa.array(source_at, SIGNALS_SCHEMA.field("source_at").type),
        pa.array([s.server_at for s in samples], SIGNALS_SCHEMA.field("server_at").type),
        pa.array([s.value for s in samples], pa.float64()),
        pa.array([s.status_code for s in samples], pa.int64()),
        pa.array([utc_date(t) for t in source_at], pa.date32()),
        pa.array([ingested_at] * count, SIGNALS_SCHEMA.field("ingested_at").type),
        pa.array([run_id] * count, pa.string()),
        pa.nulls(count, pa.string()),
    ], schema=SIGNALS_SCHEMA)


def utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def gap_id(gap: Gap) -> str:
    """Deterministic, so booking the same span twice (e.g. a retried write) stays one row under insert_new."""
    node = gap.target.node_id if gap.target else ""
    key = f"{gap.endpoint}|{gap.scope}|{node}|{gap.started_at.astimezone(UTC).isoformat()}"
    return hashlib.sha1(key.encode()).hexdigest()


def gaps_table(gaps: Iterable[Gap], recorded_at: datetime, run_id: str) -> pa.Table:
    gaps = list(gaps)
    ts = GAPS_SCHEMA.field("started_at").type
    return pa.Table.from_arrays([
        pa.array([gap_id(g) for g in gaps], pa.string()),
        pa.array([g.scope for g in gaps], pa.string()),
        pa.array([g.endpoint for g in gaps], pa.string()),
        pa.array([g.target.node_id if g.target else None for g in gaps], pa.string()),
        pa.array([g.target.machine_id if g.target else None for g in gaps], pa.string()),
        pa.array([g.target.tag if g.target else None for g in gaps], pa.string()),
        pa.array([g.started_at for g in gaps], ts),
        pa.array([max(g.ended_at, g.started_at) for g in gaps], ts),
        pa.array([g.reason for g in gaps], pa.string()),
        pa.array([run_id] * len(gaps), pa.string()),
        pa.array([recorded_at] * len(gaps), ts),
    ], schema=GAPS_SCHEMA)
