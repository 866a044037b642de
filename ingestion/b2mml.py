"""ISA-95 B2MML messages read into the same records as MES NDJSON events.

Versions: every published namespace - V0401 (`http://www.wbf.org/xml/B2MML-V0401`, published by WBF), V0500,
V0600 and V0601 (`http://www.mesa.org/xml/B2MML-V05xx/V06xx`) and V0700 and later (`http://www.mesa.org/xml/B2MML`)
- plus the unpublished `http://www.mesa.org/xml/B2MML-V0401` that plantlake's simulator wrote before (old files).

Messages: a bare noun (`<ProductionSchedule>`) or a verb envelope (`<SyncProductionSchedule releaseID=..>` with
ApplicationArea - CreationDateTime, BODID - and DataArea holding the verb element and one or more nouns). Process,
Sync, Show, Change, Acknowledge and Respond report facts and are read; Get (a query) and Cancel (a withdrawal), and
an action or response code Delete or Rejected, reject the file with the reason. A noun without a PublishedDate
takes the envelope's CreationDateTime as its time.

| noun | records (`ingestion.b2mml_nouns`) |
|---|---|
| ProductionSchedule | work_order_released per ProductionRequest: material and planned quantity of the first produced requirement (MaterialRequirement with MaterialUse Produced, or MaterialProducedRequirement; nested SegmentRequirements included), StartTime/EndTime as planned_start_at/due_at. Other material requirements (planned consumption, co-products) and requests in state Forecast or Cancelled are quarantined with the reason |
| ProductionPerformance | per ProductionResponse work_order_started and (with EndTime) work_order_completed; per SegmentResponse at any depth operation_started/completed; per MaterialActual (MaterialUse Consumed, Consumable / Produced, Co-product, By-product Produced), MaterialConsumedActual, MaterialProducedActual and ConsumableActual a material_consumed (at the segment's start) or lot_produced (at its end) |
| MaterialInformation, MaterialLot, MaterialSubLot | material_lot_reported per lot and per sublot (nested or not; under the sublot's ID with the lot's material): status and quantity. Lot properties are quarantined (no bronze column) |
| MaterialDefinition, MaterialClass | quarantined as proposals: "material definitions are proposals; confirm them in master data" |

Nothing is dropped silently: a child element no reader maps (PersonnelActual, ProductionData, an EquipmentActual's
Quantity, a vendor extension, ...) is quarantined with a reason naming it and listing what is supported there, and
an unsupported message (another noun) rejects the file naming it. Every Quantity of a message lands or is
quarantined: a record carries one, a second Quantity of the same element is quarantined, and each quarantined
element's raw payload lists the QuantityStrings it holds.

Event ids are `B2MML:<business path>:<digest of the record>`: the path is the work order, segment path, material
and lot (ProductionSchedule/Performance) or the message ID and lot/sublot path (MaterialInformation); the digest
covers every field, the event time included. So the same fact reported again - a re-delivered message, or the
completion message repeating the start message's consumption - is one event, landed once; a changed fact (a later
status of the same lot, a corrected time) is a new event; and one event id never lands on two event dates.

Parsing is hardened with defusedxml: DTDs, entity declarations and external references are refused, so
billion-laughs and XXE payloads become a file-level rejection with the reason, never an expansion.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ingestion.b2mml_model import (FACT_VERBS, LEGACY_NAMESPACES, NAMESPACES, REFUSED_ACTION_CODES, REFUSED_VERBS,
                                   VERBS, Envelope, Reader)
from ingestion.b2mml_nouns import (material_definition, material_information, material_lot, material_sublot,
                                   production_performance, production_schedule)
from ingestion.limits import MAX_XML_DEPTH, MAX_XML_ELEMENTS, FileLimitExceeded
from ingestion.records import ParsedFile, parsed_from_records

MAX_XML_BYTES = 64 * 1024 * 1024
NOUNS = ("ProductionSchedule", "ProductionPerformance", "MaterialInformation", "MaterialLot", "MaterialSubLot",
         "MaterialDefinition", "MaterialClass")
SUPPORTED = (f"supported: {', '.join(NOUNS)}, each bare or in a {'/'.join(FACT_VERBS)} verb envelope "
             "(ApplicationArea + DataArea)")

__all__ = ["LEGACY_NAMESPACES", "NAMESPACES", "NOUNS", "read_b2mml"]


class _Refused(Exception):
    """The file is rejected as a whole, with this reason."""


def _split_verb(tag: str) -> tuple[str | None, str]:
    for verb in VERBS:
        if tag.startswith(verb) and tag[len(verb):] in NOUNS:
            return verb, tag[len(verb):]
    return None, tag


def _envelope(r: Reader, root: ET.Element, tag: str, verb: str, noun: str) -> list[ET.Element]:
    if verb in REFUSED_VERBS:
        raise _Refused(f"B2MML {tag}: {verb} {REFUSED_VERBS[verb]}; read verbs: {list(FACT_VERBS)}")
    application, data = r.child(root, "ApplicationArea"), r.child(root, "DataArea")
    if application is None or data is None:
        raise _Refused(f"malformed B2MML envelope {tag}: it needs an ApplicationArea and a DataArea")
    verb_element = r.child(data, verb)
    if verb_element is None:
        raise _Refused(f"malformed B2MML envelope {tag}: its DataArea has no {verb} element")
    for element in verb_element.iter():
        for attribute in ("actionCode", "responseCode"):
            code = element.get(attribute)
            if code in REFUSED_ACTION_CODES:
                raise _Refused(f"B2MML {tag} with {attribute} {code} {REFUSED_ACTION_CODES[code]}")
    nouns = r.children(data, noun)
    if not nouns:
        raise _Refused(f"malformed B2MML envelope {tag}: its DataArea holds no {noun}")
    r.envelope = Envelope(tag, verb, r.text(application, "BODID"), r.text(application, "CreationDateTime"))
    r.check(data, f"{tag}/DataArea", {verb, noun})
    return nouns


def _read_noun(r: Reader, noun: ET.Element, name: str, prefix: str, label: str) -> None:
    published = r.text(noun, "PublishedDate") or r.envelope.created_at
    message = r.text(noun, "ID") or r.envelope.bod_id or "-"
    path = prefix + label
    r.noun_path = path
    if name == "ProductionSchedule":
        production_schedule(r, noun, path, published)
    elif name == "ProductionPerformance":
        production_performance(r, noun, path, published)
    elif name == "MaterialInformation":
        material_information(r, noun, path, published, message)
    else:  # a lot, sublot or definition sent on its own: its ID is the lot's, so the message is the BOD
        r.noun_path = prefix.rstrip("/")
        message = r.envelope.bod_id or "-"
        if name == "MaterialLot":
            material_lot(r, noun, r.noun_path, r.envelope.created_at, message)
        elif name == "MaterialSubLot":
            material_sublot(r, noun, r.noun_path, r.envelope.created_at, message, None)
        else:
            material_definition(r, noun, path)


def _parse_bounded(data: bytes) -> ET.Element:
    """The hardened parse, stopped as soon as the nesting or the element count passes its limit (a message
    nested thousands deep would otherwise exhaust the recursion of every later tree walk)."""
    depth = elements = 0
    root = None
    for event, element in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True,
                                           forbid_entities=True, forbid_external=True):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        elements += 1
        root = element if root is None else root
        if depth > MAX_XML_DEPTH:
            raise FileLimitExceeded(f"XML nested deeper than {MAX_XML_DEPTH} elements "
                                    "(ingestion.limits.MAX_XML_DEPTH)")
        if elements > MAX_XML_ELEMENTS:
            raise FileLimitExceeded(f"XML holds more than {MAX_XML_ELEMENTS:,} elements "
                                    "(ingestion.limits.MAX_XML_ELEMENTS)")
    if root is None:
        raise ET.ParseError("no element found")
    return root


def read_b2mml(data: bytes) -> ParsedFile:
    if len(data) > MAX_XML_BYTES:
        return ParsedFile(file_error=f"XML larger than {MAX_XML_BYTES} bytes")
    try:
        root = _parse_bounded(data)
    except FileLimitExceeded as exc:
        return ParsedFile(file_error=str(exc))
    except DefusedXmlException as exc:
        return ParsedFile(file_error=f"XML refused by the hardened parser: {type(exc).__name__}: {exc}")
    except ET.ParseError as exc:
        return ParsedFile(file_error=f"malformed XML: {exc}")
    namespace, _, tag = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    version = NAMESPACES.get(namespace) or LEGACY_NAMESPACES.get(namespace)
    if version is None:
        return ParsedFile(file_error=f"not a B2MML message: namespace {namespace!r} is not a published B2MML "
                                     f"namespace; read: {sorted(NAMESPACES)}")
    verb, noun = _split_verb(tag)
    if noun not in NOUNS:
        return ParsedFile(file_error=f"unsupported B2MML message {tag!r} ({version}); {SUPPORTED}")
    reader = Reader(namespace, version, Envelope(tag))
    try:
        nouns = [root] if verb is None else _envelope(reader, root, tag, verb, noun)
    except _Refused as exc:
        return ParsedFile(file_error=str(exc))
    prefix = "" if verb is None else f"{tag}/DataArea/"
    for index, element in enumerate(nouns):
        _read_noun(reader, element, noun, prefix, noun if len(nouns) == 1 else f"{noun}[{index}]")
    return parsed_from_records(reader.records, reader.rejections)
