"""Landing files in bronze: fingerprint, parse, validate against the contract, insert new rows, quarantine
the rest, mark touched event dates, log the file. Every record read is landed, quarantined or counted as a
duplicate, and the log row says how many of each.

Crash safety: the ingest log row is written last. A file whose run died before it is read again on the next
run; bronze and quarantine writes are insert-only on their keys, so the rerun lands every row exactly once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa

from data_contracts.rules import Contract
from data_contracts.runner import validate_rows
from ingestion.records import RawRecord, Rejection
from ingestion.reference import code_sets
from ingestion.sources import SOURCES, Source
from lakehouse.delta_io import DeltaLake


@dataclass
class FileOutcome:
    source: str
    source_file: str
    file_sha256: str
    file_bytes: int
    status: str = "landed"  # landed | duplicate_file | rejected
    error: str | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    event_dates: dict[str, set[date]] = field(default_factory=dict)

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
        self._landed = self._landed_fingerprints()

    def pending_files(self, sources: Iterable[Source] = SOURCES) -> list[tuple[Source, Path]]:
        found = []
        for source in sources:
            for pattern in source.patterns:
                found += [(source, p) for p in sorted(self.landing_root.glob(pattern)) if p.is_file()]
        return found

    def land_all(self, sources: Iterable[Source] = SOURCES,
                 progress: Callable[[FileOutcome], None] | None = None) -> list[FileOutcome]:
        outcomes = []
        for source, path in self.pending_files(sources):
            outcome = self.land_file(path, source)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes

    def land_file(self, path: Path, source: Source) -> FileOutcome:
        started = datetime.now(timezone.utc)
        relative = self._relative_name(path)
        outcome = FileOutcome(source.name, relative, "", 0)
        try:
            data = self._read_inside_root(path, source)
        except (OSError, ValueError) as exc:
            outcome.status, outcome.error = "rejected", f"unreadable: {exc}"
            self._log(outcome, started)
            return outcome
        outcome.file_sha256 = hashlib.sha256(data).hexdigest()
        outcome.file_bytes = len(data)
        if outcome.file_sha256 in self._landed:
            outcome.status = "duplicate_file"
            self._log(outcome, started)
            return outcome
        parsed = source.parse(data)
        if parsed.file_error:
            outcome.status, outcome.error = "rejected", parsed.file_error
            self._log(outcome, started)
            return outcome
        routed, rejections = source.route(parsed.records)
        rejections = [*parsed.rejections, *rejections]
        outcome.rows_read = sum(len(r) for r in routed.values()) + len(rejections)
        quarantine_rows = [self._quarantine_row(outcome, r.source_line, r.record_seq, r.record_type, r.raw,
                                                r.raw_bytes, [r.reason]) for r in rejections]
        for table, records in routed.items():
            quarantine_rows += self._land_records(outcome, table, source.contracts[table], records)
        if quarantine_rows:
            written = self.lake.insert_new(source.quarantine_table, pl.DataFrame(quarantine_rows))
            outcome.rows_quarantined += written.rows_in
        self._log(outcome, started)
        self._landed.add(outcome.file_sha256)
        return outcome

    # ---- steps ---------------------------------------------------------------------------------
    def _land_records(self, outcome: FileOutcome, table: str, contract: Contract,
                      records: list[RawRecord]) -> list[dict]:
        records, exact_duplicates = _drop_exact_duplicates(records, contract.key)
        outcome.rows_duplicate += exact_duplicates
        text = contract.text_frame([r.fields for r in records])
        verdicts = validate_rows(contract.validation_frame(text), self._suite(contract))
        if verdicts.table_failures:
            bad = set(range(len(records)))
            reasons = {i: [f"table-level: {f}" for f in verdicts.table_failures] for i in bad}
        else:
            bad, reasons = set(verdicts.failures), verdicts.failures
        bad, reasons = _untypable_rows(contract, text, bad, reasons, self.lake.spec(table).schema)
        good_index = [i for i in range(len(records)) if i not in bad]
        quarantined = [self._quarantine_row(outcome, records[i].source_line, records[i].record_seq,
                                            records[i].record_type, records[i].raw, len(records[i].raw),
                                            reasons[i]) for i in sorted(bad)]
        if good_index:
            good = contract.typed(text[good_index]).with_columns(
                pl.col("occurred_at").dt.date().alias("event_date"),
                pl.Series("source_line", [records[i].source_line for i in good_index], pl.Int64),
                pl.lit(outcome.source_file).alias("source_file"),
                pl.lit(outcome.file_sha256).alias("file_sha256"),
                pl.lit(self.run_id).alias("ingest_run_id"),
                pl.lit(self.now).dt.cast_time_unit("us").dt.convert_time_zone("UTC").alias("ingested_at"))
            already = self._existing_dates(table)
            result = self.lake.insert_new(table, good)
            outcome.rows_landed += result.rows_written
            outcome.rows_duplicate += result.duplicates_skipped
            dates = set(good["event_date"].unique().to_list())
            outcome.event_dates[table] = dates
            self._mark_dirty(table, dates, already)
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

    def _existing_dates(self, table: str) -> set[date]:
        if not self.lake.exists(table):
            return set()
        return {date.fromisoformat(p["event_date"]) for p in self.lake.table(table).partitions()}

    def _mark_dirty(self, table: str, dates: set[date], already: set[date]) -> None:
        if not dates:
            return
        self.lake.insert_new("dirty_partitions", pa.table({
            "table_name": [table] * len(dates), "event_date": sorted(dates),
            "ingest_run_id": [self.run_id] * len(dates), "is_late": [d in already for d in sorted(dates)],
            "marked_at": pa.array([self.now] * len(dates), pa.timestamp("us", "UTC"))}))

    def _log(self, outcome: FileOutcome, started: datetime) -> None:
        dates = sorted(set().union(*outcome.event_dates.values())) if outcome.event_dates else []
        self.lake.append("ingest_log", pa.table({
            "file_sha256": [outcome.file_sha256 or f"unread:{outcome.source_file}"],
            "ingest_run_id": [self.run_id], "source": [outcome.source], "source_file": [outcome.source_file],
            "file_bytes": [outcome.file_bytes], "status": [outcome.status], "error": [outcome.error],
            "rows_read": [outcome.rows_read], "rows_landed": [outcome.rows_landed],
            "rows_quarantined": [outcome.rows_quarantined], "rows_duplicate": [outcome.rows_duplicate],
            "event_dates": pa.array([dates], pa.list_(pa.date32())),
            "started_at": pa.array([started], pa.timestamp("us", "UTC")),
            "finished_at": pa.array([datetime.now(timezone.utc)], pa.timestamp("us", "UTC"))}))

    def _landed_fingerprints(self) -> set[str]:
        if not self.lake.exists("ingest_log"):
            return set()
        frame = self.lake.scan("ingest_log").filter(pl.col("status") == "landed").select("file_sha256")
        return set(frame.collect().to_series().to_list())

    def _relative_name(self, path: Path) -> str:
        try:
            return path.relative_to(self.landing_root).as_posix()
        except ValueError:
            return path.name

    def _read_inside_root(self, path: Path, source: Source) -> bytes:
        resolved = path.resolve()
        if not resolved.is_relative_to(self.landing_root):
            raise ValueError(f"{path.name} resolves outside the landing folder")
        return source.read(resolved)


def _untypable_rows(contract: Contract, text: pl.DataFrame, bad: set[int], reasons: dict[int, list[str]],
                    schema: pa.Schema) -> tuple[set[int], dict[int, list[str]]]:
    """A safety net under the contract: a row that passed but still has a null in a non-nullable column
    after typing is quarantined rather than failing the whole write."""
    typed = contract.typed(text)
    required = [f.name for f in schema if not f.nullable and f.name in typed.columns]
    if not required:
        return bad, reasons
    nulls = typed.select(pl.any_horizontal([pl.col(c).is_null() for c in required])).to_series().to_list()
    extra = {i for i, is_null in enumerate(nulls) if is_null and i not in bad}
    if not extra:
        return bad, reasons
    merged = dict(reasons)
    for i in extra:
        missing = [c for c in required if typed[c][i] is None]
        merged[i] = [f"could not be typed: {', '.join(missing)}"]
    return bad | extra, merged


def _drop_exact_duplicates(records: list[RawRecord], key: tuple[str, ...]) -> tuple[list[RawRecord], int]:
    """The same record delivered twice in one file (same key, same content) counts once."""
    seen: set[tuple] = set()
    kept = []
    for record in records:
        identity = (tuple(record.fields.get(k) for k in key), tuple(sorted(record.fields.items(), key=str)))
        if identity in seen:
            continue
        seen.add(identity)
        kept.append(record)
    return kept, len(records) - len(kept)


__all__ = ["FileOutcome", "Lander", "Rejection"]
