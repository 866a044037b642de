"""Where one endpoint's notifications wait for the writer: a column buffer, node gap tracking and the state file.

The subscription handler only appends to `buffer` (notifications.Notifications). At each flush the writer
(writer.py, one per process, shared by every endpoint) asks each sink to `prepare` what it holds: rows
converted column by column, split into samples appended directly and samples checked against the table (see
`_split_fresh`), plus the gaps booked since the last flush. After the write the writer hands each sink its
outcome: `landed` counts the rows and rewrites the state file, `put_back` returns everything to the buffer
when the write failed, so nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from asyncua import ua

from ingestion.opcua.gaps import BadStatusSpans
from ingestion.opcua.notifications import Notifications
from ingestion.opcua.samples import Gap, SampleBatch, Target, batch_from_notifications, is_bad, utc
from ingestion.opcua.state import CollectorState, write_state


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class SinkCounts:
    received: int = 0
    written: int = 0
    duplicates_skipped: int = 0
    flushes: int = 0
    gaps: list[Gap] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedFlush:
    """One sink's share of a flush: its rows (`fresh` are appended, `checked` go through insert_new), the
    watermarks to set once they landed, the gaps to write, and the taken notifications to put back on failure."""

    run_id: str
    taken: Notifications
    batch: SampleBatch
    fresh: list[int]
    checked: list[int]
    seeds: dict[int, datetime]
    gaps: list[Gap]


class SignalSink:
    def __init__(self, *, endpoint: str, run_id: str, state_file: Path, state: CollectorState,
                 flush_max_values: int, node_gap_min_s: float = 0.0) -> None:
        self.endpoint, self.run_id = endpoint, run_id
        self.state_file, self.state = state_file, state
        self.flush_max_values = flush_max_values
        self.buffer = Notifications()
        self.full = asyncio.Event()  # the writer puts its own here when the sink is attached to it
        self.targets: Sequence[Target] = ()
        self.counts = SinkCounts()
        self._pending_gaps: list[Gap] = []
        self._bad_spans = BadStatusSpans(endpoint, node_gap_min_s)
        # Per client handle: the newest source_at this run knows to be stored. See `_split_fresh`.
        self._watermarks: dict[int, datetime] = {}
        # The current subscription: the number of its first notification (see Notifications.taken) and the
        # newest source_at among its notifications already flushed.
        self._subscribed_from = 0
        self._newest_flushed: datetime | None = None

    def enqueue(self, client_handle: int, data_value: ua.DataValue) -> None:
        self.buffer.add(client_handle, data_value)
        if len(self.buffer) >= self.flush_max_values:
            self.full.set()

    def resubscribed(self) -> None:
        """A new subscription repeats current values: check each node's next samples against the table again,
        and follow the newest value the new subscription delivers."""
        self._watermarks.clear()
        self._subscribed_from = self.buffer.taken + len(self.buffer)
        self._newest_flushed = None

    def newest_delivered(self) -> datetime | None:
        """The newest source_at of the values the current subscription delivered, buffered or flushed (a value
        without timestamps counts as delivered now); None when it delivered nothing."""
        buffer = self.buffer
        first = max(0, self._subscribed_from - buffer.taken)
        now = now_utc()
        buffered = [utc(source) or utc(server) or now
                    for source, server in zip(buffer.source_at[first:], buffer.server_at[first:])]
        return max([*buffered, *([self._newest_flushed] if self._newest_flushed else [])], default=None)

    def book(self, gap: Gap) -> None:
        self._pending_gaps.append(gap)

    def close_node_gaps(self, at: datetime) -> None:
        self._pending_gaps += self._bad_spans.close_all(at)

    def prepare(self, received_at: datetime) -> PreparedFlush:
        """Take everything buffered and booked, as rows ready to write (`received_at` stands in for the time of
        values that came without any)."""
        taken = self.buffer.take()
        batch = batch_from_notifications(self.targets, taken, received_at)
        first = max(0, self._subscribed_from - taken.taken)
        if first < len(batch):
            newest = max(batch.source_at[first:])
            self._newest_flushed = max(newest, self._newest_flushed or newest)
        fresh, checked, seeds = self._split_fresh(batch)
        gaps, self._pending_gaps = self._pending_gaps, []
        gaps += self._status_gaps(batch)
        return PreparedFlush(self.run_id, taken, batch, fresh, checked, seeds, gaps)

    def put_back(self, prepared: PreparedFlush) -> None:
        """The write failed: the samples and gaps wait for the next flush. Re-observing the samples may book a
        node gap again; its gap_id is the same, so it lands once."""
        self.buffer.put_back(prepared.taken)
        self._pending_gaps = prepared.gaps + self._pending_gaps

    def landed(self, prepared: PreparedFlush, written: int, duplicates_skipped: int) -> None:
        """The write succeeded: count it, trust the new watermarks, and record the flush in the state file."""
        for handle, newest in prepared.seeds.items():
            self._watermarks[handle] = max(newest, self._watermarks.get(handle, newest))
        self.counts.received += len(prepared.batch)
        self.counts.written += written
        self.counts.duplicates_skipped += duplicates_skipped
        self.counts.gaps += prepared.gaps
        self.counts.flushes += 1
        self.state = replace(self.state, last_flush_at=now_utc())
        write_state(self.state_file, self.state)

    def _status_gaps(self, batch: SampleBatch) -> list[Gap]:
        """Node gaps from Bad status spans; rows are looked at one by one only when one is Bad or its node is
        in a Bad span (a healthy flush costs one pass over the status codes)."""
        spans = self._bad_spans
        in_span = spans.open_nodes()  # the live mapping: observe() opens and closes spans in it as rows go by
        if not in_span and not any(is_bad(code) for code in batch.status):
            return []
        targets, handles, status = batch.targets, batch.handles, batch.status
        return [g for i in range(len(batch))
                if (is_bad(status[i]) or targets[handles[i]].node_id in in_span)
                and (g := spans.observe(batch.row(i))) is not None]

    def _split_fresh(self, batch: SampleBatch) -> tuple[list[int], list[int], dict[int, datetime]]:
        """Split into samples that cannot be stored yet and samples to check against the table.

        insert_new reads every stored key of the partitions it touches, a cost growing with the day's rows, so
        it is kept for samples that may be stored: a node's first samples after each (re)subscribe (the server
        repeats its current value) and anything not newer than the node's watermark. A later notification is a
        new change with a newer SourceTimestamp than anything stored for the node, so it is appended directly.
        Returns the rows (fresh, to_check) and the new watermarks to set once the write succeeded."""
        fresh, checked, seeds = [], [], {}
        watermarks = self._watermarks
        for i, (handle, at) in enumerate(zip(batch.handles, batch.source_at)):
            mark = watermarks.get(handle)
            if mark is not None and at > mark:
                watermarks[handle] = at
                fresh.append(i)
            else:
                checked.append(i)
                seeds[handle] = max(at, seeds.get(handle, at))
        return fresh, checked, seeds
