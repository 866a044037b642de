"""ISA-95 B2MML messages for work orders exchanged as XML instead of NDJSON events.

Written to `mes/b2mml/<YYYY-MM-DD>/<MessageType>_<work_order_id>.xml`; the date is the
UTC date of the message. Work orders alternate between the published B2MML V0401 namespace
(`http://www.wbf.org/xml/B2MML-V0401`) and the V0700 one (`http://www.mesa.org/xml/B2MML`); the
elements used are the same in both, in the order the published schemas require, so every message
validates against them (tests/ingestion/test_b2mml_schemas.py).

- `ProductionSchedule` (on release): ProductionRequest with the planned StartTime and
  EndTime (the due date) and one SegmentRequirement per routing operation (EquipmentRequirement);
  the last carries the MaterialProducedRequirement. Planned component consumption is not written:
  plantlake has no bronze table for it, so it would only be quarantined.
- `ProductionPerformance` at start (`ProductionPerformance_<WO>_start.xml`): ProductionResponse
  with StartTime and the first SegmentResponse (ActualStartTime, EquipmentActual) carrying a
  MaterialConsumedActual per consumed lot — the MES backflushes at start, as in NDJSON.
- `ProductionPerformance` (on completion): ProductionResponse with one SegmentResponse
  per operation (ActualStartTime/ActualEndTime, EquipmentActual); MaterialConsumedActual
  per consumed lot on the first, MaterialProducedActual per produced lot on the last.
- `MaterialInformation` (on completion): MaterialLot per lot the work order left behind
  (after lot splits/merges) with ID, MaterialDefinitionID, Status and Quantity.

Material IDs are MES codes, quantities are in MES units, times ISO 8601 in plant local time
with offset and microsecond precision (the same instants as the NDJSON events).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

B2MML_V0401 = "http://www.wbf.org/xml/B2MML-V0401"  # published by WBF
B2MML_V07 = "http://www.mesa.org/xml/B2MML"  # MESA, V0700 and later
NAMESPACES = (B2MML_V0401, B2MML_V07)
# The simulator wrote V0401 in this unpublished namespace before; work orders of a simulation continued from such a
# state write the published one.
LEGACY_V0401 = "http://www.mesa.org/xml/B2MML-V0401"


class _Builder:
    def __init__(self, namespace: str):
        self.namespace = B2MML_V0401 if namespace == LEGACY_V0401 else namespace

    def element(self, parent: ET.Element | None, tag: str, text: object | None = None) -> ET.Element:
        qualified = f"{{{self.namespace}}}{tag}"
        node = ET.Element(qualified) if parent is None else ET.SubElement(parent, qualified)
        if text is not None:
            node.text = str(text)
        return node

    def quantity(self, parent: ET.Element, value: object, unit: str) -> None:
        quantity = self.element(parent, "Quantity")
        self.element(quantity, "QuantityString", value)
        self.element(quantity, "DataType", "decimal")
        self.element(quantity, "UnitOfMeasure", unit)

    def serialize(self, root: ET.Element) -> bytes:
        return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=self.namespace) + b"\n"


def production_schedule(namespace: str, work_order_id: str, published_at: str, material_code: str,
                        planned_quantity: object, unit: str, operations: list[tuple[int, str]],
                        components: list[tuple[str, object, str]], start_at: str | None = None,
                        end_at: str | None = None) -> bytes:
    """operations: (operation_seq, machine_id); components: (MES code, quantity, unit) of the BOM, not written
    (see the module docstring); start_at/end_at: the requested (planned) start and end - the due date."""
    b = _Builder(namespace)
    root = b.element(None, "ProductionSchedule")
    b.element(root, "ID", f"PS-{work_order_id}")
    b.element(root, "PublishedDate", published_at)
    request = b.element(root, "ProductionRequest")
    b.element(request, "ID", work_order_id)
    b.element(request, "Description", f"Produce {planned_quantity} {unit} of {material_code}")
    if start_at is not None:
        b.element(request, "StartTime", start_at)
    if end_at is not None:
        b.element(request, "EndTime", end_at)
    for index, (operation_seq, machine_id) in enumerate(operations):
        segment = b.element(request, "SegmentRequirement")
        b.element(segment, "ID", f"{work_order_id}-{operation_seq}")
        b.element(segment, "ProcessSegmentID", f"OP{operation_seq}")
        equipment = b.element(segment, "EquipmentRequirement")
        b.element(equipment, "EquipmentID", machine_id)
        if index == len(operations) - 1:
            produced = b.element(segment, "MaterialProducedRequirement")
            b.element(produced, "MaterialDefinitionID", material_code)
            b.quantity(produced, planned_quantity, unit)
    return b.serialize(root)


def production_performance(namespace: str, work_order_id: str, published_at: str, start_at: str,
                           end_at: str | None, segments: list[tuple[int, str, str, str | None]],
                           consumed: list[tuple[str, str, object, str]],
                           produced: list[tuple[str, str, object, str]], message_id: str | None = None) -> bytes:
    """segments: (operation_seq, machine_id, start, end or None); consumed/produced: (code, lot, qty, unit).
    A response without `end_at` reports a work order in progress."""
    b = _Builder(namespace)
    root = b.element(None, "ProductionPerformance")
    b.element(root, "ID", message_id or f"PP-{work_order_id}")
    b.element(root, "PublishedDate", published_at)
    response = b.element(root, "ProductionResponse")
    b.element(response, "ID", work_order_id)
    b.element(response, "ProductionRequestID", work_order_id)
    b.element(response, "StartTime", start_at)
    if end_at is not None:
        b.element(response, "EndTime", end_at)
    for index, (operation_seq, machine_id, started, ended) in enumerate(segments):
        segment = b.element(response, "SegmentResponse")
        b.element(segment, "ID", f"{work_order_id}-{operation_seq}")
        b.element(segment, "ProcessSegmentID", f"OP{operation_seq}")
        b.element(segment, "ActualStartTime", started)
        if ended is not None:
            b.element(segment, "ActualEndTime", ended)
        equipment = b.element(segment, "EquipmentActual")
        b.element(equipment, "EquipmentID", machine_id)
        actuals = []  # the schemas' order: MaterialProducedActual before MaterialConsumedActual
        if index == len(segments) - 1:
            actuals += [("MaterialProducedActual", item) for item in produced]
        if index == 0:
            actuals += [("MaterialConsumedActual", item) for item in consumed]
        for tag, (code, lot, quantity, unit) in actuals:
            actual = b.element(segment, tag)
            b.element(actual, "MaterialDefinitionID", code)
            b.element(actual, "MaterialLotID", lot)
            b.quantity(actual, quantity, unit)
    return b.serialize(root)


def production_performance_start(namespace: str, work_order_id: str, published_at: str, start_at: str,
                                 operation_seq: int, machine_id: str,
                                 consumed: list[tuple[str, str, object, str]]) -> bytes:
    """A work order's start: its first segment started and the lots it consumed (code, lot, qty, unit)."""
    return production_performance(namespace, work_order_id, published_at, start_at, None,
                                  [(operation_seq, machine_id, start_at, None)], consumed, [],
                                  message_id=f"PP-{work_order_id}-START")


def material_information(namespace: str, message_id: str, published_at: str,
                         lots: list[tuple[str, str, object, str]]) -> bytes:
    """lots: (lot code, MES material code, quantity, unit)."""
    b = _Builder(namespace)
    root = b.element(None, "MaterialInformation")
    b.element(root, "ID", message_id)
    b.element(root, "PublishedDate", published_at)
    for lot_code, material_code, quantity, unit in lots:
        lot = b.element(root, "MaterialLot")
        b.element(lot, "ID", lot_code)
        b.element(lot, "MaterialDefinitionID", material_code)
        b.element(lot, "Status", "released")
        b.quantity(lot, quantity, unit)
    return b.serialize(root)
