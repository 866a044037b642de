import json

import polars as pl
import pytest


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
