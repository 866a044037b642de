"""Real-time bookkeeping: how fresh each source is, from the event to bronze to the gold tables."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s, _f = pa.string(), pa.float64()
_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("source_freshness", "bronze", pa.schema([
        pa.field("source", _s, nullable=False), pa.field("channel", _s, nullable=False),
        pa.field("refresh_run_id", _s, nullable=False), pa.field("refreshed_at", _utc, nullable=False),
        pa.field("refresh_started_at", _utc, nullable=False), pa.field("rows", pa.int64(), nullable=False),
        ("last_event_at", _utc), ("last_landed_at", _utc),
        ("event_to_landed_p50_s", _f), ("event_to_landed_p95_s", _f),
        ("landed_to_gold_p50_s", _f), ("landed_to_gold_p95_s", _f), ("event_to_gold_p95_s", _f)]),
        "Freshness per source and channel (messages: MQTT or the HTTP API; files: the landing folder), one row per "
        "inventory refresh of `plantlake listen --refresh`: the rows of the bronze table `source` landed since the "
        "previous refresh (ingested before refresh_started_at), and their lag from event time to landed and from landed "
        "to published in the gold stock tables (refreshed_at), in seconds (p50, p95).",
        ("source", "channel", "refresh_run_id")),
]
