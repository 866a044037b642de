"""Contracts for master-data exports (machines, materials, BOMs, routings, locations, suppliers, customers...).

Each master table's contract follows its catalog schema: a column that may not be null is required, a number is
ASCII digits that convert (never a NULL in its place), numbers that are counts, factors or times are not
negative, identifiers and names hold no control characters and no spreadsheet formula, and the primary key is
unique. A master file is a whole snapshot: it passes whole or it is rejected whole, with the rows and the rules
they break (`check_master_snapshot`); half a BOM or half a routing would be worse than yesterday's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl
import pyarrow as pa

from data_contracts.rules import Column, Contract
from data_contracts.runner import validate_rows

MAX_REASONS = 20  # rows named in a rejection; the count says how many more there are
HEADER_ROW = 1  # a row's number in the file: the header is line 1


def _kind(field: pa.Field) -> str:
    if pa.types.is_floating(field.type):
        return "decimal"
    if pa.types.is_integer(field.type):
        return "integer"
    if pa.types.is_timestamp(field.type):
        return "timestamp"
    return "text"


def master_contract(table: str, schema: pa.Schema, key: tuple[str, ...]) -> Contract:
    columns = tuple(Column(f.name, _kind(f), required=not f.nullable,
                           min_value=0.0 if _kind(f) in ("decimal", "integer") else None) for f in schema)
    return Contract(entity=table, version="1", columns=columns, key=key,
                    description=f"Master-data export loaded whole into silver.{table}.")


@dataclass(frozen=True)
class SnapshotVerdict:
    table: str
    rows: int
    problems: tuple[str, ...]  # "line 7: factor converts to a finite decimal", ... (at most MAX_REASONS)
    bad_rows: int
    typed: pa.Table | None  # the snapshot typed to the schema when it passed

    @property
    def passed(self) -> bool:
        return self.bad_rows == 0 and not self.problems

    def describe(self) -> str:
        more = self.bad_rows - sum(1 for p in self.problems if p.startswith("line "))
        return (f"master file for {self.table} rejected whole ({self.bad_rows} of {self.rows} rows break its "
                f"contract): " + "; ".join(self.problems) + (f"; and {more} more rows" if more > 0 else ""))


def check_master_snapshot(table: str, schema: pa.Schema, key: tuple[str, ...], text: pa.Table) -> SnapshotVerdict:
    """Validate a master file read as text against the table's contract; typed rows when it passes."""
    names = text.column_names
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    missing = [f.name for f in schema if f.name not in names]
    extra = sorted(set(names) - set(schema.names))
    header = [f"the header names {', '.join(repeated)} more than once"] if repeated else []
    header += [f"the header lacks {', '.join(missing)}"] if missing else []
    header += [f"the header has unknown columns {', '.join(extra)}"] if extra else []
    if header:
        return SnapshotVerdict(table, text.num_rows, tuple(header), text.num_rows, None)
    contract = master_contract(table, schema, key)
    frame = pl.from_arrow(text.select(schema.names).cast(pa.schema([(n, pa.string()) for n in schema.names])))
    assert isinstance(frame, pl.DataFrame)
    normalized = contract.normalized(frame)
    typed = contract.typed(normalized)
    verdicts = validate_rows(contract.validation_frame(normalized, typed),
                             contract.suite({}, datetime.now(timezone.utc)))
    problems = [f"table: {failure}" for failure in verdicts.table_failures]
    problems += [f"line {row + HEADER_ROW + 1}: {', '.join(rules)}"
                 for row, rules in sorted(verdicts.failures.items())[:MAX_REASONS]]
    if problems:
        return SnapshotVerdict(table, text.num_rows, tuple(problems), max(len(verdicts.failures), 1), None)
    return SnapshotVerdict(table, text.num_rows, (), 0, typed.to_arrow().cast(schema))
