"""Code sets from master data in the lake, for the contracts' 'known code' expectations."""

from __future__ import annotations

import polars as pl

from lakehouse.delta_io import DeltaLake


def _values(lake: DeltaLake, table: str, column: str, where: pl.Expr | None = None) -> list[str]:
    if not lake.exists(table):
        return []
    frame = lake.scan(table)
    if where is not None:
        frame = frame.filter(where)
    return sorted(frame.select(pl.col(column).drop_nulls().unique()).collect().to_series().to_list())


def code_sets(lake: DeltaLake) -> dict[str, list[str]]:
    """Every code set a contract may name; an empty set (no master data yet) rejects every code."""
    return {
        "wms_material": _values(lake, "map_material_code", "system_material_code", pl.col("system") == "WMS"),
        "mes_material": _values(lake, "map_material_code", "system_material_code", pl.col("system") == "MES"),
        "wms_location": _values(lake, "dim_location", "wms_location_code"),
        "mes_location": _values(lake, "dim_location", "mes_location_code"),
        "machine": _values(lake, "dim_machine", "machine_id"),
        "line": _values(lake, "dim_machine", "line_id"),
        "supplier": _values(lake, "dim_supplier", "supplier_id"),
        "customer": _values(lake, "dim_customer", "customer_id"),
    }
