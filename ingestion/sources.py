"""The source kinds a landing folder holds: where their files are, how to read them, which contracts apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts.mes import MES_CONTRACTS, TABLE_BY_EVENT_TYPE
from data_contracts.rules import Contract
from data_contracts.wms import ADDED_COLUMNS, WMS_TRANSACTIONS
from ingestion.b2mml import read_b2mml
from ingestion.mes_records import LIST_FIELD, expand_lot_relations
from ingestion.readers import CsvDialect, read_bytes, read_csv, read_ndjson
from ingestion.records import POSITION_COLUMNS, ParsedFile, Rejection

Routed = tuple[dict[str, pl.DataFrame], list[Rejection]]
LIST_FIELDS = set(LIST_FIELD.values())


@dataclass(frozen=True)
class Source:
    name: str
    patterns: tuple[str, ...]
    parse: Callable[[bytes], ParsedFile]
    route: Callable[[ParsedFile], Routed]
    contracts: dict[str, Contract]
    quarantine_table: str
    read: Callable[[Path], bytes] = read_bytes


def contract_columns(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """The contract's columns in its order (missing fields as nulls) and the record positions."""
    return frame.select(*(pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c)
                          for c in contract.column_names), *POSITION_COLUMNS)


def rejections_of(frame: pl.DataFrame, parsed: ParsedFile, reason: pl.Expr | str) -> list[Rejection]:
    reasons = frame.select(reason if isinstance(reason, pl.Expr) else pl.lit(reason)).to_series().to_list()
    found = []
    for (line, seq, kind), why in zip(frame.select(POSITION_COLUMNS).iter_rows(), reasons, strict=True):
        raw = parsed.raw(line, seq)
        found.append(Rejection(line, seq, raw, len(raw), why, kind))
    return found


def without_unexpected_fields(frame: pl.DataFrame, allowed: set[str], parsed: ParsedFile,
                              rejections: list[Rejection]) -> pl.DataFrame:
    """`frame` without the records that fill a field outside `allowed` (and the position columns); each of those
    is appended to `rejections` with the fields it named."""
    extras = [c for c in frame.columns if c not in allowed and c not in POSITION_COLUMNS]
    if not extras:
        return frame
    has_extra = pl.any_horizontal([pl.col(c).is_not_null() for c in extras])
    for row in frame.filter(has_extra).select(*extras, *POSITION_COLUMNS).iter_rows(named=True):
        present = sorted(c for c in extras if row[c] is not None)
        raw = parsed.raw(row["_line"], row["_seq"])
        rejections.append(Rejection(row["_line"], row["_seq"], raw, len(raw),
                                    f"unexpected fields {present} for {row['_type']}", row["_type"]))
    return frame.filter(~has_extra)


def route_wms(parsed: ParsedFile) -> Routed:
    return {"wms_transactions": contract_columns(parsed.frame, WMS_TRANSACTIONS)}, []


def route_mes(parsed: ParsedFile) -> Routed:
    frame = parsed.frame
    known = pl.col("_type").is_in(list(TABLE_BY_EVENT_TYPE))
    rejections = rejections_of(frame.filter(~known | pl.col("_type").is_null()), parsed,
                               pl.format("unknown event_type '{}'", pl.col("_type").fill_null("None")))
    routed = {}
    for table, contract in MES_CONTRACTS.items():
        part = frame.filter(pl.col("_type").is_in(list(contract.record_types)))
        if part.is_empty():
            continue
        part = without_unexpected_fields(part, set(contract.column_names) | LIST_FIELDS, parsed, rejections)
        if table == "mes_lot_events":
            part, lot_rejections = expand_lot_relations(part, parsed)
            rejections += lot_rejections
        routed[table] = contract_columns(part, contract)
    return routed, rejections


WMS_DIALECT = CsvDialect()
WMS_NUMERIC = frozenset({"quantity", "counted_quantity", "system_quantity", "ordered_quantity"})
WMS_OPTIONAL = frozenset(ADDED_COLUMNS)  # older exports lack them; their rows read them as null


def wms_csv_source(name: str = "wms_csv", dialect: CsvDialect = WMS_DIALECT,
                   patterns: tuple[str, ...] = ("wms/**/*.csv", "wms/**/*.csv.gz")) -> Source:
    """A WMS export source; another plant's WMS declares its own dialect (delimiter, decimal comma, headers)."""
    return Source(name, patterns,
                  lambda data: read_csv(data, dialect, WMS_TRANSACTIONS.column_names, WMS_NUMERIC, WMS_OPTIONAL),
                  route_wms, {"wms_transactions": WMS_TRANSACTIONS}, "quarantine_wms_transactions")


MES_NDJSON = Source("mes_ndjson", ("mes/events/**/*.ndjson", "mes/events/**/*.ndjson.gz"), read_ndjson, route_mes,
                    MES_CONTRACTS, "quarantine_mes_events")
MES_B2MML = Source("mes_b2mml", ("mes/b2mml/**/*.xml",), read_b2mml, route_mes, MES_CONTRACTS,
                   "quarantine_mes_events")
WMS_CSV = wms_csv_source()
SOURCES: tuple[Source, ...] = (WMS_CSV, MES_NDJSON, MES_B2MML)
