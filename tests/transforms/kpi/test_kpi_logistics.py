"""Material supply lead time per line and material, dock-to-stock time and receipts awaiting putaway."""

from __future__ import annotations

import pyarrow as pa
import pytest
from kpi_support import MATERIAL_CODES, PLANT_TZ, at, by_scope_day, compute, day, wms

from lakehouse.parity import assert_engine_parity
from transforms.kpi import dock_to_stock_time, material_supply_lead_time, receipts_awaiting_putaway

LOCATIONS = pa.table({"location_id": ["LS-1", "LS-2", "WH-A-01", "DOCK-IN"],
                      "location_type": ["line_side", "line_side", "warehouse_bin", "dock"],
                      "wms_location_code": ["PSA-01", "PSA-02", "A-01-01", "RCV-DOOR-01"],
                      "line_id": ["L1", "L2", "", None]})


def issue(material: str, to: str, requested: object, arrived: object) -> dict:
    return {"transaction_type": "ISSUE", "material_code": material, "quantity": 1.0, "from_location_code": "A-01-01",
            "to_location_code": to, "requested_at": requested, "occurred_at": arrived}


ISSUES = wms([
    issue("RM-100", "PSA-01", at(5, 6), at(5, 6, 30)),        # 1800 s
    issue("RM-200", "PSA-01", at(5, 7), at(5, 8)),            # 3600 s
    issue("RM-100", "PSA-02", at(5, 22), at(5, 23, 20)),      # 4800 s, arrives on plant day 01-06
    issue("RM-100", "PSA-02", None, at(5, 9)),                # no request time: not measurable
    issue("RM-999", "PSA-99", at(6, 9), at(6, 9, 10)),        # unknown material and location: 600 s
    {"transaction_type": "MOVE", "material_code": "RM-100", "occurred_at": at(5, 9), "requested_at": at(5, 8)},
])


def moved(kind: str, lot: str, material: str, when: object) -> dict:
    return {"transaction_type": kind, "lot_code": lot, "material_code": material, "quantity": 10.0,
            "occurred_at": when}


RECEIPTS = wms([
    moved("RECEIPT", "LOT-A", "RM-100", at(5, 6)), moved("PUTAWAY", "LOT-A", "RM-100", at(5, 7, 30)),  # 5400 s
    moved("PUTAWAY", "LOT-A", "RM-100", at(5, 9)),            # a second putaway of the lot does not count
    moved("RECEIPT", "LOT-B", "RM-200", at(5, 10)),
    moved("PUTAWAY", "LOT-B", "RM-200", at(5, 23, 30)),       # 48600 s, put away on plant day 01-06
    moved("RECEIPT", "LOT-C", "RM-100", at(6, 8)),            # never put away
    moved("PUTAWAY", "LOT-D", "RM-100", at(6, 8)),            # before its receipt: not its putaway
    moved("RECEIPT", "LOT-D", "RM-100", at(6, 9)),
    moved("PUTAWAY", "LOT-P", "FG-100", at(6, 9)),            # a production lot, never received
])


def test_supply_lead_time_per_line_of_the_destination() -> None:
    rows = compute(material_supply_lead_time, ISSUES, LOCATIONS, plant_timezone=PLANT_TZ)
    assert {r["scope_type"] for r in rows} == {"line"}
    assert by_scope_day(rows) == {("L1", day(5)): (5400.0, 2.0), ("L2", day(6)): (4800.0, 1.0),
                                  ("unassigned", day(6)): (600.0, 1.0)}


def test_supply_lead_time_per_material() -> None:
    rows = compute(material_supply_lead_time, ISSUES, None, MATERIAL_CODES, plant_timezone=PLANT_TZ,
                   scope="material")
    assert by_scope_day(rows) == {("MAT-RM1", day(5)): (1800.0, 1.0), ("MAT-RM2", day(5)): (3600.0, 1.0),
                                  ("MAT-RM1", day(6)): (4800.0, 1.0), ("unassigned", day(6)): (600.0, 1.0)}


def test_dock_to_stock_runs_from_receipt_to_the_first_putaway_after_it() -> None:
    rows = compute(dock_to_stock_time, RECEIPTS, MATERIAL_CODES, plant_timezone=PLANT_TZ)
    assert by_scope_day(rows) == {("MAT-RM1", day(5)): (5400.0, 1.0), ("MAT-RM2", day(6)): (48_600.0, 1.0)}


def test_receipts_never_put_away_are_counted_on_their_receipt_day() -> None:
    rows = compute(receipts_awaiting_putaway, RECEIPTS, MATERIAL_CODES, plant_timezone=PLANT_TZ)
    assert by_scope_day(rows) == {("MAT-RM1", day(5)): (0.0, 1.0), ("MAT-RM2", day(5)): (0.0, 1.0),
                                  ("MAT-RM1", day(6)): (2.0, 2.0)}


@pytest.mark.spark
@pytest.mark.parametrize("scope", ["line", "material"])
def test_supply_lead_time_agrees_on_polars_and_pyspark(spark: object, scope: str) -> None:
    result = assert_engine_parity(material_supply_lead_time, {"wms_transactions": ISSUES, "locations": LOCATIONS,
                                                              "material_codes": MATERIAL_CODES},
                                  spark=spark, plant_timezone=PLANT_TZ, scope=scope)
    assert result.rows == (3 if scope == "line" else 4)


@pytest.mark.spark
@pytest.mark.parametrize("kpi", [dock_to_stock_time, receipts_awaiting_putaway])
def test_dock_to_stock_kpis_agree_on_polars_and_pyspark(spark: object, kpi: object) -> None:
    result = assert_engine_parity(kpi, {"wms_transactions": RECEIPTS, "material_codes": MATERIAL_CODES},
                                  spark=spark, plant_timezone=PLANT_TZ)
    assert result.rows >= 2
