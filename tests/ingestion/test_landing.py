"""Landing files: good rows in bronze, bad rows in quarantine with reasons, exactly once, conserved."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from landing_files import WMS_HEADER, mes_event, wms_row, write_mes, write_wms
from ingestion.landing import Lander
from lakehouse.delta_io import DeltaLake


def land(lake: DeltaLake, landing: Path) -> list:
    return Lander(lake, landing).land_all()


def test_good_rows_land_and_bad_rows_are_quarantined_with_reasons(master_lake: DeltaLake, landing: Path) -> None:
    write_wms(landing, "2026-01-05.csv", [
        wms_row("T1"),
        wms_row("T2", quantity="-5"),
        wms_row("T3", material_code="NOPE"),
        wms_row("T4", occurred_at="2026-01-05T07:00:00"),
    ])
    [outcome] = land(master_lake, landing)
    assert (outcome.status, outcome.rows_read, outcome.rows_landed, outcome.rows_quarantined) == ("landed", 4, 1, 3)
    assert outcome.conserved
    bronze = master_lake.read_arrow("wms_transactions").to_pylist()
    assert [r["transaction_id"] for r in bronze] == ["T1"]
    assert bronze[0]["quantity"] == 10.0 and bronze[0]["occurred_at"].hour == 6  # +01:00 -> UTC
    assert bronze[0]["source_file"] == "wms/receipts/2026-01-05.csv" and bronze[0]["source_line"] == 2
    quarantine = {r["source_line"]: r["reasons"] for r in
                  master_lake.read_arrow("quarantine_wms_transactions").to_pylist()}
    assert quarantine == {3: ["quantity within [0.0, 10000000.0]"],
                          4: ["material_code is a known wms_material code"],
                          5: ["occurred_at is ISO 8601 with a zone"]}


def test_same_file_three_times_and_renamed_lands_once(master_lake: DeltaLake, landing: Path) -> None:
    path = write_wms(landing, "2026-01-05.csv", [wms_row("T1"), wms_row("T2", quantity="3")])
    first = land(master_lake, landing)
    snapshot = master_lake.read_arrow("wms_transactions").sort_by("transaction_id")
    version = master_lake.version("wms_transactions")
    for _ in range(2):  # a file the log holds, unchanged since, is not read again
        assert land(master_lake, landing) == []
    path.write_bytes(path.read_bytes())  # written again (same bytes, newer time): read, and found a duplicate
    assert [o.status for o in land(master_lake, landing)] == ["duplicate_file"]
    shutil.copy(path, path.with_name("2026-01-05-resent.csv"))
    renamed = [o for o in land(master_lake, landing) if o.source_file.endswith("resent.csv")]
    assert [o.status for o in renamed] == ["duplicate_file"]
    assert first[0].rows_landed == 2
    assert master_lake.read_arrow("wms_transactions").sort_by("transaction_id").equals(snapshot)
    assert master_lake.version("wms_transactions") == version
    log = master_lake.scan("ingest_log").collect()
    assert log.group_by("status").len().sort("status").rows() == [("duplicate_file", 2), ("landed", 1)]


def test_records_repeated_across_files_are_counted_as_duplicates(master_lake: DeltaLake, landing: Path) -> None:
    write_wms(landing, "a.csv", [wms_row("T1"), wms_row("T2")])
    write_wms(landing, "b.csv", [wms_row("T2"), wms_row("T3"), wms_row("T3")])
    outcomes = {o.source_file: o for o in land(master_lake, landing)}
    b = outcomes["wms/receipts/b.csv"]
    assert (b.rows_read, b.rows_landed, b.rows_duplicate, b.rows_quarantined) == (3, 1, 2, 0)
    assert master_lake.row_count("wms_transactions") == 3


def test_conflicting_duplicate_ids_in_one_file_land_the_first_and_quarantine_the_other(master_lake: DeltaLake,
                                                                                        landing: Path) -> None:
    write_wms(landing, "a.csv", [wms_row("T1", quantity="1"), wms_row("T1", quantity="2")])
    [outcome] = land(master_lake, landing)
    assert (outcome.rows_landed, outcome.rows_quarantined) == (1, 1)
    [reasons] = master_lake.read_arrow("quarantine_wms_transactions")["reasons"].to_pylist()
    assert len(reasons) == 1 and reasons[0].startswith("conflicting_duplicate: transaction_id=T1 lands in this run")
    assert master_lake.read_arrow("wms_transactions")["quantity"].to_pylist() == [1.0]


def test_late_event_marks_its_partition(master_lake: DeltaLake, landing: Path) -> None:
    write_mes(landing, "2026-01-05.ndjson", [mes_event("E1"), mes_event("E2", occurred_at="2026-01-05T09:00:00Z")])
    land(master_lake, landing)
    write_mes(landing, "2026-01-07.ndjson", [
        mes_event("E3", occurred_at="2026-01-07T06:00:00Z"),
        mes_event("E4", occurred_at="2026-01-05T13:00:00Z")])  # backdated into an already landed day
    land(master_lake, landing)
    marks = master_lake.scan("dirty_partitions").sort("marked_at", "event_date").collect()
    second_run = marks.filter(pl.col("ingest_run_id") == marks["ingest_run_id"][-1])
    assert second_run.select("table_name", "event_date", "is_late").rows() == [
        ("mes_equipment_states", date(2026, 1, 5), True),
        ("mes_equipment_states", date(2026, 1, 7), False)]
    assert master_lake.row_count("mes_equipment_states") == 4


def test_mes_events_route_to_their_tables(master_lake: DeltaLake, landing: Path) -> None:
    write_mes(landing, "2026-01-05.ndjson", [
        mes_event("E1"), mes_event("E2", "material_consumed"),
        mes_event("E3", "lot_split", material_code="100100", lot_code="LOT-1", unit="G", location_code="L1-SUPER",
                  split_lots=[{"lot_code": "LOT-1A", "quantity": 400}, {"lot_code": "LOT-1B", "quantity": 450}]),
        mes_event("E4", "teleported"), '{"event_id": "E5", "event_type": "equipment_state_changed", "occ'])
    [outcome] = land(master_lake, landing)
    assert (outcome.rows_read, outcome.rows_landed, outcome.rows_quarantined) == (6, 4, 2)
    assert outcome.conserved
    lots = master_lake.read_arrow("mes_lot_events").sort_by("line_seq").to_pylist()
    assert [(r["lot_code"], r["source_lot_code"], r["quantity"]) for r in lots] == [
        ("LOT-1A", "LOT-1", 400.0), ("LOT-1B", "LOT-1", 450.0)]
    reasons = sorted(r["reasons"][0].split(":")[0] for r in
                     master_lake.read_arrow("quarantine_mes_events").to_pylist())
    assert reasons == ["invalid JSON", "unknown event_type 'teleported'"]


STAMPS = ["2026-01-05T05:12:33.120417+00:00", "2026-01-05T05:12:33.999999+00:00",
          "2026-01-05T06:12:34.000001+01:00", "2026-01-05T05:12:35.500000Z"]


def released(event_id: str, occurred_at: str) -> dict[str, object]:
    return mes_event(event_id, "work_order_released", occurred_at, work_order_id=f"WO-{event_id}",
                     line_id="L1", material_code="400100", planned_quantity=10, unit="EA",
                     planned_start_at="2026-01-05T06:00:00.000001+00:00", due_at="2026-01-07T13:45:10.654321+00:00")


def test_microsecond_stamps_land_without_loss_on_both_ndjson_paths(master_lake: DeltaLake, landing: Path) -> None:
    fast = [mes_event(f"F{i}", occurred_at=t) for i, t in enumerate(STAMPS)] + [released("FR", STAMPS[0])]
    # a broken line makes Polars refuse the file: every line goes the line-by-line way
    slow = [mes_event(f"S{i}", occurred_at=t) for i, t in enumerate(STAMPS)] + [released("SR", STAMPS[0]), '{"x']
    write_mes(landing, "2026-01-05.ndjson", fast)
    write_mes(landing, "2026-01-06.ndjson", slow)
    outcomes = {o.source_file: o for o in land(master_lake, landing)}
    assert [(o.rows_landed, o.rows_quarantined) for o in outcomes.values()] == [(5, 0), (5, 1)]
    expected = [datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc) for t in STAMPS]
    states = master_lake.read_arrow("mes_equipment_states").to_pylist()
    for prefix in ("F", "S"):
        got = sorted((r["event_id"], r["occurred_at"]) for r in states if r["event_id"].startswith(prefix))
        assert [t for _, t in got] == expected
    orders = {r["event_id"]: r for r in master_lake.read_arrow("mes_work_order_events").to_pylist()}
    for event_id in ("FR", "SR"):
        assert orders[event_id]["occurred_at"] == expected[0]
        assert orders[event_id]["due_at"] == datetime(2026, 1, 7, 13, 45, 10, 654321, tzinfo=timezone.utc)
        assert orders[event_id]["planned_start_at"] == datetime(2026, 1, 5, 6, 0, 0, 1, tzinfo=timezone.utc)


def test_customer_order_columns_land_and_older_exports_read_them_as_null(master_lake: DeltaLake,
                                                                          landing: Path) -> None:
    from data_contracts.wms import ADDED_COLUMNS

    pick = wms_row("T1", "PICK", supplier_id="", supplier_lot_code="", customer_id="CUS-01", shipment_id="SHP-1",
                   ordered_quantity="12.5", due_at="2026-01-05T17:00:00+01:00")
    write_wms(landing, "new.csv", [pick])
    old_columns = [c for c in WMS_HEADER.split(",") if c not in ADDED_COLUMNS]
    old = landing / "wms" / "receipts" / "old.csv"
    old.write_text(",".join(old_columns) + "\n" + ",".join(wms_row("T2")[c] for c in old_columns) + "\n")
    outcomes = land(master_lake, landing)
    assert [(o.status, o.rows_landed, o.rows_quarantined) for o in outcomes] == [("landed", 1, 0)] * 2
    rows = {r["transaction_id"]: r for r in master_lake.read_arrow("wms_transactions").to_pylist()}
    assert (rows["T1"]["ordered_quantity"], rows["T1"]["due_at"]) == (
        12.5, datetime(2026, 1, 5, 16, 0, tzinfo=timezone.utc))
    assert (rows["T2"]["ordered_quantity"], rows["T2"]["due_at"]) == (None, None)
