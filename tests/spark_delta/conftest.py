"""One Spark session with delta-spark for these tests: the suite's shared `spark` session (tests/conftest.py starts
it with Delta, so one JVM serves every Spark test)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest

from lakehouse.catalog import CATALOG

MOVEMENTS = "fct_inventory_movements"


@pytest.fixture(scope="session")
def spark_delta(spark: Any) -> Any:
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    assert "DeltaSparkSessionExtension" in extensions, "the shared Spark session was started without delta-spark"
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")  # VACUUM RETAIN 0 HOURS
    return spark


def movements(day: date, n: int, *, start: int = 0, quantity: float = 1.0, tag: str = "") -> pa.Table:
    """`n` canonical movements on `day`, ids `M<day>-<i>` (so a day's rows are known by id)."""
    base = datetime(day.year, day.month, day.day, 6, tzinfo=timezone.utc)
    ids = [f"M{day:%m%d}-{i:04d}" for i in range(start, start + n)]
    return pa.table({
        "movement_id": ids, "occurred_at": [base + timedelta(minutes=i) for i in range(start, start + n)],
        "event_date": [day] * n, "material_id": [f"MAT-{i % 3}" for i in range(start, start + n)],
        "lot_id": [f"LOT-{i % 5}" for i in range(start, start + n)], "from_location_id": ["WH"] * n,
        "to_location_id": ["LINE"] * n, "quantity": [quantity + i for i in range(start, start + n)],
        "movement_type": ["issue"] * n, "source_system": ["WMS"] * n,
        "source_event_id": [f"E{i}{tag}" for i in range(start, start + n)], "work_order_id": [None] * n,
        "reported_material_code": [None] * n, "reported_quantity": [None] * n, "reported_unit": [None] * n,
    }).cast(CATALOG[MOVEMENTS].schema)
