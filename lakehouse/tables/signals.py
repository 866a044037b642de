"""Machine signals read over OPC UA or backfilled from historical files, and the gaps in them."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("machine_signals", "bronze", pa.schema([
        pa.field("machine_id", pa.string(), nullable=False), pa.field("tag", pa.string(), nullable=False),
        ("node_id", pa.string()),
        pa.field("source_at", _utc, nullable=False), ("server_at", _utc),
        ("value", pa.float64()), pa.field("status_code", pa.int64(), nullable=False),
        pa.field("source_date", pa.date32(), nullable=False),
        pa.field("ingested_at", _utc, nullable=False), pa.field("ingest_run_id", pa.string(), nullable=False),
        ("source_file", pa.string())]),
        "One sample of one machine tag: value with its OPC UA source/server timestamps and status code "
        "(source_file set when backfilled from a historical file).",
        ("machine_id", "tag", "source_at"), partition_by=("source_date",)),
    TableSpec("machine_signal_gaps", "bronze", pa.schema([
        pa.field("gap_id", pa.string(), nullable=False), pa.field("scope", pa.string(), nullable=False),
        pa.field("endpoint", pa.string(), nullable=False), ("node_id", pa.string()), ("machine_id", pa.string()),
        ("tag", pa.string()),
        pa.field("started_at", _utc, nullable=False), pa.field("ended_at", _utc, nullable=False),
        pa.field("reason", pa.string(), nullable=False), pa.field("ingest_run_id", pa.string(), nullable=False),
        pa.field("recorded_at", _utc, nullable=False)]),
        "A span with no signal data: the whole connection (scope=connection) or one node (scope=node), "
        "with its reason, so KPIs book it as unknown time and never as running.",
        ("gap_id",)),
]
