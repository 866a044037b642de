"""Replaying quarantined records once master data knows their codes.

A record that failed its contract only because a code was unknown (`material_code is a known mes_material code`,
...) is often early, not wrong: the material or location arrives in the next master data delivery. When the code
sets change, every such record is read again from its original file (still in the landing folder, same sha256)
and goes through the same contract, dedup and insert as any record:

- it lands in bronze (its `ingest_run_id` is the replay's, `source_file` and `source_line` the original), or
- its business key had landed meanwhile: a duplicate, or
- it still fails (the code is still unknown, or another rule breaks now): it stays quarantined.

Each attempt is a row of `quarantine.quarantine_replays`; a row that landed or was a duplicate is never replayed
again, so a record lands exactly once, even if a replay dies half way (the next one finds its key and books it
as a duplicate). Each replayed file gets an `ingest_log` row (status `replayed`, rows_read 0, rows moved from
quarantined to landed or duplicate), so `rows_read = landed + quarantined + duplicate` still holds per file and
in total. Records whose original file is gone are booked `not_replayable` and stay quarantined.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from ingestion.landing import FileOutcome, Lander
from ingestion.reference import code_sets
from ingestion.sources import SOURCES, Source
from lakehouse.delta_io import DeltaLake
from lakehouse.schema import rows_to_arrow

REFERENCE_REASON = re.compile(r"^\w+ is a known \w+ code$")
TERMINAL = ("landed", "duplicate")
KEYS = ["file_sha256", "source_line", "record_seq"]


@dataclass
class ReplayReport:
    run_id: str
    attempted: int = 0
    landed: int = 0
    duplicate: int = 0
    still_quarantined: int = 0
    not_replayable: int = 0
    files: int = 0

    def summary(self) -> str:
        if not self.attempted:
            return "no quarantined record is waiting for master data"
        return (f"replayed {self.attempted:,} quarantined records from {self.files} files: {self.landed:,} landed, "
                f"{self.duplicate:,} duplicate, {self.still_quarantined:,} still quarantined, "
                f"{self.not_replayable:,} not replayable (original file gone)")


def code_sets_fingerprint(lake: DeltaLake) -> str:
    return hashlib.sha256(json.dumps(code_sets(lake), sort_keys=True).encode()).hexdigest()


def source_of(source_file: str) -> Source | None:
    """The source whose folder a landed file sits in (by the literal prefix of its patterns)."""
    for source in SOURCES:
        if any(source_file.startswith(pattern.split("*")[0]) for pattern in source.patterns):
            return source
    return None


def waiting_for_master_data(lake: DeltaLake, quarantine_table: str, fingerprint: str | None = None) -> pl.DataFrame:
    """Quarantined rows that failed only on unknown codes and have not landed by a replay (nor been tried
    against these code sets, when `fingerprint` is given)."""
    if not lake.exists(quarantine_table):
        return pl.DataFrame(schema={"file_sha256": pl.String, "source_line": pl.Int64, "record_seq": pl.Int64,
                                    "source_file": pl.String, "reasons": pl.List(pl.String)})
    rows = (lake.scan(quarantine_table)
            .filter(pl.col("reasons").list.eval(pl.element().str.contains(REFERENCE_REASON.pattern)).list.all())
            .select(*KEYS, "source_file", "reasons").collect())
    if lake.exists("quarantine_replays"):
        done = lake.scan("quarantine_replays").filter(pl.col("quarantine_table") == quarantine_table)
        settled = done.filter(pl.col("outcome").is_in(TERMINAL))
        if fingerprint is not None:
            settled = pl.concat([settled, done.filter(pl.col("code_sets_sha256") == fingerprint)])
        rows = rows.join(settled.select(KEYS).unique().collect(), on=KEYS, how="anti")
    return rows


def replay_quarantined(lake: DeltaLake, *, landing_root: Path, now: datetime | None = None) -> ReplayReport:
    """Replay every quarantined record waiting for master data that the current code sets have not seen."""
    lander = Lander(lake, landing_root, run_id=f"replay-{uuid.uuid4().hex[:12]}", now=now)
    report = ReplayReport(lander.run_id)
    fingerprint = code_sets_fingerprint(lake)
    attempts: list[dict] = []
    for quarantine_table in sorted({s.quarantine_table for s in SOURCES}):
        waiting = waiting_for_master_data(lake, quarantine_table, fingerprint)
        for (sha, source_file), rows in waiting.group_by("file_sha256", "source_file", maintain_order=True):
            attempts += _replay_file(lander, quarantine_table, str(sha), str(source_file), rows, fingerprint, report)
    if attempts:
        lake.insert_new("quarantine_replays", rows_to_arrow(lake.spec("quarantine_replays"), attempts))
    return report


def _replay_file(lander: Lander, quarantine_table: str, sha: str, source_file: str, rows: pl.DataFrame,
                 fingerprint: str, report: ReplayReport) -> list[dict]:
    now = datetime.now(timezone.utc)

    def attempt(line: int, seq: int, outcome: str, reasons: list[str]) -> dict:
        return {"quarantine_table": quarantine_table, "file_sha256": sha, "source_line": line, "record_seq": seq,
                "replay_run_id": lander.run_id, "outcome": outcome, "reasons": reasons,
                "code_sets_sha256": fingerprint, "replayed_at": now}

    positions = set(rows.select("source_line", "record_seq").iter_rows())
    report.attempted += len(positions)
    source = source_of(source_file)
    data = _original_bytes(lander, source, source_file, sha)
    if source is None or data is None:
        report.not_replayable += len(positions)
        why = "the original file is no longer in the landing folder with the same content"
        return [attempt(line, seq, "not_replayable", [why]) for line, seq in sorted(positions)]
    parsed = source.parse(data)
    by_table, _ = source.route(parsed)
    outcome = FileOutcome(source.name, source_file, file_sha256=sha, status="replayed")
    replayed: dict[tuple[int, int], list[str]] = {}
    found: set[tuple[int, int]] = set()
    for table, frame in by_table.items():
        wanted = frame.filter(pl.struct("_line", "_seq").is_in(
            [{"_line": line, "_seq": seq} for line, seq in positions]))
        if wanted.is_empty():
            continue
        found |= set(wanted.select("_line", "_seq").iter_rows())
        quarantined = lander._land_table([outcome], {0: parsed.raw}, table, source.contracts[table],
                                         wanted.with_columns(pl.lit(0, pl.Int32).alias("_file")))
        replayed |= {(q["source_line"], q["record_seq"]): q["reasons"] for q in quarantined}
    missing = positions - found
    report.files += 1
    report.landed += outcome.rows_landed
    report.duplicate += outcome.rows_duplicate
    report.still_quarantined += len(replayed)
    report.not_replayable += len(missing)
    attempts = [attempt(line, seq, "still_quarantined", reasons) for (line, seq), reasons in sorted(replayed.items())]
    attempts += [attempt(line, seq, "landed" if line in outcome.landed_lines else "duplicate", [])
                 for line, seq in sorted(found - set(replayed))]
    attempts += [attempt(line, seq, "not_replayable", ["the record is no longer in its original file"])
                 for line, seq in sorted(missing)]
    outcome.rows_read = 0
    outcome.rows_quarantined = -(outcome.rows_landed + outcome.rows_duplicate)
    if outcome.rows_quarantined:  # rows left quarantine: the file's log books the move
        lander.log_files([outcome])
    return attempts


def _original_bytes(lander: Lander, source: Source | None, source_file: str, sha: str) -> bytes | None:
    if source is None:
        return None
    try:
        data = lander.read_inside_root(lander.landing_root / source_file, source.read)
    except (OSError, ValueError):
        return None
    return data if hashlib.sha256(data).hexdigest() == sha else None
