"""The ingest log's key holds, and the log agrees with the tables - also after a run died between writing a
file's rows and its log row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hostile_corpus import event, mes_file, wms_file, wms_line
from ingestion.landing import Lander
from ingestion.log_check import ingest_log_disagreements
from lakehouse.delta_io import DeltaLake


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (BaseException, so no `except Exception` catches it)."""


def deliver(landing: Path) -> None:
    for name, content in {
        "wms/receipts/a.csv": wms_file(wms_line(transaction_id="T1"), wms_line(transaction_id="T2", quantity="-1")),
        "wms/receipts/a-copy.csv": wms_file(wms_line(transaction_id="T1"), wms_line(transaction_id="T2",
                                                                                      quantity="-1")),
        "wms/receipts/header-1.csv": wms_file(), "wms/receipts/header-2.csv": wms_file(),
        "wms/receipts/broken.csv": b"",
        "mes/events/2026-01-05.ndjson": mes_file(event(event_id="E1"), event(event_id="E2"), "{broken"),
    }.items():
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def assert_log_key_holds(lake: DeltaLake) -> None:
    keys = list(lake.spec("ingest_log").merge_keys)
    log = lake.scan("ingest_log").select(keys).collect()
    assert log.height == log.unique().height


def test_key_holds_with_copies_header_only_and_rejected_files(master_lake: DeltaLake, landing: Path) -> None:
    deliver(landing)
    for _ in range(2):
        Lander(master_lake, landing).land_all()
    assert_log_key_holds(master_lake)
    assert ingest_log_disagreements(master_lake).is_empty()


@pytest.mark.parametrize("killed_after_tables", [1, 2])
def test_log_agrees_with_the_tables_after_a_run_killed_before_its_log_rows(
        master_lake: DeltaLake, landing: Path, monkeypatch: pytest.MonkeyPatch, killed_after_tables: int) -> None:
    deliver(landing)
    writes = {"n": 0}
    real_insert = DeltaLake.insert_new_rows

    def insert_then_die(self: DeltaLake, name: str, data: object) -> object:
        result = real_insert(self, name, data)
        writes["n"] += 1
        if writes["n"] >= killed_after_tables:
            raise Killed
        return result

    monkeypatch.setattr(DeltaLake, "insert_new_rows", insert_then_die)
    with pytest.raises(Killed):
        Lander(master_lake, landing).land_all()
    monkeypatch.setattr(DeltaLake, "insert_new_rows", real_insert)
    partial = sum(master_lake.row_count(t) for t in ("wms_transactions", "mes_equipment_states")
                  if master_lake.exists(t))
    assert partial >= 1  # rows landed, no log row for them
    assert not ingest_log_disagreements(master_lake).is_empty()  # the check sees the crash

    outcomes = Lander(master_lake, landing).land_all()

    assert ingest_log_disagreements(master_lake).is_empty()
    assert_log_key_holds(master_lake)
    assert master_lake.row_count("wms_transactions") == 1 and master_lake.row_count("mes_equipment_states") == 2
    assert all(o.conserved for o in outcomes)
    landed = {o.source_file: o.rows_landed for o in outcomes if o.status == "landed"}
    assert landed["wms/receipts/a-copy.csv"] == 1 and landed["mes/events/2026-01-05.ndjson"] == 2
    log = master_lake.scan("ingest_log").filter(pl.col("status") == "landed").collect()
    assert log["rows_landed"].sum() == 3


def test_a_signals_file_killed_before_its_log_row_is_credited_to_the_rerun(master_lake: DeltaLake, landing: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Signal rows carry their file's name, not its fingerprint: the rerun finds its rows stored by the killed
    run (which never logged the file) and counts them as landed, and the check compares signals per name."""
    from datetime import datetime, timedelta, timezone

    from ingestion.signal_files import land_signal_files

    start = datetime(2026, 1, 5, 6, tzinfo=timezone.utc)
    path = landing / "signals" / "2026-01-05.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame({"machine_id": ["L1-M1"] * 30, "tag": ["speed"] * 30,
                  "source_at": [start + timedelta(seconds=10 * i) for i in range(30)],
                  "value": [float(i) for i in range(30)], "status_code": [0] * 30}).write_parquet(path)
    real_insert = DeltaLake.insert_new_rows

    def insert_then_die(self: DeltaLake, name: str, data: object) -> object:
        real_insert(self, name, data)
        raise Killed

    monkeypatch.setattr(DeltaLake, "insert_new_rows", insert_then_die)
    with pytest.raises(Killed):
        land_signal_files(Lander(master_lake, landing))
    monkeypatch.setattr(DeltaLake, "insert_new_rows", real_insert)
    assert master_lake.row_count("machine_signals") == 30
    assert ingest_log_disagreements(master_lake)["file_sha256"].to_list() == ["unlogged: signals/2026-01-05.parquet"]

    [outcome] = land_signal_files(Lander(master_lake, landing))

    assert (outcome.status, outcome.rows_landed, outcome.rows_duplicate) == ("landed", 30, 0)
    assert ingest_log_disagreements(master_lake).is_empty()
    assert master_lake.row_count("machine_signals") == 30
