"""One batch with hundreds of quarantined rows of mixed kinds lands in each quarantine table.

The quarantine rows are typed by the catalog, not inferred from the first rows: a batch whose first hundred-odd
rejections are unreadable lines (no record type) followed by contract failures (with a record type) used to
fail the whole write.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from ingestion.landing import Lander
from ingestion.signal_files import land_signal_files
from lakehouse.delta_io import DeltaLake
from landing_files import mes_event, wms_row, write_mes, write_wms

UNREADABLE, CONTRACT, UNKNOWN_CODE, GOOD = 180, 160, 140, 50


def _reason_kinds(lake: DeltaLake, table: str) -> Counter:
    reasons = lake.scan(table).select(pl.col("reasons").list.first()).collect().to_series().to_list()
    return Counter(reason.split(":")[0] if reason.startswith(("invalid JSON", "malformed CSV")) else reason
                   for reason in reasons)


def _assert_conserved(lake: DeltaLake, outcomes: list) -> None:
    for outcome in outcomes:
        assert outcome.conserved, outcome
    log = lake.scan("ingest_log").select("rows_read", "rows_landed", "rows_quarantined", "rows_duplicate").collect()
    assert log["rows_read"].sum() == log["rows_landed"].sum() + log["rows_quarantined"].sum() \
        + log["rows_duplicate"].sum()


def test_mes_batch_with_hundreds_of_mixed_rejections(master_lake: DeltaLake, landing: Path) -> None:
    unreadable = [f'{{"event_id": "BROKEN-{i}", "event_type": ' for i in range(UNREADABLE)]
    missing_fields = [mes_event(f"WO-{i}", "work_order_released", work_order_id=f"WO-{i}")
                      for i in range(CONTRACT)]
    unknown_machine = [mes_event(f"S-{i}", machine_id="NO-SUCH-MACHINE") for i in range(UNKNOWN_CODE)]
    good = [mes_event(f"G-{i}", occurred_at=f"2026-01-05T06:{i:02d}:00.000000+00:00") for i in range(GOOD)]
    write_mes(landing, "a.ndjson", [*unreadable, *missing_fields[:80]])  # >100 untyped rejections first
    write_mes(landing, "b.ndjson", [*missing_fields[80:], *unknown_machine, *good])

    outcomes = Lander(master_lake, landing).land_all()

    assert [o.status for o in outcomes] == ["landed", "landed"]
    _assert_conserved(master_lake, outcomes)
    assert sum(o.rows_quarantined for o in outcomes) == UNREADABLE + CONTRACT + UNKNOWN_CODE
    assert sum(o.rows_landed for o in outcomes) == GOOD
    quarantine = master_lake.scan("quarantine_mes_events").collect()
    assert quarantine.height == UNREADABLE + CONTRACT + UNKNOWN_CODE
    assert Counter(quarantine["record_type"].to_list()) == {
        None: UNREADABLE, "work_order_released": CONTRACT, "equipment_state_changed": UNKNOWN_CODE}
    kinds = _reason_kinds(master_lake, "quarantine_mes_events")
    assert kinds["invalid JSON"] == UNREADABLE
    assert kinds["machine_id is a known machine code"] == UNKNOWN_CODE
    assert quarantine.schema["quarantined_at"] == pl.Datetime("us", "UTC")
    assert master_lake.scan("mes_equipment_states").collect().height == GOOD


def test_wms_batch_with_hundreds_of_mixed_rejections(master_lake: DeltaLake, landing: Path) -> None:
    unreadable = [wms_row(f"BAD-{i}", lot_code='"unterminated') for i in range(UNREADABLE)]
    negative = [wms_row(f"NEG-{i}", quantity="-1") for i in range(CONTRACT)]
    unknown = [wms_row(f"UNK-{i}", material_code="NOPE") for i in range(UNKNOWN_CODE)]
    good = [wms_row(f"OK-{i}") for i in range(GOOD)]
    write_wms(landing, "2026-01-05.csv", [*unreadable, *negative, *unknown, *good])

    [outcome] = Lander(master_lake, landing).land_all()

    _assert_conserved(master_lake, [outcome])
    assert (outcome.rows_landed, outcome.rows_quarantined) == (GOOD, UNREADABLE + CONTRACT + UNKNOWN_CODE)
    quarantine = master_lake.scan("quarantine_wms_transactions").collect()
    assert quarantine.height == UNREADABLE + CONTRACT + UNKNOWN_CODE
    assert Counter(quarantine["record_type"].to_list())["RECEIPT"] == CONTRACT + UNKNOWN_CODE
    kinds = _reason_kinds(master_lake, "quarantine_wms_transactions")
    assert kinds["quantity within [0.0, 10000000.0]"] == CONTRACT
    assert kinds["material_code is a known wms_material code"] == UNKNOWN_CODE
    assert sum(n for kind, n in kinds.items() if kind not in (
        "quantity within [0.0, 10000000.0]", "material_code is a known wms_material code")) == UNREADABLE


def test_signal_file_with_hundreds_of_mixed_rejections(master_lake: DeltaLake, landing: Path) -> None:
    start = datetime(2026, 1, 5, 6, tzinfo=timezone.utc)
    n = UNREADABLE + CONTRACT + UNKNOWN_CODE + GOOD
    machine = ["L1-M1"] * n
    status = [0] * n
    value = [1.0] * n
    for i in range(UNREADABLE):
        value[i] = float("inf")  # not a finite value on a Good sample
    for i in range(UNREADABLE, UNREADABLE + CONTRACT):
        status[i] = -1  # not an OPC UA StatusCode
    for i in range(UNREADABLE + CONTRACT, UNREADABLE + CONTRACT + UNKNOWN_CODE):
        machine[i] = "NO-SUCH-MACHINE"
    frame = pl.DataFrame({"machine_id": machine, "tag": ["spindle_speed"] * n,
                          "source_at": [start + timedelta(seconds=i) for i in range(n)],
                          "value": value, "status_code": status},
                         schema={"machine_id": pl.String, "tag": pl.String, "source_at": pl.Datetime("us", "UTC"),
                                 "value": pl.Float64, "status_code": pl.Int64})
    (landing / "signals").mkdir()
    frame.write_parquet(landing / "signals" / "history.parquet")

    [outcome] = land_signal_files(Lander(master_lake, landing))

    assert outcome.conserved
    assert (outcome.rows_landed, outcome.rows_quarantined) == (GOOD, n - GOOD)
    kinds = _reason_kinds(master_lake, "quarantine_machine_signals")
    assert kinds == {"value is finite (or the sample is Bad)": UNREADABLE,
                     "status_code is an OPC UA StatusCode": CONTRACT,
                     "machine_id is a known machine code": UNKNOWN_CODE}
