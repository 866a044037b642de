"""The buffer the subscription handler appends to: one list per DataValue field, nothing built per value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asyncua import ua


class Notifications:
    """Notifications as they arrive, one list per DataValue field, in arrival order.

    `add` is all the subscription handler does per value: it appends the fields asyncua already decoded and
    builds no object of its own (no tuple, no Sample), and keeps no asyncua object alive until the flush, so the
    garbage collector has fewer live objects to walk while values wait. samples.batch_from_notifications maps
    them to rows once per flush, column by column. `taken` counts the values taken out so far, so
    `taken + len(self)` numbers every value this buffer ever received."""

    def __init__(self) -> None:
        self.handles: list[int] = []
        self.raw: list[Any] = []  # the Variant's Python value, None when the DataValue had no Variant
        self.status: list[int] = []
        self.source_at: list[datetime | None] = []
        self.server_at: list[datetime | None] = []
        self.taken = 0

    def __len__(self) -> int:
        return len(self.handles)

    def add(self, handle: int, data_value: ua.DataValue) -> None:
        variant, status = data_value.Value, data_value.StatusCode
        self.handles.append(handle)
        self.raw.append(None if variant is None else variant.Value)
        self.status.append(0 if status is None else status.value)
        self.source_at.append(data_value.SourceTimestamp)
        self.server_at.append(data_value.ServerTimestamp)

    def take(self) -> Notifications:
        """Everything buffered, as a new buffer; this one starts empty (no copy: the lists change hands)."""
        taken = Notifications()
        taken.handles, taken.raw, taken.status, taken.source_at, taken.server_at = (
            self.handles, self.raw, self.status, self.source_at, self.server_at)
        taken.taken = self.taken
        self.handles, self.raw, self.status, self.source_at, self.server_at = [], [], [], [], []
        self.taken += len(taken)
        return taken

    def put_back(self, taken: Notifications) -> None:
        """Undo `take` (a failed flush): `taken` goes back in front of whatever arrived since."""
        self.handles = taken.handles + self.handles
        self.raw = taken.raw + self.raw
        self.status = taken.status + self.status
        self.source_at = taken.source_at + self.source_at
        self.server_at = taken.server_at + self.server_at
        self.taken -= len(taken)
