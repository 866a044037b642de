"""A file lands only when complete: one still being written is left for a later run (not landed, not logged),
then lands whole - never its truncated last row."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import polars as pl

from hostile_corpus import GOOD, event, wms_file
from ingestion.landing import Lander
from ingestion.sources import MES_NDJSON, WMS_CSV
from ingestion.readers import read_bytes
from lakehouse.delta_io import DeltaLake


def test_a_file_written_to_while_it_is_read_is_left_for_later(master_lake: DeltaLake, landing: Path) -> None:
    path = landing / "wms" / "receipts" / "2026-01-05.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(wms_file(GOOD)[:-20])  # the writer has not finished the row yet

    def read_while_the_writer_appends(target: Path) -> bytes:
        data = read_bytes(target)
        with open(path, "ab") as handle:
            handle.write(wms_file(GOOD)[-20:])
        return data

    source = dataclasses.replace(WMS_CSV, read=read_while_the_writer_appends)
    [outcome] = Lander(master_lake, landing).land_batch([path], source)
    assert outcome.status == "in_flight" and outcome.rows_landed == 0
    assert not master_lake.exists("wms_transactions") and not master_lake.exists("ingest_log")

    [outcome] = Lander(master_lake, landing).land_all([WMS_CSV])  # the complete file, next run
    assert (outcome.status, outcome.rows_read, outcome.rows_landed) == ("landed", 1, 1)
    assert master_lake.scan("wms_transactions").select("quantity").collect().item() == 10.0


def test_a_writer_appending_during_ingest_lands_every_row_once_complete(master_lake: DeltaLake,
                                                                        landing: Path) -> None:
    path = landing / "mes" / "events" / "2026-01-05.ndjson"
    path.parent.mkdir(parents=True)
    lines = [json.dumps(event(event_id=f"E{i}", occurred_at=f"2026-01-05T06:{i:02d}:00+00:00")) + "\n"
             for i in range(40)]
    path.write_text(lines[0][:25])  # half a line

    def write_slowly() -> None:
        with open(path, "a") as handle:
            handle.write(lines[0][25:])
            for line in lines[1:]:
                time.sleep(0.05)
                handle.write(line[:10])
                handle.flush()
                time.sleep(0.05)
                handle.write(line[10:])
                handle.flush()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    landed_while_writing = []
    while writer.is_alive():
        landed_while_writing += Lander(master_lake, landing, settle_seconds=1.0).land_all([MES_NDJSON])
        time.sleep(0.1)
    writer.join()
    assert landed_while_writing == []  # never read while it changed within the last second
    time.sleep(1.1)
    [outcome] = Lander(master_lake, landing, settle_seconds=1.0).land_all([MES_NDJSON])
    assert (outcome.status, outcome.rows_read, outcome.rows_landed, outcome.rows_quarantined) == \
        ("landed", 40, 40, 0)
    assert master_lake.scan("mes_equipment_states").select(pl.len()).collect().item() == 40
