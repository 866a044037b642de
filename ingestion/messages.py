"""Landing MES and WMS records that arrive as messages (MQTT, the HTTP API) through the file landing.

A batch of messages is written to a spool file (one line per message: its topic and its payload in base64), and
that file is landed by `ingestion.landing.Lander` like any landing file: the same contracts, quarantine,
business-key dedup and ingest log (source `messages_mes` / `messages_wms`, one log row per batch). Each payload
is one JSON record, exactly as a line of the NDJSON landing files; it is read by the same line reader, so a bad
payload (invalid JSON, not an object, invalid UTF-8, NaN) is quarantined with the same reason a bad line gets.

Messages add two checks of their own: a payload larger than MAX_MESSAGE_BYTES is quarantined (its first 64 KiB
kept), and the record's type must match the type its topic names (`plant/<site>/mes/<event_type>`,
`plant/<site>/wms/<transaction_type>`). A redelivered record is a duplicate of its business key, so a broker's
at-least-once delivery lands each record exactly once in bronze.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import polars as pl

from data_contracts.mes import MES_CONTRACTS
from data_contracts.wms import WMS_TRANSACTIONS
from ingestion.landing import FileOutcome, Lander
from ingestion.readers import _line_by_line_ndjson
from ingestion.records import ParsedFile, Rejection, clip
from ingestion.sources import Routed, Source, rejections_of, route_mes, route_wms, without_unexpected_fields
from lakehouse.delta_io import DeltaLake

Kind = Literal["mes", "wms"]
KINDS: tuple[Kind, ...] = ("mes", "wms")
MAX_MESSAGE_BYTES = 1024 * 1024
TYPE_FIELD = {"mes": "event_type", "wms": "transaction_type"}
SPOOL_SUFFIX = ".msgs"


@dataclass(frozen=True)
class Message:
    """One record as it arrived: the topic (or API path) it came on and its payload bytes."""

    topic: str
    payload: bytes


@dataclass(frozen=True)
class Verdict:
    """What became of one message: landed, duplicate (its business key had landed), quarantined (with the
    reasons) or rejected (the whole batch could not be landed; the reason)."""

    status: Literal["landed", "duplicate", "quarantined", "rejected"]
    reasons: tuple[str, ...] = ()


@dataclass
class BatchOutcome:
    kind: Kind
    outcome: FileOutcome
    verdicts: list[Verdict] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(v.status == status for v in self.verdicts)


def topic_type(topic: str) -> str | None:
    """The record type a topic names: its last level (`plant/s1/mes/material_consumed` -> material_consumed)."""
    last = topic.rsplit("/", 1)[-1]
    return last if last and last not in ("+", "#") else None


def encode_batch(messages: Sequence[Message]) -> bytes:
    """The spool file of a batch: one JSON line per message, `{"topic": ..., "payload": <base64>}`."""
    return b"".join(json.dumps({"topic": m.topic, "payload": base64.b64encode(m.payload).decode()},
                               separators=(",", ":")).encode() + b"\n" for m in messages)


def decode_batch(data: bytes) -> list[Message]:
    return [Message(envelope["topic"], base64.b64decode(envelope["payload"]))
            for envelope in map(json.loads, data.splitlines()) if envelope]


def read_message_batch(kind: Kind, data: bytes) -> ParsedFile:
    """A spool file as records: message n is line n; payloads read as NDJSON lines are."""
    messages = decode_batch(data)
    small = [(n, m.payload) for n, m in enumerate(messages, start=1)
             if m.payload.strip() and len(m.payload) <= MAX_MESSAGE_BYTES]
    oversized = [Rejection(n, 0, clip(m.payload[:1024].decode("utf-8", errors="replace")), len(m.payload),
                           f"message of {len(m.payload):,} bytes, more than the limit of {MAX_MESSAGE_BYTES:,}")
                 for n, m in enumerate(messages, start=1) if len(m.payload) > MAX_MESSAGE_BYTES]
    oversized += [Rejection(n, 0, m.payload.decode("utf-8", errors="replace"), len(m.payload), "empty message")
                  for n, m in enumerate(messages, start=1) if not m.payload.strip()]
    parsed = _line_by_line_ndjson(small)
    frame = parsed.frame
    type_field = TYPE_FIELD[kind]
    frame = frame.with_columns(
        (pl.col(type_field) if type_field in frame.columns else pl.lit(None, pl.String)).alias("_type"),
        pl.col("_line").replace_strict({n: topic_type(m.topic) for n, m in enumerate(messages, start=1)},
                                       default=None, return_dtype=pl.String).alias("_topic_type"))
    return ParsedFile(frame, [*parsed.rejections, *oversized], raw=parsed.raw)


def _topic_mismatches(parsed: ParsedFile, kind: Kind) -> tuple[pl.DataFrame, list[Rejection]]:
    """Records whose type differs from the one their topic names are rejected (case-insensitive)."""
    frame = parsed.frame
    mismatch = pl.col("_topic_type").is_not_null() & (
        pl.col("_type").is_null() | (pl.col("_type").str.to_lowercase() != pl.col("_topic_type").str.to_lowercase()))
    reason = pl.format("the topic names {} '{}', the record says '{}'", pl.lit(TYPE_FIELD[kind]),
                       pl.col("_topic_type"), pl.col("_type").fill_null("None"))
    return frame.filter(~mismatch).drop("_topic_type"), rejections_of(frame.filter(mismatch), parsed, reason)


def route_mes_messages(parsed: ParsedFile) -> Routed:
    kept, rejections = _topic_mismatches(parsed, "mes")
    routed, more = route_mes(ParsedFile(kept, parsed.rejections, raw=parsed.raw))
    return routed, [*rejections, *more]


def route_wms_messages(parsed: ParsedFile) -> Routed:
    """WMS files are checked for their columns by the CSV header; a JSON record is checked for unexpected fields
    here, as MES records are."""
    kept, rejections = _topic_mismatches(parsed, "wms")
    kept = without_unexpected_fields(kept, set(WMS_TRANSACTIONS.column_names), parsed, rejections)
    routed, more = route_wms(ParsedFile(kept, [], raw=parsed.raw))
    return routed, [*rejections, *more]


MESSAGE_SOURCES: dict[Kind, Source] = {
    "mes": Source("messages_mes", (f"messages/mes/*{SPOOL_SUFFIX}",), lambda data: read_message_batch("mes", data),
                  route_mes_messages, MES_CONTRACTS, "quarantine_mes_events"),
    "wms": Source("messages_wms", (f"messages/wms/*{SPOOL_SUFFIX}",), lambda data: read_message_batch("wms", data),
                  route_wms_messages, {"wms_transactions": WMS_TRANSACTIONS}, "quarantine_wms_transactions"),
}


def kind_of(topic: str) -> Kind | None:
    """mes or wms from a topic `plant/<site>/<kind>/<type>` (or an API path ending the same way)."""
    levels = topic.split("/")
    return levels[-2] if len(levels) >= 2 and levels[-2] in KINDS else None  # type: ignore[return-value]


def land_messages(lander: Lander, kind: Kind, messages: Sequence[Message], *, batch_name: str | None = None,
                  verdicts: bool = True) -> BatchOutcome:
    """Land one batch of one kind: spool it under the lander's landing folder, land it, remove the spool file.

    With `verdicts`, the answer holds each message's verdict (quarantine reasons read back by the batch's
    fingerprint). The spool file is removed after its ingest log row is written; a crash before leaves it for
    `land_spooled` (the records are also redelivered by the broker: either way they land once)."""
    name = batch_name or f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    path = lander.landing_root / "messages" / kind / f"{name}{SPOOL_SUFFIX}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_batch(messages))
    [outcome] = lander.land_batch([path], MESSAGE_SOURCES[kind])
    result = BatchOutcome(kind, outcome)
    if verdicts:
        result.verdicts = verdicts_of(lander, kind, outcome, len(messages))
    path.unlink(missing_ok=True)
    return result


def land_spooled(lander: Lander) -> list[FileOutcome]:
    """Spool files a crashed process left: landed now (already-landed ones are duplicates) and removed."""
    outcomes = []
    for kind, source in MESSAGE_SOURCES.items():
        for _, path in lander.pending_files([source], include_logged=True):  # a landed one is still removed
            outcomes += lander.land_batch([path], source)
            path.unlink(missing_ok=True)
    return outcomes


def verdicts_of(lander: Lander, kind: Kind, outcome: FileOutcome, count: int) -> list[Verdict]:
    """Each message's verdict, from the batch's outcome and its quarantine rows."""
    if outcome.status == "duplicate_file":
        return [Verdict("duplicate", ("this exact batch was delivered before",))] * count
    if outcome.status == "rejected":
        return [Verdict("rejected", (outcome.error or "rejected",))] * count
    reasons = _quarantine_reasons(lander.lake, kind, outcome.file_sha256) if outcome.rows_quarantined else {}
    return _verdicts(count, reasons, outcome.landed_lines)


def replayed_verdicts(lake: DeltaLake, kind: Kind, file_sha256: str, count: int) -> list[Verdict]:
    """The verdicts of a batch landed before, rebuilt from the lake: its quarantine rows and bronze rows."""
    landed: set[int] = set()
    for table in MESSAGE_SOURCES[kind].contracts:
        if lake.exists(table):
            landed |= set(lake.scan(table).filter(pl.col("file_sha256") == file_sha256).select("source_line")
                          .collect()["source_line"].to_list())
    return _verdicts(count, _quarantine_reasons(lake, kind, file_sha256), landed)


def _quarantine_reasons(lake: DeltaLake, kind: Kind, file_sha256: str) -> dict[int, list[str]]:
    table = MESSAGE_SOURCES[kind].quarantine_table
    reasons: dict[int, list[str]] = {}
    if lake.exists(table):
        rows = lake.scan(table).filter(pl.col("file_sha256") == file_sha256).select("source_line", "reasons")
        for line, why in rows.collect().iter_rows():
            reasons.setdefault(line, []).extend(why)
    return reasons


def _verdicts(count: int, reasons: dict[int, list[str]], landed: set[int]) -> list[Verdict]:
    answer = []
    for line in range(1, count + 1):
        if line in reasons:
            answer.append(Verdict("quarantined", tuple(dict.fromkeys(reasons[line]))))
        elif line in landed:
            answer.append(Verdict("landed"))
        else:
            answer.append(Verdict("duplicate", ("its business key had landed before",)))
    return answer
