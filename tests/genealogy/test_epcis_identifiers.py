"""EPCIS 2.0 export on a hand-made genealogy: GS1 check digits and identifiers, validity against GS1's official
EPCIS 2.0 JSON schema (tests/genealogy/epcis/, no network), the round trip back to edges, and the clear errors."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pytest

from simulator import FaultRates, PlantConfig
from simulator.master_data import GTIN_COMPANY_PREFIX, build_master_data, material_gtin
from simulator.master_data import gs1_check_digit as simulator_check_digit
from transforms.genealogy.epcis import EpcisExportError, EpcisOptions, edges_from_epcis, epcis_document
from transforms.genealogy.epcis_ids import (DEMO_SITE_GLN, EpcisIdentifierError, gs1_check_digit,
                                            has_valid_check_digit, location_uri, lot_class_uri, normalize_gtin,
                                            parse_location_uri, parse_lot_class_uri, with_check_digit)

SCHEMA = Path(__file__).parent / "epcis" / "EPCIS-JSON-Schema.json"
UTC = timezone.utc
CREATED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
KEY = ["parent_node_id", "child_node_id", "edge_type"]


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Every violation of GS1's EPCIS 2.0 JSON schema, formats (uri, date-time) checked too."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()),
                                           format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(document)]


# ---- GS1 keys ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["4006381333931", "9780306406157", "09506000134352", "036000291452",
                                 "96385074", "09524321010018"])
def test_the_check_digit_of_known_gs1_keys(key: str) -> None:
    assert gs1_check_digit(key[:-1]) == int(key[-1]) == simulator_check_digit(key[:-1])
    assert has_valid_check_digit(key) and normalize_gtin(key) == key.zfill(14)


def test_simulator_and_export_compute_the_same_check_digit_and_catch_every_single_digit_error() -> None:
    draw = random.Random(7)
    for _ in range(300):
        body = "".join(draw.choice("0123456789") for _ in range(draw.choice([7, 11, 12, 13])))
        assert gs1_check_digit(body) == simulator_check_digit(body)
        key = with_check_digit(body)
        position = draw.randrange(len(key))
        wrong = key[:position] + str((int(key[position]) + draw.randint(1, 9)) % 10) + key[position + 1:]
        assert has_valid_check_digit(key) and not has_valid_check_digit(wrong)


def test_simulated_materials_carry_valid_unique_gtins_under_the_demo_prefix() -> None:
    master = build_master_data(PlantConfig(days=1, lines=1, machines_per_line=2, seed=3,
                                           fault_rates=FaultRates.none()))
    gtins = {row["material_id"]: row["gtin"] for row in master.tables["materials"]}
    assert len(set(gtins.values())) == len(gtins) == 14
    for material, gtin in gtins.items():
        assert isinstance(gtin, str) and len(gtin) == 14 and has_valid_check_digit(gtin), material
        assert gtin[1:].startswith(GTIN_COMPANY_PREFIX) and gtin == material_gtin(material)
    assert gtins["RM-1001"] == "09524321010018"


@pytest.mark.parametrize("bad", ["09524321010019", "1234567890123", "95243210100A8", "", None])
def test_a_gtin_with_a_wrong_check_digit_or_form_is_refused(bad: object) -> None:
    with pytest.raises(EpcisIdentifierError, match="GTIN"):
        normalize_gtin(bad)


def test_lot_identifiers_are_digital_link_or_lgtin_and_read_back() -> None:
    gtin = "09524321010018"
    assert lot_class_uri(gtin, "LOT-0000001") == "https://id.gs1.org/01/09524321010018/10/LOT-0000001"
    assert lot_class_uri(gtin, "LOT-0000001", "epc", 7) == "urn:epc:class:lgtin:9524321.001001.LOT-0000001"
    for lot in ("LOT-0000001", "A/B%1&x", "x<y>?z", "ok.lot_1"):
        for id_format in ("digital_link", "epc"):
            assert parse_lot_class_uri(lot_class_uri(gtin, lot, id_format, 7)) == (gtin, lot)  # type: ignore[arg-type]
    assert parse_lot_class_uri("https://resolver.example.com/gs1/01/9524321010018/10/L1") == (gtin, "L1")
    for bad in ("LOT#1", "L" * 21, "lot with space", ""):
        with pytest.raises(EpcisIdentifierError, match="lot number"):
            lot_class_uri(gtin, bad)


def test_locations_are_the_site_gln_with_the_location_as_extension() -> None:
    assert has_valid_check_digit(DEMO_SITE_GLN) and DEMO_SITE_GLN.startswith("952")
    dl = location_uri(DEMO_SITE_GLN, "DOCK-RCV")
    assert dl == f"https://id.gs1.org/414/{DEMO_SITE_GLN}/254/DOCK-RCV"
    sgln = location_uri(DEMO_SITE_GLN, "DOCK-RCV", "epc", 7)
    assert sgln == "urn:epc:id:sgln:9524321.00001.DOCK-RCV"
    assert parse_location_uri(dl) == parse_location_uri(sgln) == (DEMO_SITE_GLN, "DOCK-RCV")
    assert parse_location_uri(location_uri(DEMO_SITE_GLN, None, "epc", 7)) == (DEMO_SITE_GLN, None)


# ---- a hand-made plant ------------------------------------------------------------------------------------------
# Supplier lots SA1, SA2 (material RM-A, kg) and SB1 (RM-B, boxes) are received as, B-1; work order WO-1
# consumes all three and produces P-1 (60 EA) and P-2 (40 EA), each input allocated 60:40; P-1 is split into S-1
# and S-2; S-1 and P-2 are merged into M-1; M-1 and S-2 leave on shipment SH-1 to CUS-01.
MATERIALS = pl.DataFrame({"material_id": ["RM-A", "RM-B", "FG-P"], "material_type": ["raw", "raw", "finished"],
                          "gtin": [with_check_digit("0952432100001"), with_check_digit("0952432100002"),
                                   with_check_digit("0952432100003")]})
PRODUCED = pl.DataFrame({"lot_code": ["P-1", "P-2"], "material_code": ["FG-P", "FG-P"], "quantity": [60.0, 40.0],
                         "unit": ["EA", "EA"]})
PLANT = [  # parent, child, edge type, material, quantity, unit, hour, work order / supplier / customer
    ("SUP:SA1", "A-1", "receipt", "RM-A", 20.0, "KG", 1, "SUP-01"),
    ("SUP:SA2", "A-2", "receipt", "RM-A", 60.0, "KG", 1, "SUP-01"),
    ("SUP:SB1", "B-1", "receipt", "RM-B", 2.0, "BOX", 1, "SUP-02"),
    ("A-1", "P-1", "consumption", "RM-A", 12000.0, "G", 2, "WO-1"),
    ("A-2", "P-1", "consumption", "RM-A", 36000.0, "G", 2, "WO-1"),
    ("B-1", "P-1", "consumption", "RM-B", 6.0, "EA", 2, "WO-1"),
    ("A-1", "P-2", "consumption", "RM-A", 8000.0, "G", 2, "WO-1"),
    ("A-2", "P-2", "consumption", "RM-A", 24000.0, "G", 2, "WO-1"),
    ("B-1", "P-2", "consumption", "RM-B", 4.0, "EA", 2, "WO-1"),
    ("P-1", "S-1", "split", "FG-P", 36.0, "EA", 3, None),
    ("P-1", "S-2", "split", "FG-P", 24.0, "EA", 3, None),
    ("S-1", "M-1", "merge", "FG-P", 36.0, "EA", 4, None),
    ("P-2", "M-1", "merge", "FG-P", 40.0, "EA", 4, None),
    ("M-1", "SHP:SH-1", "shipment", "FG-P", 76.0, "PCE", 200, "CUS-01"),
    ("S-2", "SHP:SH-1", "shipment", "FG-P", 24.0, "PCE", 200, "CUS-01"),
]


def plant_edges(rows: list[tuple[Any, ...]] = PLANT) -> pl.DataFrame:
    start = datetime(2026, 1, 5, 6, 30, 15, 250000, tzinfo=UTC)
    records = []
    for i, (parent, child, edge_type, material, quantity, unit, hour, party) in enumerate(rows):
        event = {"split": "E-SPLIT", "merge": "E-MERGE"}.get(edge_type, f"E{i}")
        records.append({
            "edge_id": f"{edge_type}:{event}:{parent}:{child}", "parent_node_id": parent, "child_node_id": child,
            "edge_type": edge_type, "work_order_id": party if edge_type == "consumption" else None,
            "machine_id": "WC-01-01" if edge_type == "consumption" else None, "material_code": material,
            "quantity": quantity, "unit": unit, "occurred_at": start + timedelta(hours=hour),
            "supplier_id": party if edge_type == "receipt" else None,
            "customer_id": party if edge_type == "shipment" else None, "source_event_id": event})
    return pl.DataFrame(records, schema_overrides={"occurred_at": pl.Datetime("us", "UTC")})


def summed(edges: pl.DataFrame) -> pl.DataFrame:
    return (edges.group_by(KEY).agg(pl.col("quantity").sum(), pl.col("unit").first(), pl.col("occurred_at").first(),
                                    pl.col("work_order_id").first(), pl.col("supplier_id").first(),
                                    pl.col("customer_id").first())
            .sort(KEY))


def assert_same_genealogy(back: pl.DataFrame, edges: pl.DataFrame) -> None:
    ours, theirs = summed(edges), summed(back)
    assert theirs.select(KEY).equals(ours.select(KEY))
    assert theirs["quantity"].to_list() == pytest.approx(ours["quantity"].to_list(), rel=1e-9)
    for column in ("unit", "occurred_at", "work_order_id", "supplier_id", "customer_id"):
        assert theirs[column].to_list() == ours[column].to_list(), column


def document(edges: pl.DataFrame | None = None, **options: Any) -> dict[str, Any]:
    return epcis_document(plant_edges() if edges is None else edges, MATERIALS, produced_lots=PRODUCED,
                          options=EpcisOptions(**options), creation_date=CREATED)


@pytest.mark.parametrize("id_format", ["digital_link", "epc"])
def test_the_hand_made_plant_is_a_valid_epcis_document_with_the_documented_events(id_format: str) -> None:
    doc = document(id_format=id_format, timezone="Europe/Berlin")
    assert schema_errors(doc) == []
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"
    assert doc["creationDate"] == "2026-01-10T12:00:00Z"
    assert doc["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    events = doc["epcisBody"]["eventList"]
    kinds = [(e["type"], e.get("action"), e["bizStep"], e["disposition"]) for e in events]
    assert kinds == [("ObjectEvent", "ADD", "receiving", "in_progress")] * 3 + [
        ("TransformationEvent", None, "commissioning", "in_progress"),
        ("TransformationEvent", None, "repackaging", "in_progress"),
        ("TransformationEvent", None, "repackaging", "in_progress"),
        ("ObjectEvent", "OBSERVE", "shipping", "in_transit")]
    receipt, production, split, merge, shipment = events[0], events[3], events[4], events[5], events[6]
    assert receipt["eventTime"] == "2026-01-05T07:30:15.25Z" and receipt["eventTimeZoneOffset"] == "+01:00"
    assert receipt["sourceList"][0] == {"type": "owning_party", "source": "https://plantlake.example/party/SUP-01"}
    assert receipt["quantityList"][0]["uom"] == "KGM" and receipt["quantityList"][0]["quantity"] == 20
    assert [q["quantity"] for q in production["inputQuantityList"]] == [20000, 60000, 10]
    assert [(q["quantity"], q["uom"]) for q in production["outputQuantityList"]] == [(60, "EA"), (40, "EA")]
    assert production["bizTransactionList"] == [{"type": "prodorder",
                                                 "bizTransaction": f"urn:epcglobal:cbv:bt:{DEMO_SITE_GLN}:WO-1"}]
    assert split["plantlake:edgeType"] == "split" and merge["plantlake:edgeType"] == "merge"
    assert shipment["bizTransactionList"][0]["type"] == "desadv" and "bizLocation" not in shipment
    assert shipment["destinationList"][0]["destination"] == "https://plantlake.example/party/CUS-01"
    assert {q["uom"] for q in shipment["quantityList"]} == {"H87"}
    prefix = "https://id.gs1.org/01/" if id_format == "digital_link" else "urn:epc:class:lgtin:9524321."
    assert all(q["epcClass"].startswith(prefix) for e in events
               for q in e.get("quantityList", []) + e.get("inputQuantityList", []) + e.get("outputQuantityList", []))


@pytest.mark.parametrize("id_format", ["digital_link", "epc"])
def test_events_read_back_give_the_same_edges(id_format: str) -> None:
    edges = plant_edges()
    options = EpcisOptions(id_format=id_format)  # type: ignore[arg-type]
    doc = epcis_document(edges, MATERIALS, produced_lots=PRODUCED, options=options, creation_date=CREATED)
    back = edges_from_epcis(json.loads(json.dumps(doc)), materials=MATERIALS, options=options)
    assert_same_genealogy(back, edges)
    assert back.columns == edges.columns
    assert set(back.filter(pl.col("edge_type") == "consumption")["machine_id"]) == {"WC-01-01"}
    assert back.filter(pl.col("edge_type") == "receipt")["material_code"].to_list() == ["RM-A", "RM-A", "RM-B"]


def test_party_glns_replace_private_party_uris_and_read_back() -> None:
    glns = {"SUP-01": with_check_digit("952432100010"), "CUS-01": with_check_digit("952432100020")}
    options = EpcisOptions(party_glns=glns)
    doc = epcis_document(plant_edges(), MATERIALS, produced_lots=PRODUCED, options=options, creation_date=CREATED)
    assert schema_errors(doc) == []
    assert doc["epcisBody"]["eventList"][0]["sourceList"][0]["source"] == f"https://id.gs1.org/417/{glns['SUP-01']}"
    assert_same_genealogy(edges_from_epcis(doc, options=options), plant_edges())


def test_a_work_order_subset_that_is_no_full_product_gets_one_event_per_output() -> None:
    rows = [r for r in PLANT if (r[0], r[1]) != ("A-1", "P-2")]  # P-2 without A-1: allocation cannot rebuild it
    edges = plant_edges(rows)
    doc = document(edges)
    assert schema_errors(doc) == []
    production = [e for e in doc["epcisBody"]["eventList"] if e["bizStep"] == "commissioning"]
    assert [len(e["outputQuantityList"]) for e in production] == [1, 1]
    assert_same_genealogy(edges_from_epcis(doc, materials=MATERIALS), edges)


def test_an_empty_genealogy_is_an_empty_valid_document() -> None:
    doc = document(plant_edges().head(0))
    assert schema_errors(doc) == [] and doc["epcisBody"]["eventList"] == []
    assert edges_from_epcis(doc).height == 0


def test_a_material_without_gtin_fails_clearly_naming_it() -> None:
    materials = MATERIALS.with_columns(pl.when(pl.col("material_id") == "RM-B").then(None)
                                       .otherwise(pl.col("gtin")).alias("gtin"))
    with pytest.raises(EpcisExportError, match=r"without a GTIN.*RM-B \(lots B-1, SUP:SB1\).*dim_material.gtin"):
        epcis_document(plant_edges(), materials, produced_lots=PRODUCED)
    wrong = MATERIALS.with_columns(pl.Series("gtin", [g[:-1] + str((int(g[-1]) + 1) % 10)
                                                      for g in MATERIALS["gtin"]]))
    with pytest.raises(EpcisExportError, match="wrong check digit"):
        epcis_document(plant_edges(), wrong, produced_lots=PRODUCED)
    with pytest.raises(EpcisExportError, match="need material_id and gtin"):
        epcis_document(plant_edges(), MATERIALS.drop("gtin"), produced_lots=PRODUCED)


def test_missing_quantities_units_and_materials_fail_clearly() -> None:
    with pytest.raises(EpcisExportError, match="P-1, P-2 .*no produced quantity"):
        epcis_document(plant_edges(), MATERIALS)
    with pytest.raises(EpcisExportError, match="unit 'DRUM' has no UN/ECE Rec 20 code"):
        epcis_document(plant_edges().with_columns(pl.lit("DRUM").alias("unit")), MATERIALS, produced_lots=PRODUCED)
    assert schema_errors(epcis_document(plant_edges().with_columns(pl.lit("DRUM").alias("unit")), MATERIALS,
                                        produced_lots=PRODUCED.with_columns(pl.lit("DRUM").alias("unit")),
                                        options=EpcisOptions(units={"DRUM": "X1A"}))) == []
    with pytest.raises(EpcisExportError, match="no known material"):
        epcis_document(plant_edges().with_columns(pl.lit("RM-X").alias("material_code")), MATERIALS,
                       produced_lots=PRODUCED)
    with pytest.raises(EpcisExportError, match="site GLN"):
        EpcisOptions(site_gln="9524321000010")


def test_the_official_schema_is_not_vacuous() -> None:
    doc = document()
    event = doc["epcisBody"]["eventList"][0]
    for broken in ({k: v for k, v in event.items() if k != "eventTimeZoneOffset"}, {**event, "bizStep": "not a step"},
                   {**event, "action": "MOVE"}, {**event, "quantityList": [{"epcClass": "x y"}]},
                   {**event, "eventTime": "yesterday"}):
        assert schema_errors({**doc, "epcisBody": {"eventList": [broken]}}), broken
    assert schema_errors({k: v for k, v in doc.items() if k != "@context"})
