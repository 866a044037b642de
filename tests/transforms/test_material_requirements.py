"""Look-ahead transforms on a hand-made line: requirement times, shortage time and FIFO picks, on both engines."""

from __future__ import annotations

import narwhals as nw
import polars as pl
import pyarrow as pa
import pytest

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.material_requirements import (component_standards, line_material_requirements, machine_rate_factors,
                                              open_work_orders, released_orders, started_orders)
from transforms.shortages import line_side_estimate, pick_suggestions, shortage_forecast

US = 1_000_000
T0 = 1_768_000_000 * US  # the forecast moment (epoch us)
HOUR = 3600 * US


def table(rows: list[dict], schema: dict[str, pl.DataType]) -> pa.Table:
    return pl.DataFrame(rows, schema=schema, orient="row").to_arrow()


EVENTS = table([
    ("work_order_released", T0 - 5 * HOUR, "WO1", "L1", "400100", 100.0),
    ("work_order_started", T0 - 4 * HOUR, "WO1", None, None, None),
    ("work_order_released", T0 - 5 * HOUR, "WO2", "L1", "400100", 50.0),
    ("work_order_released", T0 - 3 * HOUR, "WO3", "L1", "400100", 30.0),
    ("work_order_released", T0 - 9 * HOUR, "WO0", "L1", "400100", 10.0),
    ("work_order_completed", T0 - 6 * HOUR, "WO0", None, None, None),
    ("work_order_released", T0 + HOUR, "WO9", "L1", "400100", 10.0),  # after the forecast moment: unseen
], {"event_type": pl.String, "occurred_us": pl.Int64, "work_order_id": pl.String, "line_id": pl.String,
    "material_code": pl.String, "planned_quantity": pl.Float64})
COUNTS = table([(T0 - 2 * HOUR, "WO1", "M1", 40.0), (T0 - HOUR, "WO1", "M2", 30.0)],
               {"occurred_us": pl.Int64, "work_order_id": pl.String, "machine_id": pl.String, "quantity": pl.Float64})
MES_MATERIALS = table([("400100", "FG", 1.0)], {"system_material_code": pl.String, "material_id": pl.String,
                                                "factor": pl.Float64})
ROUTING = table([("FG", "L1", 10, "M1", 10.0), ("FG", "L1", 20, "M2", 5.0)],
                {"material_id": pl.String, "line_id": pl.String, "operation_seq": pl.Int64, "machine_id": pl.String,
                 "ideal_cycle_time_s": pl.Float64})
BOM = table([("FG", "RM", 2.0)], {"parent_material_id": pl.String, "component_material_id": pl.String,
                                  "quantity_per_parent": pl.Float64})
RATES = table([("M1", 1.5)], {"machine_id": pl.String, "rate_factor": pl.Float64})
# a 10-minute break from T0 + 600 s to T0 + 1200 s
PERIODS = table([(T0 - 24 * HOUR, T0 + 600 * US), (T0 + 1200 * US, T0 + 24 * HOUR)],
                {"period_start_us": pl.Int64, "period_end_us": pl.Int64})
LINE_SIDE = table([("L1", "RM", 70.0), ("L1", "RM", 50.0)],
                  {"line_id": pl.String, "material_id": pl.String, "quantity": pl.Float64})
WAREHOUSE = table([("RM", "LOT-B", "BIN2", 100.0, T0 - 24 * HOUR), ("RM", "LOT-A", "BIN1", 30.0, T0 - 48 * HOUR)],
                  {"material_id": pl.String, "lot_id": pl.String, "location_id": pl.String, "quantity": pl.Float64,
                   "received_at_us": pl.Int64})
LINE_SIDES = table([("L1", "LS-L1")], {"line_id": pl.String, "location_id": pl.String})


def frame(data: pa.Table) -> nw.LazyFrame:
    return lazy_frame(data)


def collect(result: nw.LazyFrame) -> pl.DataFrame:
    out = pl.from_arrow(collect_arrow(result))
    assert isinstance(out, pl.DataFrame)
    return out


def orders_pipeline(work_order_events, production_counts, mes_materials, routing, bom, rates, work_periods):
    orders = open_work_orders(work_order_events, production_counts, mes_materials, routing, as_of_us=T0)
    return line_material_requirements(orders, bom, rates, work_periods, as_of_us=T0, horizon_s=8 * 3600)


INPUTS = {"work_order_events": EVENTS, "production_counts": COUNTS, "mes_materials": MES_MATERIALS,
          "routing": ROUTING, "bom": BOM, "rates": RATES, "work_periods": PERIODS}


def requirements() -> pl.DataFrame:
    return collect(orders_pipeline(**{name: frame(data) for name, data in INPUTS.items()}))


def test_open_orders_see_only_the_past():
    orders = collect(open_work_orders(frame(EVENTS), frame(COUNTS), frame(MES_MATERIALS), frame(ROUTING),
                                      as_of_us=T0)).sort("work_order_id")
    assert orders.select("work_order_id", "is_started", "first_machine_id", "first_op_counted").rows() == [
        ("WO1", True, "M1", 40.0), ("WO2", False, "M1", 0.0), ("WO3", False, "M1", 0.0)]


def test_an_order_whose_start_report_was_lost_is_started_by_its_counts():
    events = pl.from_arrow(EVENTS).filter(pl.col("event_type") != "work_order_started").to_arrow()
    orders = collect(open_work_orders(frame(events), frame(COUNTS), frame(MES_MATERIALS), frame(ROUTING),
                                      as_of_us=T0)).sort("work_order_id")
    assert orders.select("work_order_id", "is_started").rows() == [("WO1", True), ("WO2", False), ("WO3", False)]
    started = collect(started_orders(frame(events), frame(COUNTS.select(["occurred_us", "work_order_id"])),
                                     as_of_us=T0)).sort("work_order_id")
    # WO0 by its completion, WO1 by its first count
    assert started.rows() == [("WO0", T0 - 6 * HOUR), ("WO1", T0 - 2 * HOUR)]


def test_requirements_are_phased_by_the_first_machine_queue_and_the_shift_calendar():
    rows = requirements().sort("required_at_us")
    # WO1 holds M1 for (100 - 40) x 10 s x 1.5 = 900 s of working time: 600 s before the break, 300 s after it
    # WO2 then holds it for 50 x 10 x 1.5 = 750 s; BOM 2 RM per FG
    assert rows.select("work_order_id", "material_id", "required_at_us", "required_quantity",
                       "cumulative_quantity").rows() == [
        ("WO2", "RM", T0 + 1500 * US, 100.0, 100.0),
        ("WO3", "RM", T0 + 2250 * US, 60.0, 160.0)]
    assert rows["forecast_at_us"].unique().to_list() == [T0]


def test_horizon_cuts_requirements():
    orders = open_work_orders(frame(EVENTS), frame(COUNTS), frame(MES_MATERIALS), frame(ROUTING), as_of_us=T0)
    rows = collect(line_material_requirements(orders, frame(BOM), frame(RATES), frame(PERIODS), as_of_us=T0,
                                              horizon_s=2000))
    assert rows["work_order_id"].to_list() == ["WO2"]


def test_machine_rate_factor_counts_working_time_only():
    events = table([("operation_started", T0 - 3000 * US, "WO1", 10, "M1", None),
                    ("operation_completed", T0 - 0 * US - 1, "WO1", 10, "M1", 160.0)],
                   {"event_type": pl.String, "occurred_us": pl.Int64, "work_order_id": pl.String,
                    "operation_seq": pl.Int64, "machine_id": pl.String, "quantity": pl.Float64})
    periods = table([(T0 - 10 * HOUR, T0 - 1800 * US), (T0 - 1200 * US, T0 + HOUR)],
                    {"period_start_us": pl.Int64, "period_end_us": pl.Int64})
    materials = table([("WO1", "FG")], {"work_order_id": pl.String, "material_id": pl.String})
    rates = collect(machine_rate_factors(frame(events), frame(materials), frame(ROUTING), frame(periods),
                                         as_of_us=T0, lookback_s=86400))
    # 3000 s minus the 600 s break = 2400 s worked for 160 x 10 s ideal
    assert rates.rows() == [("M1", pytest.approx(2400.0 / 1600.0, rel=1e-6))]


def test_shortage_and_fifo_picks():
    shortages = collect(shortage_forecast(frame(requirements().to_arrow()), frame(LINE_SIDE),
                                          frame(WAREHOUSE.select(["material_id", "quantity"]))))
    assert shortages.select("line_id", "material_id", "short_at_us", "work_order_id", "line_side_quantity",
                            "required_quantity", "shortfall_quantity", "warehouse_quantity").rows() == [
        ("L1", "RM", T0 + 2250 * US, "WO3", 120.0, 160.0, 40.0, 130.0)]
    picks = collect(pick_suggestions(frame(shortages.to_arrow()), frame(WAREHOUSE), frame(LINE_SIDES),
                                     lead_time_s=600.0)).sort("lot_received_at_us")
    assert picks.select("lot_id", "from_location_id", "to_location_id", "pick_quantity", "pick_by_us",
                        "pick_rule").rows() == [
        ("LOT-A", "BIN1", "LS-L1", 30.0, T0 + 1650 * US, "FIFO"),
        ("LOT-B", "BIN2", "LS-L1", 10.0, T0 + 1650 * US, "FIFO")]


def test_two_lines_short_of_one_material_share_the_lots_in_time_order():
    shortages = table([("L1", "RM", T0, T0 + 2 * HOUR, "WO3", 0.0, 50.0, 50.0, 130.0),
                       ("L2", "RM", T0, T0 + HOUR, "WO7", 0.0, 60.0, 60.0, 130.0)],
                      {"line_id": pl.String, "material_id": pl.String, "forecast_at_us": pl.Int64,
                       "short_at_us": pl.Int64, "work_order_id": pl.String, "line_side_quantity": pl.Float64,
                       "required_quantity": pl.Float64, "shortfall_quantity": pl.Float64,
                       "warehouse_quantity": pl.Float64})
    picks = collect(pick_suggestions(frame(shortages), frame(WAREHOUSE), frame(LINE_SIDES), lead_time_s=0.0))
    # L2 runs short first: LOT-A (oldest) 30 + LOT-B 30; L1 then gets 50 more of LOT-B
    assert sorted(picks.select("line_id", "lot_id", "pick_quantity").rows()) == [
        ("L1", "LOT-B", 50.0), ("L2", "LOT-A", 30.0), ("L2", "LOT-B", 30.0)]


def test_parity_requirements(spark):
    assert_engine_parity(orders_pipeline, INPUTS, spark=spark)


def test_parity_rate_factors(spark):
    events = table([("operation_started", T0 - 3000 * US, "WO1", 10, "M1", None),
                    ("operation_completed", T0 - 1, "WO1", 10, "M1", 160.0)],
                   {"event_type": pl.String, "occurred_us": pl.Int64, "work_order_id": pl.String,
                    "operation_seq": pl.Int64, "machine_id": pl.String, "quantity": pl.Float64})
    materials = table([("WO1", "FG")], {"work_order_id": pl.String, "material_id": pl.String})
    result = assert_engine_parity(machine_rate_factors, {"operation_events": events, "order_materials": materials,
                                                         "routing": ROUTING, "work_periods": PERIODS},
                                  spark=spark, as_of_us=T0, lookback_s=86400.0)
    assert result.rows == 1


def test_parity_shortages_and_picks(spark):
    needs = requirements().to_arrow()
    result = assert_engine_parity(shortage_forecast, {"requirements": needs, "line_side_stock": LINE_SIDE,
                                                      "warehouse_stock": WAREHOUSE.select(["material_id", "quantity"])},
                                  spark=spark)
    assert result.rows == 1
    picks = assert_engine_parity(pick_suggestions, {"shortages": result.polars.to_arrow(), "warehouse_lots": WAREHOUSE,
                                                    "line_sides": LINE_SIDES}, spark=spark, lead_time_s=600.0)
    assert picks.rows == 2


# Line-side stock robust to MES/WMS reporting faults, on one line L1 (times on whole minutes: W is one).
W = T0 - T0 % (60 * US) - 60 * 60 * US
LEDGER_SCHEMA = {"line_id": pl.String, "material_id": pl.String, "movement_type": pl.String,
                 "occurred_us": pl.Int64, "quantity_delta": pl.Float64}
LINE_LEDGER = table([
    # RM: 100 issued; WO1 reported its 60; WO2 (standard 30) reported nothing: the book says 40, 10 are there
    ("L1", "RM", "issue", W, 100.0), ("L1", "RM", "consumption", W + 60 * US, -60.0),
    # SF: an output lot staged for putaway (produced, put away in part): not the line's supply
    ("L1", "SF", "production", W, 500.0), ("L1", "SF", "putaway", W + 120 * US, -300.0),
    # RM2: WO3 consumed 50 whose issue was quarantined (book -50), then 80 issued: 80 are there
    ("L1", "RM2", "consumption", W + 180 * US, -50.0), ("L1", "RM2", "issue", W + 300 * US, 80.0),
    # RM3: WO4 consumed 20 a second before the WMS stamped their issue: a clock difference, nothing lost
    ("L1", "RM3", "consumption", W + 420 * US, -20.0), ("L1", "RM3", "issue", W + 421 * US, 20.0),
    # RM4: the same across a minute's end (the WMS rounded 8:59.7 up to 9:00)
    ("L1", "RM4", "consumption", W + 539_700_000, -5.0), ("L1", "RM4", "issue", W + 540 * US, 5.0),
], LEDGER_SCHEMA)
REPORTED = table([("WO1", "RM", 60.0), ("WO3", "RM2", 50.0), ("WO4", "RM3", 20.0), ("WO5", "RM4", 5.0)],
                 {"work_order_id": pl.String, "material_id": pl.String, "quantity": pl.Float64})
STANDARDS = table([("WO1", "L1", "RM", 60.0, W + 60 * US), ("WO2", "L1", "RM", 30.0, W + 240 * US),
                   ("WO3", "L1", "RM2", 50.0, W + 180 * US), ("WO4", "L1", "RM3", 20.0, W + 420 * US),
                   ("WO5", "L1", "RM4", 5.0, W + 539_700_000)],
                  {"work_order_id": pl.String, "line_id": pl.String, "material_id": pl.String,
                   "standard_quantity": pl.Float64, "started_us": pl.Int64})


def test_line_side_estimate_backflushes_unreported_consumption_and_restores_lost_issues():
    rows = collect(line_side_estimate(frame(LINE_LEDGER), frame(REPORTED), frame(STANDARDS))).sort("material_id")
    assert rows.select("material_id", "book_quantity", "unreported_quantity", "restored_quantity",
                       "quantity").rows() == [
        ("RM", 40.0, 30.0, 0.0, 10.0), ("RM2", 30.0, 0.0, 50.0, 80.0), ("RM3", 0.0, 0.0, 0.0, 0.0),
        ("RM4", 0.0, 0.0, 0.0, 0.0)]


def test_line_side_estimate_trusts_a_book_that_is_right():
    """No fault: every consumption reported, every issue booked: the estimate is the book (without staging)."""
    reported = table([("WO1", "RM", 60.0), ("WO2", "RM", 30.0), ("WO3", "RM2", 50.0), ("WO4", "RM3", 20.0),
                      ("WO5", "RM4", 5.0)],
                     {"work_order_id": pl.String, "material_id": pl.String, "quantity": pl.Float64})
    ledger = pl.concat([pl.from_arrow(LINE_LEDGER), pl.DataFrame(
        [("L1", "RM", "consumption", W + 240 * US, -30.0), ("L1", "RM2", "issue", W + 120 * US, 50.0)],
        schema=LEDGER_SCHEMA, orient="row")]).to_arrow()
    rows = collect(line_side_estimate(frame(ledger), frame(reported), frame(STANDARDS))).sort("material_id")
    assert rows.select("material_id", "quantity", "restored_quantity").rows() == [
        ("RM", 10.0, 0.0), ("RM2", 80.0, 0.0), ("RM3", 0.0, 0.0), ("RM4", 0.0, 0.0)]


def test_standards_of_started_orders():
    released = released_orders(frame(EVENTS), frame(MES_MATERIALS), as_of_us=T0)
    started = started_orders(frame(EVENTS), as_of_us=T0)
    rows = collect(component_standards(released.join(started, on="work_order_id"), frame(BOM))).sort("work_order_id")
    # WO0 reported only its completion, WO1 its start; WO2 and WO3 wait
    assert rows.select("work_order_id", "line_id", "material_id", "standard_quantity", "started_us").rows() == [
        ("WO0", "L1", "RM", 20.0, T0 - 6 * HOUR), ("WO1", "L1", "RM", 200.0, T0 - 4 * HOUR)]


def test_parity_line_side_estimate(spark):
    result = assert_engine_parity(line_side_estimate, {"line_side_ledger": LINE_LEDGER,
                                                       "reported_consumption": REPORTED,
                                                       "started_standards": STANDARDS}, spark=spark)
    assert result.rows == 4
