"""Landing files in bronze: fingerprint, parse, validate against the contract, insert new rows, quarantine
the rest, mark touched event dates, log every file. Every record read is landed, quarantined or counted as
a duplicate, and each file's log row says how many of each.

Files of one source are landed in batches: one contract validation and one insert per table per batch, then
the counts are attributed back to each file. Crash safety: the ingest log rows are written last. Files whose
run died before them are read again on the next run; bronze and quarantine writes are insert-only on their
keys, so the rerun lands every row exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa

from data_contracts.rules import Contract
from data_contracts.distinct import validate_distinct
from ingestion.limits import MAX_FILE_BYTES, MAX_REJECTIONS_PER_FILE, FileLimitExceeded
from ingestion.readers import read_bytes
from ingestion.reference import code_sets
from ingestion.mes_records import LIST_FIELD
from ingestion.sources import SOURCES, Source
from lakehouse.delta_io import DeltaLake
from lakehouse.schema import columns_to_arrow, rows_to_arrow

BATCH_BYTES = 256 * 1024 * 1024
IN_FLIGHT = "in_flight"  # a file changed while it was read: neither landed nor logged, read again next run
BATCH_FILES = 1000


@dataclass
class FileOutcome:
    source: str
    source_file: str
    file_sha256: str = ""
    file_bytes: int = 0
    status: str = "landed"  # landed | duplicate_file | rejected
    error: str | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    event_dates: set[date] = field(default_factory=set)
    landed_lines: set[int] = field(default_factory=set)  # source lines that inserted rows (not duplicates)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def conserved(self) -> bool:
        return self.rows_read == self.rows_landed + self.rows_quarantined + self.rows_duplicate


class Lander:
    """Lands files from one landing folder into one lake, as one ingest run."""

    def __init__(self, lake: DeltaLake, landing_root: Path, *, run_id: str | None = None,
                 now: datetime | None = None, settle_seconds: float | None = None) -> None:
        self.lake = lake
        # a file lands only when unchanged for this long (a writer may still be appending); default from
        # PLANTLAKE_LANDING_SETTLE_S, else 0: only a file that changes while it is read is left for later
        self.settle_seconds = float(os.environ.get("PLANTLAKE_LANDING_SETTLE_S", "0")) \
            if settle_seconds is None else settle_seconds
        self.landing_root = landing_root.resolve()
        self.run_id = run_id or f"ingest-{uuid.uuid4().hex[:12]}"
        self.now = now or datetime.now(timezone.utc)
        self._codes = code_sets(lake)
        self._suites: dict[str, object] = {}
        self._landed, self._logged = self._read_ingest_log()
        self.table_stats: dict[str, Counter] = {}  # table -> landed / quarantined / duplicate / expectation name
        self.step_seconds: Counter = Counter()  # read / parse / dedup / validate / lineage / write -> seconds

    def pending_files(self, sources: Iterable[Source] = SOURCES, *,
                      include_logged: bool = False) -> list[tuple[Source, Path]]:
        found = []
        for source in sources:
            paths: set[Path] = set()
            for pattern in source.patterns:
                paths |= {p for p in self.landing_root.glob(pattern) if not p.is_dir()}  # FIFOs, devices,
                # loops and links leaving the folder are kept here so that reading rejects them with the reason
            found += [(source, p) for p in sorted(paths)
                      if (self.settled(p) if include_logged else self.wanted(p))]
        return found

    def wanted(self, path: Path) -> bool:
        """A file is read when it has settled and is not a file the log already holds, unchanged."""
        return self.settled(path) and not self.logged_unchanged(path)

    def logged_unchanged(self, path: Path) -> bool:
        """True when the ingest log holds this name, read (landed, a duplicate or rejected after reading) at a
        time after the file was last modified and with its current size: reading it again could only repeat
        that row. A file written again (new size or modification time) is read again."""
        logged = self._logged.get(self.relative_name(path))
        stamp = file_stamp(path)
        return logged is not None and stamp is not None and stamp[0] == logged[0] and stamp[1] < logged[1]

    def _read_ingest_log(self) -> tuple[dict[str, bool], dict[str, tuple[int, int]]]:
        """What the ingest log says, in one read of it:
        - fingerprints of landed files -> whether they held any record. A file with no records (a header-only
          export) is not a delivery of anything, so another file with the same bytes is not its duplicate;
        - source_file -> (bytes, when its latest reading started, ns) for files the log holds as read. A file
          whose latest reading failed while writing (`could not be landed`, perhaps a full disk) is read again."""
        if not self.lake.exists("ingest_log"):
            return {}, {}
        log = self.lake.scan("ingest_log")
        landed = (log.filter(pl.col("status") == "landed")
                  .group_by("file_sha256").agg((pl.col("rows_read").max() > 0).alias("has_rows")))
        stamps = (log.filter(~pl.col("file_sha256").str.starts_with("unread:"))
                  .sort("started_at").group_by("source_file")
                  .agg(pl.col("file_bytes").last(), pl.col("started_at").last().dt.epoch("ns"),
                       pl.col("error").last().fill_null("").str.starts_with("could not be landed").alias("retry"))
                  .filter(~pl.col("retry")).drop("retry"))
        landed_frame, stamps_frame = pl.collect_all([landed, stamps])
        return (dict(landed_frame.iter_rows()),
                {name: (size, started) for name, size, started in stamps_frame.iter_rows()})

    def settled(self, path: Path) -> bool:
        """False while the file changed within the settle interval (it is left for a later run, unlogged)."""
        if self.settle_seconds <= 0:
            return True
        stamp = file_stamp(path)
        return stamp is None or time.time() - stamp[1] / 1e9 >= self.settle_seconds

    def land_all(self, sources: Iterable[Source] = SOURCES,
                 progress: Callable[[FileOutcome], None] | None = None) -> list[FileOutcome]:
        outcomes: list[FileOutcome] = []
        for source in sources:
            paths = [p for s, p in self.pending_files([source])]
            for batch in _batches(paths):
                for outcome in self.land_batch(batch, source):
                    if outcome.status == IN_FLIGHT:
                        continue
                    outcomes.append(outcome)
                    if progress:
                        progress(outcome)
        return outcomes

    def land_file(self, path: Path, source: Source) -> FileOutcome:
        return self.land_batch([path], source)[0]

    def land_batch(self, paths: list[Path], source: Source) -> list[FileOutcome]:
        outcomes = [FileOutcome(source.name, self.relative_name(p)) for p in paths]
        routed: dict[str, list[pl.DataFrame]] = {}
        raws: dict[int, Callable[[int, int], str]] = {}
        quarantine: list[dict] = []
        seen_in_batch: dict[str, bool] = {}
        for index, (path, outcome) in enumerate(zip(paths, outcomes, strict=True)):
            before = file_stamp(path)
            try:
                with self._step("read"):
                    data = self.read_inside_root(path, source.read)
            except (OSError, ValueError, RuntimeError) as exc:
                outcome.status, outcome.error = "rejected", f"unreadable: {exc}"
                continue
            if before is None or file_stamp(path) != before:  # written to while read: not complete, land it later
                outcome.status, outcome.error = IN_FLIGHT, "the file changed while it was read"
                continue
            with self._step("read"):
                outcome.file_sha256, outcome.file_bytes = hashlib.sha256(data).hexdigest(), len(data)
            if self.is_delivered(outcome.file_sha256) or seen_in_batch.get(outcome.file_sha256):
                outcome.status = "duplicate_file"
                continue
            try:  # nothing one file holds may stop the others: any failure rejects this file, with the reason
                with self._step("parse"):
                    parsed = source.parse(data)
                    del data
                    if not parsed.file_error:
                        by_table, rejections = source.route(parsed)
                        rejections = [*parsed.rejections, *rejections]
            except FileLimitExceeded as exc:
                outcome.status, outcome.error = "rejected", str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - the file is rejected with what went wrong
                outcome.status, outcome.error = "rejected", f"could not be read: {type(exc).__name__}: {exc}"[:2000]
                continue
            seen_in_batch[outcome.file_sha256] = parsed.rows_read > 0
            if parsed.file_error:
                outcome.status, outcome.error = "rejected", parsed.file_error
                continue
            if len(rejections) > MAX_REJECTIONS_PER_FILE:
                outcome.status, outcome.error = "rejected", (
                    f"{len(rejections):,} records could not be read, more than the limit of "
                    f"{MAX_REJECTIONS_PER_FILE:,} per file (ingestion.limits.MAX_REJECTIONS_PER_FILE); "
                    f"first reason: {rejections[0].reason}")
                continue
            outcome.rows_read = sum(f.height for f in by_table.values()) + len(rejections)
            outcome.rows_quarantined += len(rejections)
            quarantine += [self._quarantine_row(outcome, r.source_line, r.record_seq, r.record_type, r.raw,
                                                r.raw_bytes, [r.reason]) for r in rejections]
            raws[index] = parsed.raw
            for table, frame in by_table.items():
                if frame.height:
                    routed.setdefault(table, []).append(frame.with_columns(pl.lit(index, pl.Int32).alias("_file")))
        try:
            for table, frames in routed.items():
                quarantine += self._land_table(outcomes, raws, table, source.contracts[table], pl.concat(frames))
            if quarantine:
                with self._step("write"):
                    self.lake.insert_new(source.quarantine_table,
                                         rows_to_arrow(self.lake.spec(source.quarantine_table), quarantine))
        except Exception as exc:  # noqa: BLE001 - find the file that fails: land the batch's files one by one
            if len(paths) > 1:
                return [outcome for path in paths for outcome in self.land_batch([path], source)]
            self._reject_after_failure(outcomes[0], exc)
        finished = [o for o in outcomes if o.status != IN_FLIGHT]
        if finished:
            with self._step("write"):
                self.log_files(finished)
            self.remember(finished)
        return outcomes

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        """Adds the wall time of the block to `step_seconds[name]` (the benchmark prints the split)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.step_seconds[name] += time.perf_counter() - start

    @staticmethod
    def _reject_after_failure(outcome: FileOutcome, exc: Exception) -> None:
        """A file whose records could not be written: rejected with the reason. Rows written before the
        failure stay (bronze is insert-only) and are found as duplicates when the file is sent again fixed."""
        outcome.status, outcome.error = "rejected", f"could not be landed: {type(exc).__name__}: {exc}"[:2000]
        outcome.rows_read = outcome.rows_landed = outcome.rows_quarantined = outcome.rows_duplicate = 0
        outcome.event_dates, outcome.landed_lines = set(), set()

    # ---- steps ---------------------------------------------------------------------------------
    def _land_table(self, outcomes: list[FileOutcome], raws: dict[int, Callable[[int, int], str]], table: str,
                    contract: Contract, records: pl.DataFrame) -> list[dict]:
        stats = self.table_stats.setdefault(table, Counter())
        columns = list(contract.column_names)
        with self._step("dedup"):
            first = _first_of_copies(records, columns, list(contract.key))
            duplicates = _counts(records.filter(~first)["_file"])
            for file_index, count in duplicates.items():
                outcomes[file_index].rows_duplicate += count
            stats["duplicate"] += sum(duplicates.values())
            records = records.filter(first)
        with self._step("validate"):
            text = contract.normalized(records.select(columns))
            typed = contract.typed(text)
            verdicts = validate_distinct(contract, text, typed, self._suite(contract))
            if verdicts.table_failures:
                reasons = {i: [f"table-level: {f}" for f in verdicts.table_failures] for i in range(records.height)}
            else:
                reasons = dict(verdicts.failures)
            reasons = _untypable_rows(typed, reasons, self.lake.spec(table).schema)
            reasons = _first_of_conflicting_records(contract, typed, reasons)
            reasons = _whole_lot_events(records, reasons)
        with self._step("dedup"):
            reasons = self._conflicting_duplicates(table, typed, reasons)
        with self._step("lineage"):
            stats["quarantined"] += len(reasons)
            stats.update(f"failed: {name}" for names in reasons.values() for name in names)
            quarantined = []
            bad = sorted(reasons)
            for i, (line, seq, kind, file_index) in zip(
                    bad, records[bad].select("_line", "_seq", "_type", "_file").iter_rows(), strict=True):
                outcome = outcomes[file_index]
                outcome.rows_quarantined += 1
                raw = raws[file_index](line, seq)
                quarantined.append(self._quarantine_row(outcome, line, seq, kind, raw, len(raw), reasons[i]))
            good_mask = ~pl.int_range(records.height, eager=True).is_in(bad)
            good_records = records.filter(good_mask)
            if good_records.is_empty():
                return quarantined
            files = good_records["_file"]
            good = typed.filter(good_mask).with_columns(
                pl.col("occurred_at").dt.date().alias("event_date"),
                good_records["_line"].alias("source_line"),
                files.replace_strict({i: o.source_file for i, o in enumerate(outcomes)}, return_dtype=pl.String)
                .alias("source_file"),
                files.replace_strict({i: o.file_sha256 for i, o in enumerate(outcomes)}, return_dtype=pl.String)
                .alias("file_sha256"),
                pl.lit(self.run_id).alias("ingest_run_id"),
                pl.lit(self.now).dt.cast_time_unit("us").dt.convert_time_zone("UTC").alias("ingested_at"))
        with self._step("write"):
            already = self.existing_dates(table)
            _, inserted = self.lake.insert_new_rows(table, good)
            recovered = self._landed_by_an_unlogged_run(table, good, inserted)
        with self._step("lineage"):
            landing = {o.file_sha256 for o in outcomes if o.status == "landed"}  # a replay's rows stay duplicates
            landed = _counts(inserted["file_sha256"]) + Counter({k: v for k, v in recovered.items() if k in landing})
            lines_by_file = {sha: set(lines) for sha, lines in inserted.group_by("file_sha256").agg(
                pl.col("source_line").unique()).iter_rows()}
            stats["landed"] += sum(landed.values())
            stats["duplicate"] += good.height - sum(landed.values())
            for file_index, count in _counts(files).items():
                outcome = outcomes[file_index]
                outcome.rows_landed += landed.get(outcome.file_sha256, 0)
                outcome.landed_lines |= lines_by_file.get(outcome.file_sha256, set())
                outcome.rows_duplicate += count - landed.get(outcome.file_sha256, 0)
            dates_by_file = good.select(files.alias("_file"), "event_date").unique()
            for file_index, day in dates_by_file.iter_rows():
                outcomes[file_index].event_dates.add(day)
        with self._step("write"):
            self.mark_dirty(table, set(good["event_date"].unique().to_list()), already)
        return quarantined

    def _landed_by_an_unlogged_run(self, table: str, good: pl.DataFrame, inserted: pl.DataFrame) -> Counter:
        """Rows this file itself wrote in a run killed before its log row (the stored row carries this file's
        fingerprint, which the log does not know yet): counted as landed, not as duplicates, so that the log's
        rows_landed keeps agreeing with the table after a crash."""
        if good.height == inserted.height:
            return Counter()
        keys = list(self.lake.spec(table).merge_keys)
        skipped = good.select(*keys, "file_sha256").join(inserted.select(keys), on=keys, how="anti",
                                                          nulls_equal=True)
        stored = (self.lake.scan(table).select(*keys, pl.col("file_sha256").alias("_stored_sha256"))
                  .join(skipped.select(keys).lazy(), on=keys, how="semi").collect())
        mine = skipped.join(stored, on=keys, nulls_equal=True).filter(pl.col("file_sha256") == pl.col("_stored_sha256"))
        return _counts(mine["file_sha256"])

    def _conflicting_duplicates(self, table: str, typed: pl.DataFrame,
                                reasons: dict[int, list[str]]) -> dict[int, list[str]]:
        """Rows whose business key is already landed with another payload are `conflicting_duplicate`:
        quarantined with the landed values in the reason and the new record as raw payload (rows of one batch
        sharing a key with another payload fail the contract's unique-key expectation). A re-send identical to
        what landed stays a plain duplicate."""
        merged = dict(reasons)  # conflicts within the batch already fail the contract's unique-key expectation
        spec = self.lake.spec(table)
        keys = [k for k in spec.merge_keys if k in typed.columns]
        if len(keys) != len(spec.merge_keys) or typed.is_empty() or not self.lake.exists(table):
            return merged
        payload = [c for c in typed.columns if c not in keys and c in spec.schema.names]
        candidates = typed.with_row_index("_row").filter(~pl.col("_row").is_in(list(merged)))
        stored = (self.lake.scan(table).select(*keys, *payload)
                  .join(candidates.select(keys).lazy(), on=keys, how="semi").collect())
        if stored.is_empty():
            return merged
        both = candidates.join(stored, on=keys, how="inner", suffix="__landed")
        differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}__landed")) for c in payload])
        for row in both.filter(differs).iter_rows(named=True):
            landed = {c: row[f"{c}__landed"] for c in payload if row[c] != row[f"{c}__landed"]}
            key = ", ".join(f"{k}={row[k]}" for k in keys)
            merged[row["_row"]] = [f"conflicting_duplicate: {key} already landed with another payload; landed "
                                   f"values that differ: {json.dumps(landed, default=str, sort_keys=True)}"]
        return merged

    def _suite(self, contract: Contract) -> object:
        if contract.entity not in self._suites:
            self._suites[contract.entity] = contract.suite(self._codes, self.now)
        return self._suites[contract.entity]

    def _quarantine_row(self, outcome: FileOutcome, line: int, seq: int, record_type: str | None, raw: str,
                        raw_bytes: int, reasons: list[str]) -> dict:
        return {"file_sha256": outcome.file_sha256, "source_line": line, "record_seq": seq,
                "source_file": outcome.source_file, "record_type": record_type, "raw_payload": raw,
                "raw_payload_bytes": raw_bytes, "reasons": reasons, "ingest_run_id": self.run_id,
                "quarantined_at": self.now}

    def existing_dates(self, table: str, column: str = "event_date") -> set[date]:
        """Date partitions the table has now (to tell late data from new days)."""
        if not self.lake.exists(table):
            return set()
        return {date.fromisoformat(p[column]) for p in self.lake.table(table).partitions()}

    def is_delivered(self, file_sha256: str) -> bool:
        """True when a file with these bytes, holding records, has landed before."""
        return bool(self._landed.get(file_sha256))

    def remember(self, outcomes: list[FileOutcome]) -> None:
        self._landed.update({o.file_sha256: o.rows_read > 0 for o in outcomes if o.status == "landed"})

    def mark_dirty(self, table: str, dates: set[date], already: set[date]) -> None:
        """Book the event-time partitions a run touched; is_late when the date had data before."""
        ordered = sorted(dates)
        self.lake.insert_new("dirty_partitions", columns_to_arrow(self.lake.spec("dirty_partitions"), {
            "table_name": [table] * len(ordered), "event_date": pa.array(ordered, pa.date32()),
            "ingest_run_id": [self.run_id] * len(ordered), "is_late": [d in already for d in ordered],
            "marked_at": pa.array([self.now] * len(ordered), pa.timestamp("us", "UTC"))}))

    def log_files(self, outcomes: list[FileOutcome]) -> None:
        """Write the files' ingest log rows (last, after every table write of their batch)."""
        finished = datetime.now(timezone.utc)
        self.lake.append("ingest_log", columns_to_arrow(self.lake.spec("ingest_log"), {
            "file_sha256": [o.file_sha256 or f"unread:{o.source_file}" for o in outcomes],
            "ingest_run_id": [self.run_id] * len(outcomes), "source": [o.source for o in outcomes],
            "source_file": [o.source_file for o in outcomes], "file_bytes": [o.file_bytes for o in outcomes],
            "status": [o.status for o in outcomes], "error": [o.error for o in outcomes],
            "rows_read": [o.rows_read for o in outcomes], "rows_landed": [o.rows_landed for o in outcomes],
            "rows_quarantined": [o.rows_quarantined for o in outcomes],
            "rows_duplicate": [o.rows_duplicate for o in outcomes],
            "event_dates": pa.array([sorted(o.event_dates) for o in outcomes], pa.list_(pa.date32())),
            "started_at": pa.array([o.started_at for o in outcomes], pa.timestamp("us", "UTC")),
            "finished_at": pa.array([finished] * len(outcomes), pa.timestamp("us", "UTC"))}))

    def relative_name(self, path: Path) -> str:
        """The file's name in the landing folder, as printable text: bytes that are not UTF-8 are written as
        `\\xNN` escapes (a name is stored and logged, never used to open the file again)."""
        try:
            name = path.relative_to(self.landing_root).as_posix()
        except ValueError:
            name = path.name
        return os.fsencode(name).decode("utf-8", errors="backslashreplace")

    def read_inside_root(self, path: Path, read: Callable[[Path], bytes] = read_bytes) -> bytes:
        """File bytes of a regular file inside the landing folder. Refused, with the reason: links that
        resolve outside the folder, symlink loops and dangling links, anything that is not a regular file
        (a FIFO would block the reader forever, a device never ends), files larger than MAX_FILE_BYTES."""
        try:
            resolved = path.resolve(strict=True)
        except RuntimeError as exc:  # Python 3.11 reports a symlink loop as RuntimeError
            raise ValueError(f"symlink loop: {exc}") from None
        except OSError as exc:
            raise ValueError(f"cannot resolve the path ({exc.strerror or exc}); a dangling link or a loop") from None
        if not resolved.is_relative_to(self.landing_root):
            raise ValueError(f"{self.relative_name(path)} resolves outside the landing folder")
        info = os.stat(resolved)  # stat, not open: opening a FIFO blocks
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file ({_file_kind(info.st_mode)}); only regular files are read")
        if info.st_size > MAX_FILE_BYTES:
            raise FileLimitExceeded(f"file of {info.st_size:,} bytes, more than the limit of {MAX_FILE_BYTES:,} "
                                    "(ingestion.limits.MAX_FILE_BYTES)")
        return read(resolved)


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of the file a path leads to, or None when it cannot be read."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_size, info.st_mtime_ns


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return kind
    return "not a regular file"


def _batches(paths: list[Path]) -> Iterator[list[Path]]:
    batch: list[Path] = []
    size = 0
    for path in paths:
        try:
            length = path.stat().st_size
        except OSError:
            length = 0
        if batch and (size + length > BATCH_BYTES or len(batch) >= BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += length
    if batch:
        yield batch


def _first_of_conflicting_records(contract: Contract, typed: pl.DataFrame,
                                  reasons: dict[int, list[str]]) -> dict[int, list[str]]:
    """Records of one batch sharing a business key with different payloads (exact copies were dropped before):
    the first delivered (file order, then line) that passes every other expectation lands, the others are
    `conflicting_duplicate` (with their own faults, if any), as a re-send in a later run is; before this, the key's uniqueness expectation
    quarantined them all and the good record was lost too."""
    unique = contract.key_rule
    clashing = sorted(i for i, names in reasons.items() if unique in names)
    if not clashing:
        return reasons
    merged = dict(reasons)
    keys, payload = list(contract.key), [c for c in typed.columns if c not in contract.key]
    rows = typed.with_row_index("_row").filter(pl.col("_row").is_in(clashing))
    for _, group in rows.group_by(keys, maintain_order=True):
        group = group.sort("_row")
        clean = [r for r in group["_row"].to_list() if reasons[r] == [unique]]
        if not clean:  # every record of the key fails something else too: they keep their own reasons
            continue
        first = group.filter(pl.col("_row") == clean[0]).row(0, named=True)
        del merged[clean[0]]
        key = ", ".join(f"{k}={first[k]}" for k in keys)
        for other in group.filter(pl.col("_row") != clean[0]).iter_rows(named=True):
            landing = {c: first[c] for c in payload if other[c] != first[c]}
            merged[other["_row"]] = [
                f"conflicting_duplicate: {key} lands in this run from another record with another payload; "
                f"its values that differ: {json.dumps(landing, default=str, sort_keys=True)}",
                *(name for name in reasons[other["_row"]] if name != unique)]
    return merged


def _whole_lot_events(records: pl.DataFrame, reasons: dict[int, list[str]]) -> dict[int, list[str]]:
    """A lot split or merge lands whole or not at all: when one of its relations fails the contract, every
    relation of that event is quarantined with it (relations of one event share file, line and `_seq // 1000`,
    see `ingestion/mes_records.py`)."""
    if not reasons or "_type" not in records.columns:
        return reasons
    event = ["_file", "_line", "_event"]
    relations = (records.with_row_index("_i").filter(pl.col("_type").is_in(list(LIST_FIELD)))
                 .with_columns((pl.col("_seq") // 1000).alias("_event")))
    failed = relations.filter(pl.col("_i").is_in(list(reasons))).select(event).unique()
    if failed.is_empty():
        return reasons
    siblings = relations.join(failed, on=event).filter(~pl.col("_i").is_in(list(reasons)))
    whole = dict(reasons)
    for index, kind in siblings.select("_i", "_type").iter_rows():
        whole[index] = [f"another relation of the same {kind} event failed its contract: the event lands whole "
                        "or not at all"]
    return whole


def _untypable_rows(typed: pl.DataFrame, reasons: dict[int, list[str]], schema: pa.Schema) -> dict[int, list[str]]:
    """A safety net under the contract: a row that passed but still has a null in a non-nullable column
    after typing is quarantined rather than failing the whole write."""
    required = [f.name for f in schema if not f.nullable and f.name in typed.columns]
    if not required or typed.is_empty():
        return reasons
    nulls = typed.with_row_index("_row").filter(pl.any_horizontal([pl.col(c).is_null() for c in required]))
    merged = dict(reasons)
    for row in nulls.iter_rows(named=True):
        if row["_row"] not in merged:
            merged[row["_row"]] = [f"could not be typed: {', '.join(c for c in required if row[c] is None)}"]
    return merged


def _first_of_copies(records: pl.DataFrame, columns: list[str], key: list[str]) -> pl.Series:
    """True for each record not an exact copy of an earlier one. Records whose business keys all differ are
    all distinct, which is cheaper to see than comparing whole records."""
    keys = pl.struct(key) if len(key) > 1 else pl.col(key[0])
    if records.select(keys.is_unique().all()).item():
        return pl.repeat(True, records.height, eager=True)
    return records.select(pl.struct(columns).is_first_distinct()).to_series()


def _counts(values: pl.Series) -> Counter:
    """How many times each value occurs (a Counter, without a Python loop over the rows)."""
    return Counter(dict(values.value_counts().iter_rows()))
