"""The real-time refresh: events landed as messages reach movements, the ledger and stock incrementally, are
served by `Lake.stock` (published), and each refresh records the sources' freshness, which a check reads."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from ingestion.landing import Lander
from ingestion.messages import Message, land_messages
from lakehouse.delta_io import DeltaLake
from pipelines.realtime import InventoryRefresher, freshness_rows, landed_rows_reach_gold
from pipelines.resources import LakeResource
from pipelines.run import run_everything
from plantlake.lake import Lake


@pytest.fixture(scope="module")
def master_lake_of_a_plant(clean_plant: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("realtime") / "lake"
    assert run_everything(lake_root=root, source_dir=clean_plant, echo=lambda _: None,
                          job_name="refresh_master_data").success
    return root


def receipt(number: int, occurred_at: str) -> Message:
    record = {"transaction_id": f"RT{number:05d}", "transaction_type": "RECEIPT", "occurred_at": occurred_at,
              "material_code": "ALU-BILLET", "lot_code": f"LOT-RT{number:05d}", "quantity": 100 + number,
              "unit": "KG", "to_location_code": "RCV-DOOR-01", "supplier_id": "SUP-01",
              "supplier_lot_code": f"S-{number}"}
    return Message("plant/s1/wms/RECEIPT", json.dumps(record).encode())


def test_landed_messages_reach_stock_incrementally_with_freshness(master_lake_of_a_plant: Path,
                                                                  tmp_path: Path) -> None:
    lake = DeltaLake(master_lake_of_a_plant)
    refresher = InventoryRefresher(master_lake_of_a_plant, tmp_path / "spool")
    now = datetime.now(timezone.utc).isoformat()
    land_messages(Lander(lake, tmp_path / "spool"), "wms", [receipt(i, now) for i in range(5)])
    first = refresher.refresh()
    assert first.success and first.published == 3  # movements, the ledger and stock on hand
    stock = Lake(master_lake_of_a_plant).stock(material="RM-1001")
    assert sorted(stock["lot_id"].to_list()) == [f"LOT-RT{i:05d}" for i in range(5)]
    assert stock.filter(pl.col("lot_id") == "LOT-RT00004")["quantity"].item() == 104_000.0  # KG -> base unit G

    land_messages(Lander(lake, tmp_path / "spool"), "wms", [receipt(i, now) for i in range(5, 8)])
    second = refresher.refresh()
    assert second.success
    stock = Lake(master_lake_of_a_plant).stock(material="RM-1001")
    assert stock.height == 8 and stock["quantity"].sum() == sum(100 + i for i in range(8)) * 1000
    log = lake.scan("refresh_log").sort("refreshed_at").collect()
    assert log.filter(pl.col("table_name") == "fct_inventory_movements")["is_full"].to_list() == [True, False]
    freshness = lake.scan("source_freshness").sort("refreshed_at").collect()
    assert freshness.select("source", "channel", "rows").rows() == [("wms_transactions", "messages", 5),
                                                                  ("wms_transactions", "messages", 3)]
    assert (freshness["landed_to_gold_p95_s"] > 0).all() and (freshness["event_to_landed_p50_s"] >= 0).all()

    check = landed_rows_reach_gold(lake=LakeResource(lake_root=str(master_lake_of_a_plant)))
    assert check.passed and check.metadata["sources"].value == 1


def test_freshness_rows_are_quantiles_per_source_and_channel() -> None:
    t = datetime(2026, 1, 5, 6, 0, 0, tzinfo=timezone.utc)
    landed = pl.DataFrame({
        "source": ["wms_transactions"] * 3 + ["mes_lot_events"],
        "channel": ["messages", "messages", "files", "messages"],
        "occurred_at": [t, t, t, t],
        "ingested_at": [t.replace(second=2), t.replace(second=4), t.replace(second=30), t.replace(second=1)]})
    rows = freshness_rows(landed, refreshed_at=t.replace(second=10), landed_until=t.replace(second=9), run_id="r")
    by = {(r["source"], r["channel"]): r for r in rows.iter_rows(named=True)}
    assert by[("wms_transactions", "messages")]["rows"] == 2
    assert by[("wms_transactions", "messages")]["event_to_landed_p50_s"] == pytest.approx(3.0)
    assert by[("wms_transactions", "messages")]["landed_to_gold_p95_s"] == pytest.approx(7.9)  # 8 s and 6 s
    assert by[("mes_lot_events", "messages")]["event_to_gold_p95_s"] == pytest.approx(10.0)
    assert by[("wms_transactions", "files")]["event_to_landed_p95_s"] == pytest.approx(30.0)


def test_the_freshness_check_fails_when_landed_rows_wait_too_long(tmp_path: Path) -> None:
    lake = DeltaLake(tmp_path / "lake")
    t = datetime(2026, 1, 5, 6, 0, 0, tzinfo=timezone.utc)
    slow = freshness_rows(pl.DataFrame({"source": ["wms_transactions"], "channel": ["messages"], "occurred_at": [t],
                                        "ingested_at": [t]}), refreshed_at=t.replace(minute=5), landed_until=t,
                          run_id="r1")
    lake.append("source_freshness", slow.to_arrow())
    check = landed_rows_reach_gold(lake=LakeResource(lake_root=str(tmp_path / "lake")))
    assert not check.passed and check.metadata["slowest_p95_s"].value == pytest.approx(300.0)
    assert isinstance(check, dg.AssetCheckResult)


def test_the_refresh_loop_runs_beside_the_landing_and_every_landed_row_reaches_stock_once(
        master_lake_of_a_plant: Path, tmp_path: Path) -> None:
    """`plantlake listen --refresh`: batches land while refreshes run in their own thread; when the loop
    finishes, stock holds every lot, and the freshness rows count each landed row once (in the refresh that
    took its ingest run in), however landing and refreshing interleaved."""
    from pipelines.realtime import RefreshLoop

    lake = DeltaLake(master_lake_of_a_plant)
    outcomes = []
    loop = RefreshLoop(InventoryRefresher(master_lake_of_a_plant, tmp_path / "spool"), 0.0, report=outcomes.append)
    loop.start()
    now = datetime.now(timezone.utc).isoformat()
    numbers = range(100, 160)
    for first in range(100, 160, 10):
        batch = [receipt(i, now) for i in range(first, first + 10)]
        landed = land_messages(Lander(lake, tmp_path / "spool"), "wms", batch)
        loop.landed(landed.outcome.rows_landed)
    loop.finish()
    assert outcomes and all(o.success for o in outcomes)
    lots = set(Lake(master_lake_of_a_plant).stock(material="RM-1001")["lot_id"].to_list())
    assert {f"LOT-RT{i:05d}" for i in numbers} <= lots
    runs = {o.run_id for o in outcomes}
    freshness = lake.scan("source_freshness").filter(pl.col("refresh_run_id").is_in(list(runs))).collect()
    assert freshness["rows"].sum() == len(numbers)


def test_a_refresh_that_crashes_stops_the_listener_and_finish_reraises_it() -> None:
    """Landing must not go on without refreshing (stock would be stale without anyone knowing)."""
    from pipelines.realtime import RefreshLoop

    class Broken:
        def refresh(self) -> None:
            raise OSError("disk full")

    stopped = []
    loop = RefreshLoop(Broken(), 0.0, on_crash=lambda: stopped.append(True))  # type: ignore[arg-type]
    loop.start()
    loop.landed(5)
    with pytest.raises(OSError, match="disk full"):
        loop.finish()
    assert stopped == [True]
