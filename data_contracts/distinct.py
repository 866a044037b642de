"""A contract's suite validated by GX over the distinct values a batch holds, not over every row.

Most expectations of a contract read one column (and typed helper columns made from it): a row's verdict on
them is a function of that column's value, so GX validates each distinct value once and its verdict goes to
every row holding it. Columns read together by an expectation (a column required when another holds a value)
are validated as distinct combinations. The business key is validated over every row, in row order, since its
uniqueness depends on how many rows hold a value. Each group fills the top of the one frame GX validates; the
rows below a group's last value are nulls and are never given to a record.

The verdicts are those of `validate_rows(contract.validation_frame(text), suite)`, row for row and name for
name (tests/data_contracts/test_distinct_parity.py holds them equal on the hostile corpus and random batches).
The frame GX reads is as long as the most varied group; for MES events that is the event ids.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import great_expectations as gx
import polars as pl

from data_contracts.rules import Contract
from data_contracts.runner import ROW_INDEX, ExpectationOutcome, ExpectationResult, Verdicts, validate_expectations

SHARED_FRAME_ROWS = 1024  # groups of at most this many distinct values share one GX validation

@dataclass(frozen=True)
class ValueGroup:
    columns: tuple[str, ...]
    values: pl.DataFrame  # the distinct values (every row, for the key group) with their helper columns
    rows: pl.Series | None  # per distinct value, the list of batch rows holding it; None: one value per row


def value_groups(contract: Contract) -> list[tuple[str, ...]]:
    """The contract's columns split into groups no expectation reads across: the key columns form one group,
    a column required when another has a value shares a group with it."""
    parent = {name: name for name in contract.column_names}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    links = [(contract.key[0], other) for other in contract.key[1:]]
    links += [(name, on) for name, (on, _, _) in contract.required_when]
    for left, right in links:
        parent[root(left)] = root(right)
    groups: dict[str, list[str]] = {}
    for name in contract.column_names:
        groups.setdefault(root(name), []).append(name)
    return [tuple(names) for names in groups.values()]


def distinct_groups(contract: Contract, text: pl.DataFrame, typed: pl.DataFrame) -> list[ValueGroup]:
    found = []
    for columns in value_groups(contract):
        if set(columns) & set(contract.key):
            values, rows, typed_values = text.select(columns), None, typed.select(columns)
        else:
            grouped = (text.select(columns).with_row_index("_batch_row")
                       .group_by(columns, maintain_order=True).agg("_batch_row"))
            values, rows = grouped.select(columns), grouped["_batch_row"]
            typed_values = contract.typed(values)
        found.append(ValueGroup(columns, values.with_columns(contract.helper_columns(values, typed_values)), rows))
    return found


def validate_distinct(contract: Contract, text: pl.DataFrame, typed: pl.DataFrame,
                      suite: gx.ExpectationSuite) -> Verdicts:
    """Verdicts per row of `text` (normalized contract columns; `typed` is `contract.typed(text)`)."""
    if text.is_empty():
        return Verdicts(rows=0)
    groups = distinct_groups(contract, text, typed)
    results: dict[int, tuple[ExpectationResult, ValueGroup | None]] = {}
    for part in _parts(groups):
        group_of = {name: g for g in part for name in g.values.columns}
        picked = [i for i, expectation in enumerate(suite.expectations)
                  if (_columns(expectation) or (None,))[0] in group_of or (part is groups and not _columns(expectation))]
        if not picked:
            continue
        height = max(g.values.height for g in part)
        frame = pl.concat([pl.concat([g.values, g.values.clear(height - g.values.height)]) for g in part],
                          how="horizontal").with_row_index(ROW_INDEX)
        sub_suite = gx.ExpectationSuite(name=f"{suite.name}_part", expectations=[
            copy.copy(suite.expectations[i]) for i in picked])
        for i, item in zip(picked, validate_expectations(frame.to_pandas(), sub_suite), strict=True):
            results[i] = item, (group_of.get(item.columns[0]) if item.columns else None)
    failures: dict[int, list[str]] = defaultdict(list)
    outcomes, table_failures = [], []
    for i in sorted(results):
        item, group = results[i]
        if item.success or item.exception is not None or not item.failed_rows or group is None:
            outcomes.append(ExpectationOutcome(item.name, item.success, item.unexpected_count))
            if not item.success:  # as validate_rows: a failure without rows fails the whole batch
                table_failures.append(item.name if item.exception is None else f"{item.name}: {item.exception}")
            continue
        bad_values = [v for v in item.failed_rows if v < group.values.height]  # below: padding, no record
        rows = bad_values if group.rows is None else group.rows.gather(bad_values).explode().to_list()
        outcomes.append(ExpectationOutcome(item.name, not rows, len(rows)))
        for row in rows:
            failures[row].append(item.name)
    return Verdicts(rows=text.height, failures=dict(failures), outcomes=outcomes, table_failures=table_failures)


def _parts(groups: list[ValueGroup]) -> list[list[ValueGroup]]:
    """Groups GX validates together: a group of many values alone, the short ones in one frame (a short group
    is padded with nulls to the longest, and the padding fails its not-null expectations, unread)."""
    short = [g for g in groups if g.values.height <= SHARED_FRAME_ROWS]
    return [[g] for g in groups if g.values.height > SHARED_FRAME_ROWS] + ([short] if short else [])


def _columns(expectation: Any) -> tuple[str, ...]:
    kwargs = expectation.configuration.kwargs or {}
    return tuple(kwargs.get("column_list") or ()) or ((kwargs["column"],) if kwargs.get("column") else ())
