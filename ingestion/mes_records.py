"""MES records: lot splits and merges fan out into one record per lot relation."""

from __future__ import annotations

import json
from dataclasses import replace

from ingestion.records import RawRecord, Rejection

LIST_FIELD = {"lot_split": "split_lots", "lot_merged": "merged_lots"}


def expand_lot_relations(record: RawRecord) -> list[RawRecord] | Rejection:
    """lot_produced -> one record; lot_split -> one per new lot (source = the split lot);
    lot_merged -> one per merged lot (lot = the result). Other events pass through."""
    kind = record.record_type
    if kind == "lot_produced":
        return [replace(record, fields={**record.fields, "line_seq": "0", "source_lot_code": None})]
    if kind not in LIST_FIELD:
        return [record]
    text = record.fields.get(LIST_FIELD[kind])
    try:
        items = json.loads(text) if text else None
    except ValueError:
        items = None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return Rejection(record.source_line, record.record_seq, record.raw, len(record.raw),
                         f"{LIST_FIELD[kind]} must be a non-empty list of {{lot_code, quantity}}", kind)
    base = {k: v for k, v in record.fields.items() if k != LIST_FIELD[kind]}
    expanded = []
    for seq, item in enumerate(items):
        lot, quantity = item.get("lot_code"), item.get("quantity")
        fields = {**base, "line_seq": str(seq), "quantity": None if quantity is None else str(quantity)}
        if kind == "lot_split":
            fields.update(lot_code=None if lot is None else str(lot), source_lot_code=base.get("lot_code"))
        else:
            fields.update(lot_code=base.get("lot_code"), source_lot_code=None if lot is None else str(lot))
        expanded.append(replace(record, record_seq=record.record_seq * 1000 + seq, fields=fields))
    return expanded
