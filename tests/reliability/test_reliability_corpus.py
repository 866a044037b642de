"""Issue 15's hostile inputs: each file gets its outcome and reason, rows are conserved, and no file - whatever it
holds or is (a FIFO, a loop, a link out, an odd name) - stops another file from landing."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from hostile_corpus import CASES as EXISTING_CASES
from hostile_corpus import GOOD, Case, event, mes_file, wms_file
from ingestion.landing import FileOutcome, Lander
from ingestion.signal_files import land_signal_files
from lakehouse.delta_io import DeltaLake
from landing_files import write_master_data
from reliability_corpus import CASES, FS_CASES, FsCase


def land_everything(lake: DeltaLake, landing: Path) -> list[FileOutcome]:
    lander = Lander(lake, landing)
    return [*lander.land_all(), *land_signal_files(lander)]


def reasons_in(lake: DeltaLake, outcome: FileOutcome) -> list[str]:
    found = [outcome.error or ""]
    for table in ("quarantine_wms_transactions", "quarantine_mes_events", "quarantine_machine_signals"):
        if lake.exists(table):
            found += lake.scan(table).select(pl.col("reasons").list.join("; ")).collect().to_series().to_list()
    return found


def bronze_and_quarantine_rows(lake: DeltaLake) -> tuple[int, int]:
    bronze = sum(lake.row_count(s.name) for s in lake.tables() if s.layer == "bronze"
                 and s.name not in ("ingest_log", "dirty_partitions"))
    return bronze, sum(lake.row_count(s.name) for s in lake.tables() if s.layer == "quarantine")


@pytest.fixture(scope="module")
def master_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "lake"
    write_master_data(DeltaLake(root))
    return root


@pytest.fixture
def lake(master_template: Path, tmp_path: Path) -> DeltaLake:
    shutil.copytree(master_template, tmp_path / "lake")
    return DeltaLake(tmp_path / "lake")


def test_the_corpus_extended_by_this_family_holds_at_least_110_unique_cases() -> None:
    names = [c.name for c in [*EXISTING_CASES, *CASES, *FS_CASES]]
    assert len(EXISTING_CASES) >= 68 and len(names) >= 110
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_content_case(case: Case, lake: DeltaLake, tmp_path: Path) -> None:
    target = tmp_path / "landing" / case.path
    target.parent.mkdir(parents=True)
    target.write_bytes(case.content)

    [outcome] = land_everything(lake, tmp_path / "landing")

    assert (outcome.status, outcome.rows_read, outcome.rows_landed, outcome.rows_quarantined,
            outcome.rows_duplicate) == (case.status, *case.rows), outcome.error
    assert outcome.conserved
    log = lake.scan("ingest_log").collect().row(0, named=True)
    assert (log["status"], log["rows_read"], log["rows_landed"]) == (case.status, *case.rows[:2])
    assert any(case.reason in r for r in reasons_in(lake, outcome)), reasons_in(lake, outcome)
    assert bronze_and_quarantine_rows(lake) == (case.rows[1], case.rows[2])


@pytest.mark.parametrize("case", FS_CASES, ids=[c.name for c in FS_CASES])
def test_file_system_case(case: FsCase, lake: DeltaLake, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    case.make(landing)

    outcomes = {o.source_file: o for o in land_everything(lake, landing)}

    outcome = outcomes[case.source_file]
    assert (outcome.status, outcome.rows_read, outcome.rows_landed, outcome.rows_quarantined,
            outcome.rows_duplicate) == (case.status, *case.rows), outcome.error
    assert case.reason in (outcome.error or ""), outcome.error
    logged = lake.scan("ingest_log").filter(pl.col("source_file") == case.source_file).collect()
    assert logged["status"].to_list() == [case.status]


def test_no_file_stops_another_from_landing(lake: DeltaLake, tmp_path: Path) -> None:
    """Every poison entry at once, next to one good file per source: the good files land, every entry is logged."""
    landing = tmp_path / "landing"
    landing.mkdir()
    for case in FS_CASES:
        case.make(landing)
    for index, case in enumerate(c for c in CASES if c.status == "rejected"):
        target = landing / case.path.replace("2026-01-05", f"poison-{index}").replace("message", f"poison-{index}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(case.content)
    (landing / "wms/receipts/zz-good.csv").write_bytes(wms_file("GOOD-T" + GOOD[len("T0"):]))
    (landing / "mes/events/zz-good.ndjson").write_bytes(mes_file(event(event_id="GOOD-E")))

    outcomes = land_everything(lake, landing)

    by_name = {o.source_file: o for o in outcomes}
    assert by_name["wms/receipts/zz-good.csv"].rows_landed == 1
    assert by_name["mes/events/zz-good.ndjson"].rows_landed == 1
    assert lake.scan("wms_transactions").filter(pl.col("transaction_id") == "GOOD-T").collect().height == 1
    assert lake.scan("mes_equipment_states").filter(pl.col("event_id") == "GOOD-E").collect().height == 1
    poison = [o for o in outcomes if not o.source_file.startswith(("wms/receipts/zz-good", "mes/events/zz-good"))
              and "bad-" not in o.source_file]
    assert poison and all(o.status == "rejected" and o.error for o in poison), \
        [(o.source_file, o.status) for o in poison]
    assert all(o.conserved for o in outcomes)
    assert lake.row_count("ingest_log") == len(outcomes)
