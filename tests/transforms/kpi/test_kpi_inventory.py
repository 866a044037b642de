"""Inventory turns, days of supply and WIP levels from ledger lines, on hand-counted movements."""

from __future__ import annotations

import pyarrow as pa
import pytest
from kpi_support import PLANT_TZ, TIMESTAMP, at, by_scope_day, compute, day

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.kpi import days_of_supply, inventory_turns, roll_up, wip_level
from transforms.standardize import CONSUMPTION, CUSTOMER, OUTPUT, SUPPLIER
from transforms.stock import ledger_entries

MOVEMENTS = [  # (movement, material, from, to, quantity, at)
    ("m0", "RM1", SUPPLIER, "WH-1", 100.0, at(4, 10)),     # before the first reported day: opening stock
    ("m1", "RM1", "WH-1", "LS-1", 30.0, at(5, 8)),         # to the line side: stock unchanged
    ("m2", "RM1", "LS-1", CONSUMPTION, 20.0, at(5, 12)),   # used on 01-05
    ("m3", "RM1", "LS-1", CONSUMPTION, 10.0, at(5, 23, 30)),  # used on plant day 01-06
    ("m4", "RM1", SUPPLIER, "WH-1", 50.0, at(6, 9)),
    ("m5", "RM1", "WH-1", CONSUMPTION, 7.0, at(8, 10)),    # after the last reported day
    ("f0", "FG1", OUTPUT, "WH-2", 40.0, at(5, 10)),
    ("f1", "FG1", "WH-2", CUSTOMER, 15.0, at(6, 10)),      # shipped: usage
    ("f2", "FG1", CUSTOMER, "WH-2", 5.0, at(7, 10)),       # returned: negative usage
]
LEDGER = collect_arrow(ledger_entries(lazy_frame(pa.table({
    "movement_id": [m[0] for m in MOVEMENTS], "lot_id": ["LOT"] * len(MOVEMENTS),
    "material_id": [m[1] for m in MOVEMENTS], "from_location_id": [m[2] for m in MOVEMENTS],
    "to_location_id": [m[3] for m in MOVEMENTS], "quantity": [m[4] for m in MOVEMENTS],
    "occurred_at": pa.array([m[5] for m in MOVEMENTS], TIMESTAMP)}))))
DAYS = pa.table({"day": [day(5), day(6), day(7)]})
LOCATIONS = pa.table({"location_id": ["LS-1", "LS-2", "WH-1", "WH-2", CONSUMPTION],
                      "location_type": ["line_side", "line_side", "warehouse_bin", "warehouse_bin", "virtual"]})
# end-of-day stock and usage: RM1 80/20, 120/10, 120/0; FG1 40/0, 25/15, 30/-5


def test_inventory_turns_are_annualised_usage_over_end_of_day_stock() -> None:
    assert by_scope_day(compute(inventory_turns, LEDGER, DAYS, plant_timezone=PLANT_TZ)) == {
        ("RM1", day(5)): (7300.0, 80.0), ("RM1", day(6)): (3650.0, 120.0), ("RM1", day(7)): (0.0, 120.0),
        ("FG1", day(5)): (0.0, 40.0), ("FG1", day(6)): (5475.0, 25.0), ("FG1", day(7)): (-1825.0, 30.0)}


def test_days_of_supply_are_stock_over_usage_and_a_day_without_usage_has_no_value() -> None:
    rows = compute(days_of_supply, LEDGER, DAYS, plant_timezone=PLANT_TZ)
    assert by_scope_day(rows) == {
        ("RM1", day(5)): (80.0, 20.0), ("RM1", day(6)): (120.0, 10.0), ("RM1", day(7)): (120.0, 0.0),
        ("FG1", day(5)): (40.0, 0.0), ("FG1", day(6)): (25.0, 15.0), ("FG1", day(7)): (30.0, -5.0)}


def test_a_week_of_days_of_supply_is_average_stock_over_average_usage() -> None:
    daily = days_of_supply(lazy_frame(LEDGER), lazy_frame(DAYS), plant_timezone=PLANT_TZ)
    week = {r["scope_id"]: r for r in collect_arrow(roll_up(daily, grain="week")).to_pylist()}
    assert (week["RM1"]["numerator"], week["RM1"]["denominator"], week["RM1"]["value"]) == (320.0, 30.0, 320 / 30)
    turns = inventory_turns(lazy_frame(LEDGER), lazy_frame(DAYS), plant_timezone=PLANT_TZ)
    rm1 = [r for r in collect_arrow(roll_up(turns, grain="week")).to_pylist() if r["scope_id"] == "RM1"][0]
    assert rm1["value"] == pytest.approx(365 * 30 / 320)


def test_wip_level_is_the_end_of_day_quantity_of_every_wip_location_on_every_day() -> None:
    rows = compute(wip_level, LEDGER, LOCATIONS, DAYS, plant_timezone=PLANT_TZ)
    assert {(r["kpi"], r["scope_type"]) for r in rows} == {("wip_level", "location")}
    assert by_scope_day(rows) == {
        ("LS-1", day(5)): (10.0, 1.0), ("LS-1", day(6)): (0.0, 1.0), ("LS-1", day(7)): (0.0, 1.0),
        ("LS-2", day(5)): (0.0, 1.0), ("LS-2", day(6)): (0.0, 1.0), ("LS-2", day(7)): (0.0, 1.0)}
    daily = wip_level(lazy_frame(LEDGER), lazy_frame(LOCATIONS), lazy_frame(DAYS), plant_timezone=PLANT_TZ)
    week = {r["scope_id"]: r["value"] for r in collect_arrow(roll_up(daily, grain="week")).to_pylist()}
    assert week == {"LS-1": pytest.approx(10 / 3), "LS-2": 0.0}  # the mean end-of-day level


@pytest.mark.spark
@pytest.mark.parametrize("kpi", [inventory_turns, days_of_supply])
def test_stock_kpis_agree_on_polars_and_pyspark(spark: object, kpi: object) -> None:
    result = assert_engine_parity(kpi, {"ledger": LEDGER, "days": DAYS}, spark=spark, plant_timezone=PLANT_TZ)
    assert result.rows == 6


@pytest.mark.spark
def test_wip_level_agrees_on_polars_and_pyspark(spark: object) -> None:
    result = assert_engine_parity(wip_level, {"ledger": LEDGER, "locations": LOCATIONS, "days": DAYS}, spark=spark,
                                  plant_timezone=PLANT_TZ)
    assert result.rows == 6
