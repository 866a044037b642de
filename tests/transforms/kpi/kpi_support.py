"""Inline-data helpers for the KPI tests: UTC instants, typed Arrow tables, and results keyed by scope and day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import narwhals as nw
import pyarrow as pa

from lakehouse.engines import collect_arrow, lazy_frame

UTC = dt.timezone.utc
PLANT_TZ = "Europe/Berlin"  # UTC+1 in January: 23:00Z is already the next plant day
TIMESTAMP = pa.timestamp("us", "UTC")
WMS_COLUMNS = {"transaction_id": pa.string(), "transaction_type": pa.string(), "occurred_at": TIMESTAMP,
               "material_code": pa.string(), "lot_code": pa.string(), "quantity": pa.float64(),
               "unit": pa.string(), "from_location_code": pa.string(), "to_location_code": pa.string(),
               "customer_id": pa.string(), "shipment_id": pa.string(), "requested_at": TIMESTAMP,
               "counted_quantity": pa.float64(), "system_quantity": pa.float64(),
               "ordered_quantity": pa.float64(), "due_at": TIMESTAMP}
MATERIAL_CODES = pa.table({"material_id": ["MAT-RM1", "MAT-RM2", "MAT-FG1", "MAT-RM1"],
                           "system": ["WMS", "WMS", "WMS", "MES"],
                           "system_material_code": ["RM-100", "RM-200", "FG-100", "rm100"]})


def at(day: int, hour: int, minute: int = 0, *, month: int = 1) -> dt.datetime:
    """An instant in 2026 (UTC)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def day(number: int, *, month: int = 1) -> dt.date:
    return dt.date(2026, month, number)


def table(rows: list[dict[str, Any]], schema: dict[str, pa.DataType]) -> pa.Table:
    """Rows as an Arrow table with every schema column (missing keys are null)."""
    return pa.table({name: pa.array([r.get(name) for r in rows], type) for name, type in schema.items()})


def wms(rows: list[dict[str, Any]]) -> pa.Table:
    numbered = [{"transaction_id": f"T{i:03d}", "unit": "EA", **row} for i, row in enumerate(rows)]
    return table(numbered, WMS_COLUMNS)


def compute(transform: Callable[..., nw.LazyFrame[Any]], *frames: pa.Table | None,
            **options: Any) -> list[dict[str, Any]]:
    """Run a KPI transform on Polars and return its rows (a None frame stays None)."""
    lazy = (None if frame is None else lazy_frame(frame) for frame in frames)
    return collect_arrow(transform(*lazy, **options)).to_pylist()


def by_scope_day(rows: list[dict[str, Any]]) -> dict[tuple[str, dt.date], tuple[float, float]]:
    """(scope_id, day) -> (numerator, denominator), checking every row has the same kpi and no duplicates."""
    assert len({r["kpi"] for r in rows}) <= 1
    result = {(r["scope_id"], r["day"]): (r["numerator"], r["denominator"]) for r in rows}
    assert len(result) == len(rows)
    return result
