"""The B2MML nouns plantlake reads, element by element, into MES event records (see `ingestion.b2mml`).

Each reader lists, per element, the children it maps or deliberately leaves (identifiers, descriptions, hierarchy
scope, states that carry no fact); any other child is quarantined by `Reader.check` with a reason naming it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ingestion.b2mml_model import Reader

DESCRIPTIVE = frozenset({"ID", "Description", "Location", "HierarchyScope", "EquipmentElementLevel"})

PRODUCED_USES = ("Produced", "Co-product Produced", "By-product Produced")
CONSUMED_USES = ("Consumed", "Consumable")
MATERIAL_ELEMENTS = {  # element -> MaterialUse it implies (None: read from its MaterialUse child)
    "MaterialActual": None, "MaterialRequirement": None,
    "MaterialProducedActual": "Produced", "MaterialProducedRequirement": "Produced",
    "MaterialConsumedActual": "Consumed", "MaterialConsumedRequirement": "Consumed",
    "ConsumableActual": "Consumable",
}
MATERIAL_CHILDREN = frozenset({"MaterialClassID", "MaterialDefinitionID", "MaterialLotID", "MaterialSubLotID",
                               "Description", "Location", "HierarchyScope", "MaterialUse", "Quantity",
                               "RequiredByRequestedSegmentResponse"})
ACTUALS = frozenset(k for k in MATERIAL_ELEMENTS if "Actual" in k)
REQUIREMENTS = frozenset(k for k in MATERIAL_ELEMENTS if "Requirement" in k)
NOT_RELEASED = {"Forecast": "a forecast, not a release", "Cancelled": "cancelled"}


def _operation_seq(segment_id: str | None) -> str | None:
    match = re.fullmatch(r"\D*(\d+)", segment_id or "")
    return match.group(1) if match else segment_id


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _text_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _segment_name(r: Reader, segment: ET.Element, index: int) -> str:
    return r.text(segment, "ID") or r.text(segment, "ProcessSegmentID") or str(index)


# ---- ProductionSchedule ------------------------------------------------------------------------------------------
SCHEDULE_CHILDREN = DESCRIPTIVE | {"PublishedDate", "StartTime", "EndTime", "ProductionRequest", "ScheduleState"}
REQUEST_CHILDREN = DESCRIPTIVE | {"ProductProductionRuleID", "Version", "StartTime", "EndTime", "Priority",
                                  "SegmentRequirement", "RequestState"}
REQUIREMENT_CHILDREN = DESCRIPTIVE | {"ProductSegmentID", "ProcessSegmentID", "EarliestStartTime", "LatestEndTime",
                                      "Duration", "EquipmentRequirement", "SegmentRequirement", "SegmentState",
                                      "RequiredByRequestedSegmentResponse", *REQUIREMENTS}
EQUIPMENT_CHILDREN = DESCRIPTIVE | {"EquipmentClassID", "EquipmentID", "RequiredByRequestedSegmentResponse"}


def production_schedule(r: Reader, noun: ET.Element, path: str, published: str | None) -> None:
    """work_order_released per ProductionRequest: the first produced material requirement (MaterialRequirement
    with MaterialUse Produced, or MaterialProducedRequirement, in any segment at any depth) gives the material and
    planned quantity; StartTime/EndTime are the planned start and due date. Other material requirements (planned
    consumption, co-products) have no bronze table and are quarantined with the reason."""
    r.check(noun, path, SCHEDULE_CHILDREN)
    schedule_state = r.text(noun, "ScheduleState")
    for index, request in enumerate(r.children(noun, "ProductionRequest")):
        order = r.text(request, "ID")
        request_path = f"{path}/ProductionRequest[{order or index}]"
        state = r.text(request, "RequestState") or schedule_state
        if state in NOT_RELEASED:
            r.reject(request, request_path, f"ProductionRequest {order} is {NOT_RELEASED[state]} (state {state}): "
                     "not landed as a work order release")
            continue
        r.check(request, request_path, REQUEST_CHILDREN)
        materials: list[tuple[ET.Element, str | None, str]] = []
        for position, segment in enumerate(r.children(request, "SegmentRequirement")):
            _requirement_segment(r, segment, f"{request_path}/{_segment_name(r, segment, position)}", materials)
        produced = next((m for m in materials if m[1] == "Produced"), None)
        element, quantities = (request, []) if produced is None else (produced[0], r.children(produced[0], "Quantity"))
        quantity = quantities[0] if quantities else None
        planned, unit = r.quantity(quantity)
        r.record(f"{order}:released", "work_order_released", published, element, request_path, quantity,
                 work_order_id=order, line_id=None, material_code=r.text(element, "MaterialDefinitionID"),
                 planned_quantity=planned, unit=unit, planned_start_at=r.text(request, "StartTime"),
                 due_at=r.text(request, "EndTime"))
        for element, use, material_path in materials:
            if produced is not None and element is produced[0]:
                r.check(element, material_path, MATERIAL_CHILDREN)
                r.extra_quantities(element, material_path, quantities)
                continue
            material, (value, unit) = r.text(element, "MaterialDefinitionID"), r.quantity(r.child(element, "Quantity"))
            r.reject(element, material_path,
                     f"planned {use or 'unspecified'} requirement of {material} ({value} {unit}) for work order "
                     f"{order}: a release carries one produced material and quantity; planned component and "
                     "co-product requirements have no bronze table")


def _requirement_segment(r: Reader, segment: ET.Element, path: str,
                         materials: list[tuple[ET.Element, str | None, str]]) -> None:
    r.check(segment, path, REQUIREMENT_CHILDREN)
    for equipment in r.children(segment, "EquipmentRequirement"):
        r.check(equipment, f"{path}/EquipmentRequirement", EQUIPMENT_CHILDREN)
    for position, element in enumerate(segment):
        name = r.local(element)
        if name in REQUIREMENTS:
            use = MATERIAL_ELEMENTS[name] or r.text(element, "MaterialUse")
            materials.append((element, use, f"{path}/{name}[{r.text(element, 'MaterialDefinitionID')}]"))
        elif name == "SegmentRequirement":
            _requirement_segment(r, element, f"{path}/{_segment_name(r, element, position)}", materials)


# ---- ProductionPerformance ---------------------------------------------------------------------------------------
PERFORMANCE_CHILDREN = DESCRIPTIVE | {"PublishedDate", "ProductionScheduleID", "StartTime", "EndTime",
                                      "ProductionResponse", "PerformanceState"}
RESPONSE_CHILDREN = DESCRIPTIVE | {"ProductionRequestID", "ProductProductionRuleID", "Version", "StartTime",
                                   "EndTime", "SegmentResponse", "ResponseState"}
SEGMENT_RESPONSE_CHILDREN = DESCRIPTIVE | {"ProcessSegmentID", "ProductSegmentID", "ActualStartTime", "ActualEndTime",
                                           "EquipmentActual", "SegmentResponse", "SegmentState",
                                           "RequiredByRequestedSegmentResponse", *ACTUALS}


def production_performance(r: Reader, noun: ET.Element, path: str, published: str | None) -> None:
    """Per ProductionResponse: work_order_started (StartTime) and, with EndTime, work_order_completed (good
    quantity: the Produced quantities when they share one unit); per SegmentResponse at any depth
    operation_started/completed (its ProcessSegmentID's number, its EquipmentActual or the enclosing segment's);
    per material actual, material_consumed (Consumed, Consumable; at the segment's start) or lot_produced
    (Produced, co- and by-products; at the segment's end). Event ids hold the work order, segment path, lot and a
    digest of the content, not the message ID: a completion message repeating the start message's facts repeats
    their events, which land once."""
    r.check(noun, path, PERFORMANCE_CHILDREN)
    for index, response in enumerate(r.children(noun, "ProductionResponse")):
        order = r.text(response, "ProductionRequestID") or r.text(response, "ID")
        response_path = f"{path}/ProductionResponse[{order or index}]"
        r.check(response, response_path, RESPONSE_CHILDREN)
        start, end = r.text(response, "StartTime"), r.text(response, "EndTime")
        r.record(f"{order}:started", "work_order_started", start, response, response_path, work_order_id=order,
                 line_id=None)
        produced: list[tuple[float | None, str | None]] = []
        for position, segment in enumerate(r.children(response, "SegmentResponse")):
            _response_segment(r, segment, order, f"{order}/{_segment_name(r, segment, position)}",
                              f"{response_path}/{_segment_name(r, segment, position)}", None, start, end, produced)
        if end:
            units = {unit for _, unit in produced}
            good = (_text_number(sum(q or 0.0 for q, _ in produced))
                    if produced and len(units) == 1 and all(q is not None for q, _ in produced) else None)
            r.record(f"{order}:completed", "work_order_completed", end, response, response_path, work_order_id=order,
                     line_id=None, good_quantity=good, scrap_quantity=None,
                     unit=next(iter(units)) if len(units) == 1 else None)


def _response_segment(r: Reader, segment: ET.Element, order: str | None, key: str, path: str, machine: str | None,
                      start: str | None, end: str | None, produced: list[tuple[float | None, str | None]]) -> None:
    r.check(segment, path, SEGMENT_RESPONSE_CHILDREN)
    for equipment in r.children(segment, "EquipmentActual"):
        r.check(equipment, f"{path}/EquipmentActual", EQUIPMENT_CHILDREN)
    machine = r.text(segment, "EquipmentActual/EquipmentID") or machine
    seq = _operation_seq(r.text(segment, "ProcessSegmentID"))
    started, ended = r.text(segment, "ActualStartTime"), r.text(segment, "ActualEndTime")
    r.record(f"{order}:op{seq}:started", "operation_started", started, segment, path, work_order_id=order,
             operation_seq=seq, machine_id=machine)
    if ended:
        r.record(f"{order}:op{seq}:completed", "operation_completed", ended, segment, path, work_order_id=order,
                 operation_seq=seq, machine_id=machine)
    start, end = started or start, ended or end
    for position, element in enumerate(segment):
        name = r.local(element)
        if name in ACTUALS:
            _material_actual(r, element, name, order, key, f"{path}/{name}", machine, start, end, produced)
        elif name == "SegmentResponse":
            child = _segment_name(r, element, position)
            _response_segment(r, element, order, f"{key}/{child}", f"{path}/{child}", machine, start, end, produced)


def _material_actual(r: Reader, element: ET.Element, name: str, order: str | None, key: str, path: str,
                     machine: str | None, start: str | None, end: str | None,
                     produced: list[tuple[float | None, str | None]]) -> None:
    use = MATERIAL_ELEMENTS[name] or r.text(element, "MaterialUse")
    materials = r.texts(element, "MaterialDefinitionID")
    lots = r.texts(element, "MaterialLotID") or r.texts(element, "MaterialSubLotID")
    supported = (*CONSUMED_USES, *PRODUCED_USES)
    if use not in supported:
        r.reject(element, path, f"{name} with MaterialUse {use!r} in {path} is not supported (neither consumption "
                 f"nor production); supported MaterialUse: {list(supported)}")
        return
    if len(materials) > 1 or len(lots) > 1:
        r.reject(element, path, f"{name} in {path} names {len(materials)} materials and {len(lots)} lots for one "
                 "quantity: the split per material and lot is unknown")
        return
    r.check(element, path, MATERIAL_CHILDREN)
    quantities = r.children(element, "Quantity")
    quantity = quantities[0] if quantities else None
    value, unit = r.quantity(quantity)
    material, lot = (materials or [None])[0], (lots or [None])[0]
    if use in CONSUMED_USES:
        r.record(f"{key}:consumed:{material}:{lot}", "material_consumed", start, element, path, quantity,
                 conserve=True, work_order_id=order, machine_id=machine, material_code=material,
                 consumed_lot_code=lot, quantity=value, unit=unit, location_code=None)
    else:
        r.record(f"{key}:produced:{material}:{lot}", "lot_produced", end, element, path, quantity, conserve=True,
                 work_order_id=order, machine_id=machine, material_code=material, lot_code=lot, quantity=value,
                 unit=unit, location_code=None)
        if use == "Produced":
            produced.append((_number(value), unit))
    r.extra_quantities(element, path, quantities)


# ---- MaterialInformation, MaterialLot, MaterialSubLot, MaterialDefinition -------------------------------------------
INFORMATION_CHILDREN = DESCRIPTIVE | {"PublishedDate", "MaterialClass", "MaterialDefinition", "MaterialLot",
                                      "MaterialSubLot"}
LOT_CHILDREN = DESCRIPTIVE | {"MaterialDefinitionID", "Status", "MaterialLotProperty", "MaterialSubLot",
                              "StorageLocation", "Quantity"}
SUBLOT_CHILDREN = DESCRIPTIVE | {"Status", "MaterialSublotProperty", "StorageLocation", "Quantity", "MaterialSubLot",
                                 "MaterialLotID"}
PROPOSALS = {
    "MaterialDefinition": "material definitions are proposals; confirm them in master data",
    "MaterialClass": "material classes are proposals; confirm them in master data",
}


def material_information(r: Reader, noun: ET.Element, path: str, published: str | None, message: str) -> None:
    """material_lot_reported per MaterialLot and per MaterialSubLot (nested or top level; a sublot is reported
    under its own ID with its parent lot's material): status and quantity. MaterialDefinition and MaterialClass
    are quarantined as proposals for master data; lot properties have no bronze column and are quarantined with
    the reason. Event ids hold the message ID, the element path (lot, sublot) and a digest of the report (with
    its time), so a later status of the same lot is a new event and a re-delivered message a duplicate."""
    r.check(noun, path, INFORMATION_CHILDREN)
    for kind, reason in PROPOSALS.items():
        for element in r.children(noun, kind):
            r.reject(element, f"{path}/{kind}[{r.text(element, 'ID')}]", f"{kind} {r.text(element, 'ID')}: {reason}")
    lots = r.children(noun, "MaterialLot")
    materials = {r.text(lot, "ID"): r.text(lot, "MaterialDefinitionID") for lot in lots}
    for lot in lots:
        material_lot(r, lot, path, published, message)
    for sublot in r.children(noun, "MaterialSubLot"):
        parent = r.text(sublot, "MaterialLotID")
        material_sublot(r, sublot, path, published, message, materials.get(parent))


def material_lot(r: Reader, lot: ET.Element, path: str, published: str | None, message: str) -> None:
    code = r.text(lot, "ID")
    lot_path = f"{path}/MaterialLot[{code}]".lstrip("/")
    r.check(lot, lot_path, LOT_CHILDREN)
    material = r.text(lot, "MaterialDefinitionID")
    _lot_record(r, lot, lot_path, published, message, code, material)
    _properties(r, lot, lot_path, "MaterialLotProperty")
    for sublot in r.children(lot, "MaterialSubLot"):
        material_sublot(r, sublot, lot_path, published, message, material)


def material_sublot(r: Reader, sublot: ET.Element, path: str, published: str | None, message: str,
                    material: str | None) -> None:
    code = r.text(sublot, "ID")
    sublot_path = f"{path}/MaterialSubLot[{code}]".lstrip("/")
    r.check(sublot, sublot_path, SUBLOT_CHILDREN)
    _lot_record(r, sublot, sublot_path, published, message, code, material)
    _properties(r, sublot, sublot_path, "MaterialSublotProperty")
    for child in r.children(sublot, "MaterialSubLot"):
        material_sublot(r, child, sublot_path, published, message, material)


def material_definition(r: Reader, element: ET.Element, path: str) -> None:
    kind = r.local(element)
    r.reject(element, f"{path}[{r.text(element, 'ID')}]", f"{kind} {r.text(element, 'ID')}: {PROPOSALS[kind]}")


def _lot_record(r: Reader, element: ET.Element, path: str, published: str | None, message: str, code: str | None,
                material: str | None) -> None:
    quantities = r.children(element, "Quantity")
    quantity = quantities[0] if quantities else None
    value, unit = r.quantity(quantity)
    key = f"{message}:{path.removeprefix(r.noun_path).lstrip('/')}"
    r.record(key, "material_lot_reported", published, element, path, quantity, conserve=True, lot_code=code,
             material_code=material, lot_status=r.text(element, "Status"), quantity=value, unit=unit)
    r.extra_quantities(element, path, quantities)


def _properties(r: Reader, element: ET.Element, path: str, name: str) -> None:
    for prop in r.children(element, name):
        value = r.text(prop, "Value/ValueString")
        unit = r.text(prop, "Value/UnitOfMeasure")
        r.reject(prop, f"{path}/{name}[{r.text(prop, 'ID')}]",
                 f"{name} {r.text(prop, 'ID')!r} = {value} {unit or ''}".rstrip()
                 + f" of {path}: lot properties have no bronze column; kept here so the value is not lost")
