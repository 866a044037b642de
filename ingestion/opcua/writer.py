"""One writer per process for every endpoint it collects: a Delta commit per flush interval, not per endpoint.

Every `flush_interval_s` (sooner when a sink holds `flush_max_values`) the writer takes what each attached sink
prepared (sink.py) and writes it in a worker thread, at most three commits however many endpoints there are:
the samples appended directly, the samples checked against the table (insert_new, after a (re)subscribe) and
the gaps. The append goes through a `machine_signals` DeltaTable kept open between flushes and brought up to
date before each write, instead of opening the table, checking it exists and reading its version anew for every
commit, which cost more than writing a few thousand rows. Both signal writes hold the table's write lock
(lakehouse.lake_lock.table_write_lock), which `ingest` takes to land signal files into the same table.
A failed write puts everything back into the sinks for the next flush; MAX_FAILED_FLUSHES in a row stop the
collection with a CollectorError.

Every flush with data adds small files, so the writer also compacts on a schedule: every `compact_every_s`
(checked after each flush) it compacts the partitions written since the previous compaction (delta-rs
optimize.compact with a partition filter; a partition holding one file is left alone) and writes a checkpoint.
Compaction runs under the flush lock, so it never interleaves with a write; notifications keep arriving in the
sinks meanwhile. A failed compaction is logged and retried at the next due time; it never stops collection.
Compaction only replaces files (dataChange=false): rows are neither lost nor duplicated. The files it replaced
stay on disk for time travel until a vacuum (`plantlake maintain`) removes them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from ingestion.opcua.errors import CollectorError
from ingestion.opcua.samples import gaps_table
from ingestion.opcua.sink import PreparedFlush, SignalSink, now_utc
from lakehouse.delta_io import DeltaLake
from lakehouse.lake_lock import table_write_lock

log = logging.getLogger(__name__)

MAX_FAILED_FLUSHES = 3
SIGNALS = "machine_signals"
GAPS = "machine_signal_gaps"


@dataclass(frozen=True)
class Compaction:
    table: str
    partitions: tuple[date, ...]  # empty for an unpartitioned table
    files_removed: int
    files_added: int
    seconds: float


@dataclass(frozen=True)
class Landed:
    """What one flush wrote for one run: rows stored and rows insert_new found stored already."""

    written: int = 0
    duplicates_skipped: int = 0


class SignalWriter:
    def __init__(self, lake: DeltaLake, *, flush_interval_s: float, compact_every_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lake = lake
        self.flush_interval_s, self.compact_every_s, self._clock = flush_interval_s, compact_every_s, clock
        self.sinks: list[SignalSink] = []
        self.full = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._failed_flushes = 0
        self._last_compaction = clock()
        # What the flushes wrote since the last compaction: table -> its source_date partitions (none for gaps).
        self._written: dict[str, set[date]] = {}
        self.compactions = 0  # compactions that replaced files (one per table and due time)
        self.files_compacted = 0  # small files replaced by them
        self._signals: DeltaTable | None = None  # machine_signals, kept open between flushes
        self._loop: asyncio.Task[None] | None = None
        self._stop_loop = asyncio.Event()

    def attach(self, sink: SignalSink) -> asyncio.Task[None]:
        """Flush `sink` from now on; returns the periodic flush task, started with the first sink (it only ends
        early when the lake refuses writes)."""
        sink.full = self.full
        self.sinks.append(sink)
        if self._loop is None:
            self._stop_loop = asyncio.Event()
            self._loop = asyncio.create_task(self.run_periodic(self._stop_loop))
        return self._loop

    async def detach(self, sink: SignalSink) -> None:
        """Stop flushing `sink` (its owner flushed it for the last time); the last sink out stops the task."""
        self.sinks.remove(sink)
        if not self.sinks and self._loop is not None:
            loop, self._loop = self._loop, None
            self._stop_loop.set()
            with contextlib.suppress(Exception):
                await loop

    async def run_periodic(self, stop: asyncio.Event) -> None:
        """Flush every flush_interval_s, or sooner when a sink holds flush_max_values, until `stop` is set."""
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

    async def flush(self, sinks: Sequence[SignalSink] | None = None) -> None:
        """Write what the sinks (default: all attached) hold; on failure it stays queued for the next flush."""
        async with self._flush_lock:
            chosen = list(self.sinks if sinks is None else sinks)
            received_at = now_utc()
            prepared = [sink.prepare(received_at) for sink in chosen]
            try:
                landed = await asyncio.to_thread(self._write, prepared)
            except Exception as exc:
                self._failed_flushes += 1
                for sink, share in zip(chosen, prepared):
                    sink.put_back(share)
                if self._failed_flushes >= MAX_FAILED_FLUSHES:
                    raise CollectorError(f"{self._failed_flushes} flushes to the lake failed in a row: {exc}") from exc
                log.warning("flush to the lake failed (%s); retrying at the next flush", exc)
                return
            self._failed_flushes = 0
            for sink, share in zip(chosen, prepared):
                outcome = landed.get(share.run_id, Landed())
                sink.landed(share, outcome.written, outcome.duplicates_skipped)

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
                    self.compactions += 1
                    self.files_compacted += c.files_removed
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

    def _write(self, prepared: list[PreparedFlush]) -> dict[str, Landed]:
        """Every sink's rows in at most three commits; returns what landed per run_id."""
        started = time.perf_counter()
        ingested_at = now_utc()
        written: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        checked = [p.batch.table(p.checked, ingested_at, p.run_id) for p in prepared if p.checked]
        if checked:
            rows = pa.concat_tables(checked)
            result, inserted = self.lake.insert_new_rows(SIGNALS, rows)
            inserted_by_run = dict(inserted.group_by("ingest_run_id").len().iter_rows())
            for p in prepared:
                if p.checked:
                    written[p.run_id] += inserted_by_run.get(p.run_id, 0)
                    skipped[p.run_id] += len(p.checked) - inserted_by_run.get(p.run_id, 0)
            if result.rows_written:
                self._wrote(SIGNALS, set(pc.unique(rows["source_date"]).to_pylist()))
        fresh = [p.batch.table(p.fresh, ingested_at, p.run_id) for p in prepared if p.fresh]
        if fresh:
            rows = pa.concat_tables(fresh)
            self._append_signals(rows)
            for p in prepared:
                written[p.run_id] += len(p.fresh)
            self._wrote(SIGNALS, set(pc.unique(rows["source_date"]).to_pylist()))
        gaps = [gaps_table(p.gaps, ingested_at, p.run_id) for p in prepared if p.gaps]
        if gaps and self.lake.insert_new(GAPS, pa.concat_tables(gaps)).rows_written:
            self._wrote(GAPS, set())
        if checked or fresh or gaps:
            log.debug("flushed %d samples, %d gaps of %d endpoints in %.3f s",
                      sum(len(p.batch) for p in prepared), sum(len(p.gaps) for p in prepared), len(prepared),
                      time.perf_counter() - started)
        return {run_id: Landed(written[run_id], skipped[run_id]) for run_id in written.keys() | skipped.keys()}

    def _append_signals(self, rows: pa.Table) -> None:
        with table_write_lock(self.lake.root, SIGNALS):
            if self._signals is None:
                self._signals = self.lake.create(SIGNALS)
            else:
                self._signals.update_incremental()  # whatever others committed since (ingest, compaction)
            self.lake.append(SIGNALS, rows, table=self._signals)

    def _wrote(self, table: str, partitions: set[date]) -> None:
        self._written.setdefault(table, set()).update(partitions)
