"""B2MML envelopes, verbs and element variants; every quantity lands or is quarantined; event ids.

Fixtures: tests/ingestion/b2mml/messages/<version>/<noun>.xml (bare) and <Verb><noun>.xml (verb envelope), one per
supported message and version, each valid against the published schema (test_b2mml_schemas.py).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import defusedxml.ElementTree as SafeET
import polars as pl
import pytest
from landing_files import write_master_data
from test_b2mml_schemas import errors

from ingestion.b2mml import read_b2mml
from ingestion.b2mml_model import FACT_VERBS
from ingestion.landing import Lander
from ingestion.records import ParsedFile
from lakehouse.delta_io import DeltaLake

MESSAGES = Path(__file__).parent / "b2mml" / "messages"
VERSIONS = ("V0401", "V0600", "V0700")
V07 = "http://www.mesa.org/xml/B2MML"
KINDS = {"ProductionSchedule": "Process", "ProductionPerformance": "Sync", "MaterialInformation": "Sync"}
# (table, quantity column) of every record that carries a message's Quantity; good_quantity is derived, not counted
QUANTITY_COLUMNS = [("mes_work_order_events", "planned_quantity"), ("mes_material_consumption", "quantity"),
                    ("mes_lot_events", "quantity"), ("mes_material_lots", "quantity")]


def fixture(version: str, name: str) -> str:
    return (MESSAGES / version / f"{name}.xml").read_text()


def parse(xml: str | bytes) -> ParsedFile:
    parsed = read_b2mml(xml.encode() if isinstance(xml, str) else xml)
    assert parsed.file_error is None, parsed.file_error
    return parsed


def land(lake: DeltaLake, landing: Path, files: dict[str, str | bytes], day: str = "2026-01-05") -> list:
    """Write the files and run a landing; the outcomes of these files (files landed before are still there)."""
    for name, content in files.items():
        target = landing / "mes" / "b2mml" / day / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return [o for o in Lander(lake, landing).land_all() if o.source_file.startswith(f"mes/b2mml/{day}/")
            and Path(o.source_file).name in files]


def message_quantities(xml: str | bytes) -> Decimal:
    root = SafeET.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return sum((Decimal(e.text.strip()) for e in root.iter() if isinstance(e.tag, str)
                and e.tag.endswith("}QuantityString") and e.text and e.text.strip()), Decimal(0))


def raw_quantities(raw: str) -> Decimal:
    return sum((Decimal(q) for q in json.loads(raw)["quantities"] if q), Decimal(0))


def parsed_quantities(parsed: ParsedFile) -> tuple[Decimal, Decimal]:
    """(quantities of the records, quantities of the rejections) as the reader accounts for them."""
    records = sum((raw_quantities(parsed.raw(0, seq)) for seq in parsed.frame["_seq"].to_list()), Decimal(0))
    return records, sum((raw_quantities(r.raw) for r in parsed.rejections), Decimal(0))


def bronze_quantities(lake: DeltaLake, source_file: str) -> Decimal:
    total = Decimal(0)
    for table, column in QUANTITY_COLUMNS:
        if lake.exists(table):
            values = lake.scan(table).filter(pl.col("source_file") == source_file).select(column).collect()
            total += sum((Decimal(repr(v)) for v in values[column].to_list() if v is not None), Decimal(0))
    return total


def quarantined_quantities(lake: DeltaLake, source_file: str) -> Decimal:
    if not lake.exists("quarantine_mes_events"):
        return Decimal(0)
    rows = lake.scan("quarantine_mes_events").filter(pl.col("source_file") == source_file).collect()
    return sum((raw_quantities(raw) for raw in rows["raw_payload"].to_list()), Decimal(0))


def envelope(verb: str, noun: str, body: str, namespace: str = V07, verb_xml: str | None = None,
             bod: str = "BOD-1", created: str = "2026-01-05T10:00:00+01:00") -> str:
    return (f'<{verb}{noun} xmlns="{namespace}" releaseID="1"><ApplicationArea>'
            f"<CreationDateTime>{created}</CreationDateTime><BODID>{bod}</BODID></ApplicationArea>"
            f"<DataArea>{verb_xml or f'<{verb}/>'}{body}</DataArea></{verb}{noun}>")


def noun_xml(xml: str) -> str:
    """The noun of a bare fixture without its XML declaration and namespace (to wrap it in an envelope)."""
    return re.sub(r' xmlns="[^"]+"', "", xml.split("?>", 1)[1].strip(), count=1)


# ---- every quantity lands or is quarantined -----------------------------------------------------------------------
EXPECTED = {  # noun -> (quantities landed in bronze, quantities quarantined)
    "ProductionSchedule": (Decimal(15), Decimal(12750)),  # released 10 + 5; planned consumption 8500 + 4250
    "ProductionPerformance": (Decimal(8510), Decimal(1)),  # consumed 8000 + 500, produced 9 + 1; EquipmentActual 1
    "MaterialInformation": (Decimal(18), Decimal(1)),  # lot 9, sublots 6 + 3; sublot without its lot's material 1
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("enveloped", [False, True], ids=["bare", "verb envelope"])
def test_every_quantity_in_a_message_lands_or_is_quarantined(tmp_path: Path, version: str, enveloped: bool) -> None:
    lake = write_master_data(DeltaLake(tmp_path / "lake"))
    files = {f"{noun}.xml": fixture(version, f"{verb}{noun}" if enveloped else noun) for noun, verb in KINDS.items()}
    outcomes = {Path(o.source_file).stem: o for o in land(lake, tmp_path / "landing", files)}
    for noun, xml in ((Path(name).stem, xml) for name, xml in files.items()):
        outcome = outcomes[noun]
        assert outcome.status == "landed" and outcome.conserved and outcome.rows_duplicate == 0, outcome
        landed = bronze_quantities(lake, outcome.source_file)
        quarantined = quarantined_quantities(lake, outcome.source_file)
        assert landed + quarantined == message_quantities(xml), noun
        assert (landed, quarantined) == EXPECTED[noun], noun


@pytest.mark.parametrize("case", ["unsupported elements", "vendor extension", "extra quantity", "sample",
                                  "several lots", "forecast", "assembly"])
def test_unsupported_elements_are_quarantined_with_a_reason_and_their_quantities(case: str) -> None:
    performance, schedule = fixture("V0700", "ProductionPerformance"), fixture("V0700", "ProductionSchedule")
    quantity = "<Quantity><QuantityString>{}</QuantityString><UnitOfMeasure>{}</UnitOfMeasure></Quantity>"
    xml, expected = {
        "unsupported elements": (performance.replace(
            "<EquipmentActual>", "<PersonnelActual><PersonID>P-1</PersonID>" + quantity.format(7.5, "HUR")
            + "</PersonnelActual><EquipmentActual>", 1).replace(
            "</ActualEndTime>", "</ActualEndTime><ProductionData><ID>temp</ID></ProductionData>", 1),
            ["unsupported B2MML element 'ProductionData'", "unsupported B2MML element 'PersonnelActual'",
             "unsupported B2MML element 'Quantity'"]),
        "vendor extension": (performance.replace(
            "<MaterialUse>Consumed</MaterialUse>",
            '<MaterialUse>Consumed</MaterialUse><v:Scale xmlns:v="urn:vendor">S-4</v:Scale>'),
            ["unsupported B2MML element '{urn:vendor}Scale'", "unsupported B2MML element 'Quantity'"]),
        "extra quantity": (performance.replace(
            "<MaterialUse>Consumed</MaterialUse>", "<MaterialUse>Consumed</MaterialUse>" + quantity.format(8, "KG")),
            ["additional Quantity 8000 G of MaterialActual", "unsupported B2MML element 'Quantity'"]),
        "sample": (performance.replace("<MaterialUse>Consumed</MaterialUse>", "<MaterialUse>Sample</MaterialUse>"),
                   ["MaterialActual with MaterialUse 'Sample'", "unsupported B2MML element 'Quantity'"]),
        "several lots": (performance.replace("<MaterialLotID>LOT-1</MaterialLotID>", "<MaterialLotID>LOT-1"
                                             "</MaterialLotID><MaterialLotID>LOT-9</MaterialLotID>"),
                         ["names 1 materials and 2 lots for one quantity", "unsupported B2MML element 'Quantity'"]),
        "forecast": (schedule.replace("<ID>WO-8</ID>", "<ID>WO-8</ID><RequestState>Forecast</RequestState>"),
                     ["planned Consumed requirement of 100100 (8500 G)",
                      "ProductionRequest WO-8 is a forecast, not a release"]),
        "assembly": (re.sub(r"(<QuantityString>10</QuantityString>.*?</Quantity>)",
                            lambda m: m.group(1) + "<AssemblyRequirement><MaterialDefinitionID>500500"
                            "</MaterialDefinitionID>" + quantity.format(2, "EA") + "</AssemblyRequirement>",
                            schedule, count=1, flags=re.S),
                     ["planned Consumed requirement of 100100 (8500 G)", "unsupported B2MML element "
                      "'AssemblyRequirement'", "planned Consumed requirement of 100100 (4250 G)"]),
    }[case]
    assert xml not in (performance, schedule)
    parsed = parse(xml)
    reasons = [r.reason for r in parsed.rejections]
    assert len(reasons) == len(expected)
    for reason, part in zip(reasons, expected, strict=True):
        assert part in reason, (part, reason)
    for reason in reasons:
        if reason.startswith("unsupported B2MML element"):
            assert "supported in " in reason  # lists what is supported where it was found
    records, rejected = parsed_quantities(parsed)
    assert records + rejected == message_quantities(xml)


# ---- envelopes and verbs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("verb", FACT_VERBS)
@pytest.mark.parametrize("noun", list(KINDS))
def test_every_reporting_verb_reads_its_nouns(verb: str, noun: str) -> None:
    bare = parse(fixture("V0401", noun))
    body = noun_xml(fixture("V0401", noun))
    wrapped = parse(envelope(verb, noun, body, "http://www.wbf.org/xml/B2MML-V0401"))
    assert wrapped.frame.equals(bare.frame)
    two = parse(envelope(verb, noun, body + body.replace("PS-2026-01-05", "PS-2").replace("PP-WO-7", "PP-2")
                         .replace("MI-WO-7", "MI-2"), "http://www.wbf.org/xml/B2MML-V0401"))
    assert two.frame.height == 2 * bare.frame.height  # a DataArea may hold several nouns


@pytest.mark.parametrize(("xml", "reason"), [
    (envelope("Get", "ProductionPerformance", "<ProductionPerformance><ID>PP-1</ID></ProductionPerformance>"),
     "Get is a request for data"),
    (envelope("Cancel", "ProductionSchedule", "<ProductionSchedule><ID>PS-1</ID></ProductionSchedule>"),
     "Cancel withdraws an earlier message"),
    (envelope("Sync", "MaterialInformation", "<MaterialInformation><ID>MI-1</ID></MaterialInformation>",
              verb_xml='<Sync><ActionCriteria><ActionExpression actionCode="Delete"/></ActionCriteria></Sync>'),
     "actionCode Delete asks to delete"),
    (envelope("Acknowledge", "ProductionSchedule", "<ProductionSchedule><ID>PS-1</ID></ProductionSchedule>",
              verb_xml='<Acknowledge><ResponseCriteria><ResponseExpression actionCode="Rejected"/>'
                       "</ResponseCriteria></Acknowledge>"), "actionCode Rejected"),
    (f'<SyncProductionPerformance xmlns="{V07}" releaseID="1"><DataArea><Sync/></DataArea>'
     "</SyncProductionPerformance>", "needs an ApplicationArea and a DataArea"),
    (envelope("Sync", "ProductionPerformance", ""), "DataArea holds no ProductionPerformance"),
    (envelope("Sync", "EquipmentInformation", "<EquipmentInformation/>"), "unsupported B2MML message"),
    (f'<OperationsSchedule xmlns="{V07}"><ID>OS-1</ID></OperationsSchedule>', "unsupported B2MML message"),
    (f'<ProductionResponse xmlns="{V07}"><ID>WO-1</ID></ProductionResponse>', "unsupported B2MML message"),
])
def test_messages_that_report_no_facts_are_rejected_naming_why(xml: str, reason: str) -> None:
    parsed = read_b2mml(xml.encode())
    assert parsed.file_error is not None and reason in parsed.file_error
    if "unsupported B2MML message" in reason:
        assert "supported: ProductionSchedule, ProductionPerformance, MaterialInformation" in parsed.file_error
    if reason.startswith(("Get", "Cancel")):
        assert "read verbs: ['Process', 'Sync'" in parsed.file_error


@pytest.mark.parametrize("namespace", ["http://www.mesa.org/xml/B2MML-V0500", "http://www.mesa.org/xml/B2MML-V0601",
                                       "http://www.mesa.org/xml/B2MML-V0401"])
def test_other_published_namespaces_and_the_legacy_one_read_the_same(namespace: str) -> None:
    xml = fixture("V0600", "SyncProductionPerformance").replace("http://www.mesa.org/xml/B2MML-V0600", namespace)
    parsed = parse(xml)
    assert parsed.frame.equals(parse(fixture("V0600", "ProductionPerformance")).frame)
    assert json.loads(parsed.raw(0, 0))["b2mml"] == {"http://www.mesa.org/xml/B2MML-V0500": "V0500",
                                                     "http://www.mesa.org/xml/B2MML-V0601": "V0601"}.get(
        namespace, "V0401 (legacy plantlake namespace)")


# ---- material lots, sublots, definitions --------------------------------------------------------------------------
def test_sublot_quantities_and_statuses_land(master_lake: DeltaLake, landing: Path) -> None:
    land(master_lake, landing, {"MaterialInformation.xml": fixture("V0401", "MaterialInformation")})
    lots = master_lake.scan("mes_material_lots").sort("lot_code").collect()
    assert lots.select("lot_code", "material_code", "lot_status", "quantity", "unit").rows() == [
        ("LOT-FG-7", "400100", "released", 9.0, "EA"), ("LOT-FG-7-A", "400100", "released", 6.0, "EA"),
        ("LOT-FG-7-B", "400100", "blocked", 3.0, "EA")]
    quarantine = master_lake.scan("quarantine_mes_events").sort("record_seq").collect()
    reasons = [r[0] for r in quarantine["reasons"].to_list()]
    assert reasons[0] == "MaterialDefinition 400200: material definitions are proposals; confirm them in master data"
    assert "MaterialLotProperty 'leak-test' = 0.4 mbar" in reasons[1] and "no bronze column" in reasons[1]
    assert reasons[2] == "material_code is present"  # LOT-FG-7B-1: its lot is not in the message
    assert json.loads(quarantine["raw_payload"][2])["record"]["lot_code"] == "LOT-FG-7B-1"


@pytest.mark.parametrize("noun", ["MaterialDefinition", "MaterialClass"])
def test_definitions_and_classes_are_quarantined_as_proposals(master_lake: DeltaLake, landing: Path,
                                                              noun: str) -> None:
    body = f"<{noun}><ID>400200</ID><Description>Pump, blue housing</Description></{noun}>"
    [sync, bare] = land(master_lake, landing, {
        "a.xml": envelope("Sync", noun, body),
        "b.xml": body.replace(f"<{noun}>", f'<{noun} xmlns="{V07}">', 1)})
    assert [(o.status, o.rows_read, o.rows_quarantined) for o in (sync, bare)] == [("landed", 1, 1)] * 2
    reasons = master_lake.scan("quarantine_mes_events").collect()["reasons"].to_list()
    kind = "material definitions" if noun == "MaterialDefinition" else "material classes"
    assert reasons == [[f"{noun} 400200: {kind} are proposals; confirm them in master data"]] * 2


def test_a_lot_sent_on_its_own_takes_the_envelopes_time(master_lake: DeltaLake, landing: Path) -> None:
    lot = ("<MaterialLot><ID>LOT-9</ID><MaterialDefinitionID>100100</MaterialDefinitionID><Status>blocked</Status>"
           "<Quantity><QuantityString>250</QuantityString><DataType>decimal</DataType>"
           "<UnitOfMeasure>G</UnitOfMeasure></Quantity></MaterialLot>")
    sync = envelope("Sync", "MaterialLot", lot, verb_xml="<Sync/>")
    assert errors(sync, "V0700") == []
    [bare_outcome, sync_outcome] = land(master_lake, landing, {
        "a.xml": lot.replace("<MaterialLot>", f'<MaterialLot xmlns="{V07}">', 1), "b.xml": sync})
    assert (sync_outcome.rows_landed, bare_outcome.rows_quarantined) == (1, 1)  # a bare lot has no time
    row = master_lake.scan("mes_material_lots").collect().row(0, named=True)
    assert (row["lot_code"], row["lot_status"], row["quantity"], row["occurred_at"].hour) == ("LOT-9", "blocked",
                                                                                             250.0, 9)


# ---- event ids ----------------------------------------------------------------------------------------------------
def material_ids(lake: DeltaLake) -> list[str]:
    return lake.scan("mes_material_lots").select("event_id").collect()["event_id"].to_list()


def test_a_redelivered_message_is_a_duplicate(master_lake: DeltaLake, landing: Path) -> None:
    bare = fixture("V0700", "MaterialInformation")
    first = land(master_lake, landing, {"MaterialInformation_1.xml": bare})
    assert first[0].rows_landed == 3
    # the same bytes under another name, and the same message ID and content in a verb envelope, reformatted
    again = land(master_lake, landing, {"MaterialInformation_copy.xml": bare,
                                        "MaterialInformation_sync.xml": fixture("V0700", "SyncMaterialInformation")
                                        .replace("  ", "    ")})
    by_name = {Path(o.source_file).name: o for o in again}
    assert by_name["MaterialInformation_copy.xml"].status == "duplicate_file"
    resent = by_name["MaterialInformation_sync.xml"]
    assert (resent.status, resent.rows_landed, resent.rows_duplicate) == ("landed", 0, 3)
    assert len(material_ids(master_lake)) == 3


@pytest.mark.parametrize("change", ["later the same day", "same time, new status", "next day"])
def test_a_later_status_of_the_same_lot_is_a_new_event(master_lake: DeltaLake, landing: Path, change: str) -> None:
    first = fixture("V0700", "MaterialInformation")
    later = first.replace("<Status>released</Status>", "<Status>consumed</Status>", 1)  # same message ID
    if change == "later the same day":
        later = later.replace("2026-01-05T09:35:00+01:00", "2026-01-05T11:35:00+01:00")
    elif change == "next day":
        later = later.replace("2026-01-05T09:35:00+01:00", "2026-01-06T09:35:00+01:00")
    land(master_lake, landing, {"MaterialInformation_1.xml": first})
    [outcome] = land(master_lake, landing, {"MaterialInformation_2.xml": later},
                     day="2026-01-06" if change == "next day" else "2026-01-05")
    # a new PublishedDate is a new report of every lot in the message; at the same time only LOT-FG-7 changed
    expected = (1, 2) if change == "same time, new status" else (3, 0)
    assert (outcome.rows_landed, outcome.rows_duplicate) == expected
    lots = master_lake.scan("mes_material_lots").filter(pl.col("lot_code") == "LOT-FG-7").collect()
    assert sorted(lots["lot_status"].to_list()) == ["consumed", "released"]
    ids = material_ids(master_lake)
    assert len(ids) == len(set(ids)) == 3 + expected[0]  # one event id is never landed twice, on any day


def test_repeated_facts_land_once_and_identical_elements_of_one_message_twice(master_lake: DeltaLake,
                                                                               landing: Path) -> None:
    completion = fixture("V0700", "ProductionPerformance")
    start = re.sub(r"<SegmentResponse>\s*<ID>WO-7-20</ID>.*?</SegmentResponse>", "",
                   completion.replace("<ID>PP-WO-7</ID>", "<ID>PP-WO-7-START</ID>"), flags=re.S)
    start = re.sub(r"<EndTime>[^<]*</EndTime>|<ActualEndTime>[^<]*</ActualEndTime>", "", start)
    assert errors(start, "V0700") == []
    [start_outcome] = land(master_lake, landing, {"ProductionPerformance_WO-7_start.xml": start})
    assert start_outcome.rows_landed == 4  # work order and operation started, two lots consumed
    [done] = land(master_lake, landing, {"ProductionPerformance_WO-7.xml": completion})
    assert (done.rows_landed, done.rows_duplicate) == (6, 4)  # the start message's facts are not landed again
    twice = completion.replace("<ID>PP-WO-7</ID>", "<ID>PP-WO-7-B</ID>").replace(
        "<MaterialConsumedActual>", "<MaterialConsumedActual><MaterialDefinitionID>100100</MaterialDefinitionID>"
        "<MaterialLotID>LOT-2</MaterialLotID><Quantity><QuantityString>500</QuantityString>"
        "<DataType>decimal</DataType><UnitOfMeasure>G</UnitOfMeasure></Quantity></MaterialConsumedActual>"
        "<MaterialConsumedActual>", 1)
    assert parse(twice).frame.filter(pl.col("consumed_lot_code") == "LOT-2")["event_id"].n_unique() == 2
    [again] = land(master_lake, landing, {"ProductionPerformance_WO-7_b.xml": twice})
    assert again.rows_landed == 1  # the second identical 500 G of LOT-2 in that message is a second consumption
    consumed = master_lake.scan("mes_material_consumption").collect()
    assert sorted(consumed["quantity"].to_list()) == [500.0, 500.0, 8000.0]
    assert consumed["event_id"].n_unique() == consumed.height


def test_files_in_the_legacy_simulator_namespace_still_land(master_lake: DeltaLake, landing: Path) -> None:
    samples = Path(__file__).parent / "samples"  # V0401 in http://www.mesa.org/xml/B2MML-V0401, and V07
    copies = {f"{p.stem}.xml": p.read_bytes() for p in sorted(samples.glob("b2mml_*.xml"))}
    outcomes = land(master_lake, landing, copies)
    assert all(o.status == "landed" and o.rows_quarantined == 0 for o in outcomes), outcomes
    assert master_lake.row_count("mes_operation_events") == 4
