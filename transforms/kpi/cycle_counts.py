"""Inventory record accuracy per material and plant-local count day, from WMS cycle counts.

`wms_transactions` (bronze wms_transactions) COUNT rows: occurred_at, material_code, counted_quantity (found),
system_quantity (the book), both in the material's WMS unit; `material_codes` (map_material_code) maps the WMS
code to the canonical material. A count missing either quantity is no count.

- count-based: a count is accurate when |counted - system| <= max(absolute_tolerance, relative_tolerance x
  |system|); accurate counts / counts.
- quantity-weighted: 1 - sum|counted - system| / sum system, kept additive as
  (sum system - sum|counted - system|) / sum system. It can go below 0 (differences larger than the book), and
  a material-day whose counts all expected nothing has denominator 0 (value null).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day
from transforms.kpi.scopes import with_material_scope

Frame = nw.LazyFrame[Any]
EXACT = 1e-9


def cycle_counts(wms_transactions: Frame, material_codes: Frame, *, plant_timezone: str) -> Frame:
    """COUNT rows with scope_id (material), day, counted_quantity, system_quantity and abs_difference."""
    counts = wms_transactions.filter((nw.col("transaction_type") == "COUNT") & ~nw.col("counted_quantity").is_null()
                                     & ~nw.col("system_quantity").is_null())
    return with_material_scope(counts, material_codes, system="WMS").with_columns(
        plant_day("occurred_at", plant_timezone).alias("day"),
        (nw.col("counted_quantity") - nw.col("system_quantity")).abs().alias("abs_difference"))


def inventory_accuracy(wms_transactions: Frame, material_codes: Frame, *, plant_timezone: str,
                       absolute_tolerance: float = EXACT, relative_tolerance: float = 0.0) -> Frame:
    """inventory_accuracy: counts within tolerance / counts."""
    counts = cycle_counts(wms_transactions, material_codes, plant_timezone=plant_timezone)
    allowed = nw.max_horizontal(nw.lit(float(absolute_tolerance)),
                                nw.col("system_quantity").abs() * float(relative_tolerance))
    return kpi_rows(counts, kpi="inventory_accuracy", scope_type="material",
                    numerator=nw.when(nw.col("abs_difference") <= allowed).then(1.0).otherwise(0.0),
                    denominator=nw.lit(1.0))


def inventory_accuracy_quantity(wms_transactions: Frame, material_codes: Frame, *, plant_timezone: str) -> Frame:
    """inventory_accuracy_quantity: (sum system - sum|counted - system|) / sum system."""
    counts = cycle_counts(wms_transactions, material_codes, plant_timezone=plant_timezone)
    return kpi_rows(counts, kpi="inventory_accuracy_quantity", scope_type="material",
                    numerator=nw.col("system_quantity") - nw.col("abs_difference"),
                    denominator=nw.col("system_quantity"))
