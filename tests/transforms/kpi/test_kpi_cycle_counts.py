"""Inventory accuracy from cycle counts: count-based with tolerances, and quantity-weighted."""

from __future__ import annotations

import pytest
from kpi_support import MATERIAL_CODES, PLANT_TZ, at, by_scope_day, compute, day, wms

from lakehouse.parity import assert_engine_parity
from transforms.kpi import inventory_accuracy, inventory_accuracy_quantity


def count(material: str, when: object, counted: float | None, system: float | None) -> dict:
    return {"transaction_type": "COUNT", "material_code": material, "occurred_at": when,
            "from_location_code": "A-01-01", "counted_quantity": counted, "system_quantity": system}


COUNTS = wms([
    count("RM-100", at(5, 8), 100.0, 100.0),
    count("RM-100", at(5, 9), 98.0, 100.0),              # 2 short
    count("RM-200", at(5, 10), 50.0000000001, 50.0),     # within the default 1e-9
    count("RM-200", at(6, 10), 5.0, 0.0),                # found where the book said nothing
    count("RM-100", at(6, 11), None, 10.0),              # not counted
    {"transaction_type": "RECEIPT", "material_code": "RM-100", "occurred_at": at(6, 12), "quantity": 5.0},
])


def test_count_based_accuracy_is_exact_by_default() -> None:
    assert by_scope_day(compute(inventory_accuracy, COUNTS, MATERIAL_CODES, plant_timezone=PLANT_TZ)) == {
        ("MAT-RM1", day(5)): (1.0, 2.0), ("MAT-RM2", day(5)): (1.0, 1.0), ("MAT-RM2", day(6)): (0.0, 1.0)}


@pytest.mark.parametrize(("options", "expected"), [
    ({"relative_tolerance": 0.02}, {("MAT-RM1", day(5)): (2.0, 2.0), ("MAT-RM2", day(6)): (0.0, 1.0)}),
    ({"absolute_tolerance": 5.0}, {("MAT-RM1", day(5)): (2.0, 2.0), ("MAT-RM2", day(6)): (1.0, 1.0)}),
    ({"absolute_tolerance": 1.0, "relative_tolerance": 0.01}, {("MAT-RM1", day(5)): (1.0, 2.0),
                                                                ("MAT-RM2", day(6)): (0.0, 1.0)}),
])
def test_count_based_accuracy_with_absolute_or_relative_tolerance(options: dict, expected: dict) -> None:
    rows = by_scope_day(compute(inventory_accuracy, COUNTS, MATERIAL_CODES, plant_timezone=PLANT_TZ, **options))
    assert rows == {("MAT-RM2", day(5)): (1.0, 1.0), **expected}


def test_quantity_weighted_accuracy_subtracts_absolute_differences_from_the_book() -> None:
    rows = by_scope_day(compute(inventory_accuracy_quantity, COUNTS, MATERIAL_CODES, plant_timezone=PLANT_TZ))
    assert rows[("MAT-RM1", day(5))] == (198.0, 200.0)
    assert rows[("MAT-RM2", day(5))] == pytest.approx((50.0, 50.0), abs=1e-9)
    assert rows[("MAT-RM2", day(6))] == (-5.0, 0.0)  # zero denominator: value null, the difference is kept
    assert len(rows) == 3


@pytest.mark.spark
@pytest.mark.parametrize("kpi", [inventory_accuracy, inventory_accuracy_quantity])
def test_accuracy_agrees_on_polars_and_pyspark(spark: object, kpi: object) -> None:
    result = assert_engine_parity(kpi, {"wms_transactions": COUNTS, "material_codes": MATERIAL_CODES}, spark=spark,
                                  plant_timezone=PLANT_TZ)
    assert result.rows == 3
