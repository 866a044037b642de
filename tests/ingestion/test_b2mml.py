"""B2MML V0401 and V07 messages land as the same rows as the equivalent NDJSON; XML attacks are refused."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ingestion.b2mml import read_b2mml
from ingestion.landing import Lander
from lakehouse.delta_io import DeltaLake
from lakehouse.tables.lineage import LINEAGE_COLUMNS

SAMPLES = Path(__file__).parent / "samples"
MES_TABLES = ["mes_work_order_events", "mes_operation_events", "mes_material_consumption", "mes_lot_events"]


def business_rows(lake: DeltaLake) -> dict[str, list[tuple]]:
    rows = {}
    for table in MES_TABLES:
        frame = lake.scan(table).drop(LINEAGE_COLUMNS).collect()
        rows[table] = sorted(frame.rows(), key=str)
    return rows


def land_samples(lake: DeltaLake, landing: Path, files: dict[str, str]) -> list:
    for sample, target in files.items():
        (landing / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / sample, landing / target)
    return Lander(lake, landing).land_all()


@pytest.mark.parametrize("version", ["v0401", "v07"])
def test_b2mml_lands_the_same_rows_as_the_equivalent_ndjson(master_lake: DeltaLake, landing: Path,
                                                             tmp_path: Path, version: str) -> None:
    xml_outcomes = land_samples(master_lake, landing, {
        f"b2mml_{version}_production_schedule.xml": "mes/b2mml/2026-01-05/ProductionSchedule_WO-7.xml",
        f"b2mml_{version}_production_performance.xml": "mes/b2mml/2026-01-05/ProductionPerformance_WO-7.xml"})
    assert all(o.status == "landed" and o.rows_quarantined == 0 for o in xml_outcomes), xml_outcomes

    ndjson_lake = DeltaLake(tmp_path / "ndjson_lake")
    for table in ("map_material_code", "dim_location", "dim_machine", "dim_supplier", "dim_customer"):
        ndjson_lake.overwrite(table, master_lake.read_arrow(table))
    ndjson_landing = tmp_path / "ndjson_landing"
    [ndjson_outcome] = land_samples(ndjson_lake, ndjson_landing,
                                    {"equivalent_events.ndjson": "mes/events/2026-01-05.ndjson"})
    assert ndjson_outcome.rows_landed == 9

    from_xml, from_ndjson = business_rows(master_lake), business_rows(ndjson_lake)
    assert from_xml == from_ndjson
    assert len(from_xml["mes_operation_events"]) == 4
    consumed = master_lake.scan("mes_material_consumption").collect().row(0, named=True)
    assert (consumed["consumed_lot_code"], consumed["quantity"], consumed["occurred_at"].hour) == ("LOT-1", 8500.0, 6)


def test_both_namespaces_read_to_identical_records() -> None:
    v0401 = read_b2mml((SAMPLES / "b2mml_v0401_production_performance.xml").read_bytes())
    v07 = read_b2mml((SAMPLES / "b2mml_v07_production_performance.xml").read_bytes())
    assert v0401.frame.equals(v07.frame)
    assert v07.frame["_type"].to_list() == [
        "work_order_started", "operation_started", "operation_completed", "material_consumed",
        "operation_started", "operation_completed", "lot_produced", "work_order_completed"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&lol3;</ID></ProductionSchedule>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&xxe;</ID></ProductionSchedule>"""


@pytest.mark.parametrize(("payload", "reason"), [
    (BILLION_LAUGHS, "refused by the hardened parser"),
    (EXTERNAL_ENTITY, "refused by the hardened parser"),
    (b"<ProductionSchedule xmlns='urn:other'><ID>x</ID></ProductionSchedule>", "not a B2MML message"),
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
    sample = (SAMPLES / "b2mml_v07_production_schedule.xml").read_text()
    dated = sample.replace("<ID>WO-7</ID>", "<ID>WO-7</ID><StartTime>2026-01-05T07:00:00.000001+01:00</StartTime>"
                                            "<EndTime>2026-01-06T15:30:12.345678+01:00</EndTime>")
    target = landing / "mes" / "b2mml" / "2026-01-05" / "ProductionSchedule_WO-7.xml"
    target.parent.mkdir(parents=True)
    target.write_text(dated)
    [outcome] = Lander(master_lake, landing).land_all()
    assert (outcome.rows_landed, outcome.rows_quarantined) == (1, 0)
    row = master_lake.read_arrow("mes_work_order_events").to_pylist()[0]
    assert (row["event_type"], row["planned_start_at"], row["due_at"]) == (
        "work_order_released", datetime(2026, 1, 5, 6, 0, 0, 1, tzinfo=timezone.utc),
        datetime(2026, 1, 6, 14, 30, 12, 345678, tzinfo=timezone.utc))
