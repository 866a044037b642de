"""Conforming incoming data to a table's catalog schema, with errors that name the table and columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa

from lakehouse.catalog import TableSpec


class SchemaMismatchError(ValueError):
    """Data does not fit a table's schema: says which table and which columns."""

    def __init__(self, table: str, *, missing: list[str] = (), extra: list[str] = (),  # type: ignore[assignment]
                 mistyped: dict[str, str] | None = None, null_in_required: list[str] = ()) -> None:  # type: ignore[assignment]
        self.table, self.missing, self.extra = table, list(missing), list(extra)
        self.mistyped, self.null_in_required = dict(mistyped or {}), list(null_in_required)
        problems = []
        if self.missing:
            problems.append(f"missing columns {self.missing}")
        if self.extra:
            problems.append(f"unexpected columns {self.extra}")
        if self.mistyped:
            problems.append("wrong types " + ", ".join(f"{c} ({why})" for c, why in self.mistyped.items()))
        if self.null_in_required:
            problems.append(f"nulls in non-nullable columns {self.null_in_required}")
        super().__init__(f"schema mismatch writing {table}: " + "; ".join(problems))


def to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "to_arrow"):
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(f"cannot turn {type(data).__name__} into an Arrow table")


# Arrow's 64-bit-offset twins of the spec's types: the same Delta type (string, binary), so a write may keep them
LARGE_TWINS = {pa.string(): pa.large_string(), pa.binary(): pa.large_binary()}


def conform(spec: TableSpec, data: Any, *, large_strings: bool = False) -> pa.Table:
    """Return `data` as an Arrow table with exactly the spec's columns, order and types.

    Safe casts only (no truncation, no overflow); naive timestamps are never assumed to be UTC.
    `large_strings`: a large_string (large_binary) column stays large where the spec says string (binary): Delta
    knows one string type, and a writer then skips copying every string into 32-bit offsets (Polars' frames are
    large_string); only for data going straight to `write_deltalake`.
    """
    table = to_arrow(data)
    expected = spec.schema
    missing = [n for n in expected.names if n not in table.column_names]
    extra = [n for n in table.column_names if n not in expected.names]
    if missing or extra:
        raise SchemaMismatchError(spec.qualified_name, missing=missing, extra=extra)
    columns, mistyped, nulls = [], {}, []
    if large_strings:
        large = [field.name for field in expected if LARGE_TWINS.get(field.type) == table[field.name].type]
        expected = pa.schema([field.with_type(table[field.name].type) if field.name in large else field
                              for field in expected], metadata=expected.metadata)
    for field in expected:
        column = table[field.name]
        if _naive_to_zoned(column.type, field.type):
            mistyped[field.name] = f"{column.type} has no time zone, expected {field.type}"
            continue
        try:
            column = column.cast(field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            mistyped[field.name] = f"{table[field.name].type} -> {field.type}: {str(exc).splitlines()[0]}"
            continue
        if not field.nullable and column.null_count:
            nulls.append(field.name)
        columns.append(column)
    if mistyped or nulls:
        raise SchemaMismatchError(spec.qualified_name, mistyped=mistyped, null_in_required=nulls)
    return pa.Table.from_arrays(columns, schema=expected)


def rows_to_arrow(spec: TableSpec, rows: list[dict[str, Any]]) -> pa.Table:
    """Row dicts as an Arrow table typed by the table's catalog schema, never by inferring from the rows.

    A key the schema does not have raises `SchemaMismatchError` (nothing is dropped silently); a missing key
    is null, which `conform` rejects later for a non-nullable column.
    """
    return _typed(spec, {key for row in rows for key in row}, lambda: pa.Table.from_pylist(rows, schema=spec.schema))


def columns_to_arrow(spec: TableSpec, columns: dict[str, Any]) -> pa.Table:
    """Python columns (lists or Arrow arrays) as an Arrow table typed by the table's catalog schema."""
    return _typed(spec, set(columns), lambda: pa.Table.from_pydict(columns, schema=spec.schema))


def _typed(spec: TableSpec, names: set[str], build: Callable[[], pa.Table]) -> pa.Table:
    extra = sorted(names - set(spec.schema.names))
    if extra:
        raise SchemaMismatchError(spec.qualified_name, extra=extra)
    try:
        return build()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SchemaMismatchError(spec.qualified_name, mistyped={"(values)": str(exc).splitlines()[0]}) from exc


def _naive_to_zoned(source: pa.DataType, target: pa.DataType) -> bool:
    return (pa.types.is_timestamp(source) and pa.types.is_timestamp(target)
            and source.tz is None and target.tz is not None)


__all__ = ["SchemaMismatchError", "columns_to_arrow", "conform", "rows_to_arrow", "to_arrow"]
