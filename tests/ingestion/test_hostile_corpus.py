"""Every hostile case gives its expected outcome; nothing crashes and rows are conserved."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from hostile_corpus import CASES, Case
from ingestion.landing import Lander
from lakehouse.delta_io import DeltaLake
from landing_files import write_master_data


def test_the_corpus_has_at_least_fifty_cases_with_unique_names() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def master_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "lake"
    write_master_data(DeltaLake(root))
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case: Case, master_template: Path, tmp_path: Path) -> None:
    shutil.copytree(master_template, tmp_path / "lake")
    lake = DeltaLake(tmp_path / "lake")
    target = tmp_path / "landing" / case.path
    target.parent.mkdir(parents=True)
    target.write_bytes(case.content)

    [outcome] = Lander(lake, tmp_path / "landing").land_all()

    assert outcome.status == case.status, outcome.error
    counts = (outcome.rows_read, outcome.rows_landed, outcome.rows_quarantined, outcome.rows_duplicate)
    assert counts == case.rows
    assert outcome.conserved
    log = lake.scan("ingest_log").collect().row(0, named=True)
    assert (log["status"], log["rows_read"], log["rows_landed"], log["rows_quarantined"], log["rows_duplicate"]) \
        == (case.status, *case.rows)
    if case.reason:
        reasons = [outcome.error or ""]
        for table in ("quarantine_wms_transactions", "quarantine_mes_events"):
            if lake.exists(table):
                reasons += lake.scan(table).select(pl.col("reasons").list.join("; ")).collect().to_series().to_list()
        assert any(case.reason in r for r in reasons), reasons
    bronze_rows = sum(lake.row_count(s.name) for s in lake.tables() if s.layer == "bronze"
                      and s.name not in ("ingest_log", "dirty_partitions"))
    quarantined = sum(lake.row_count(s.name) for s in lake.tables() if s.layer == "quarantine")
    assert bronze_rows == case.rows[1] and quarantined == case.rows[2]
