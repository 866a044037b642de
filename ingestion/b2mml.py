"""ISA-95 B2MML messages (V0401 and V07 namespaces) read into the same records as MES NDJSON events.

Parsing is hardened with defusedxml: DTDs, entity declarations and external references are refused, so
billion-laughs and XXE payloads become a file-level rejection with the reason, never an expansion.

| message | records |
|---|---|
| ProductionSchedule | work_order_released (PublishedDate; produced material and planned quantity; the request's StartTime and EndTime, when given, as planned_start_at and due_at) |
| ProductionPerformance | work_order_started/completed, operation_started/completed per SegmentResponse, material_consumed per MaterialConsumedActual (at the first segment's start), lot_produced per MaterialProducedActual (at the last segment's end) |
| MaterialInformation | material_lot_reported per MaterialLot (lot status and quantity) |

Derived event ids come from business keys (`B2MML:<work order>:...`), not from the message, so the same fact
reported twice (a start message and the completion message both carry the consumed lots and the first
operation's start) is one event, landed once. A ProductionResponse without EndTime reports a work order in
progress: start, started operations and consumption, no completion.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ingestion.records import ParsedFile, RawRecord, parsed_from_records

NAMESPACES = ("http://www.mesa.org/xml/B2MML-V0401", "http://www.mesa.org/xml/B2MML")
MAX_XML_BYTES = 64 * 1024 * 1024


class _Message:
    def __init__(self, root: ET.Element, namespace: str) -> None:
        self.root, self.ns = root, namespace
        self.id = self.text(root, "ID") or "?"
        self.records: list[RawRecord] = []

    def find(self, node: ET.Element, path: str) -> ET.Element | None:
        return node.find("/".join(f"{{{self.ns}}}{p}" for p in path.split("/")))

    def findall(self, node: ET.Element, tag: str) -> list[ET.Element]:
        return node.findall(f"{{{self.ns}}}{tag}")

    def text(self, node: ET.Element | None, path: str) -> str | None:
        found = None if node is None else self.find(node, path)
        value = None if found is None or found.text is None else found.text.strip()
        return value or None

    def add(self, key: str, event_type: str, occurred_at: str | None, **fields: str | None) -> None:
        seq = len(self.records)
        event = {"event_id": f"B2MML:{key}", "event_type": event_type, "occurred_at": occurred_at, **fields}
        raw = ET.tostring(self.root, encoding="unicode")[:2048]
        self.records.append(RawRecord(0, seq, event_type, event, raw))


def _operation_seq(segment_id: str | None) -> str | None:
    match = re.fullmatch(r"\D*(\d+)", segment_id or "")
    return match.group(1) if match else segment_id


def _schedule(m: _Message) -> None:
    for request in m.findall(m.root, "ProductionRequest"):
        segments = m.findall(request, "SegmentRequirement")
        produced = next((m.find(s, "MaterialProducedRequirement") for s in reversed(segments)
                         if m.find(s, "MaterialProducedRequirement") is not None), None)
        order = m.text(request, "ID")
        m.add(f"{order}:released", "work_order_released", m.text(m.root, "PublishedDate"), work_order_id=order,
              line_id=None, material_code=m.text(produced, "MaterialDefinitionID"),
              planned_quantity=m.text(produced, "Quantity/QuantityString"),
              unit=m.text(produced, "Quantity/UnitOfMeasure"), planned_start_at=m.text(request, "StartTime"),
              due_at=m.text(request, "EndTime"))


def _performance(m: _Message) -> None:
    for response in m.findall(m.root, "ProductionResponse"):
        order = m.text(response, "ProductionRequestID") or m.text(response, "ID")
        segments = m.findall(response, "SegmentResponse")
        m.add(f"{order}:started", "work_order_started", m.text(response, "StartTime"), work_order_id=order,
              line_id=None)
        produced_total, produced_unit = 0.0, None
        for segment in segments:
            seq, machine = _operation_seq(m.text(segment, "ProcessSegmentID")), m.text(segment, "EquipmentActual/EquipmentID")
            m.add(f"{order}:op{seq}:started", "operation_started", m.text(segment, "ActualStartTime"),
                  work_order_id=order, operation_seq=seq, machine_id=machine)
            if m.text(segment, "ActualEndTime"):
                m.add(f"{order}:op{seq}:completed", "operation_completed", m.text(segment, "ActualEndTime"),
                      work_order_id=order, operation_seq=seq, machine_id=machine)
            for actual in m.findall(segment, "MaterialConsumedActual"):
                material, lot = m.text(actual, "MaterialDefinitionID"), m.text(actual, "MaterialLotID")
                m.add(f"{order}:consumed:{material}:{lot}", "material_consumed",
                      m.text(segments[0], "ActualStartTime"), work_order_id=order, machine_id=machine,
                      material_code=material, consumed_lot_code=lot,
                      quantity=m.text(actual, "Quantity/QuantityString"),
                      unit=m.text(actual, "Quantity/UnitOfMeasure"), location_code=None)
            for actual in m.findall(segment, "MaterialProducedActual"):
                quantity, lot = m.text(actual, "Quantity/QuantityString"), m.text(actual, "MaterialLotID")
                produced_unit = m.text(actual, "Quantity/UnitOfMeasure")
                m.add(f"{order}:produced:{lot}", "lot_produced", m.text(segments[-1], "ActualEndTime"),
                      work_order_id=order, machine_id=machine, material_code=m.text(actual, "MaterialDefinitionID"),
                      lot_code=lot, quantity=quantity, unit=produced_unit, location_code=None)
                produced_total += _number(quantity)
        if m.text(response, "EndTime"):
            m.add(f"{order}:completed", "work_order_completed", m.text(response, "EndTime"), work_order_id=order,
                  line_id=None, good_quantity=_text_number(produced_total), scrap_quantity=None, unit=produced_unit)


def _material_information(m: _Message) -> None:
    for lot in m.findall(m.root, "MaterialLot"):
        m.add(f"{m.id}:lot:{m.text(lot, 'ID')}", "material_lot_reported", m.text(m.root, "PublishedDate"),
              lot_code=m.text(lot, "ID"),
              material_code=m.text(lot, "MaterialDefinitionID"), lot_status=m.text(lot, "Status"),
              quantity=m.text(lot, "Quantity/QuantityString"), unit=m.text(lot, "Quantity/UnitOfMeasure"))


def _number(text: str | None) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0


def _text_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


HANDLERS = {"ProductionSchedule": _schedule, "ProductionPerformance": _performance,
            "MaterialInformation": _material_information}


def read_b2mml(data: bytes) -> ParsedFile:
    if len(data) > MAX_XML_BYTES:
        return ParsedFile(file_error=f"XML larger than {MAX_XML_BYTES} bytes")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return ParsedFile(file_error=f"XML refused by the hardened parser: {type(exc).__name__}: {exc}")
    except ET.ParseError as exc:
        return ParsedFile(file_error=f"malformed XML: {exc}")
    namespace, _, tag = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if namespace not in NAMESPACES:
        return ParsedFile(file_error=f"not a B2MML message: namespace {namespace!r} is neither V0401 nor V07")
    handler = HANDLERS.get(tag)
    if handler is None:
        return ParsedFile(file_error=f"unsupported B2MML message {tag!r}; supported: {sorted(HANDLERS)}")
    message = _Message(root, namespace)
    handler(message)
    return parsed_from_records(message.records, [])
