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
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa

from data_contracts.rules import Contract
from data_contracts.runner import validate_rows
from ingestion.readers import read_bytes
from ingestion.reference import code_sets
from ingestion.sources import SOURCES, Source
from lakehouse.delta_io import DeltaLake
from lakehouse.schema import columns_to_arrow, rows_to_arrow

BATCH_BYTES = 256 * 1024 * 1024
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
                 now: datetime | None = None) -> None:
        self.lake = lake
        self.landing_root = landing_root.resolve()
        self.run_id = run_id or f"ingest-{uuid.uuid4().hex[:12]}"
        self.now = now or datetime.now(timezone.utc)
        self._codes = code_sets(lake)
        self._suites: dict[str, object] = {}
        self._landed: dict[str, bool] = self._landed_fingerprints()
        self.table_stats: dict[str, Counter] = {}  # table -> landed / quarantined / duplicate / expectation name

    def pending_files(self, sources: Iterable[Source] = SOURCES) -> list[tuple[Source, Path]]:
        found = []
        for source in sources:
            paths: set[Path] = set()
            for pattern in source.patterns:
                paths |= {p for p in self.landing_root.glob(pattern) if p.is_file() or p.is_symlink()}
            found += [(source, p) for p in sorted(paths)]
        return found

    def land_all(self, sources: Iterable[Source] = SOURCES,
                 progress: Callable[[FileOutcome], None] | None = None) -> list[FileOutcome]:
        outcomes: list[FileOutcome] = []
        for source in sources:
            paths = [p for s, p in self.pending_files([source])]
            for batch in _batches(paths):
                for outcome in self.land_batch(batch, source):
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
            try:
                data = self.read_inside_root(path, source.read)
            except (OSError, ValueError) as exc:
                outcome.status, outcome.error = "rejected", f"unreadable: {exc}"
                continue
            outcome.file_sha256, outcome.file_bytes = hashlib.sha256(data).hexdigest(), len(data)
            if self.is_delivered(outcome.file_sha256) or seen_in_batch.get(outcome.file_sha256):
                outcome.status = "duplicate_file"
                continue
            parsed = source.parse(data)
            del data
            seen_in_batch[outcome.file_sha256] = parsed.rows_read > 0
            if parsed.file_error:
                outcome.status, outcome.error = "rejected", parsed.file_error
                continue
            by_table, rejections = source.route(parsed)
            rejections = [*parsed.rejections, *rejections]
            outcome.rows_read = sum(f.height for f in by_table.values()) + len(rejections)
            outcome.rows_quarantined += len(rejections)
            quarantine += [self._quarantine_row(outcome, r.source_line, r.record_seq, r.record_type, r.raw,
                                                r.raw_bytes, [r.reason]) for r in rejections]
            raws[index] = parsed.raw
            for table, frame in by_table.items():
                if frame.height:
                    routed.setdefault(table, []).append(frame.with_columns(pl.lit(index, pl.Int32).alias("_file")))
        for table, frames in routed.items():
            quarantine += self._land_table(outcomes, raws, table, source.contracts[table], pl.concat(frames))
        if quarantine:
            self.lake.insert_new(source.quarantine_table,
                                 rows_to_arrow(self.lake.spec(source.quarantine_table), quarantine))
        self.log_files(outcomes)
        self.remember(outcomes)
        return outcomes

    # ---- steps ---------------------------------------------------------------------------------
    def _land_table(self, outcomes: list[FileOutcome], raws: dict[int, Callable[[int, int], str]], table: str,
                    contract: Contract, records: pl.DataFrame) -> list[dict]:
        stats = self.table_stats.setdefault(table, Counter())
        columns = list(contract.column_names)
        first = records.select(pl.struct(columns).is_first_distinct()).to_series()
        duplicates = Counter(records.filter(~first)["_file"].to_list())
        for file_index, count in duplicates.items():
            outcomes[file_index].rows_duplicate += count
        stats["duplicate"] += sum(duplicates.values())
        records = records.filter(first)
        text = records.select(columns)
        typed = contract.typed(text)
        verdicts = validate_rows(contract.validation_frame(text, typed), self._suite(contract))
        if verdicts.table_failures:
            reasons = {i: [f"table-level: {f}" for f in verdicts.table_failures] for i in range(records.height)}
        else:
            reasons = dict(verdicts.failures)
        reasons = _untypable_rows(typed, reasons, self.lake.spec(table).schema)
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
        already = self.existing_dates(table)
        _, inserted = self.lake.insert_new_rows(table, good)
        landed = Counter(inserted["file_sha256"].to_list())
        lines_by_file: dict[str, set[int]] = {}
        for sha, line in inserted.select("file_sha256", "source_line").iter_rows():
            lines_by_file.setdefault(sha, set()).add(line)
        stats["landed"] += inserted.height
        stats["duplicate"] += good.height - inserted.height
        for file_index, count in Counter(files.to_list()).items():
            outcome = outcomes[file_index]
            outcome.rows_landed += landed.get(outcome.file_sha256, 0)
            outcome.landed_lines |= lines_by_file.get(outcome.file_sha256, set())
            outcome.rows_duplicate += count - landed.get(outcome.file_sha256, 0)
        dates_by_file = good.select(files.alias("_file"), "event_date").unique()
        for file_index, day in dates_by_file.iter_rows():
            outcomes[file_index].event_dates.add(day)
        self.mark_dirty(table, set(good["event_date"].unique().to_list()), already)
        return quarantined

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

    def _landed_fingerprints(self) -> dict[str, bool]:
        """Fingerprints of landed files -> whether they held any record. A file with no records (a
        header-only export) is not a delivery of anything, so another file with the same bytes is not
        treated as its duplicate."""
        if not self.lake.exists("ingest_log"):
            return {}
        frame = (self.lake.scan("ingest_log").filter(pl.col("status") == "landed")
                 .group_by("file_sha256").agg((pl.col("rows_read").max() > 0).alias("has_rows")))
        return dict(frame.collect().iter_rows())

    def relative_name(self, path: Path) -> str:
        try:
            return path.relative_to(self.landing_root).as_posix()
        except ValueError:
            return path.name

    def read_inside_root(self, path: Path, read: Callable[[Path], bytes] = read_bytes) -> bytes:
        """File bytes, refusing paths (symlinks included) that resolve outside the landing folder."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.landing_root):
            raise ValueError(f"{path.name} resolves outside the landing folder")
        return read(resolved)


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


def _untypable_rows(typed: pl.DataFrame, reasons: dict[int, list[str]], schema: pa.Schema) -> dict[int, list[str]]:
    """A safety net under the contract: a row that passed but still has a null in a non-nullable column
    after typing is quarantined rather than failing the whole write."""
    required = [f.name for f in schema if not f.nullable and f.name in typed.columns]
    if not required or typed.is_empty():
        return reasons
    nulls = typed.select(pl.any_horizontal([pl.col(c).is_null() for c in required])).to_series().to_list()
    merged = dict(reasons)
    for i, is_null in enumerate(nulls):
        if is_null and i not in merged:
            merged[i] = [f"could not be typed: {', '.join(c for c in required if typed[c][i] is None)}"]
    return merged
