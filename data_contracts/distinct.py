"""A contract's suite validated over the distinct values a batch holds; GX judges every value Polars cannot
certify as passing.

Most expectations of a contract read one column (and typed helper columns made from it): a row's verdict on
them is a function of that column's value, so each distinct value is judged once and the verdict goes to every
row holding it. Columns read together by an expectation (a column required when another holds a value) are
judged as distinct combinations. The business key is judged row by row, since its uniqueness depends on how
many rows hold a value.

Per group, `certify.certificate` marks the values that certainly pass each expectation (read from the
expectation's GX configuration). The values not certified for every expectation of their group are validated
by GX with the group's expectations, and GX's verdicts are the verdicts; certified values pass. Groups GX
validates share one frame when they are short (padded with nulls, whose verdicts are never read).

The verdicts are those of `validate_rows(contract.validation_frame(text), suite)`, row for row and name for
name: tests/data_contracts/test_distinct_parity.py holds them equal on the hostile corpus and random batches.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import great_expectations as gx
import polars as pl

from data_contracts.certify import certificate
from data_contracts.rules import Contract
from data_contracts.runner import (ROW_INDEX, ExpectationOutcome, ExpectationResult, Verdicts, expectation_name,
                                   validate_expectations)

SHARED_FRAME_ROWS = 1024  # groups GX validates with at most this many values share one validation
HELPER = "__"  # helper columns are named <column>__<what> (see Contract.helper_columns)


@dataclass(frozen=True)
class ValueGroup:
    values: pl.DataFrame  # values GX validates: distinct ones of the group's columns (rows, for the key)
    rows: pl.Series  # per value, the batch rows holding it (a list per value, or one row per value)
    expectations: list[int]  # positions in the suite of the expectations reading the group's columns

    def batch_rows(self, values: list[int]) -> list[int]:
        picked = self.rows.gather(values)
        return (picked.explode() if picked.dtype == pl.List else picked).to_list()


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


def doubtful_groups(contract: Contract, text: pl.DataFrame, typed: pl.DataFrame,
                    suite: gx.ExpectationSuite) -> list[ValueGroup]:
    """Per column group, the values (distinct, except for the key) that some expectation of the group cannot
    be certified for; groups whose every value is certified are left out."""
    frame = text.with_columns(contract.helper_columns(text, typed)).with_row_index("_batch_row")
    reads = [_columns(expectation) for expectation in suite.expectations]
    doubts = []
    for expectation in suite.expectations:
        passes = certificate(expectation, frame.schema)
        doubts.append(pl.lit(True) if passes is None else ~passes)
    layout = []  # (columns GX reads, every row or distinct values, expectations)
    for columns in value_groups(contract):
        names = [c for c in frame.columns if c in columns or c.rsplit(HELPER, 1)[0] in columns and HELPER in c]
        reading = [i for i, read in enumerate(reads) if read and read[0] in names]
        layout.append((names, bool(set(columns) & set(contract.key)), reading))
    rest = [i for i in range(len(reads)) if not any(i in reading for _, _, reading in layout)]
    if rest:  # an expectation of no column, or of one the contract does not have: over the whole batch
        layout.append(([c for c in frame.columns if c != "_batch_row"], True, rest))
    flags = frame.lazy().select(
        pl.any_horizontal(doubts[i] for i in reading).alias(f"_doubt{g}") if reading else pl.lit(False)
        .alias(f"_doubt{g}") for g, (_, _, reading) in enumerate(layout)).collect()
    found = []
    for g, (names, every_row, reading) in enumerate(layout):
        doubtful = frame.select(*names, "_batch_row").filter(flags[f"_doubt{g}"])
        if doubtful.is_empty():
            continue
        if not every_row:
            doubtful = doubtful.group_by(names, maintain_order=True).agg("_batch_row")
        found.append(ValueGroup(doubtful.drop("_batch_row"), doubtful["_batch_row"], reading))
    return found


def validate_distinct(contract: Contract, text: pl.DataFrame, typed: pl.DataFrame,
                      suite: gx.ExpectationSuite) -> Verdicts:
    """Verdicts per row of `text` (normalized contract columns; `typed` is `contract.typed(text)`)."""
    if text.is_empty():
        return Verdicts(rows=0)
    results: dict[int, tuple[ExpectationResult, ValueGroup]] = {}
    for part in _parts(doubtful_groups(contract, text, typed, suite)):
        height = max(g.values.height for g in part)
        frame = pl.concat([pl.concat([g.values, g.values.clear(height - g.values.height)]) for g in part],
                          how="horizontal").with_row_index(ROW_INDEX)
        picked = sorted(i for g in part for i in g.expectations)
        group_of = {i: g for g in part for i in g.expectations}
        sub_suite = gx.ExpectationSuite(name=f"{suite.name}_part", expectations=[
            copy.copy(suite.expectations[i]) for i in picked])
        for item in validate_expectations(frame.to_pandas(), sub_suite):
            i = next(i for i in picked if i not in results and _same(suite.expectations[i].configuration, item.config))
            results[i] = item, group_of[i]
    failures: dict[int, list[str]] = defaultdict(list)
    outcomes, table_failures = [], []
    for i in gx_order(suite):
        expectation = suite.expectations[i]
        if i not in results:  # every value certified
            outcomes.append(ExpectationOutcome(expectation_name(expectation.configuration), True, 0))
            continue
        item, group = results[i]
        if item.success or item.exception is not None or not item.failed_rows:
            outcomes.append(ExpectationOutcome(item.name, item.success, item.unexpected_count))
            if not item.success:  # as validate_rows: a failure without rows fails the whole batch
                table_failures.append(item.name if item.exception is None else f"{item.name}: {item.exception}")
            continue
        rows = group.batch_rows([v for v in item.failed_rows if v < group.values.height])  # below: padding
        outcomes.append(ExpectationOutcome(item.name, not rows, len(rows)))
        for row in rows:
            failures[row].append(item.name)
    return Verdicts(rows=text.height, failures=dict(failures), outcomes=outcomes, table_failures=table_failures)


def gx_order(suite: gx.ExpectationSuite) -> list[int]:
    """The order GX reports a suite's results in (and so the order of a row's failure names): expectations
    grouped by their column, columns in order of first appearance, those without one together (as GX's
    `Validator.process_expectations_for_validation`)."""
    by_column: dict[str, list[int]] = {}
    for i, expectation in enumerate(suite.expectations):
        column = (expectation.configuration.kwargs or {}).get("column")
        by_column.setdefault(column if isinstance(column, str) else "\0no column", []).append(i)
    return [i for positions in by_column.values() for i in positions]


def _same(config: Any, reported: Any) -> bool:
    """The reported result is this expectation's (GX reports its configuration with the run's details)."""
    return config.type == reported.type and expectation_name(config) == expectation_name(reported) and \
        {k: v for k, v in (config.kwargs or {}).items() if k != "batch_id"} == \
        {k: v for k, v in (reported.kwargs or {}).items() if k != "batch_id"}


def _parts(groups: list[ValueGroup]) -> list[list[ValueGroup]]:
    """Groups GX validates together: a long group alone, the short ones in one frame (a short group is padded
    with nulls to the longest; the padding fails its not-null expectations, unread)."""
    short = [g for g in groups if g.values.height <= SHARED_FRAME_ROWS]
    return [[g] for g in groups if g.values.height > SHARED_FRAME_ROWS] + ([short] if short else [])


def _columns(expectation: Any) -> tuple[str, ...]:
    kwargs = expectation.configuration.kwargs or {}
    return tuple(kwargs.get("column_list") or ()) or ((kwargs["column"],) if kwargs.get("column") else ())
