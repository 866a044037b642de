"""A re-send with the same business key and another payload is quarantined as `conflicting_duplicate` with both
payloads visible, within one run or in a later one; an identical re-send stays a plain duplicate."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from hostile_corpus import wms_file, wms_line
from ingestion.landing import FileOutcome, Lander
from ingestion.sources import WMS_CSV
from lakehouse.delta_io import DeltaLake


def deliver(landing: Path, name: str, *lines: str) -> None:
    path = landing / "wms" / "receipts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wms_file(*lines))


def land(lake: DeltaLake, landing: Path) -> dict[str, FileOutcome]:
    return {o.source_file: o for o in Lander(lake, landing).land_all([WMS_CSV]) if o.status != "duplicate_file"}


def reasons(lake: DeltaLake) -> list[tuple[str, str]]:
    frame = lake.scan("quarantine_wms_transactions").select(
        "raw_payload", pl.col("reasons").list.join("; ")).collect()
    return list(frame.iter_rows())


def test_a_conflicting_resend_in_a_later_run_is_quarantined_with_both_payloads(master_lake: DeltaLake,
                                                                               landing: Path) -> None:
    deliver(landing, "a.csv", wms_line(transaction_id="T7", quantity="150"))
    [first] = Lander(master_lake, landing).land_all([WMS_CSV])
    assert (first.rows_landed, first.rows_quarantined) == (1, 0)

    deliver(landing, "b.csv", wms_line(transaction_id="T7", quantity="15"), wms_line(transaction_id="T8"))
    resent = land(master_lake, landing)["wms/receipts/b.csv"]
    assert (resent.rows_read, resent.rows_landed, resent.rows_quarantined, resent.rows_duplicate) == (2, 1, 1, 0)
    deliver(landing, "c.csv", wms_line(transaction_id="T7", quantity="150"), wms_line(transaction_id="T9"))
    identical = land(master_lake, landing)["wms/receipts/c.csv"]
    assert (identical.rows_read, identical.rows_landed, identical.rows_quarantined, identical.rows_duplicate) \
        == (2, 1, 0, 1)
    [(raw, why)] = reasons(master_lake)
    assert ",15," in raw  # the new payload
    assert why.startswith("conflicting_duplicate: transaction_id=T7 already landed with another payload")
    assert '"quantity": 150.0' in why  # the landed one
    landed = master_lake.scan("wms_transactions").filter(pl.col("transaction_id") == "T7").collect()
    assert landed["quantity"].to_list() == [150.0]


def test_conflicting_records_in_the_same_run_land_the_first_and_quarantine_the_rest(master_lake: DeltaLake,
                                                                                     landing: Path) -> None:
    """The same way whatever the timing: the first delivered lands, the later one is a conflicting duplicate
    with both payloads visible (before, both were quarantined and the good record was lost)."""
    deliver(landing, "a.csv", wms_line(transaction_id="T7", quantity="150"))
    deliver(landing, "b.csv", wms_line(transaction_id="T7", quantity="15"), wms_line(transaction_id="T8"))
    outcomes = land(master_lake, landing)
    assert (outcomes["wms/receipts/a.csv"].rows_landed, outcomes["wms/receipts/a.csv"].rows_quarantined) == (1, 0)
    assert (outcomes["wms/receipts/b.csv"].rows_landed, outcomes["wms/receipts/b.csv"].rows_quarantined) == (1, 1)
    [(raw, why)] = reasons(master_lake)
    assert ",15," in raw
    assert why.startswith("conflicting_duplicate: transaction_id=T7 lands in this run from another record")
    assert '"quantity": 150.0' in why
    landed = master_lake.scan("wms_transactions").filter(pl.col("transaction_id") == "T7").collect()
    assert landed["quantity"].to_list() == [150.0]


def test_a_conflicting_record_whose_first_version_is_bad_lands_the_good_one(master_lake: DeltaLake,
                                                                            landing: Path) -> None:
    deliver(landing, "a.csv", wms_line(transaction_id="T7", quantity="-5"), wms_line(transaction_id="T7"))
    [outcome] = Lander(master_lake, landing).land_all([WMS_CSV])
    assert (outcome.rows_landed, outcome.rows_quarantined) == (1, 1)
    [(raw, why)] = reasons(master_lake)
    assert ",-5," in raw and "quantity within" in why  # its own fault, and it clashes with the one that landed
    assert why.startswith("conflicting_duplicate: transaction_id=T7 lands in this run from another record")
    landed = master_lake.scan("wms_transactions").filter(pl.col("transaction_id") == "T7").collect()
    assert landed["quantity"].to_list() == [10.0]
