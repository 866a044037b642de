"""Ingestion bookkeeping: the log of every file seen, the event-time partitions each run touched, and the
quarantine tables where rows that break a contract land with their reasons."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_utc = pa.timestamp("us", tz="UTC")
_s = pa.string()


def quarantine_table(entity: str, description: str) -> TableSpec:
    """Rows of `entity` that could not land: raw payload, where they came from and why."""
    return TableSpec(f"quarantine_{entity}", "quarantine", pa.schema([
        pa.field("file_sha256", _s, nullable=False), pa.field("source_line", pa.int64(), nullable=False),
        pa.field("record_seq", pa.int64(), nullable=False),
        pa.field("source_file", _s, nullable=False), ("record_type", _s),
        pa.field("raw_payload", _s, nullable=False), pa.field("raw_payload_bytes", pa.int64(), nullable=False),
        pa.field("reasons", pa.list_(_s), nullable=False),
        pa.field("ingest_run_id", _s, nullable=False), pa.field("quarantined_at", _utc, nullable=False)]),
        description, ("file_sha256", "source_line", "record_seq"))


TABLES = [
    TableSpec("ingest_log", "bronze", pa.schema([
        pa.field("file_sha256", _s, nullable=False), pa.field("ingest_run_id", _s, nullable=False),
        pa.field("source", _s, nullable=False), pa.field("source_file", _s, nullable=False),
        pa.field("file_bytes", pa.int64(), nullable=False), pa.field("status", _s, nullable=False),
        ("error", _s),
        pa.field("rows_read", pa.int64(), nullable=False), pa.field("rows_landed", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("rows_duplicate", pa.int64(), nullable=False),
        ("event_dates", pa.list_(pa.date32())),
        pa.field("started_at", _utc, nullable=False), pa.field("finished_at", _utc, nullable=False)]),
        "One row per file per ingest run: fingerprint, outcome (landed, duplicate_file, rejected) and the "
        "row counts that must add up: rows_read = rows_landed + rows_quarantined + rows_duplicate.",
        ("file_sha256", "source_file", "ingest_run_id")),
    TableSpec("dirty_partitions", "bronze", pa.schema([
        pa.field("table_name", _s, nullable=False), pa.field("event_date", pa.date32(), nullable=False),
        pa.field("ingest_run_id", _s, nullable=False), pa.field("is_late", pa.bool_(), nullable=False),
        pa.field("marked_at", _utc, nullable=False)]),
        "Event-time partitions an ingest run added rows to (is_late: the date was already landed before), so "
        "downstream assets refresh just those.", ("table_name", "event_date", "ingest_run_id")),
    TableSpec("publication_log", "bronze", pa.schema([
        pa.field("table_name", _s, nullable=False), pa.field("table_version", pa.int64(), nullable=False),
        pa.field("run_id", _s, nullable=False), pa.field("is_published", pa.bool_(), nullable=False),
        pa.field("failed_checks", pa.list_(_s), nullable=False), pa.field("recorded_at", _utc, nullable=False)]),
        "Write-audit-publish: one row per silver or gold table version a run wrote, published when every blocking "
        "check of the table passed on it (readers are served the newest published version), or not, with the "
        "blocking checks that failed (that version stays readable by explicit as_of, never served).",
        ("table_name", "table_version", "run_id")),
    quarantine_table("wms_transactions", "WMS export rows that broke the WMS transaction contract."),
    quarantine_table("mes_events", "MES events (NDJSON lines or B2MML elements) that broke an MES contract."),
    quarantine_table("machine_signals", "Rows of historical signal files that broke the signals contract."),
    TableSpec("quarantine_replays", "quarantine", pa.schema([
        pa.field("quarantine_table", _s, nullable=False), pa.field("file_sha256", _s, nullable=False),
        pa.field("source_line", pa.int64(), nullable=False), pa.field("record_seq", pa.int64(), nullable=False),
        pa.field("replay_run_id", _s, nullable=False), pa.field("outcome", _s, nullable=False),
        pa.field("reasons", pa.list_(_s), nullable=False), pa.field("code_sets_sha256", _s, nullable=False),
        pa.field("replayed_at", _utc, nullable=False)]),
        "Every replay of a quarantined row that failed only on codes master data did not know yet: outcome "
        "landed (now in bronze, its ingest_run_id the replay's), duplicate (its business key had landed), "
        "still_quarantined (with the reasons it still fails) or not_replayable (why). A row landed or duplicate is "
        "never replayed again; the ingest log books each replayed file so rows stay conserved.",
        ("quarantine_table", "file_sha256", "source_line", "record_seq", "replay_run_id")),
]
