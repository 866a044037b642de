"""Sensor anomalies found in the machine signals (gold)."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("signal_anomalies", "gold", pa.schema([
        pa.field("machine_id", pa.string(), nullable=False), pa.field("tag", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("started_at", _utc, nullable=False), pa.field("ended_at", _utc, nullable=False),
        pa.field("samples", pa.int64(), nullable=False), pa.field("score", pa.float64(), nullable=False)]),
        "One sensor anomaly of one machine tag, found by the per-tag robust detector (ml/anomalies.py) in "
        "bronze.machine_signals: kind spike (score: distance from the rolling median of the same machine state in "
        "robust noise standard deviations), drift (score: the level's clipped change over the trailing 2 h over its "
        "robust spread), stuck (score: samples repeating one value exactly) or dropout (score: samples with a Bad "
        "status or no value, or missing from the timestamps); started_at and ended_at are the first and the last "
        "sample of the event.",
        ("machine_id", "tag", "kind", "started_at")),
]
