"""B2MML messages of every published version land as the same rows as the equivalent NDJSON; XML attacks are refused.

The messages are the fixtures in tests/ingestion/b2mml/messages/<version>/ (each validates against the published
schema: test_b2mml_schemas.py); test_b2mml_messages.py covers envelopes, verbs, conservation and event ids.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from ingestion.b2mml import read_b2mml
from ingestion.landing import Lander
from lakehouse.delta_io import DeltaLake
from lakehouse.tables.lineage import LINEAGE_COLUMNS

MESSAGES = Path(__file__).parent / "b2mml" / "messages"
VERSIONS = ("V0401", "V0600", "V0700")
MES_TABLES = ["mes_work_order_events", "mes_operation_events", "mes_material_consumption", "mes_lot_events"]
MASTER_TABLES = ("map_material_code", "dim_location", "dim_machine", "dim_supplier", "dim_customer")


def business_rows(lake: DeltaLake) -> dict[str, list[tuple]]:
    """Each MES table's rows without lineage and without the event id (B2MML ids are digests of the content)."""
    rows = {}
    for table in MES_TABLES:
        frame = lake.scan(table).drop(*LINEAGE_COLUMNS, "event_id").collect()
        rows[table] = sorted(frame.rows(), key=str)
    return rows


def land_files(lake: DeltaLake, landing: Path, files: dict[Path, str]) -> list:
    for source, target in files.items():
        (landing / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, landing / target)
    return Lander(lake, landing).land_all()


def _event(event_type: str, occurred_at: str, **fields: object) -> dict[str, object]:
    return {"event_id": f"N-{event_type}-{occurred_at}-{fields.get('lot_code') or fields.get('consumed_lot_code')}"
                        f"-{fields.get('work_order_id')}-{fields.get('operation_seq')}",
            "event_type": event_type, "occurred_at": occurred_at, **fields}


# What the ProductionSchedule and ProductionPerformance fixtures report, as MES NDJSON events.
EQUIVALENT_EVENTS = [
    _event("work_order_released", "2026-01-05T05:30:00+00:00", work_order_id="WO-7", line_id=None,
           material_code="400100", planned_quantity=10, unit="EA", planned_start_at="2026-01-05T06:00:00.000001Z",
           due_at="2026-01-06T14:30:12.345678Z"),
    _event("work_order_released", "2026-01-05T05:30:00+00:00", work_order_id="WO-8", line_id=None,
           material_code="400100", planned_quantity=5, unit="EA"),
    _event("work_order_started", "2026-01-05T06:00:00+00:00", work_order_id="WO-7", line_id=None),
    _event("operation_started", "2026-01-05T06:00:00+00:00", work_order_id="WO-7", operation_seq=10,
           machine_id="L1-M1"),
    _event("operation_completed", "2026-01-05T07:00:00+00:00", work_order_id="WO-7", operation_seq=10,
           machine_id="L1-M1"),
    _event("material_consumed", "2026-01-05T06:00:00+00:00", work_order_id="WO-7", machine_id="L1-M1",
           material_code="100100", consumed_lot_code="LOT-1", quantity=8000, unit="G", location_code=None),
    _event("material_consumed", "2026-01-05T06:00:00+00:00", work_order_id="WO-7", machine_id="L1-M1",
           material_code="100100", consumed_lot_code="LOT-2", quantity=500, unit="G", location_code=None),
    _event("operation_started", "2026-01-05T07:05:00+00:00", work_order_id="WO-7", operation_seq=20,
           machine_id="L1-M1"),
    _event("operation_completed", "2026-01-05T08:30:00+00:00", work_order_id="WO-7", operation_seq=20,
           machine_id="L1-M1"),
    _event("lot_produced", "2026-01-05T08:30:00+00:00", work_order_id="WO-7", machine_id="L1-M1",
           material_code="400100", lot_code="LOT-FG-7", quantity=9, unit="EA", location_code=None),
    _event("lot_produced", "2026-01-05T08:30:00+00:00", work_order_id="WO-7", machine_id="L1-M1",
           material_code="400100", lot_code="LOT-FG-7B", quantity=1, unit="EA", location_code=None),
    _event("work_order_completed", "2026-01-05T08:30:00+00:00", work_order_id="WO-7", line_id=None,
           good_quantity=10, scrap_quantity=None, unit="EA"),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("enveloped", [False, True], ids=["bare", "verb envelope"])
def test_b2mml_lands_the_same_rows_as_the_equivalent_ndjson(master_lake: DeltaLake, landing: Path, tmp_path: Path,
                                                             version: str, enveloped: bool) -> None:
    schedule, performance = (("ProcessProductionSchedule", "SyncProductionPerformance") if enveloped
                             else ("ProductionSchedule", "ProductionPerformance"))
    xml_outcomes = land_files(master_lake, landing, {
        MESSAGES / version / f"{schedule}.xml": "mes/b2mml/2026-01-05/ProductionSchedule_WO-7.xml",
        MESSAGES / version / f"{performance}.xml": "mes/b2mml/2026-01-05/ProductionPerformance_WO-7.xml"})
    assert all(o.status == "landed" for o in xml_outcomes), xml_outcomes
    # quarantined: the planned consumption of the schedule (2) and the EquipmentActual's Quantity (1)
    assert [(o.rows_landed, o.rows_quarantined) for o in xml_outcomes] == [(10, 1), (2, 2)]

    ndjson_lake = DeltaLake(tmp_path / "ndjson_lake")
    for table in MASTER_TABLES:
        ndjson_lake.overwrite(table, master_lake.read_arrow(table))
    ndjson_file = tmp_path / "equivalent.ndjson"
    ndjson_file.write_text("\n".join(json.dumps(e) for e in EQUIVALENT_EVENTS) + "\n")
    [ndjson_outcome] = land_files(ndjson_lake, tmp_path / "ndjson_landing",
                                  {ndjson_file: "mes/events/2026-01-05.ndjson"})
    assert (ndjson_outcome.rows_landed, ndjson_outcome.rows_quarantined) == (len(EQUIVALENT_EVENTS), 0)

    from_xml, from_ndjson = business_rows(master_lake), business_rows(ndjson_lake)
    assert from_xml == from_ndjson
    assert len(from_xml["mes_operation_events"]) == 4
    consumed = master_lake.scan("mes_material_consumption").sort("consumed_lot_code").collect()
    # MaterialActual with MaterialUse Consumed (LOT-1) lands like MaterialConsumedActual (LOT-2)
    assert consumed.select("consumed_lot_code", "quantity").rows() == [("LOT-1", 8000.0), ("LOT-2", 500.0)]
    assert consumed["occurred_at"].dt.hour().to_list() == [6, 6]


@pytest.mark.parametrize("noun", ["ProductionSchedule", "ProductionPerformance", "MaterialInformation"])
def test_every_version_and_envelope_reads_to_identical_records(noun: str) -> None:
    verb = {"ProductionSchedule": "Process"}.get(noun, "Sync")
    parsed = [read_b2mml((MESSAGES / version / f"{name}.xml").read_bytes())
              for version in VERSIONS for name in (noun, f"{verb}{noun}")]
    assert all(p.file_error is None for p in parsed)
    first = parsed[0]
    for other in parsed[1:]:
        assert other.frame.equals(first.frame)
        assert [(r.record_seq, r.record_type) for r in other.rejections] == [
            (r.record_seq, r.record_type) for r in first.rejections]
    if noun == "ProductionPerformance":
        assert first.frame["_type"].to_list() == [
            "work_order_started", "operation_started", "operation_completed", "material_consumed",
            "material_consumed", "operation_started", "operation_completed", "lot_produced", "lot_produced",
            "work_order_completed"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&lol3;</ID></ProductionSchedule>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ProductionSchedule xmlns="http://www.wbf.org/xml/B2MML-V0401"><ID>&xxe;</ID></ProductionSchedule>"""


@pytest.mark.parametrize(("payload", "reason"), [
    (BILLION_LAUGHS, "refused by the hardened parser"),
    (EXTERNAL_ENTITY, "refused by the hardened parser"),
    (b"<ProductionSchedule xmlns='urn:other'><ID>x</ID></ProductionSchedule>", "not a B2MML message"),
    (b"<ProductionSchedule xmlns='http://www.mesa.org/xml/B2MML-V9999'><ID>x</ID></ProductionSchedule>",
     "not a B2MML message"),
    (b"<ProductionSchedule><ID>x</ID></ProductionSchedule>", "not a B2MML message"),
    (b"<ProductionSchedule xmlns='http://www.mesa.org/xml/B2MML'><ID>x", "malformed XML"),
])
def test_xml_attacks_and_garbage_are_rejected_with_a_logged_reason(master_lake: DeltaLake, landing: Path,
                                                                   payload: bytes, reason: str) -> None:
    target = landing / "mes" / "b2mml" / "2026-01-05" / "attack.xml"
    target.parent.mkdir(parents=True)
    target.write_bytes(payload)
    [outcome] = Lander(master_lake, landing).land_all()
    assert outcome.status == "rejected" and reason in (outcome.error or "")
    log = master_lake.scan("ingest_log").collect().row(0, named=True)
    assert log["status"] == "rejected" and reason in log["error"]
    assert not master_lake.exists("mes_work_order_events")


def test_schedule_start_and_end_time_land_as_planned_start_and_due_date(master_lake: DeltaLake,
                                                                          landing: Path) -> None:
    [outcome] = land_files(master_lake, landing, {
        MESSAGES / "V0700" / "ProductionSchedule.xml": "mes/b2mml/2026-01-05/ProductionSchedule.xml"})
    assert (outcome.rows_landed, outcome.rows_quarantined) == (2, 2)
    rows = master_lake.scan("mes_work_order_events").filter(pl.col("work_order_id") == "WO-7").collect()
    row = rows.row(0, named=True)
    assert (row["event_type"], row["planned_start_at"], row["due_at"], row["planned_quantity"]) == (
        "work_order_released", datetime(2026, 1, 5, 6, 0, 0, 1, tzinfo=timezone.utc),
        datetime(2026, 1, 6, 14, 30, 12, 345678, tzinfo=timezone.utc), 10.0)
