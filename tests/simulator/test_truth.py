import csv
import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from sim_test_support import small_config

from simulator import simulate
from simulator.timeutil import EPOCH, datetime_us, epoch_to_us, iso_local_us, iso_utc_us


def read(out, name):
    return pl.read_parquet(out / "truth" / f"{name}.parquet")


def physical_locations(out):
    locations = pl.read_csv(out / "master" / "locations.csv")
    return set(locations.filter(pl.col("location_type") != "virtual")["location_id"])


def rebuild_stock(movements, real_locations, until=None):
    if until is not None:
        movements = movements.filter(pl.col("occurred_at") <= until)
    inbound = movements.select("material_id", "lot_id", pl.col("to_location_id").alias("location_id"), "quantity")
    outbound = movements.select("material_id", "lot_id", pl.col("from_location_id").alias("location_id"),
                                -pl.col("quantity"))
    return (pl.concat([inbound, outbound]).filter(pl.col("location_id").is_in(list(real_locations)))
            .group_by("material_id", "lot_id", "location_id").agg(pl.col("quantity").sum())
            .filter(pl.col("quantity").abs() > 1e-9).sort("material_id", "lot_id", "location_id"))


def test_stock_equals_rebuild_from_movements(clean_run):
    _, out, _ = clean_run
    stock = read(out, "stock").sort("material_id", "lot_id", "location_id")
    rebuilt = rebuild_stock(read(out, "movements"), physical_locations(out))
    assert stock.height > 10
    assert stock.select("material_id", "lot_id", "location_id", "quantity").equals(rebuilt)


def test_stock_balance_per_material_equals_flows(clean_run):
    _, out, _ = clean_run
    movements = read(out, "movements")
    flows = movements.group_by("material_id").agg(
        received=pl.col("quantity").filter(pl.col("movement_type") == "receipt").sum(),
        produced=pl.col("quantity").filter(pl.col("movement_type") == "production").sum(),
        consumed=pl.col("quantity").filter(pl.col("movement_type") == "consumption").sum(),
        shipped=pl.col("quantity").filter(pl.col("movement_type") == "shipment").sum(),
        adjusted=pl.col("quantity").filter(pl.col("movement_type") == "shrinkage").sum(),
    )
    stock = read(out, "stock").group_by("material_id").agg(pl.col("quantity").sum().alias("stock"))
    joined = flows.join(stock, on="material_id", how="left").fill_null(0.0)
    expected = joined["received"] + joined["produced"] - joined["consumed"] - joined["shipped"] - joined["adjusted"]
    assert (expected - joined["stock"]).abs().max() < 1e-9
    assert joined["received"].sum() > 0 and joined["shipped"].sum() > 0


def test_no_negative_stock_at_any_time(clean_run):
    _, out, _ = clean_run
    movements = read(out, "movements").sort("occurred_at", "movement_id")
    real = physical_locations(out)
    deltas = pl.concat([
        movements.select("occurred_at", "movement_id", "lot_id", pl.col("to_location_id").alias("location_id"),
                         "quantity"),
        movements.select("occurred_at", "movement_id", "lot_id", pl.col("from_location_id").alias("location_id"),
                         -pl.col("quantity")),
    ]).filter(pl.col("location_id").is_in(list(real))).sort("occurred_at", "movement_id")
    running = deltas.with_columns(balance=pl.col("quantity").cum_sum().over("lot_id", "location_id"))
    assert running["balance"].min() >= -1e-9


def test_genealogy_matches_mes_consumption_and_lots(clean_run):
    _, out, _ = clean_run
    edges = read(out, "genealogy_edges")
    events = [json.loads(line) for p in sorted((out / "mes" / "events").glob("*.ndjson"))
              for line in p.read_text().splitlines()]
    consumed = {(e["work_order_id"], e["consumed_lot_code"]) for e in events if e["event_type"] == "material_consumed"}
    produced = {(e["work_order_id"], e["lot_code"]) for e in events if e["event_type"] == "lot_produced"}
    consumption = edges.filter(pl.col("edge_type") == "consumption")
    ndjson_orders = {wo for wo, _ in produced}
    edge_pairs = {(r["work_order_id"], r["parent_lot_id"]) for r in consumption.iter_rows(named=True)
                  if r["work_order_id"] in ndjson_orders}
    edge_children = {(r["work_order_id"], r["child_lot_id"]) for r in consumption.iter_rows(named=True)
                     if r["work_order_id"] in ndjson_orders}
    assert consumed and edge_pairs == {pair for pair in consumed if pair[0] in ndjson_orders}
    assert edge_children == produced
    receipts = edges.filter(pl.col("edge_type") == "receipt")
    assert receipts["parent_lot_id"].str.starts_with("SUP:").all()
    shipments = edges.filter(pl.col("edge_type") == "shipment")
    assert shipments.height > 0 and shipments["child_lot_id"].str.starts_with("SHP:").all()
    # consumed quantity per completed work order (MES units equal base units here)
    completed = {e["work_order_id"] for e in events if e["event_type"] == "work_order_completed"}
    mes_totals: dict[str, float] = {}
    for e in events:
        if e["event_type"] == "material_consumed" and e["work_order_id"] in completed:
            mes_totals[e["work_order_id"]] = mes_totals.get(e["work_order_id"], 0) + e["quantity"]
    edge_totals = (consumption.filter(pl.col("work_order_id").is_in(list(completed)))
                   .group_by("work_order_id").agg(pl.col("quantity").sum()))
    assert len(mes_totals) > 5
    assert {r["work_order_id"]: pytest.approx(r["quantity"]) for r in edge_totals.iter_rows(named=True)} == mes_totals


def test_oee_truth_ratios(clean_run):
    _, out, _ = clean_run
    oee = read(out, "oee_by_machine_shift")
    assert oee.height == 5 * 2 * 6  # 5 working days x 2 shifts x 6 machines
    for column in ("availability", "performance", "quality", "oee"):
        assert oee[column].min() >= 0.0 and oee[column].max() <= 1.0
    product = oee["availability"] * oee["performance"] * oee["quality"]
    assert (product - oee["oee"]).abs().max() < 1e-12
    assert oee["oee"].mean() > 0.3
    assert (oee["planned_time_s"] <= 8 * 3600 - 45 * 60).all()
    counts = read(out, "production_counts")
    assert oee["total_count"].sum() == counts["total_count"].sum()


def test_breakdowns_are_state_intervals(clean_run):
    _, out, _ = clean_run
    breakdowns = read(out, "breakdowns")
    intervals = read(out, "state_intervals").filter(pl.col("reason_code") == "breakdown")
    assert breakdowns.height > 0
    covered = intervals.with_columns(s=(pl.col("ended_at") - pl.col("started_at")).dt.total_seconds())["s"].sum()
    total = breakdowns.with_columns(s=(pl.col("ended_at") - pl.col("started_at")).dt.total_seconds())["s"].sum()
    assert covered <= total + 1e-6


def mes_events(out):
    return [json.loads(line) for p in sorted((out / "mes" / "events").glob("*.ndjson"))
            for line in p.read_text().splitlines()]


def utc(text):
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def test_timestamps_round_to_microseconds_like_the_truth():
    values = [1767589953.1204165, 1767589953.0000005, 1767589953.0000015, 0.0000025, 1767589953.999_999_6]
    values += list(np.random.default_rng(3).uniform(1.7e9, 1.8e9, 10_000))
    for value in values:
        assert (datetime_us(value) - EPOCH) // timedelta(microseconds=1) == int(epoch_to_us(value))
    assert iso_utc_us(1767589953.1204165) == "2026-01-05T05:12:33.120416+00:00"  # half to even, as the truth
    assert iso_local_us(1767589953.1204175, ZoneInfo("Europe/Berlin")) == "2026-01-05T06:12:33.120418+01:00"


def test_mes_stamps_carry_the_truth_instants_to_the_microsecond(clean_run):
    _, out, _ = clean_run
    events = mes_events(out)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", e["occurred_at"]) for e in events)
    counted = sorted((e["machine_id"], utc(e["occurred_at"])) for e in events if e["event_type"] == "production_counted")
    truth = read(out, "production_counts").sort("machine_id", "counted_at")
    assert len(counted) > 100 and counted == list(zip(truth["machine_id"], truth["counted_at"], strict=True))
    fractional = [t for _, t in counted if t.microsecond % 1000]
    assert len(fractional) > len(counted) // 2  # more than millisecond precision is really used


def test_work_order_truth_matches_the_mes_reports(clean_run):
    cfg, out, _ = clean_run
    orders = read(out, "work_orders")
    assert orders.columns == ["work_order_id", "line_id", "material_id", "planned_quantity", "released_at",
                              "started_at", "completed_at", "due_at", "good_quantity", "scrap_quantity",
                              "planned_start_at"]
    assert orders["work_order_id"].n_unique() == orders.height > 20
    events = mes_events(out)
    released = {e["work_order_id"]: e for e in events if e["event_type"] == "work_order_released"}
    schedules = list((out / "mes" / "b2mml").rglob("ProductionSchedule_*.xml"))
    assert set(orders["work_order_id"]) == set(released) | {p.stem.split("_", 1)[1] for p in schedules}
    completed = {e["work_order_id"]: e for e in events if e["event_type"] == "work_order_completed"}
    for row in orders.filter(pl.col("work_order_id").is_in(list(released))).iter_rows(named=True):
        event = released[row["work_order_id"]]
        assert (utc(event["occurred_at"]), utc(event["due_at"]), utc(event["planned_start_at"])) == (
            row["released_at"], row["due_at"], row["planned_start_at"])
        assert (event["line_id"], event["planned_quantity"]) == (row["line_id"], row["planned_quantity"])
        done = completed.get(row["work_order_id"])
        assert (done is None) == (row["completed_at"] is None) == (row["good_quantity"] is None)
        if done is not None:
            assert (utc(done["occurred_at"]), done["good_quantity"], done["scrap_quantity"]) == (
                row["completed_at"], row["good_quantity"], row["scrap_quantity"])
    assert (orders["released_at"] <= orders["planned_start_at"]).all()
    assert (orders["planned_start_at"] <= orders["due_at"]).all()
    finished = orders.filter(pl.col("completed_at").is_not_null())
    assert (finished["started_at"] <= finished["completed_at"]).all()
    on_time = (finished["completed_at"] <= finished["due_at"]).mean()
    assert 0.7 <= on_time < 1.0  # most orders on time, some late
    assert orders.filter(pl.col("completed_at").is_null()).height > 0  # open at the end of the period


def shipment_rows(out):
    rows = []
    for directory in ("picks", "shipments"):
        for path in sorted((out / "wms" / directory).glob("*.csv")):
            with path.open(encoding="utf-8") as handle:
                rows += list(csv.DictReader(handle))
    return rows


def test_shipment_truth_matches_the_wms_rows(tmp_path):
    out = tmp_path / "plant"
    simulate(small_config(days=45, signal_interval_s=3600), out)  # 45 days: late and short shipments
    shipments = read(out, "shipments")
    assert shipments.columns == ["shipment_id", "customer_id", "material_id", "ordered_quantity",
                                 "shipped_quantity", "due_at", "shipped_at", "is_on_time", "is_in_full"]
    rows = shipment_rows(out)
    assert {r["transaction_type"] for r in rows} == {"PICK", "SHIPMENT"}
    assert all(r["ordered_quantity"] and r["due_at"] for r in rows)
    shipped = [r for r in rows if r["transaction_type"] == "SHIPMENT"]
    by_id = {}
    for r in shipped:
        entry = by_id.setdefault(r["shipment_id"], {"quantity": 0.0, "at": [], "rows": []})
        entry["quantity"] += float(r["quantity"])  # finished goods: WMS unit PCE = base unit EA
        entry["at"].append(utc(r["occurred_at"]))
        entry["rows"].append(r)
    done = shipments.filter(pl.col("shipped_at").is_not_null())
    assert set(done["shipment_id"]) == set(by_id) and done.height > 30
    for row in done.iter_rows(named=True):
        entry = by_id[row["shipment_id"]]
        assert {(r["customer_id"], float(r["ordered_quantity"]), utc(r["due_at"])) for r in entry["rows"]} == {
            (row["customer_id"], row["ordered_quantity"], row["due_at"])}
        assert (entry["quantity"], max(entry["at"])) == (row["shipped_quantity"], row["shipped_at"])
        assert row["is_on_time"] == (row["shipped_at"] <= row["due_at"])
        assert row["is_in_full"] == (row["shipped_quantity"] >= row["ordered_quantity"])
        assert row["shipped_quantity"] <= row["ordered_quantity"]
    otif = (done["is_on_time"] & done["is_in_full"]).mean()
    assert 0.75 <= otif <= 0.95
    assert not done["is_on_time"].all() and not done["is_in_full"].all()
    assert shipments.filter(pl.col("shipped_at").is_null())["is_on_time"].is_null().all()
