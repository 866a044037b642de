"""Stock transforms on small inline data, and their parity on Polars and PySpark."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.stock import ledger_entries, running_balances, stock_on_hand

UTC = dt.timezone.utc
VIRTUAL = ("SUPPLIER", "CUSTOMER", "CONSUMPTION")


def movements(rows: list[tuple[str, int, str, str, str, str, float]]) -> pa.Table:
    ids, hours, materials, lots, sources, targets, quantities = zip(*rows, strict=True)
    return pa.table({
        "movement_id": list(ids),
        "occurred_at": pa.array([dt.datetime(2026, 1, 5, h, tzinfo=UTC) for h in hours], pa.timestamp("us", "UTC")),
        "material_id": list(materials), "lot_id": list(lots),
        "from_location_id": list(sources), "to_location_id": list(targets), "quantity": list(quantities)})


RECEIVE_ISSUE_SHIP = movements([
    ("m1", 6, "RM", "L1", "SUPPLIER", "DOCK", 100.0),
    ("m2", 7, "RM", "L1", "DOCK", "BIN-A", 100.0),
    ("m3", 8, "RM", "L1", "BIN-A", "LINE-1", 30.0),
    ("m4", 8, "RM", "L1", "LINE-1", "CONSUMPTION", 25.0),
    ("m5", 9, "RM", "L1", "LINE-1", "BIN-A", 5.0),
    ("m6", 9, "FG", "L9", "BIN-F", "CUSTOMER", 4.0),
])


def test_every_movement_becomes_two_lines_that_sum_to_zero() -> None:
    entries = collect_arrow(ledger_entries(lazy_frame(RECEIVE_ISSUE_SHIP))).to_pylist()
    assert len(entries) == 12
    for movement_id in {e["movement_id"] for e in entries}:
        assert sum(e["quantity_delta"] for e in entries if e["movement_id"] == movement_id) == 0.0


def test_running_balance_follows_event_time_per_lot_and_location() -> None:
    result = collect_arrow(running_balances(ledger_entries(lazy_frame(RECEIVE_ISSUE_SHIP)))).to_pylist()
    bin_a = sorted((r["occurred_at"], r["movement_id"], r["balance_after"])
                   for r in result if r["location_id"] == "BIN-A")
    assert [(m, b) for _, m, b in bin_a] == [("m2", 100.0), ("m3", 70.0), ("m5", 75.0)]
    line = sorted((r["occurred_at"], r["movement_id"], r["balance_after"])
                  for r in result if r["location_id"] == "LINE-1")
    assert [(m, b) for _, m, b in line] == [("m3", 30.0), ("m4", 5.0), ("m5", 0.0)]


def test_stock_on_hand_leaves_out_zero_and_virtual_locations() -> None:
    stock = collect_arrow(stock_on_hand(ledger_entries(lazy_frame(RECEIVE_ISSUE_SHIP)), virtual_locations=VIRTUAL))
    rows = sorted((r["material_id"], r["lot_id"], r["location_id"], r["quantity"]) for r in stock.to_pylist())
    assert rows == [("FG", "L9", "BIN-F", -4.0), ("RM", "L1", "BIN-A", 75.0)]  # a negative is shown, not hidden


def random_movements(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    locations = np.array(["SUPPLIER", "DOCK", "BIN-A", "BIN-B", "LINE-1", "CUSTOMER"])
    src = rng.integers(0, 6, n)
    dst = (src + rng.integers(1, 6, n)) % 6
    return pa.table({
        "movement_id": [f"m{i:06d}" for i in range(n)],
        "occurred_at": pa.array(dt.datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1e6
                                + rng.integers(0, 5, n) * 3_600_000_000, pa.int64())
        .cast(pa.timestamp("us", "UTC")),
        "material_id": rng.choice(["RM-1", "RM-2", "FG-1"], n).tolist(),
        "lot_id": rng.choice(["L1", "L2", "L3", "L4"], n).tolist(),
        "from_location_id": locations[src].tolist(), "to_location_id": locations[dst].tolist(),
        "quantity": np.round(rng.uniform(0.1, 50.0, n), 3).tolist()})


@pytest.mark.spark
def test_running_balances_agree_on_polars_and_pyspark(spark: object) -> None:
    """Many ties on occurred_at: the deterministic tie-break must give the same balances on both engines."""
    data = random_movements(2_000, seed=7)
    result = assert_engine_parity(lambda movements: running_balances(ledger_entries(movements)),
                                  {"movements": data}, spark=spark,
                                  sort_by=["movement_id", "entry_side"], rel_tol=1e-9)
    assert result.rows == 4_000


@pytest.mark.spark
def test_stock_on_hand_agrees_on_polars_and_pyspark(spark: object) -> None:
    result = assert_engine_parity(lambda movements: stock_on_hand(ledger_entries(movements),
                                                                  virtual_locations=VIRTUAL),
                                  {"movements": random_movements(1_000, seed=11)}, spark=spark)
    assert result.rows > 10


@pytest.mark.spark
def test_parity_harness_catches_a_difference(spark: object) -> None:
    import narwhals as nw

    def engine_dependent(movements: nw.LazyFrame) -> nw.LazyFrame:
        native = nw.to_native(movements)
        bump = 0.0 if type(native).__module__.startswith("polars") else 1.0
        return movements.select("movement_id", (nw.col("quantity") + bump).alias("quantity"))

    with pytest.raises(AssertionError):
        assert_engine_parity(engine_dependent, {"movements": RECEIVE_ISSUE_SHIP}, spark=spark)
