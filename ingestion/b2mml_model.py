"""B2MML namespaces, verbs and the per-file reading context shared by the message readers in `ingestion.b2mml_nouns`.

Every fact a message carries becomes either a record (landed or quarantined by the MES contracts) or a rejection
with a reason (quarantined as it is): `Reader.record` and `Reader.reject`. Each record and rejection keeps, in its
raw payload, the `QuantityString`s it accounts for, so the quantities of a message can be reconciled with bronze
and quarantine; an element a reader does not know is never skipped silently (`Reader.check`).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

from ingestion.records import RawRecord, Rejection

# targetNamespace of the published schemas -> version. V0401 was published by WBF (wbf.org); MESA publishes V0500
# on with the version in the namespace up to V0601, then one namespace for V0700 and later releases.
NAMESPACES: dict[str, str] = {
    "http://www.wbf.org/xml/B2MML-V0401": "V0401",
    "http://www.mesa.org/xml/B2MML-V0500": "V0500",
    "http://www.mesa.org/xml/B2MML-V0600": "V0600",
    "http://www.mesa.org/xml/B2MML-V0601": "V0601",
    "http://www.mesa.org/xml/B2MML": "V07+",
}
# Not a published namespace: plantlake's simulator wrote V0401 messages in it before it was corrected. Read so that
# files already in a landing folder (and their quarantined records, when replayed) still parse.
LEGACY_NAMESPACES: dict[str, str] = {"http://www.mesa.org/xml/B2MML-V0401": "V0401 (legacy plantlake namespace)"}

VERBS = ("Get", "Show", "Process", "Acknowledge", "Change", "Respond", "Cancel", "Sync")
FACT_VERBS = ("Process", "Sync", "Show", "Change", "Acknowledge", "Respond")  # their nouns report facts
REFUSED_VERBS = {
    "Get": "is a request for data, not a report of it",
    "Cancel": "withdraws an earlier message; a cancellation is not landed as facts",
}
REFUSED_ACTION_CODES = {
    "Delete": "asks to delete the noun; deletions are not landed as facts",
    "Rejected": "reports that the receiver rejected the noun, whose content is therefore not a fact",
}
MAX_RAW_XML = 8192  # characters of an element's XML kept in a record's raw payload


def digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


@dataclass
class Envelope:
    """Where a noun came from: the verb envelope (None for a bare noun) and its ApplicationArea."""

    root: str
    verb: str | None = None
    bod_id: str | None = None
    created_at: str | None = None


@dataclass
class Reader:
    """Reading context of one file: its namespace and envelope, and the records and rejections read so far."""

    ns: str
    version: str
    envelope: Envelope
    noun_path: str = ""  # path of the noun being read; event ids use paths relative to it
    records: list[RawRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    _seq: int = 0
    _ids: Counter = field(default_factory=Counter)
    _snippets: dict[int, str] = field(default_factory=dict)  # id(element) -> its clipped XML, serialized once

    # ---- navigation ------------------------------------------------------------------------------------------
    def local(self, node: ET.Element) -> str:
        """The element's name; elements of another namespace keep it (`{urn:x}Name`) so they never match."""
        tag = node.tag if isinstance(node.tag, str) else ""
        prefix = f"{{{self.ns}}}"
        return tag[len(prefix):] if tag.startswith(prefix) else tag

    def child(self, node: ET.Element | None, name: str) -> ET.Element | None:
        return None if node is None else node.find(f"{{{self.ns}}}{name}")

    def children(self, node: ET.Element, name: str) -> list[ET.Element]:
        return node.findall(f"{{{self.ns}}}{name}")

    def text(self, node: ET.Element | None, path: str) -> str | None:
        found = None if node is None else node.find("/".join(f"{{{self.ns}}}{p}" for p in path.split("/")))
        value = None if found is None or found.text is None else found.text.strip()
        return value or None

    def texts(self, node: ET.Element, name: str) -> list[str]:
        return [t.text.strip() for t in self.children(node, name) if t.text and t.text.strip()]

    def quantity(self, element: ET.Element | None) -> tuple[str | None, str | None]:
        """(QuantityString, UnitOfMeasure) of a Quantity element."""
        return self.text(element, "QuantityString"), self.text(element, "UnitOfMeasure")

    def quantity_strings(self, node: ET.Element) -> list[str | None]:
        """Every QuantityString of a Quantity anywhere in the element (what a rejection of it accounts for)."""
        found = [] if self.local(node) != "Quantity" else [self.text(node, "QuantityString")]
        for quantity in node.iter(f"{{{self.ns}}}Quantity"):
            if quantity is not node:
                found.append(self.text(quantity, "QuantityString"))
        return found

    # ---- records ---------------------------------------------------------------------------------------------
    def next_seq(self) -> int:
        self._seq += 1
        return self._seq - 1

    def raw(self, element: ET.Element | None, path: str, quantities: list[str | None], **extra: object) -> str:
        payload = {"b2mml": self.version, "message": self.envelope.root, "element": path,
                   "quantities": quantities, **extra, "xml": self._snippet(element)}
        return json.dumps(payload, ensure_ascii=False)

    def _snippet(self, element: ET.Element | None) -> str:
        """An element's XML, clipped; serialized once per element, so records sharing an element (every lot of
        one message) keep parsing linear in the message's size."""
        if element is None:
            return ""
        key = id(element)
        if key not in self._snippets:
            snippet = ET.tostring(element, encoding="unicode").rstrip()
            self._snippets[key] = snippet if len(snippet) <= MAX_RAW_XML else snippet[:MAX_RAW_XML] + "..."
        return self._snippets[key]

    def record(self, key: str, event_type: str, occurred_at: str | None, element: ET.Element, path: str,
               counted: ET.Element | None = None, conserve: bool = False, **fields: str | None) -> None:
        """A record whose event id is `B2MML:<key>:<digest of its content>`: the same fact reported again (a
        re-delivered message, a later message repeating it) gets the same id and is a duplicate; any change (a
        later status, another quantity or time) is a new event, and one id never lands on two event dates.
        `counted`: the Quantity element the record carries. `conserve`: the record carries a quantity, so a second
        identical element of the same message is a second event (`#2`), not a duplicate."""
        content = {"event_type": event_type, "occurred_at": occurred_at, **fields}
        event_id = f"B2MML:{key}:{digest(content)}"
        self._ids[event_id] += 1
        if conserve and self._ids[event_id] > 1:
            event_id = f"{event_id}#{self._ids[event_id]}"
        event = {"event_id": event_id, **content}
        quantities = [] if counted is None else [self.text(counted, "QuantityString")]
        raw = self.raw(element, path, quantities, record=event)
        self.records.append(RawRecord(0, self.next_seq(), event_type, event, raw))

    def reject(self, element: ET.Element, path: str, reason: str, kind: str | None = None) -> None:
        """Quarantine an element as it is, with the reason, accounting for every quantity inside it."""
        raw = self.raw(element, path, self.quantity_strings(element))
        self.rejections.append(Rejection(0, self.next_seq(), raw, len(raw), reason,
                                         f"b2mml:{kind or self.local(element)}"))

    def check(self, node: ET.Element, path: str, known: frozenset[str] | set[str]) -> None:
        """Quarantine each child element that is not in `known` (valid B2MML that nothing maps, a vendor
        extension, the V0401 Any element) with a reason naming it and listing what is supported there."""
        for element in node:
            if not isinstance(element.tag, str):
                continue  # comments and processing instructions
            name = self.local(element)
            if name not in known:
                self.reject(element, f"{path}/{name}",
                            f"unsupported B2MML element {name!r} in {path}: plantlake does not map it; supported "
                            f"in {self.local(node)}: {sorted(known)}")

    def extra_quantities(self, element: ET.Element, path: str, quantities: list[ET.Element]) -> None:
        """One record carries one quantity: a second Quantity (e.g. in another unit) is quarantined, not dropped."""
        for extra in quantities[1:]:
            value, unit = self.quantity(extra)
            self.reject(extra, f"{path}/Quantity",
                        f"additional Quantity {value} {unit} of {self.local(element)} in {path}: a record carries "
                        "one quantity; the first Quantity of the element was read", "Quantity")
