"""Row filters as `(column, op, value)` tuples, ANDed: the form delta-rs and pyarrow take, turned into a Polars
predicate for lazy reads so both give the same rows."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

import polars as pl

from lakehouse.errors import QueryError

Filter = tuple[str, str, Any]
OPERATORS = ("=", "==", "!=", "<", "<=", ">", ">=", "in", "not in")


def _checked(filters: Sequence[Filter]) -> list[Filter]:
    checked = []
    for item in filters:
        if not (isinstance(item, (tuple, list)) and len(item) == 3 and item[1] in OPERATORS):
            raise QueryError(f"a filter is (column, op, value) with op one of {', '.join(OPERATORS)}; got {item!r}")
        column, op, value = item
        if op in ("in", "not in") and not isinstance(value, (list, tuple, set)):
            raise QueryError(f"filter {item!r}: {op!r} takes a list of values")
        checked.append((column, "=" if op == "==" else op, list(value) if op in ("in", "not in") else value))
    return checked


def arrow_filters(filters: Sequence[Filter] | None) -> list[Filter] | None:
    return _checked(filters) if filters else None


def polars_predicate(filters: Sequence[Filter]) -> pl.Expr:
    def one(item: Filter) -> pl.Expr:
        column, op, value = item
        col = pl.col(column)
        return {"=": lambda: col == value, "!=": lambda: col != value, "<": lambda: col < value,
                "<=": lambda: col <= value, ">": lambda: col > value, ">=": lambda: col >= value,
                "in": lambda: col.is_in(value), "not in": lambda: ~col.is_in(value)}[op]()

    return reduce(lambda left, right: left & right, (one(f) for f in _checked(filters)))
