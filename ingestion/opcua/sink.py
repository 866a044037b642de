"""Where notifications go: an in-memory buffer flushed as micro-batches into Delta, plus gaps and the state file.

The subscription handler only appends (client handle, DataValue) to `buffer`; everything else (conversion, node
gap tracking, the Delta write in a worker thread, the state file) happens here, off the notification path.

Every flush with data is a Delta commit adding a small file, so the sink also compacts on a schedule: every
`compact_every_s` (checked after each flush) it compacts the partitions it wrote since the previous compaction
(delta-rs optimize.compact with a partition filter; a partition holding one file is left alone) and writes a
checkpoint. Compaction runs under the flush lock, so it never interleaves with a write; notifications keep
arriving in the buffer meanwhile. A failed compaction is logged and retried at the next due time; it never stops
collection. Compaction only replaces files (dataChange=false): rows are neither lost nor duplicated. The files it
replaced stay on disk for time travel until a vacuum (`plantlake maintain`) removes them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.compute as pc
from asyncua import ua

from ingestion.opcua.errors import CollectorError
from ingestion.opcua.gaps import BadStatusSpans
from ingestion.opcua.samples import Gap, SampleBatch, Target, batch_from_datavalues, gaps_table, is_bad
from ingestion.opcua.state import CollectorState, write_state
from lakehouse.delta_io import DeltaLake

log = logging.getLogger(__name__)

MAX_FAILED_FLUSHES = 3
SIGNALS = "machine_signals"
GAPS = "machine_signal_gaps"


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class SinkCounts:
    received: int = 0
    written: int = 0
    duplicates_skipped: int = 0
    flushes: int = 0
    gaps: list[Gap] = field(default_factory=list)
    compactions: int = 0  # compactions that replaced files (one per table and due time)
    files_compacted: int = 0  # small files replaced by them


@dataclass(frozen=True)
class Compaction:
    table: str
    partitions: tuple[date, ...]  # empty for an unpartitioned table
    files_removed: int
    files_added: int
    seconds: float


class SignalSink:
    def __init__(self, lake: DeltaLake, *, endpoint: str, run_id: str, state_file: Path, state: CollectorState,
                 flush_interval_s: float, flush_max_values: int, node_gap_min_s: float = 0.0,
                 compact_every_s: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.lake, self.endpoint, self.run_id = lake, endpoint, run_id
        self.state_file, self.state = state_file, state
        self.flush_interval_s, self.flush_max_values = flush_interval_s, flush_max_values
        self.compact_every_s, self._clock = compact_every_s, clock
        self._last_compaction = clock()
        # What the flushes wrote since the last compaction: table -> its source_date partitions (none for gaps).
        self._written: dict[str, set[date]] = {}
        self.buffer: deque[tuple[int, ua.DataValue]] = deque()
        self.full = asyncio.Event()
        self.targets: Sequence[Target] = ()
        self.counts = SinkCounts()
        self._pending_gaps: list[Gap] = []
        self._bad_spans = BadStatusSpans(endpoint, node_gap_min_s)
        self._failed_flushes = 0
        self._flush_lock = asyncio.Lock()
        # Per client handle: the newest source_at this run knows to be stored. See `_split_fresh`.
        self._watermarks: dict[int, datetime] = {}

    def enqueue(self, client_handle: int, data_value: ua.DataValue) -> None:
        self.buffer.append((client_handle, data_value))
        if len(self.buffer) >= self.flush_max_values:
            self.full.set()

    def resubscribed(self) -> None:
        """A new subscription repeats current values: check each node's next samples against the table again."""
        self._watermarks.clear()

    def book(self, gap: Gap) -> None:
        self._pending_gaps.append(gap)

    async def run_periodic(self, stop: asyncio.Event) -> None:
        """Flush every flush_interval_s, or sooner when flush_max_values are buffered, until `stop` is set."""
        while not stop.is_set():
            waiters = [asyncio.ensure_future(self.full.wait()), asyncio.ensure_future(stop.wait())]
            try:
                await asyncio.wait(waiters, timeout=self.flush_interval_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            self.full.clear()
            await self.flush()
            await self.compact_if_due()

    async def flush(self) -> None:
        """Write buffered samples and booked gaps; on failure they stay queued for the next flush."""
        async with self._flush_lock:
            drained = [self.buffer.popleft() for _ in range(len(self.buffer))]
            batch = batch_from_datavalues(self.targets, drained, now_utc())
            fresh, checked, seeds = self._split_fresh(batch)
            gaps, self._pending_gaps = self._pending_gaps, []
            gaps += self._status_gaps(batch)
            try:
                await asyncio.to_thread(self._write, batch, fresh, checked, gaps)
            except Exception as exc:
                self._failed_flushes += 1
                self.buffer.extendleft(reversed(drained))
                # Re-observing the requeued samples may book a node gap again; its gap_id is the same, so it
                # lands once.
                self._pending_gaps = gaps + self._pending_gaps
                if self._failed_flushes >= MAX_FAILED_FLUSHES:
                    raise CollectorError(f"{self._failed_flushes} flushes to the lake failed in a row: {exc}") from exc
                log.warning("flush to the lake failed (%s); retrying at the next flush", exc)
                return
            self._failed_flushes = 0
            for handle, newest in seeds.items():
                self._watermarks[handle] = max(newest, self._watermarks.get(handle, newest))
            self.counts.received += len(batch)
            self.counts.gaps += gaps
            self.counts.flushes += 1
            self.state = replace(self.state, last_flush_at=now_utc())
            write_state(self.state_file, self.state)

    async def compact_if_due(self) -> list[Compaction]:
        """Compact what was written since the last compaction once `compact_every_s` passed (0 = never)."""
        if self.compact_every_s <= 0 or self._clock() - self._last_compaction < self.compact_every_s:
            return []
        return await self.compact()

    async def compact(self) -> list[Compaction]:
        """Compact the partitions written since the last compaction and checkpoint those tables, now."""
        async with self._flush_lock:
            self._last_compaction = self._clock()
            written, self._written = self._written, {}
            done: list[Compaction] = []
            for table, partitions in written.items():
                try:
                    done.append(await asyncio.to_thread(self._compact, table, partitions))
                except Exception as exc:
                    # Keep the partitions for the next due time; a conflicting writer or a full disk must not
                    # stop collection.
                    self._written.setdefault(table, set()).update(partitions)
                    log.warning("compacting %s failed (%s); retrying in %g s", table, exc, self.compact_every_s)
            for c in done:
                if c.files_removed:
                    self.counts.compactions += 1
                    self.counts.files_compacted += c.files_removed
                    log.info("compacted %s %s: %d files -> %d in %.2f s", c.table,
                             ",".join(p.isoformat() for p in c.partitions) or "(whole table)", c.files_removed,
                             c.files_added, c.seconds)
            return done

    def _compact(self, table: str, partitions: set[date]) -> Compaction:
        started = time.perf_counter()
        ordered = tuple(sorted(partitions))
        filters = [("source_date", "in", [p.isoformat() for p in ordered])] if ordered else None
        metrics = self.lake.table(table).optimize.compact(partition_filters=filters)
        removed, added = int(metrics.get("numFilesRemoved", 0)), int(metrics.get("numFilesAdded", 0))
        if removed:
            self.lake.checkpoint(table)
        return Compaction(table, ordered, removed, added, time.perf_counter() - started)

    def close_node_gaps(self, at: datetime) -> None:
        self._pending_gaps += self._bad_spans.close_all(at)

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

    def _wrote(self, table: str, partitions: set[date]) -> None:
        self._written.setdefault(table, set()).update(partitions)

    def _write(self, batch: SampleBatch, fresh: list[int], checked: list[int], gaps: list[Gap]) -> None:
        started = time.perf_counter()
        ingested_at = now_utc()
        if checked:
            rows = batch.table(checked, ingested_at, self.run_id)
            result = self.lake.insert_new(SIGNALS, rows)
            self.counts.written += result.rows_written
            self.counts.duplicates_skipped += result.duplicates_skipped
            if result.rows_written:
                self._wrote(SIGNALS, set(pc.unique(rows["source_date"]).to_pylist()))
        if fresh:
            rows = batch.table(fresh, ingested_at, self.run_id)
            appended = self.lake.append(SIGNALS, rows)
            self.counts.written += appended.rows_written
            self._wrote(SIGNALS, set(pc.unique(rows["source_date"]).to_pylist()))
        if gaps and self.lake.insert_new(GAPS, gaps_table(gaps, ingested_at, self.run_id)).rows_written:
            self._wrote(GAPS, set())
        if fresh or checked or gaps:
            log.debug("flushed %d samples, %d gaps in %.3f s", len(fresh) + len(checked), len(gaps),
                      time.perf_counter() - started)
