"""Machine signals read over OPC UA or backfilled from historical files."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

TABLES = [
    TableSpec("machine_signals", "bronze", pa.schema([
        pa.field("machine_id", pa.string(), nullable=False), pa.field("tag", pa.string(), nullable=False),
        pa.field("source_at", pa.timestamp("us", tz="UTC"), nullable=False),
        ("server_at", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()), pa.field("status_code", pa.int64(), nullable=False),
        pa.field("source_date", pa.date32(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source_file", pa.string())]),
        "One sample of one machine tag: value with its OPC UA source/server timestamps and status code.",
        ("machine_id", "tag", "source_at"), partition_by=("source_date",)),
]
