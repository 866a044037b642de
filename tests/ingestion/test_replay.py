"""Late master data heals quarantine: a record quarantined because its material was not known yet lands once
the material arrives, exactly once, with every row still conserved; nothing else is replayed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner

from ingestion.landing import Lander
from ingestion.replay import replay_quarantined
from lakehouse.delta_io import DeltaLake
from landing_files import mes_event, wms_row, write_mes, write_wms
from plantlake import Lake, QueryError
from plantlake.cli import main


def add_material(lake: DeltaLake, material: str = "RM-2", wms: str = "COPPER", mes: str = "200200") -> None:
    """The next master data delivery: a material with its WMS and MES codes."""
    codes = lake.read_arrow("map_material_code").to_pylist()
    codes += [{"material_id": material, "system": "WMS", "system_material_code": wms, "system_unit": "KG"},
              {"material_id": material, "system": "MES", "system_material_code": mes, "system_unit": "G"}]
    lake.overwrite("map_material_code", pa.Table.from_pylist(codes, schema=lake.spec("map_material_code").schema))


def conserved(lake: DeltaLake) -> tuple[int, int, int, int]:
    totals = lake.scan("ingest_log").select(pl.col("rows_read", "rows_landed", "rows_quarantined",
                                                   "rows_duplicate").sum()).collect().row(0)
    assert totals[0] == totals[1] + totals[2] + totals[3]
    unbalanced = lake.scan("ingest_log").filter(
        pl.col("rows_read") != pl.col("rows_landed") + pl.col("rows_quarantined") + pl.col("rows_duplicate"))
    assert unbalanced.collect().is_empty()
    return totals


def test_a_record_whose_material_arrives_a_day_later_lands_once(master_lake: DeltaLake, landing: Path) -> None:
    write_wms(landing, "2026-01-05.csv", [wms_row("T1"), wms_row("T2", material_code="COPPER"),
                                          wms_row("T3", material_code="COPPER", quantity="-1"),
                                          wms_row("T4", material_code="NEVER")])
    write_mes(landing, "2026-01-05.ndjson", [
        mes_event("E1", "material_consumed", material_code="200200", consumed_lot_code="LOT-9"),
        '{"broken": '])
    Lander(master_lake, landing).land_all()
    assert conserved(master_lake) == (6, 1, 5, 0)
    nothing_yet = replay_quarantined(master_lake, landing_root=landing)
    assert (nothing_yet.attempted, nothing_yet.landed, nothing_yet.still_quarantined) == (3, 0, 3)  # T2, T4, E1

    add_material(master_lake)
    report = replay_quarantined(master_lake, landing_root=landing)

    assert (report.attempted, report.landed, report.duplicate, report.still_quarantined) == (3, 2, 0, 1)
    wms = master_lake.scan("wms_transactions").collect()
    assert sorted(wms["transaction_id"]) == ["T1", "T2"]
    replayed = wms.filter(pl.col("transaction_id") == "T2").row(0, named=True)
    assert replayed["ingest_run_id"] == report.run_id and replayed["source_file"] == "wms/receipts/2026-01-05.csv"
    assert replayed["source_line"] == 3 and replayed["quantity"] == 10.0
    assert master_lake.scan("mes_material_consumption").collect()["event_id"].to_list() == ["E1"]
    assert conserved(master_lake) == (6, 3, 3, 0)
    log = master_lake.scan("ingest_log").filter(pl.col("status") == "replayed").collect()
    assert sorted(zip(log["source_file"], log["rows_landed"], log["rows_quarantined"])) == [
        ("mes/events/2026-01-05.ndjson", 1, -1), ("wms/receipts/2026-01-05.csv", 1, -1)]

    again = replay_quarantined(master_lake, landing_root=landing)  # same master data: nothing to try again
    assert again.attempted == 0
    add_material(master_lake, "RM-3", "TIN", "300300")  # new master data: only T4 (NEVER) is tried again
    third = replay_quarantined(master_lake, landing_root=landing)
    assert (third.attempted, third.landed) == (1, 0)
    assert master_lake.scan("wms_transactions").collect().height == 2
    assert conserved(master_lake) == (6, 3, 3, 0)

    status = Lake(master_lake.root).quarantine()
    by_line = {(r["source_file"], r["source_line"]): r["status"] for r in status.iter_rows(named=True)}
    assert by_line == {("wms/receipts/2026-01-05.csv", 3): "landed",
                       ("wms/receipts/2026-01-05.csv", 4): "quarantined",
                       ("wms/receipts/2026-01-05.csv", 5): "waiting_for_master_data",
                       ("mes/events/2026-01-05.ndjson", 1): "landed",
                       ("mes/events/2026-01-05.ndjson", 2): "quarantined"}


def test_a_replay_that_died_after_landing_books_the_record_as_a_duplicate(master_lake: DeltaLake,
                                                                          landing: Path) -> None:
    write_wms(landing, "2026-01-05.csv", [wms_row("T2", material_code="COPPER")])
    Lander(master_lake, landing).land_all()
    add_material(master_lake)
    first = replay_quarantined(master_lake, landing_root=landing)
    assert first.landed == 1
    master_lake.overwrite("quarantine_replays", master_lake.read_arrow("quarantine_replays").slice(0, 0))  # lost
    second = replay_quarantined(master_lake, landing_root=landing)
    assert (second.landed, second.duplicate) == (0, 1)
    assert master_lake.scan("wms_transactions").collect().height == 1
    conserved(master_lake)


def test_a_record_whose_file_is_gone_stays_quarantined_and_says_why(master_lake: DeltaLake, landing: Path) -> None:
    path = write_wms(landing, "2026-01-05.csv", [wms_row("T2", material_code="COPPER")])
    Lander(master_lake, landing).land_all()
    path.unlink()
    add_material(master_lake)
    report = replay_quarantined(master_lake, landing_root=landing)
    assert (report.attempted, report.not_replayable, report.landed) == (1, 1, 0)
    reasons = master_lake.scan("quarantine_replays").collect()["reasons"].to_list()
    assert reasons == [["the original file is no longer in the landing folder with the same content"]]


def test_ingest_refuses_without_any_master_data(tmp_path: Path, landing: Path) -> None:
    write_wms(landing, "2026-01-05.csv", [wms_row("T1")])
    with pytest.raises(QueryError, match="no master data"):
        Lake(tmp_path / "empty_lake").ingest(landing)
    result = CliRunner().invoke(main, ["--lake", str(tmp_path / "empty_lake"), "ingest", "--source", str(landing)])
    assert result.exit_code == 1 and "no master data" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "empty_lake" / "bronze").exists()


def test_ingest_exits_4_when_this_run_quarantined_rows_and_0_when_clean(master_lake: DeltaLake,
                                                                        landing: Path) -> None:
    write_wms(landing, "2026-01-05.csv", [wms_row("T1"), wms_row("T2", quantity="-1")])
    dirty = CliRunner().invoke(main, ["--lake", str(master_lake.root), "ingest", "--source", str(landing)])
    assert dirty.exit_code == 4, dirty.output
    assert dirty.stdout.strip().splitlines()[-1] == "NOT CLEAN: 1 rows landed, 1 rows quarantined, 0 files rejected"
    write_wms(landing, "2026-01-06.csv", [wms_row("T3")])
    clean = CliRunner().invoke(main, ["--lake", str(master_lake.root), "ingest", "--source", str(landing)])
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.strip().splitlines()[-1] == "ok: 1 rows landed, 0 rows quarantined, 0 files rejected"
