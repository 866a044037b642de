"""The hostile corpus of the file landing (tests/ingestion/hostile_corpus.py) as messages: every NDJSON case and
every WMS case whose rows are well-formed CSV, one record per message, with the outcome the file gets.

Ids are prefixed per case so that all cases can share one lake. Differences from files, by design: a record
larger than the message limit is quarantined by that limit (a 2 MiB record stands for the 100 MB line), and an
empty file has no message to send."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from ingestion.messages import MAX_MESSAGE_BYTES
from tests.ingestion.hostile_corpus import CASES, COLUMNS, MES, WMS, event

HUGE = "100 MB single line ndjson"


@dataclass(frozen=True)
class MessageCase:
    name: str
    kind: str  # mes | wms
    payloads: tuple[bytes, ...]
    record_types: tuple[str, ...]  # what each message's topic names
    rows: tuple[int, int, int, int]  # read, landed, quarantined, duplicate
    reason: str
    mqtt_only: bool = False  # the topic names a type; an API path does not
    id_prefix: str | None = None  # the ids of this case's records start with it (None: no id to count by)


def _prefixed(payload: bytes, field: str, prefix: str) -> bytes:
    try:
        record = json.loads(payload)
    except (ValueError, RecursionError):
        return payload
    if isinstance(record, dict) and isinstance(record.get(field), str):
        record[field] = prefix + record[field]
        return json.dumps(record).encode()
    return payload


def _mes(case, index: int) -> MessageCase | None:
    lines = [line for line in case.content.split(b"\n") if line.strip()]
    if not lines:
        return None
    reason = case.reason
    if case.name == HUGE:
        lines = [json.dumps(event(event_id="E0")).encode(), b'{"x": "' + b"A" * (2 * MAX_MESSAGE_BYTES) + b'"}']
        reason = "more than the limit of"
    payloads = tuple(_prefixed(line, "event_id", f"C{index}-") for line in lines)
    types = []
    for payload in payloads:
        try:
            types.append(str(json.loads(payload).get("event_type") or "equipment_state_changed"))
        except (ValueError, AttributeError, RecursionError):
            types.append("equipment_state_changed")
    return MessageCase(case.name, "mes", payloads, tuple(types), case.rows, reason, id_prefix=f"C{index}-")


def _wms(case, index: int) -> MessageCase | None:
    lines = case.content.decode("utf-8", errors="strict").splitlines()
    if len(lines) < 2 or lines[0] != ",".join(COLUMNS):
        return None
    try:
        rows = list(csv.reader(io.StringIO("\n".join(lines[1:])), strict=True))
    except csv.Error:
        return None
    if any(len(row) != len(COLUMNS) for row in rows) or len(rows) != case.rows[0]:
        return None  # CSV-only trouble (field counts, quoted newlines): a JSON record cannot have it
    records = [{c: v.strip() for c, v in zip(COLUMNS, row, strict=True) if v.strip()} for row in rows]
    payloads = tuple(_prefixed(json.dumps(r).encode(), "transaction_id", f"C{index}-") for r in records)
    types = tuple(r.get("transaction_type", "RECEIPT") for r in records)
    return MessageCase(case.name, "wms", payloads, types, case.rows, case.reason, id_prefix=f"C{index}-")


def message_cases() -> list[MessageCase]:
    found = []
    for index, case in enumerate(CASES):
        try:
            converted = (_mes(case, index) if case.path == MES else
                         _wms(case, index) if case.path == WMS and case.status == "landed" else None)
        except UnicodeDecodeError:
            converted = None
        if converted:
            found.append(converted)
    return found


GOOD_EVENT = {**event(event_id="M1")}
GOOD_RECEIPT = {"transaction_id": "M2", "transaction_type": "RECEIPT", "occurred_at": "2026-01-05T07:00:00+01:00",
                "material_code": "ALU", "lot_code": "LOT-1", "quantity": 10, "unit": "KG", "to_location_code": "D-01",
                "supplier_id": "SUP-01", "supplier_lot_code": "S-9"}
ONLY_MESSAGES = [  # what only a message can get wrong
    MessageCase("topic names another event type", "mes", (json.dumps(GOOD_EVENT).encode(),), ("material_consumed",),
                (1, 0, 1, 0), "the topic names event_type 'material_consumed'", mqtt_only=True, id_prefix="M1"),
    MessageCase("empty message", "mes", (b"",), ("equipment_state_changed",), (1, 0, 1, 0), "empty message"),
    MessageCase("pretty-printed JSON over lines", "mes", (json.dumps({**GOOD_EVENT, "event_id": "M3"}, indent=2)
                                                         .encode(),), ("equipment_state_changed",), (1, 1, 0, 0), "",
                id_prefix="M3"),
    MessageCase("WMS record with an unexpected field", "wms", (json.dumps({**GOOD_RECEIPT, "colour": "red"}).encode(),),
                ("RECEIPT",), (1, 0, 1, 0), "unexpected fields ['colour']", id_prefix="M2"),
    MessageCase("WMS record with numbers as JSON numbers", "wms",
                (json.dumps({**GOOD_RECEIPT, "transaction_id": "M4"}).encode(),), ("RECEIPT",), (1, 1, 0, 0), "",
                id_prefix="M4"),
]
MESSAGE_CASES = [*message_cases(), *ONLY_MESSAGES]
