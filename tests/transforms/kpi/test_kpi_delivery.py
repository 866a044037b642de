"""On time, in full and OTIF per customer and ship day, on hand-counted shipments."""

from __future__ import annotations

import pytest
from kpi_support import PLANT_TZ, at, by_scope_day, compute, day, wms

from lakehouse.parity import assert_engine_parity
from transforms.kpi import in_full_delivery, on_time_delivery, otif


def shipped(shipment: str, customer: str | None, when: object, quantity: float, ordered: float | None,
            due: object, kind: str = "SHIPMENT") -> dict:
    return {"transaction_type": kind, "shipment_id": shipment, "customer_id": customer, "occurred_at": when,
            "quantity": quantity, "ordered_quantity": ordered, "due_at": due, "material_code": "FG-100"}


SHIPMENTS = wms([
    shipped("S1", "C1", at(5, 9), 100.0, 100.0, at(5, 12), kind="PICK"),  # picks are not shipments
    shipped("S1", "C1", at(5, 10), 60.0, 100.0, at(5, 12)),
    shipped("S1", "C1", at(5, 11), 40.0, 100.0, at(5, 12)),     # on time, in full (60 + 40, ordered once)
    shipped("S2", "C1", at(5, 23, 30), 50.0, 80.0, at(6, 12)),  # plant day 01-06: on time, short
    shipped("S3", "C2", at(6, 15), 30.0, 30.0, at(6, 14)),      # late, in full
    shipped("S4", "C2", at(6, 16), 10.0, 10.0, None),           # no due date: in full only
    shipped("S5", "C2", at(6, 17), 5.0, None, at(6, 20)),       # no ordered quantity: on time only
    shipped("S6", None, at(6, 10), 1.0, 1.0, at(6, 18)),        # no customer
])


def test_on_time_counts_shipments_with_a_due_date_at_their_last_row() -> None:
    assert by_scope_day(compute(on_time_delivery, SHIPMENTS, plant_timezone=PLANT_TZ)) == {
        ("C1", day(5)): (1.0, 1.0), ("C1", day(6)): (1.0, 1.0), ("C2", day(6)): (1.0, 2.0),
        ("unassigned", day(6)): (1.0, 1.0)}


def test_in_full_counts_shipments_with_an_ordered_quantity() -> None:
    assert by_scope_day(compute(in_full_delivery, SHIPMENTS, plant_timezone=PLANT_TZ)) == {
        ("C1", day(5)): (1.0, 1.0), ("C1", day(6)): (0.0, 1.0), ("C2", day(6)): (2.0, 2.0),
        ("unassigned", day(6)): (1.0, 1.0)}


def test_otif_needs_both_and_counts_a_missing_ordered_quantity_as_not_in_full() -> None:
    rows = compute(otif, SHIPMENTS, plant_timezone=PLANT_TZ)
    assert {(r["kpi"], r["scope_type"]) for r in rows} == {("otif", "customer")}
    assert by_scope_day(rows) == {("C1", day(5)): (1.0, 1.0), ("C1", day(6)): (0.0, 1.0),
                                  ("C2", day(6)): (0.0, 2.0), ("unassigned", day(6)): (1.0, 1.0)}


@pytest.mark.spark
@pytest.mark.parametrize("kpi", [on_time_delivery, in_full_delivery, otif])
def test_delivery_kpis_agree_on_polars_and_pyspark(spark: object, kpi: object) -> None:
    result = assert_engine_parity(kpi, {"wms_transactions": SHIPMENTS}, spark=spark, plant_timezone=PLANT_TZ)
    assert result.rows == 4
