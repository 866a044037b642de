"""The lot genealogy as GS1 EPCIS 2.0 JSON-LD, and back: traceability trading partners can read.

`epcis_document(edges, materials, ...)` turns genealogy edges (rows of `silver.fct_genealogy_edges`: a trace's,
a recall's or a period's) into one `EPCISDocument`; `edges_from_epcis(document)` reads the events back into
genealogy edges. Both are pure: no lake, no network.

Events, one family per edge type (bizStep, disposition and the other CBV values are the bare CBV 2.0 words):

- receipt `SUP:<supplier lot>` -> lot: one ObjectEvent per receipt, action ADD (the plant's lot comes into being
  at receipt), bizStep receiving, disposition in_progress; quantityList: the received lot; ilmd
  `plantlake:supplierLot`: the supplier's lot (same GTIN); readPoint: the receiving dock; bizLocation: the site;
  sourceList owning_party and possessing_party: the supplier; destinationList: the site.
- shipment lot -> `SHP:<shipment>`: one ObjectEvent per shipment (and time), action OBSERVE, bizStep shipping,
  disposition in_transit; quantityList: every lot shipped; bizTransactionList desadv: the shipment; readPoint:
  the shipping dock, no bizLocation (in transit); sourceList: the site; destinationList owning_party and
  possessing_party: the customer.
- consumption (consumed lots -> produced lots): one TransformationEvent per work order (and production time),
  bizStep commissioning, disposition in_progress; inputQuantityList: the consumed lots; outputQuantityList: the
  produced lots with their produced quantity; bizTransactionList prodorder: the work order; readPoint: the
  machine; bizLocation: the site.
- split and merge: one TransformationEvent per MES split or merge, bizStep repackaging, disposition in_progress;
  inputs: the source lots (quantity moved), outputs: the resulting lots; `plantlake:edgeType`: split or merge.

Lots are class-level identifiers, the material's GTIN with the lot number (`epcis_ids.lot_class_uri`), with
quantity and uom (UN/ECE Rec 20: EA->EA, PCE->H87, G->GRM, KG->KGM, BOX->XBX, PAL->XPX; others via
`EpcisOptions.units`). Event times are UTC (`...Z`) with `eventTimeZoneOffset` the plant's offset at that moment.

Reading back, a transformation's inputs are allocated to its outputs in proportion to output quantity, the rule
`edges.consumption_edges` builds consumption edges with, so every edge comes back with its parent, child, type,
quantity, unit and time. An export groups a work order's edges into one event only when that rule reproduces
each edge; otherwise (a subset that is not a full input x output product, or produced quantities out of
proportion) it writes one event per produced lot, which reproduces them exactly.

A material without a GTIN (or with a wrong check digit), a lot whose material is unknown, a produced lot without
a produced quantity or a unit without a Rec 20 code stop the export with an `EpcisExportError` naming them: no
event is ever written with a made-up identifier or quantity.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from lakehouse.errors import PlantlakeError
from transforms.genealogy.edges import EDGE_COLUMNS, SHIPMENT_PREFIX, SUPPLIER_PREFIX
from transforms.genealogy.epcis_ids import (DEMO_COMPANY_PREFIX, DEMO_SITE_GLN, ID_FORMATS, EpcisIdentifierError,
                                            IdFormat, business_transaction_uri, location_uri, lot_class_uri,
                                            normalize_gln, normalize_gtin, parse_business_transaction_uri,
                                            parse_location_uri, parse_lot_class_uri, parse_party_gln_uri,
                                            party_gln_uri)

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
DEFAULT_NAMESPACE = "https://plantlake.example/"  # RFC 2606: .example never belongs to anyone
EXTENSION_PREFIX = "plantlake"
SUPPLIER_LOT_FIELD = f"{EXTENSION_PREFIX}:supplierLot"
EDGE_TYPE_FIELD = f"{EXTENSION_PREFIX}:edgeType"
UNIT_TO_UOM: dict[str, str] = {"EA": "EA", "PCE": "H87", "G": "GRM", "KG": "KGM", "BOX": "XBX", "PAL": "XPX",
                               "L": "LTR", "M": "MTR"}
BIZ_STEP = {"receipt": "receiving", "shipment": "shipping", "consumption": "commissioning", "split": "repackaging",
            "merge": "repackaging"}
DISPOSITION = {"receipt": "in_progress", "shipment": "in_transit", "consumption": "in_progress",
               "split": "in_progress", "merge": "in_progress"}
_EVENT_ORDER = {"receipt": 0, "consumption": 1, "split": 2, "merge": 2, "shipment": 3}
_EVENT_IDS = uuid.UUID("5b0c1d3e-9a4f-5e27-8c61-0f6a2b7d9e14")  # uuid5 namespace of plantlake's EPCIS events
_CBV_PREFIXES = ("urn:epcglobal:cbv:bizstep:", "urn:epcglobal:cbv:disp:", "urn:epcglobal:cbv:btt:",
                 "urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/BizStep-", "https://ref.gs1.org/cbv/Disp-",
                 "https://ref.gs1.org/cbv/BTT-", "https://ref.gs1.org/cbv/SDT-", "https://gs1.org/voc/BizStep-",
                 "https://gs1.org/voc/Disp-", "https://gs1.org/voc/BTT-", "https://gs1.org/voc/SDT-")


_Keyed = tuple[tuple[Any, ...], dict[str, Any]]  # (sort key, event)


class EpcisExportError(PlantlakeError, ValueError):
    """The genealogy cannot be written as EPCIS as asked (a material without GTIN, a lot of unknown material, a
    produced lot without quantity, a unit without a UN/ECE Rec 20 code), or a document read is not EPCIS."""


@dataclass(frozen=True)
class EpcisOptions:
    """Who and where the plant is, in GS1 terms, and how identifiers are written.

    site_gln: the plant's GLN (13 digits); locations are it plus the location id as GLN extension, the site's own
      party is its party GLN. The default is a GLN under GS1's demonstration prefix 952 (never a real one).
    id_format: `digital_link` (https://id.gs1.org/...) or `epc` (urn:epc:class:lgtin / urn:epc:id:sgln / pgln),
      which needs `company_prefix_length` (of the GTINs and of the site GLN).
    party_glns: supplier and customer ids -> their party GLN; a party without one is written as
      `{namespace}party/{id}` (the master data has no party GLNs yet).
    receiving_location, shipping_location: the location ids (dim_location) of the receipt and shipping docks.
    timezone: the plant's IANA time zone, for eventTimeZoneOffset (dim_plant.plant_timezone).
    units: extra or overriding unit -> UN/ECE Rec 20 code mappings.
    """

    site_gln: str = DEMO_SITE_GLN
    id_format: IdFormat = "digital_link"
    company_prefix_length: int = len(DEMO_COMPANY_PREFIX)
    namespace: str = DEFAULT_NAMESPACE
    party_glns: Mapping[str, str] = field(default_factory=dict)
    receiving_location: str = "DOCK-RCV"
    shipping_location: str = "DOCK-SHP"
    timezone: str = "UTC"
    units: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.id_format not in ID_FORMATS:
            raise EpcisExportError(f"id_format must be one of {', '.join(ID_FORMATS)}, not {self.id_format!r}")
        try:
            normalize_gln(self.site_gln, what="site GLN")
            for party, gln in self.party_glns.items():
                normalize_gln(gln, what=f"GLN of party {party}")
        except EpcisIdentifierError as error:
            raise EpcisExportError(str(error)) from None
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise EpcisExportError(f"{self.timezone!r} is not an IANA time zone") from None

    def uom(self, unit: str | None) -> str:
        mapping = {**UNIT_TO_UOM, **self.units}
        if unit is None or unit not in mapping:
            raise EpcisExportError(f"unit {unit!r} has no UN/ECE Rec 20 code: pass EpcisOptions(units={{{unit!r}: "
                                   f"'...'}}) (known: {', '.join(sorted(mapping))})")
        return mapping[unit]

    def unit(self, uom: str | None) -> str | None:
        reverse = {code: unit for unit, code in {**UNIT_TO_UOM, **self.units}.items()}
        return reverse.get(uom, uom) if uom is not None else None

    def location(self, location_id: str | None) -> str:
        return location_uri(self.site_gln, location_id, self.id_format, self.company_prefix_length)

    def party(self, party_id: str | None) -> str:
        """The site's own party for None, a party GLN when known, otherwise the private party URI."""
        if party_id is None:
            return party_gln_uri(self.site_gln, self.id_format, self.company_prefix_length)
        if party_id in self.party_glns:
            return party_gln_uri(self.party_glns[party_id], self.id_format, self.company_prefix_length)
        return f"{self.namespace}party/{party_id}"

    def party_id(self, uri: str) -> str | None:
        """The supplier or customer id of a party URI (None for the site itself or an unknown party GLN)."""
        gln = parse_party_gln_uri(uri)
        if gln is not None:
            return next((party for party, known in self.party_glns.items() if known == gln), None)
        prefix = f"{self.namespace}party/"
        return uri[len(prefix):] if uri.startswith(prefix) else uri


# ---- export ---------------------------------------------------------------------------------------------------
def epcis_document(edges: pl.DataFrame, materials: pl.DataFrame, *, material_codes: pl.DataFrame | None = None,
                   produced_lots: pl.DataFrame | None = None, options: EpcisOptions | None = None,
                   creation_date: datetime | None = None) -> dict[str, Any]:
    """An EPCIS 2.0 `EPCISDocument` (a JSON-ready dict) with one event per receipt, shipment, work order
    production, split and merge among `edges` (rows of silver.fct_genealogy_edges; extra columns are ignored).

    materials: silver.dim_material rows (material_id, gtin). material_codes: silver.map_material_code rows, to
    read the MES and WMS material codes of the edges (without it, edge material codes must be material ids).
    produced_lots: the produced lots (lot_code, material_code, quantity, unit: the MES `lot_produced` events),
    for the output quantities and materials of production events. creation_date: default now (UTC).
    """
    options = options or EpcisOptions()
    rows = _edge_rows(edges)
    unknown = sorted({row["edge_type"] for row in rows} - set(BIZ_STEP))
    if unknown:
        raise EpcisExportError(f"edge types {', '.join(map(str, unknown))} have no EPCIS mapping")
    resolver = _MaterialResolver(materials, material_codes)
    produced = _produced(produced_lots, resolver)
    lot_material = _lot_materials(rows, produced, resolver)
    classes = _LotClasses(lot_material, resolver, options)
    classes.check(rows)
    builder = _EventBuilder(options, classes, produced)
    events: list[_Keyed] = []
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_type[row["edge_type"]].append(row)
    for row in by_type["receipt"]:
        events.append(builder.receipt(row))
    for group in _groups(by_type["shipment"], ("child_node_id", "occurred_at", "customer_id")):
        events.append(builder.shipment(group))
    for group in _groups(by_type["consumption"], ("work_order_id", "occurred_at")):
        events.extend(builder.production(group))
    for edge_type in ("split", "merge"):
        for group in _groups(by_type[edge_type], ("source_event_id", "occurred_at")):
            events.extend(builder.lot_operation(edge_type, group))
    events.sort(key=lambda item: item[0])
    created = _utc(creation_date or datetime.now(timezone.utc))
    return {
        "@context": [EPCIS_CONTEXT, {EXTENSION_PREFIX: f"{options.namespace}voc/"}],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": _timestamp(created.replace(microsecond=created.microsecond // 1000 * 1000)),
        "epcisBody": {"eventList": [event for _, event in events]},
    }


def _edge_rows(edges: pl.DataFrame) -> list[dict[str, Any]]:
    missing = [c for c in ("parent_node_id", "child_node_id", "edge_type", "quantity", "unit", "occurred_at")
               if c not in edges.columns]
    if missing:
        raise EpcisExportError(f"edges need the columns of silver.fct_genealogy_edges; missing {', '.join(missing)}")
    present = [c for c in EDGE_COLUMNS if c in edges.columns]
    rows = edges.select(present).to_dicts()
    for row in rows:
        for column in EDGE_COLUMNS:
            row.setdefault(column, None)
        if row["quantity"] is None or row["quantity"] != row["quantity"]:
            raise EpcisExportError(f"edge {row['edge_id'] or (row['parent_node_id'], row['child_node_id'])} has "
                                   "no quantity")
        if row["occurred_at"] is None:
            raise EpcisExportError(f"edge {row['edge_id']} has no time")
    return rows


class _MaterialResolver:
    """Material codes of the reporting systems (or material ids) -> material id -> GTIN-14."""

    def __init__(self, materials: pl.DataFrame, codes: pl.DataFrame | None) -> None:
        if "material_id" not in materials.columns or "gtin" not in materials.columns:
            raise EpcisExportError("materials need material_id and gtin (silver.dim_material); this one has "
                                   f"{', '.join(materials.columns)}: a lake written before the gtin column needs "
                                   "its master data run again")
        self.gtin_of: dict[str, str | None] = dict(zip(materials["material_id"].to_list(),
                                                       materials["gtin"].cast(pl.String).to_list(), strict=True))
        self.by_code: dict[tuple[str, str], str] = {}
        self.any_system: dict[str, set[str]] = defaultdict(set)
        if codes is not None:
            for row in codes.select("material_id", "system", "system_material_code").iter_rows():
                self.by_code[(row[1], row[2])] = row[0]
                self.any_system[row[2]].add(row[0])

    def material(self, code: str | None, system: str | None) -> str | None:
        if code is None:
            return None
        if system is not None and (system, code) in self.by_code:
            return self.by_code[(system, code)]
        if code in self.gtin_of:
            return code
        candidates = self.any_system.get(code, set())
        return next(iter(candidates)) if len(candidates) == 1 else None


def _produced(produced_lots: pl.DataFrame | None, resolver: _MaterialResolver) -> dict[str, dict[str, Any]]:
    """lot -> {material, quantity, unit} of produced lots (quantities of one lot in one unit summed)."""
    if produced_lots is None:
        return {}
    needed = ["lot_code", "material_code", "quantity", "unit"]
    missing = [c for c in needed if c not in produced_lots.columns]
    if missing:
        raise EpcisExportError(f"produced_lots need lot_code, material_code, quantity and unit; missing "
                               f"{', '.join(missing)}")
    if "event_type" in produced_lots.columns:  # MES lot events: only lot_produced says what a work order made
        produced_lots = produced_lots.filter(pl.col("event_type") == "lot_produced")
    produced: dict[str, dict[str, Any]] = {}
    for row in produced_lots.select(needed).iter_rows(named=True):
        lot = row["lot_code"]
        entry = produced.setdefault(lot, {"material": resolver.material(row["material_code"], "MES"),
                                          "quantity": 0.0, "unit": row["unit"]})
        if entry["unit"] != row["unit"]:
            raise EpcisExportError(f"produced lot {lot} is reported in two units ({entry['unit']}, {row['unit']})")
        entry["quantity"] += float(row["quantity"] or 0.0)
    return produced


def _edge_system(edge_type: str) -> str:
    return "WMS" if edge_type in ("receipt", "shipment") else "MES"


def _lot_materials(rows: list[dict[str, Any]], produced: dict[str, dict[str, Any]],
                   resolver: _MaterialResolver) -> dict[str, str | None]:
    """Every lot and supplier lot of the edges -> its material id: produced lots from `produced_lots`, the others
    from the edges that name their material (a receipt's and a split's or merge's child, what a consumption or
    shipment takes from its parent, a supplier lot's receipt)."""
    found: dict[str, str | None] = {lot: entry["material"] for lot, entry in produced.items()}
    for row in rows:
        material = resolver.material(row["material_code"], _edge_system(row["edge_type"]))
        if material is None:
            continue
        named = {"receipt": (row["parent_node_id"], row["child_node_id"]),
                 "consumption": (row["parent_node_id"],), "shipment": (row["parent_node_id"],),
                 "split": (row["child_node_id"], row["parent_node_id"]),
                 "merge": (row["child_node_id"], row["parent_node_id"])}.get(row["edge_type"], ())
        for node in named:
            if found.get(node) is None:
                found[node] = material
    return found


class _LotClasses:
    """Lot node -> class-level identifier (GTIN + lot number); refuses unknown materials and missing GTINs."""

    def __init__(self, lot_material: dict[str, str | None], resolver: _MaterialResolver,
                 options: EpcisOptions) -> None:
        self.lot_material, self.resolver, self.options = lot_material, resolver, options

    def check(self, rows: list[dict[str, Any]]) -> None:
        nodes = sorted({n for row in rows for n in (row["parent_node_id"], row["child_node_id"])
                        if not n.startswith(SHIPMENT_PREFIX)})
        unknown = [n for n in nodes if self.lot_material.get(n) is None]
        if unknown:
            raise EpcisExportError(f"{len(unknown)} lots have no known material ({', '.join(unknown[:10])}"
                                   f"{', ...' if len(unknown) > 10 else ''}): pass produced_lots and material_codes")
        without: dict[str, list[str]] = defaultdict(list)
        for node in nodes:
            material = self.lot_material[node]
            assert material is not None
            gtin = self.resolver.gtin_of.get(material)
            if gtin is None or not str(gtin).strip():
                without[material].append(node)
            else:
                try:
                    normalize_gtin(gtin, what=f"GTIN of material {material}")
                except EpcisIdentifierError as error:
                    raise EpcisExportError(str(error)) from None
        if without:
            listed = "; ".join(f"{m} (lots {', '.join(lots[:3])}{', ...' if len(lots) > 3 else ''})"
                               for m, lots in sorted(without.items()))
            raise EpcisExportError(f"materials without a GTIN cannot be identified in EPCIS: {listed}; add their "
                                   "GTIN to the materials master data (silver.dim_material.gtin)")

    def uri(self, node: str) -> str:
        material = self.lot_material[node]
        assert material is not None
        gtin = normalize_gtin(self.resolver.gtin_of[material])
        lot = node.removeprefix(SUPPLIER_PREFIX)
        try:
            return lot_class_uri(gtin, lot, self.options.id_format, self.options.company_prefix_length)
        except EpcisIdentifierError as error:
            raise EpcisExportError(str(error)) from None


def _groups(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> Iterable[list[dict[str, Any]]]:
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[tuple(row[k] for k in keys)].append(row)
    return grouped.values()


def _summed(rows: list[dict[str, Any]], node_column: str) -> dict[str, tuple[float, str]]:
    """node -> (summed quantity, unit), in first-seen order; one node in two units is refused."""
    sums: dict[str, tuple[float, str]] = {}
    for row in rows:
        node = row[node_column]
        quantity, unit = sums.get(node, (0.0, row["unit"]))
        if unit != row["unit"]:
            raise EpcisExportError(f"lot {node} moves in two units ({unit}, {row['unit']}) in one event")
        sums[node] = (quantity + float(row["quantity"]), unit)
    return sums


def _reproduces(rows: list[dict[str, Any]], inputs: dict[str, tuple[float, str]],
                outputs: dict[str, tuple[float, str]]) -> bool:
    """Whether allocating each input to the outputs by output quantity gives back every edge of the group."""
    total = sum(q for q, _ in outputs.values())
    pairs: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        pairs[(row["parent_node_id"], row["child_node_id"])] += float(row["quantity"])
    if total <= 0 or len(pairs) != len(inputs) * len(outputs):
        return False
    for (parent, child), quantity in pairs.items():
        allocated = inputs[parent][0] * outputs[child][0] / total
        if abs(allocated - quantity) > 1e-9 * max(1.0, abs(quantity)):
            return False
    return True


class _EventBuilder:
    def __init__(self, options: EpcisOptions, classes: _LotClasses, produced: dict[str, dict[str, Any]]) -> None:
        self.options, self.classes, self.produced = options, classes, produced
        self.zone = ZoneInfo(options.timezone)

    def _quantity(self, node: str, quantity: float, unit: str) -> dict[str, Any]:
        return {"epcClass": self.classes.uri(node), "quantity": _number(quantity), "uom": self.options.uom(unit)}

    def _header(self, edge_type: str, key: str, moment: datetime) -> dict[str, Any]:
        moment = _utc(moment)
        offset = moment.astimezone(self.zone).strftime("%z") or "+0000"
        return {"type": "", "eventTime": _timestamp(moment), "eventTimeZoneOffset": f"{offset[:3]}:{offset[3:]}",
                "eventID": f"urn:uuid:{uuid.uuid5(_EVENT_IDS, f'{edge_type}|{key}|{_timestamp(moment)}')}"}

    def receipt(self, row: dict[str, Any]) -> _Keyed:
        key = str(row["source_event_id"] or row["edge_id"] or row["child_node_id"])
        event = self._header("receipt", key, row["occurred_at"])
        supplier = self.options.party(row["supplier_id"]) if row["supplier_id"] else None
        event.update({
            "type": "ObjectEvent", "action": "ADD",
            "quantityList": [self._quantity(row["child_node_id"], row["quantity"], row["unit"])],
            "bizStep": BIZ_STEP["receipt"], "disposition": DISPOSITION["receipt"],
            "readPoint": {"id": self.options.location(self.options.receiving_location)},
            "bizLocation": {"id": self.options.location(None)},
        })
        if supplier is not None:
            event["sourceList"] = [{"type": "owning_party", "source": supplier},
                                   {"type": "possessing_party", "source": supplier}]
        event["destinationList"] = [{"type": "owning_party", "destination": self.options.party(None)},
                                    {"type": "possessing_party", "destination": self.options.party(None)}]
        event["ilmd"] = {SUPPLIER_LOT_FIELD: self.classes.uri(row["parent_node_id"])}
        return self._sort_key("receipt", event, key), event

    def shipment(self, rows: list[dict[str, Any]]) -> _Keyed:
        first = rows[0]
        shipment_id = first["child_node_id"].removeprefix(SHIPMENT_PREFIX)
        key = shipment_id
        event = self._header("shipment", key, first["occurred_at"])
        event.update({
            "type": "ObjectEvent", "action": "OBSERVE",
            "quantityList": [self._quantity(node, q, unit) for node, (q, unit) in _summed(rows, "parent_node_id")
                             .items()],
            "bizStep": BIZ_STEP["shipment"], "disposition": DISPOSITION["shipment"],
            "readPoint": {"id": self.options.location(self.options.shipping_location)},
            "bizTransactionList": [{"type": "desadv",
                                    "bizTransaction": business_transaction_uri(self.options.site_gln, shipment_id)}],
            "sourceList": [{"type": "owning_party", "source": self.options.party(None)},
                           {"type": "possessing_party", "source": self.options.party(None)}],
        })
        if first["customer_id"]:
            customer = self.options.party(first["customer_id"])
            event["destinationList"] = [{"type": "owning_party", "destination": customer},
                                        {"type": "possessing_party", "destination": customer}]
        return self._sort_key("shipment", event, key), event

    def production(self, rows: list[dict[str, Any]]) -> list[_Keyed]:
        outputs: dict[str, tuple[float, str]] = {}
        missing = []
        for child in dict.fromkeys(row["child_node_id"] for row in rows):
            entry = self.produced.get(child)
            if entry is None or entry["unit"] is None:
                missing.append(child)
            else:
                outputs[child] = (entry["quantity"], entry["unit"])
        if missing:
            raise EpcisExportError(f"produced lots {', '.join(missing)} (work order {rows[0]['work_order_id']}) "
                                   "have no produced quantity: pass produced_lots (MES lot_produced events)")
        return self._transformations("consumption", rows, _summed(rows, "parent_node_id"), outputs)

    def lot_operation(self, edge_type: str, rows: list[dict[str, Any]]) -> list[_Keyed]:
        return self._transformations(edge_type, rows, _summed(rows, "parent_node_id"), _summed(rows, "child_node_id"))

    def _transformations(self, edge_type: str, rows: list[dict[str, Any]], inputs: dict[str, tuple[float, str]],
                         outputs: dict[str, tuple[float, str]]) -> list[_Keyed]:
        if _reproduces(rows, inputs, outputs):
            return [self._transformation(edge_type, rows, inputs, outputs)]
        events = []
        for child in outputs:  # one event per output: its own inputs, nothing to allocate
            own = [row for row in rows if row["child_node_id"] == child]
            events.append(self._transformation(edge_type, own, _summed(own, "parent_node_id"),
                                               {child: outputs[child]}))
        return events

    def _transformation(self, edge_type: str, rows: list[dict[str, Any]], inputs: dict[str, tuple[float, str]],
                        outputs: dict[str, tuple[float, str]]) -> _Keyed:
        first = rows[0]
        key = ((first["work_order_id"] if edge_type == "consumption" else first["source_event_id"]) or "") + "|" \
            + "|".join(outputs)
        event = self._header(edge_type, key, first["occurred_at"])
        machines = {row["machine_id"] for row in rows if row["machine_id"]}
        event.update({
            "type": "TransformationEvent",
            "inputQuantityList": [self._quantity(node, q, unit) for node, (q, unit) in inputs.items()],
            "outputQuantityList": [self._quantity(node, q, unit) for node, (q, unit) in outputs.items()],
            "bizStep": BIZ_STEP[edge_type], "disposition": DISPOSITION[edge_type],
            "readPoint": {"id": self.options.location(machines.pop() if len(machines) == 1 else None)},
            "bizLocation": {"id": self.options.location(None)},
        })
        if edge_type == "consumption" and first["work_order_id"]:
            event["bizTransactionList"] = [{"type": "prodorder", "bizTransaction": business_transaction_uri(
                self.options.site_gln, first["work_order_id"])}]
        if edge_type in ("split", "merge"):
            event[EDGE_TYPE_FIELD] = edge_type
        return self._sort_key(edge_type, event, key), event

    @staticmethod
    def _sort_key(edge_type: str, event: dict[str, Any], key: str) -> tuple[Any, ...]:
        return (_event_time(event), _EVENT_ORDER[edge_type], key, event["eventID"])


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _timestamp(moment: datetime) -> str:
    moment = _utc(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


# ---- import ---------------------------------------------------------------------------------------------------
def edges_from_epcis(document: Mapping[str, Any], *, materials: pl.DataFrame | None = None,
                     options: EpcisOptions | None = None) -> pl.DataFrame:
    """Genealogy edges (the columns of silver.fct_genealogy_edges) from an EPCIS 2.0 document's events:
    receiving ObjectEvents with a `plantlake:supplierLot` give receipts, shipping ObjectEvents with a desadv
    business transaction give shipments (customer: the destination's owning party), TransformationEvents give
    consumption (with a prodorder transaction or bizStep commissioning), split or merge edges, each input lot
    allocated to the outputs in proportion to output quantity. Lots come back as their lot numbers, supplier lots
    as `SUP:<lot>`, shipments as `SHP:<id>`; material_code is the material id when `materials` (dim_material with
    gtin) is given, else the GTIN-14; units are read back from UN/ECE Rec 20 codes. Other events are skipped."""
    options = options or EpcisOptions()
    material_of: dict[str, str] = {}
    if materials is not None:
        for material_id, gtin in materials.select("material_id", "gtin").iter_rows():
            try:
                material_of[normalize_gtin(gtin)] = material_id
            except EpcisIdentifierError:
                continue
    if document.get("type") != "EPCISDocument":
        raise EpcisExportError(f"not an EPCISDocument (type {document.get('type')!r})")
    body = document.get("epcisBody") or {}
    events = body.get("eventList")
    if events is None:
        events = ((body.get("queryResults") or {}).get("resultsBody") or {}).get("eventList") or []
    rows: list[dict[str, Any]] = []
    for event in events:
        rows.extend(_event_edges(event, options, material_of))
    frame = pl.DataFrame(rows, schema={name: pl.String for name in EDGE_COLUMNS} | {
        "quantity": pl.Float64, "occurred_at": pl.Datetime("us", "UTC")})
    return frame.select(*EDGE_COLUMNS)


def _cbv(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    for prefix in _CBV_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def _event_time(event: Mapping[str, Any]) -> datetime:
    text = str(event.get("eventTime", ""))
    try:
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise EpcisExportError(f"event {event.get('eventID')} has no valid eventTime ({text!r})") from None


def _quantities(elements: object, epcs: object = None) -> list[tuple[str, str, float, str | None]]:
    """(lot, gtin14, quantity, uom) of a quantity list (and an EPC list, each EPC counting 1)."""
    found = []
    for element in elements or []:
        try:
            gtin, lot = parse_lot_class_uri(element["epcClass"])
        except (EpcisIdentifierError, KeyError, TypeError):
            continue
        found.append((lot, gtin, float(element.get("quantity", 0.0)), element.get("uom")))
    for epc in epcs or []:
        try:
            gtin, lot = parse_lot_class_uri(epc)
        except EpcisIdentifierError:
            continue
        found.append((lot, gtin, 1.0, None))
    return found


def _transactions(event: Mapping[str, Any], kind: str) -> list[str]:
    found = []
    for item in event.get("bizTransactionList") or []:
        if _cbv(item.get("type")) == kind:
            parsed = parse_business_transaction_uri(str(item.get("bizTransaction", "")))
            found.append(parsed[1] if parsed else str(item.get("bizTransaction")))
    return found


def _party(parties: object, key: str, options: EpcisOptions) -> str | None:
    for item in parties or []:
        if _cbv(item.get("type")) == "owning_party" and item.get(key):
            return options.party_id(str(item[key]))
    return None


def _event_edges(event: Mapping[str, Any], options: EpcisOptions,
                 material_of: Mapping[str, str]) -> list[dict[str, Any]]:
    if event.get("errorDeclaration"):  # declared erroneous: its corrective events (if any) say what happened
        return []
    kind, step = event.get("type"), _cbv(event.get("bizStep"))
    event_id = str(event.get("eventID") or "")
    moment = _event_time(event)

    def edge(parent: str, child: str, edge_type: str, gtin: str, quantity: float, uom: str | None,
             **extra: str | None) -> dict[str, Any]:
        return {"edge_id": f"{edge_type}:{event_id}:{parent}:{child}", "parent_node_id": parent,
                "child_node_id": child, "edge_type": edge_type, "work_order_id": extra.get("work_order_id"),
                "machine_id": extra.get("machine_id"), "material_code": material_of.get(gtin, gtin),
                "quantity": quantity, "unit": options.unit(uom), "occurred_at": moment,
                "supplier_id": extra.get("supplier_id"), "customer_id": extra.get("customer_id"),
                "source_event_id": event_id}

    if kind == "ObjectEvent" and step == "receiving":
        supplier_lot_uri = (event.get("ilmd") or {}).get(SUPPLIER_LOT_FIELD)
        if not supplier_lot_uri:
            return []
        _, supplier_lot = parse_lot_class_uri(str(supplier_lot_uri))
        supplier = _party(event.get("sourceList"), "source", options)
        return [edge(SUPPLIER_PREFIX + supplier_lot, lot, "receipt", gtin, quantity, uom, supplier_id=supplier)
                for lot, gtin, quantity, uom in _quantities(event.get("quantityList"), event.get("epcList"))]
    if kind == "ObjectEvent" and step == "shipping":
        customer = _party(event.get("destinationList"), "destination", options)
        return [edge(lot, SHIPMENT_PREFIX + shipment, "shipment", gtin, quantity, uom, customer_id=customer)
                for shipment in _transactions(event, "desadv")
                for lot, gtin, quantity, uom in _quantities(event.get("quantityList"), event.get("epcList"))]
    if kind != "TransformationEvent":
        return []
    inputs = _quantities(event.get("inputQuantityList"), event.get("inputEPCList"))
    outputs = _quantities(event.get("outputQuantityList"), event.get("outputEPCList"))
    work_orders = _transactions(event, "prodorder")
    marked = event.get(EDGE_TYPE_FIELD)
    if marked in ("split", "merge"):
        edge_type = str(marked)
    elif work_orders or step == "commissioning":
        edge_type = "consumption"
    else:
        edge_type = "merge" if len(inputs) > 1 else "split"
    location = parse_location_uri(str((event.get("readPoint") or {}).get("id", "")))
    machine = location[1] if edge_type == "consumption" and location else None
    total = sum(q for _, _, q, _ in outputs)
    edges = []
    for parent, gtin, quantity, uom in inputs:
        for child, _, out_quantity, _ in outputs:
            share = out_quantity / total if total > 0 else 1.0 / len(outputs)
            edges.append(edge(parent, child, edge_type, gtin, quantity * share, uom,
                              work_order_id=work_orders[0] if work_orders else None, machine_id=machine))
    return edges
