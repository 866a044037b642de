"""MES lot events: splits and merges fan out into one record per lot relation."""

from __future__ import annotations

import json

import polars as pl

from ingestion.records import ParsedFile, Rejection

LIST_FIELD = {"lot_split": "split_lots", "lot_merged": "merged_lots"}


def expand_lot_relations(frame: pl.DataFrame, parsed: ParsedFile) -> tuple[pl.DataFrame, list[Rejection]]:
    """lot_produced -> one record (line_seq 0, no source lot); lot_split -> one per new lot (source = the split
    lot); lot_merged -> one per merged lot (lot = the result). `_seq` numbers the relations of one event."""
    produced = frame.filter(pl.col("_type") == "lot_produced").with_columns(
        pl.lit("0").alias("line_seq"), pl.lit(None, pl.String).alias("source_lot_code"))
    lists = frame.filter(pl.col("_type").is_in(list(LIST_FIELD)))
    rows, rejections = [], []
    for record in lists.iter_rows(named=True):
        kind, line, seq = record["_type"], record["_line"], record["_seq"]
        items = _items(record.get(LIST_FIELD[kind]))
        if items is None:
            raw = parsed.raw(line, seq)
            rejections.append(Rejection(line, seq, raw, len(raw),
                                        f"{LIST_FIELD[kind]} must be a non-empty list of {{lot_code, quantity}}", kind))
            continue
        base = {k: v for k, v in record.items() if k not in LIST_FIELD.values()}
        for index, item in enumerate(items):
            lot, quantity = item.get("lot_code"), item.get("quantity")
            expanded = {**base, "line_seq": str(index), "_seq": seq * 1000 + index,
                        "quantity": None if quantity is None else str(quantity)}
            if kind == "lot_split":
                expanded.update(lot_code=None if lot is None else str(lot), source_lot_code=base.get("lot_code"))
            else:
                expanded.update(source_lot_code=None if lot is None else str(lot))
            rows.append(expanded)
    pieces = [produced.drop([c for c in LIST_FIELD.values() if c in produced.columns])]
    if rows:
        names = dict.fromkeys(name for row in rows for name in row)
        schema = {name: pl.String for name in names} | {"_line": pl.Int64, "_seq": pl.Int64}
        pieces.append(pl.DataFrame(rows, schema=schema))
    return pl.concat(pieces, how="diagonal_relaxed"), rejections


def _items(text: str | None) -> list[dict] | None:
    try:
        items = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    return items
