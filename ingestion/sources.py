"""The source kinds a landing folder holds: where their files are, how to read them, which contracts apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from data_contracts.mes import MES_CONTRACTS, TABLE_BY_EVENT_TYPE
from data_contracts.rules import Contract
from data_contracts.wms import WMS_TRANSACTIONS
from ingestion.b2mml import read_b2mml
from ingestion.mes_records import LIST_FIELD, expand_lot_relations
from ingestion.readers import CsvDialect, read_bytes, read_csv, read_ndjson
from ingestion.records import ParsedFile, RawRecord, Rejection

Routed = tuple[dict[str, list[RawRecord]], list[Rejection]]
ALLOWED_LIST_FIELDS = set(LIST_FIELD.values())


@dataclass(frozen=True)
class Source:
    name: str
    patterns: tuple[str, ...]
    parse: Callable[[bytes], ParsedFile]
    route: Callable[[list[RawRecord]], Routed]
    contracts: dict[str, Contract]
    quarantine_table: str
    read: Callable[[Path], bytes] = read_bytes


def route_wms(records: list[RawRecord]) -> Routed:
    return {"wms_transactions": records}, []


def route_mes(records: list[RawRecord]) -> Routed:
    routed: dict[str, list[RawRecord]] = {}
    rejections = []
    for record in records:
        table = TABLE_BY_EVENT_TYPE.get(record.record_type or "")
        if table is None:
            rejections.append(Rejection(record.source_line, record.record_seq, record.raw, len(record.raw),
                                        f"unknown event_type {record.record_type!r}", record.record_type))
            continue
        allowed = set(MES_CONTRACTS[table].column_names) | ALLOWED_LIST_FIELDS
        unexpected = sorted(set(record.fields) - allowed)
        if unexpected:
            rejections.append(Rejection(record.source_line, record.record_seq, record.raw, len(record.raw),
                                        f"unexpected fields {unexpected} for {record.record_type}",
                                        record.record_type))
            continue
        expanded = expand_lot_relations(record)
        if isinstance(expanded, Rejection):
            rejections.append(expanded)
            continue
        routed.setdefault(table, []).extend(expanded)
    return routed, rejections


WMS_DIALECT = CsvDialect()
WMS_NUMERIC = frozenset({"quantity", "counted_quantity", "system_quantity"})


def wms_csv_source(name: str = "wms_csv", dialect: CsvDialect = WMS_DIALECT,
                   patterns: tuple[str, ...] = ("wms/**/*.csv", "wms/**/*.csv.gz")) -> Source:
    """A WMS export source; another plant's WMS declares its own dialect (delimiter, decimal comma, headers)."""
    return Source(name, patterns,
                  lambda data: read_csv(data, dialect, WMS_TRANSACTIONS.column_names, WMS_NUMERIC),
                  route_wms, {"wms_transactions": WMS_TRANSACTIONS}, "quarantine_wms_transactions")


MES_NDJSON = Source("mes_ndjson", ("mes/events/**/*.ndjson", "mes/events/**/*.ndjson.gz"), read_ndjson, route_mes,
                    MES_CONTRACTS, "quarantine_mes_events")
MES_B2MML = Source("mes_b2mml", ("mes/b2mml/**/*.xml",), read_b2mml, route_mes, MES_CONTRACTS,
                   "quarantine_mes_events")
WMS_CSV = wms_csv_source()
SOURCES: tuple[Source, ...] = (WMS_CSV, MES_NDJSON, MES_B2MML)
