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
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pyarrow as pa
from asyncua import ua

from ingestion.opcua.notifications import Notifications
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
    """The value's time as it is stored in source_at (SourceTimestamp, else ServerTimestamp),
    or None when the server sent neither."""
    return utc(data_value.SourceTimestamp) or utc(data_value.ServerTimestamp)


@dataclass
class SampleBatch:
    """One flush's notifications as columns, without an object per value (the mapping of the module doc),
    row i being the i-th notification. `row(i)` builds the Sample of one row for the rare
    per-value paths (Bad status spans)."""

    targets: Sequence[Target]
    handles: list[int]
    source_at: list[datetime]
    server_at: list[datetime | None]
    value: list[float | None]
    status: list[int]

    def __len__(self) -> int:
        return len(self.handles)

    def row(self, i: int) -> Sample:
        return Sample(self.targets[self.handles[i]], self.source_at[i], self.server_at[i], self.value[i],
                      self.status[i])

    def table(self, rows: Sequence[int], ingested_at: datetime, run_id: str) -> pa.Table:
        """Arrow rows for `machine_signals` of the given rows (live collection: source_file null)."""
        count = len(rows)
        take = pa.array(rows, pa.int64())
        handles = pa.array(self.handles, pa.int64()).take(take)
        source_at = pa.array(self.source_at, SIGNALS_SCHEMA.field("source_at").type).take(take)
        return pa.Table.from_arrays([
            pa.array([t.machine_id for t in self.targets], pa.string()).take(handles),
            pa.array([t.tag for t in self.targets], pa.string()).take(handles),
            pa.array([t.node_id for t in self.targets], pa.string()).take(handles),
            source_at,
            pa.array(self.server_at, SIGNALS_SCHEMA.field("server_at").type).take(take),
            pa.array(self.value, pa.float64()).take(take),
            pa.array(self.status, pa.int64()).take(take),
            source_at.cast(pa.date32()),  # the UTC day (the type's zone is UTC)
            pa.repeat(pa.scalar(ingested_at, SIGNALS_SCHEMA.field("ingested_at").type), count),
            pa.repeat(pa.scalar(run_id, pa.string()), count),
            pa.nulls(count, pa.string()),
        ], schema=SIGNALS_SCHEMA)


def batch_from_notifications(targets: Sequence[Target], notifications: Notifications,
                             received_at: datetime) -> SampleBatch:
    """The samples of a flush's notifications (the mapping of the module doc), column by column: the collector's
    hot path, so no object is built per value."""
    handles, raw = notifications.handles, notifications.raw
    status = list(notifications.status)
    server_at = [t if t is None or t.tzinfo is UTC else utc(t) for t in notifications.server_at]
    source_at = [t if t is not None and t.tzinfo is UTC else (utc(t) if t is not None else (s or received_at))
                 for t, s in zip(notifications.source_at, server_at)]
    number = [r if type(r) is float else None for r in raw]
    for i, r in enumerate(raw):
        if type(r) is not float:  # ints, booleans, enums, state strings, or nothing numeric (see module doc)
            number[i] = to_number(r, targets[handles[i]].states)
            if number[i] is None and r is not None and not is_bad(status[i]):
                status[i] = BAD_TYPE_MISMATCH
    return SampleBatch(targets, list(handles), source_at, server_at, number, status)


def batch_from_datavalues(targets: Sequence[Target], drained: Iterable[tuple[int, ua.DataValue]],
                          received_at: datetime) -> SampleBatch:
    """`batch_from_notifications` of (client handle, DataValue) pairs."""
    notifications = Notifications()
    for handle, data_value in drained:
        notifications.add(handle, data_value)
    return batch_from_notifications(targets, notifications, received_at)


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
