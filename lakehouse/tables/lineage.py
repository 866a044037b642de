"""Columns every bronze transaction table carries: event date (partition) and where the row came from."""

import pyarrow as pa

UTC = pa.timestamp("us", tz="UTC")

LINEAGE_FIELDS = [
    pa.field("event_date", pa.date32(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_line", pa.int64(), nullable=False),
    pa.field("file_sha256", pa.string(), nullable=False),
    pa.field("ingest_run_id", pa.string(), nullable=False),
    pa.field("ingested_at", UTC, nullable=False),
]
LINEAGE_COLUMNS = [f.name for f in LINEAGE_FIELDS]


def with_lineage(*fields: pa.Field | tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([*fields, *LINEAGE_FIELDS])
