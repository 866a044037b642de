"""Row-level verdicts from Great Expectations.

A suite is validated once over a whole batch with result_format COMPLETE; GX returns the index of every row
each expectation failed on, so a batch splits into good rows and bad rows with the names of the expectations
they broke. An expectation that fails without row indexes (a table-level one) fails the whole batch.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

ROW_INDEX = "_row"
logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str
    success: bool
    unexpected_count: int


@dataclass(frozen=True)
class Verdicts:
    rows: int
    failures: dict[int, list[str]] = field(default_factory=dict)  # row index -> names of failed expectations
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    table_failures: list[str] = field(default_factory=list)

    @property
    def bad_rows(self) -> list[int]:
        return sorted(self.failures)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.table_failures


def expectation_name(config: Any) -> str:
    """A stable, readable name: the expectation's meta name if given, else type(column)."""
    meta = config.meta or {}
    if meta.get("name"):
        return str(meta["name"])
    kwargs = config.kwargs or {}
    target = kwargs.get("column") or ",".join(kwargs.get("column_list", []) or [])
    return f"{config.type}({target})" if target else config.type


@lru_cache(maxsize=1)
def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


@dataclass(frozen=True)
class ExpectationResult:
    """What GX said about one expectation of a suite: the rows it failed on (values of `_row`), or why it
    failed as a whole."""
    name: str
    success: bool
    unexpected_count: int
    failed_rows: list[int] | None  # None when GX gave no row indexes
    exception: str | None = None
    config: Any = None  # the expectation's configuration, as GX reports it


def validate_expectations(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> list[ExpectationResult]:
    """Validate `frame` (which must carry a unique integer `_row` column) against `suite`, in one GX
    validation; the results in the order GX reports them (see `distinct.gx_order`)."""
    if ROW_INDEX not in frame.columns:
        raise ValueError(f"frame must have a {ROW_INDEX!r} column to report failing rows")
    context = _context()
    source = context.data_sources.add_or_update_pandas(f"contract_{suite.name}")
    asset = source.add_dataframe_asset(f"batch_{len(source.assets)}")
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={
        "result_format": "COMPLETE", "unexpected_index_column_names": [ROW_INDEX],
        "return_unexpected_index_query": False, "partial_unexpected_count": 0})
    results = []
    for item in result.results:
        config = item.expectation_config
        indexes = item.result.get("unexpected_index_list")
        raised = item.exception_info and item.exception_info.get("raised_exception")
        results.append(ExpectationResult(
            expectation_name(config), bool(item.success), int(item.result.get("unexpected_count") or 0),
            None if indexes is None else [int(e[ROW_INDEX] if isinstance(e, dict) else e) for e in indexes],
            str(item.exception_info.get("exception_message")) if raised else None, config))
    source.delete_asset(asset.name)
    return results


def validate_rows(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> Verdicts:
    """Validate `frame` (which must carry a unique integer `_row` column) against `suite`."""
    if ROW_INDEX not in frame.columns:
        raise ValueError(f"frame must have a {ROW_INDEX!r} column to report failing rows")
    if frame.empty:
        return Verdicts(rows=0)
    failures: dict[int, list[str]] = defaultdict(list)
    outcomes, table_failures = [], []
    for item in validate_expectations(frame, suite):
        outcomes.append(ExpectationOutcome(item.name, item.success, item.unexpected_count))
        if item.success:
            continue
        if item.exception is not None:
            table_failures.append(f"{item.name}: {item.exception}")
        elif item.failed_rows:
            for row in item.failed_rows:
                failures[row].append(item.name)
        else:
            table_failures.append(item.name)
    return Verdicts(rows=len(frame), failures=dict(failures), outcomes=outcomes, table_failures=table_failures)


def new_suite(name: str) -> gx.ExpectationSuite:
    """An empty suite (GX needs its context to exist before expectations are added)."""
    _context()
    return gx.ExpectationSuite(name=name)
