"""Two ingests on one lake at the same moment, five times: each either lands or stops with "lake is busy" and
lands on retry; no key is duplicated, no row lost, and the log agrees with the tables."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hostile_corpus import event, mes_file, wms_file, wms_line
from ingestion.log_check import ingest_log_disagreements
from lakehouse.delta_io import DeltaLake
from lakehouse.lake_lock import LakeBusyError
from plantlake.lake import Lake

REPETITIONS = 5


def deliver(landing: Path, repetition: int) -> None:
    wms = landing / "wms" / "receipts" / f"{repetition}.csv"
    wms.parent.mkdir(parents=True, exist_ok=True)
    wms.write_bytes(wms_file(*(wms_line(transaction_id=f"R{repetition}-T{i}") for i in range(20))))
    mes = landing / "mes" / "events" / f"{repetition}.ndjson"
    mes.parent.mkdir(parents=True, exist_ok=True)
    mes.write_bytes(mes_file(*(event(event_id=f"R{repetition}-E{i}") for i in range(20))))


def ingest_racing(lake: Lake, landing: Path, start: threading.Barrier, outcomes: list[str]) -> None:
    start.wait()
    try:
        lake.ingest(landing)
        outcomes.append("landed")
    except LakeBusyError as error:
        assert str(error).startswith("lake is busy: ingest (pid ")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # retry once the other writer has finished
            time.sleep(0.2)
            try:
                lake.ingest(landing)
            except LakeBusyError:
                continue
            outcomes.append("busy, then landed on retry")
            return


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_two_ingests_at_once(repetition: int, master_lake: DeltaLake, landing: Path) -> None:
    lake = Lake(master_lake.root)
    deliver(landing, repetition)
    outcomes: list[str] = []
    start = threading.Barrier(2)
    racers = [threading.Thread(target=ingest_racing, args=(lake, landing, start, outcomes)) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=300)
    assert len(outcomes) == 2 and all(o.endswith("landed") or o.endswith("retry") for o in outcomes), outcomes
    for table, keys, expected in (("wms_transactions", ["transaction_id"], 20),
                                  ("mes_equipment_states", ["event_id"], 20)):
        frame = master_lake.scan(table).select(keys).collect()
        assert frame.height == expected and frame.unique().height == expected  # nothing lost, nothing doubled
    assert ingest_log_disagreements(master_lake).is_empty()
