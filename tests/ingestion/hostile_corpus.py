"""The hostile corpus: files a landing folder may receive, each with the outcome ingestion must give.

Every case is (name, path in the landing folder, content bytes, expected outcome). Expected rows are
(read, landed, quarantined, duplicate); `reason` must appear in the file error or in a quarantine reason.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

from data_contracts.wms import ADDED_COLUMNS, WMS_TRANSACTIONS

COLUMNS = WMS_TRANSACTIONS.column_names
HEADER = ",".join(COLUMNS)
OLD_COLUMNS = tuple(c for c in COLUMNS if c not in ADDED_COLUMNS)  # an export from before the order columns
WMS = "wms/receipts/2026-01-05.csv"
MES = "mes/events/2026-01-05.ndjson"
XML = "mes/b2mml/2026-01-05/message.xml"
B2MML_NS = "http://www.mesa.org/xml/B2MML"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    content: bytes
    status: str
    rows: tuple[int, int, int, int]  # read, landed, quarantined, duplicate
    reason: str = ""


def wms_line(**fields: str) -> str:
    row = {c: "" for c in COLUMNS}
    row.update(transaction_id="T1", transaction_type="RECEIPT", occurred_at="2026-01-05T07:00:00+01:00",
               material_code="ALU", lot_code="LOT-1", quantity="10", unit="KG", to_location_code="D-01",
               supplier_id="SUP-01", supplier_lot_code="S-9")
    row.update(fields)
    return ",".join(row[c] for c in COLUMNS)


def wms_file(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"event_id": "E1", "event_type": "equipment_state_changed",
                               "occurred_at": "2026-01-05T06:00:00+00:00", "machine_id": "L1-M1",
                               "state": "running", "reason_code": "producing", "previous_state": "idle",
                               "previous_reason_code": "no_order"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def mes_file(*lines: str | dict[str, object]) -> bytes:
    return ("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n").encode()


GOOD = wms_line(transaction_id="T0")
OLD_GOOD = ",".join(GOOD.split(",")[:len(OLD_COLUMNS)])
PICK = wms_line(transaction_id="T0", transaction_type="PICK", supplier_id="", supplier_lot_code="",
                customer_id="CUS-01", shipment_id="SHP-1", ordered_quantity="12", due_at="2026-01-05T17:00:00+01:00")


def wms_bad(name: str, reason: str, **fields: str) -> Case:
    """One good row and one row that breaks the contract."""
    return Case(name, WMS, wms_file(GOOD, wms_line(**fields)), "landed", (2, 1, 1, 0), reason)


def mes_bad(name: str, reason: str, line: str | dict[str, object]) -> Case:
    return Case(name, MES, mes_file(event(event_id="E0"), line), "landed", (2, 1, 1, 0), reason)


def csv_with_bytes(raw: bytes) -> bytes:
    return HEADER.encode() + b"\n" + GOOD.encode() + b"\n" + raw + b"\n"


CASES: list[Case] = [
    # --- whole files -------------------------------------------------------------------------------------
    Case("empty csv", WMS, b"", "rejected", (0, 0, 0, 0), "empty file"),
    Case("blank lines only csv", WMS, b"\n\n\r\n", "rejected", (0, 0, 0, 0), "empty file"),
    Case("header only csv", WMS, wms_file(), "landed", (0, 0, 0, 0)),
    Case("missing column", WMS, wms_file(GOOD, header=HEADER.replace(",unit", "")), "rejected", (0, 0, 0, 0),
         "missing ['unit']"),
    Case("extra column", WMS, wms_file(GOOD, header=HEADER + ",colour"), "rejected", (0, 0, 0, 0),
         "unexpected ['colour']"),
    # columns added to the export later (ordered_quantity, due_at) may be absent: older files stay readable
    Case("export from before the order columns", WMS, wms_file(OLD_GOOD, header=",".join(OLD_COLUMNS)), "landed",
         (1, 1, 0, 0)),
    Case("missing column in an old export", WMS,
         wms_file(OLD_GOOD, header=",".join(OLD_COLUMNS).replace(",unit", "")), "rejected", (0, 0, 0, 0),
         "missing ['unit']"),
    Case("pick with its customer order", WMS, wms_file(PICK), "landed", (1, 1, 0, 0)),
    Case("header not utf-8", WMS, b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\n", "rejected", (0, 0, 0, 0),
         "header row is not valid"),
    Case("utf-8 BOM", WMS, b"\xef\xbb\xbf" + wms_file(GOOD), "landed", (1, 1, 0, 0)),
    Case("CRLF line endings", WMS, wms_file(GOOD).replace(b"\n", b"\r\n"), "landed", (1, 1, 0, 0)),
    Case("gzip compressed csv", WMS + ".gz", gzip.compress(wms_file(GOOD)), "landed", (1, 1, 0, 0)),
    Case("truncated gzip", WMS + ".gz", gzip.compress(wms_file(GOOD))[:-12], "rejected", (0, 0, 0, 0),
         "broken gzip stream"),
    Case("empty ndjson", MES, b"", "landed", (0, 0, 0, 0)),
    Case("gzip compressed ndjson", MES + ".gz", gzip.compress(mes_file(event())), "landed", (1, 1, 0, 0)),
    # --- CSV rows ----------------------------------------------------------------------------------------
    Case("too few fields", WMS, wms_file(GOOD, "T9,RECEIPT"), "landed", (2, 1, 1, 0), "expected 19 fields, got 2"),
    Case("too many fields", WMS, wms_file(GOOD, wms_line(transaction_id="T9") + ",x,y"), "landed", (2, 1, 1, 0),
         "expected 19 fields, got 21"),
    Case("invalid utf-8 row", WMS, csv_with_bytes(b"T9,RECEIPT,\xc3\x28,ALU"), "landed", (2, 1, 1, 0),
         "invalid utf-8"),
    Case("unterminated quote", WMS, csv_with_bytes(b'T9,RECEIPT,"2026-01-05T07:00:00+01:00,ALU'), "landed",
         (2, 1, 1, 0), "malformed CSV"),
    Case("quoted newline splits a row", WMS,
         wms_file(GOOD, wms_line(transaction_id="T9", supplier_lot_code='"S\n9"')), "landed", (3, 1, 2, 0),
         "malformed CSV"),
    wms_bad("negative quantity", "quantity within", transaction_id="T9", quantity="-5"),
    wms_bad("absurd quantity", "quantity within", transaction_id="T9", quantity="1e12"),
    wms_bad("NaN quantity", "quantity is a finite decimal", transaction_id="T9", quantity="NaN"),
    wms_bad("inf quantity", "quantity is a finite decimal", transaction_id="T9", quantity="inf"),
    wms_bad("text quantity", "quantity is a finite decimal", transaction_id="T9", quantity="ten"),
    wms_bad("comma decimal in a dot source", "quantity is a finite decimal", transaction_id="T9",
            quantity='"10,5"'),
    wms_bad("unknown unit", "unit is an allowed value", transaction_id="T9", unit="LBS"),
    wms_bad("unknown material", "material_code is a known wms_material code", transaction_id="T9",
            material_code="UNOBTAINIUM"),
    wms_bad("unknown location", "to_location_code is a known wms_location code", transaction_id="T9",
            to_location_code="Z-99"),
    wms_bad("unknown supplier", "supplier_id is a known supplier code", transaction_id="T9", supplier_id="SUP-99"),
    wms_bad("timestamp without zone", "occurred_at is ISO 8601 with a zone", transaction_id="T9",
            occurred_at="2026-01-05T07:00:00"),
    wms_bad("timestamp in year 9999", "not in the future", transaction_id="T9",
            occurred_at="9999-12-31T23:59:59+00:00"),
    wms_bad("timestamp in 1970", "after 2000", transaction_id="T9", occurred_at="1970-01-01T00:00:00Z"),
    wms_bad("due date centuries ahead", "due_at is after 2000 and at most 366 days ahead", transaction_id="T9",
            due_at="2999-01-05T17:00:00+01:00"),
    wms_bad("due date without zone", "due_at is ISO 8601 with a zone", transaction_id="T9",
            due_at="2026-01-05T17:00:00"),
    wms_bad("negative ordered quantity", "ordered_quantity within", transaction_id="T9", ordered_quantity="-3"),
    wms_bad("garbage timestamp", "occurred_at is ISO 8601 with a zone", transaction_id="T9",
            occurred_at="yesterday"),
    wms_bad("impossible date", "occurred_at is a real date and time", transaction_id="T9",
            occurred_at="2026-02-30T07:00:00+01:00"),
    wms_bad("missing transaction id", "transaction_id is present", transaction_id=""),
    wms_bad("unknown transaction type", "transaction_type is an allowed value", transaction_id="T9",
            transaction_type="TELEPORT"),
    wms_bad("receipt without supplier", "supplier_id is present when transaction_type == RECEIPT",
            transaction_id="T9", supplier_id=""),
    wms_bad("count without counted quantity", "counted_quantity is present when transaction_type == COUNT",
            transaction_id="T9", transaction_type="COUNT", quantity="", supplier_id=""),
    wms_bad("formula HYPERLINK", "lot_code is not a spreadsheet formula", transaction_id="T9",
            lot_code='"=HYPERLINK(""http://x.test"",""click"")"'),
    wms_bad("formula DDE cmd", "supplier_lot_code is not a spreadsheet formula", transaction_id="T9",
            supplier_lot_code="=cmd|' /C calc'!A0"),
    wms_bad("formula at-sign", "lot_code is not a spreadsheet formula", transaction_id="T9", lot_code="@SUM(A1)"),
    wms_bad("formula plus", "shipment_id is not a spreadsheet formula", transaction_id="T9",
            shipment_id="+cmd|'/c calc'!A0"),
    wms_bad("formula minus", "work_order_id is not a spreadsheet formula", transaction_id="T9",
            work_order_id="-cmd|'/c calc'!A0"),
    Case("duplicate row within file", WMS, wms_file(GOOD, GOOD), "landed", (2, 1, 0, 1)),
    Case("conflicting duplicate id within file", WMS, wms_file(GOOD, wms_line(transaction_id="T0", quantity="7")),
         "landed", (2, 1, 1, 0), "lands in this run from another record with another payload"),
    Case("100 MB single line csv", WMS, csv_with_bytes(b"T9," + b"A" * (100 * 1024 * 1024)), "landed",
         (2, 1, 1, 0), "line longer than"),
    # --- NDJSON lines ------------------------------------------------------------------------------------
    mes_bad("truncated JSON", "invalid JSON", '{"event_id": "E9", "event_type": "equipment_sta'),
    mes_bad("JSON array line", "not an object", '[1, 2, 3]'),
    mes_bad("JSON NaN", "NaN is not a number JSON allows",
            '{"event_id": "E9", "event_type": "material_consumed", "quantity": NaN}'),
    mes_bad("JSON Infinity", "Infinity is not a number JSON allows",
            '{"event_id": "E9", "event_type": "material_consumed", "quantity": Infinity}'),
    mes_bad("deeply nested JSON", "nested too deeply", '{"a":' * 100_000 + "1" + "}" * 100_000),
    Case("invalid utf-8 line", MES, mes_file(event(event_id="E0")) + b'{"event_id": "E9\xff"}\n', "landed",
         (2, 1, 1, 0), "invalid UTF-8"),
    mes_bad("wrong type quantity", "quantity is a finite decimal",
            event(event_id="E9", event_type="material_consumed", machine_id="L1-M1", state=..., reason_code=...,
                  previous_state=..., previous_reason_code=..., work_order_id="WO-1", material_code="100100",
                  consumed_lot_code="LOT-1", quantity="ten", unit="G", location_code="L1-SUPER")),
    mes_bad("boolean quantity", "quantity is a finite decimal",
            event(event_id="E9", event_type="material_consumed", state=..., reason_code=..., previous_state=...,
                  previous_reason_code=..., work_order_id="WO-1", material_code="100100",
                  consumed_lot_code="LOT-1", quantity=True, unit="G", location_code="L1-SUPER")),
    mes_bad("unknown event type", "unknown event_type 'teleported'", event(event_id="E9", event_type="teleported")),
    mes_bad("missing event id", "event_id is present", event(event_id=...)),
    mes_bad("unknown state", "state is an allowed value", event(event_id="E9", state="exploded")),
    mes_bad("unknown machine", "machine_id is a known machine code", event(event_id="E9", machine_id="L9-M9")),
    mes_bad("extra field", "unexpected fields ['colour']", event(event_id="E9", colour="red")),
    mes_bad("timestamp without zone in JSON", "occurred_at is ISO 8601 with a zone",
            event(event_id="E9", occurred_at="2026-01-05 06:00:00")),
    mes_bad("garbage due date", "due_at is ISO 8601 with a zone",
            {"event_id": "E9", "event_type": "work_order_released", "occurred_at": "2026-01-05T03:00:00.000001+00:00",
             "work_order_id": "WO-1", "line_id": None, "material_code": "400100", "planned_quantity": 10,
             "unit": "EA", "planned_start_at": "2026-01-05T05:00:00.000000+00:00", "due_at": "next week"}),
    Case("microsecond stamps", MES, mes_file(
        event(event_id="E1", occurred_at="2026-01-05T06:00:00.000001+00:00"),
        event(event_id="E2", occurred_at="2026-01-05T06:00:00.999999+00:00")), "landed", (2, 2, 0, 0)),
    mes_bad("split lots not a list", "split_lots must be a non-empty list",
            {"event_id": "E9", "event_type": "lot_split", "occurred_at": "2026-01-05T06:00:00Z",
             "material_code": "100100", "lot_code": "LOT-1", "split_lots": "LOT-1A", "unit": "G",
             "location_code": "L1-SUPER"}),
    Case("duplicate event within file", MES, mes_file(event(), event()), "landed", (2, 1, 0, 1)),
    Case("100 MB single line ndjson", MES, mes_file(event(event_id="E0"), '{"x": "' + "A" * (100 * 1024 * 1024) + '"}'),
         "landed", (2, 1, 1, 0), "line longer than"),
    # --- XML ---------------------------------------------------------------------------------------------
    Case("billion laughs", XML, b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
         b'<ProductionSchedule xmlns="' + B2MML_NS.encode() + b'"><ID>&b;</ID></ProductionSchedule>',
         "rejected", (0, 0, 0, 0), "refused by the hardened parser"),
    Case("external entity", XML, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
         b'<ProductionSchedule xmlns="' + B2MML_NS.encode() + b'"><ID>&e;</ID></ProductionSchedule>',
         "rejected", (0, 0, 0, 0), "refused by the hardened parser"),
    Case("truncated XML", XML, b'<ProductionSchedule xmlns="' + B2MML_NS.encode() + b'"><ID>x', "rejected",
         (0, 0, 0, 0), "malformed XML"),
    Case("foreign namespace XML", XML, b'<ProductionSchedule xmlns="urn:x"><ID>x</ID></ProductionSchedule>',
         "rejected", (0, 0, 0, 0), "not a B2MML message"),
    Case("unsupported B2MML message", XML, b'<EquipmentInformation xmlns="' + B2MML_NS.encode() + b'"/>',
         "rejected", (0, 0, 0, 0), "unsupported B2MML message"),
    Case("B2MML with negative quantity", XML,
         b'<ProductionSchedule xmlns="' + B2MML_NS.encode() + b'"><ID>PS-1</ID>'
         b'<PublishedDate>2026-01-05T06:00:00Z</PublishedDate><ProductionRequest><ID>WO-1</ID><SegmentRequirement>'
         b'<MaterialProducedRequirement><MaterialDefinitionID>400100</MaterialDefinitionID><Quantity>'
         b'<QuantityString>-4</QuantityString><UnitOfMeasure>EA</UnitOfMeasure></Quantity>'
         b'</MaterialProducedRequirement></SegmentRequirement></ProductionRequest></ProductionSchedule>',
         "landed", (1, 0, 1, 0), "planned_quantity within"),
]
