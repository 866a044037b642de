"""Which values certainly pass an expectation, told by Polars from the expectation's own GX configuration.

GX stays the definition and the judge: a value this module cannot vouch for is validated by GX. A
certificate is conservative by construction, so it can only send more values to GX, never fewer:

- not null: the value is present (with or without a row condition);
- in a set / between: the value is in the set / within the bounds (null passes, as GX skips nulls);
- matches a pattern: the value is printable ASCII and the Rust regex engine finds the pattern (on printable
  ASCII without a line break, Python's `re` and Rust's `regex` agree on the constructs allowed here);
- does not match a pattern: printable ASCII, and not even the pattern without its lookaheads matches (a
  lookahead only narrows a pattern, so dropping it gives a pattern matching at least as much);
- unique (one column or compound): the value occurs once in the frame.

Any other expectation, option or pattern construct gets no certificate. tests/data_contracts/
test_distinct_parity.py holds the verdicts equal to GX's own validation of the same suites.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

PRINTABLE_ASCII = r"^[ -~]*$"
# constructs that Python and Rust read differently, or that Rust cannot read: no certificate for these
UNSAFE_PATTERN = re.compile(r"\[:|\{,|\\[ZzAbBpPNuUX0-9]|\\x(?![0-9a-fA-F]{2})|\(\?(?![!=:])")
KNOWN_OPTIONS = {"column", "column_list", "regex", "value_set", "min_value", "max_value", "row_condition",
                 "condition_parser", "batch_id"}


def certificate(expectation: Any, schema: pl.Schema) -> pl.Expr | None:
    """An expression, over a frame with `schema`, that is True where the value certainly passes
    `expectation`; None when no row can be vouched for (an expectation, option or pattern this module does not
    read, or a column of another type than the check needs)."""
    config = expectation.configuration
    kwargs = {k: v for k, v in (config.kwargs or {}).items() if v is not None}
    if set(kwargs) - KNOWN_OPTIONS or (kwargs.get("row_condition") and config.type != "expect_column_values_to_not_be_null"):
        return None
    column = kwargs.get("column")
    if column is not None and column not in schema:
        return None
    value = pl.col(column) if column is not None else pl.lit(None)
    dtype = schema.get(column) if column is not None else None
    passes: pl.Expr | None = None
    if config.type == "expect_column_values_to_not_be_null":
        passes = value.is_not_null()
    elif config.type == "expect_column_values_to_be_in_set":
        members = list(kwargs["value_set"])
        if dtype == pl.String and all(isinstance(m, str) for m in members) or \
                dtype == pl.Boolean and all(isinstance(m, bool) for m in members):
            passes = value.is_null() | value.is_in(members)
    elif config.type == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if dtype is not None and dtype.is_float() and all(isinstance(b, (int, float)) for b in (low, high)
                                                             if b is not None):
            passes = _between(value, low, high)
    elif config.type in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        matches = config.type == "expect_column_values_to_match_regex"
        pattern = _rust_pattern(kwargs["regex"], drop_lookaheads=not matches)
        if pattern is not None and dtype == pl.String:
            found = value.str.contains(pattern)
            passes = value.is_null() | (value.str.contains(PRINTABLE_ASCII) & (found if matches else ~found))
    elif config.type == "expect_column_values_to_be_unique":
        passes = value.is_null() | value.is_unique()
    elif config.type == "expect_compound_columns_to_be_unique":
        columns = list(kwargs.get("column_list") or ())
        if columns and set(columns) <= set(schema):
            passes = pl.struct(columns).is_unique()
    return None if passes is None else passes.fill_null(False)


def _between(value: pl.Expr, low: float | None, high: float | None) -> pl.Expr:
    within = pl.lit(True)
    if low is not None:
        within = within & (value >= low)
    if high is not None:
        within = within & (value <= high)
    return value.is_null() | (within & ~value.is_nan())


def _rust_pattern(pattern: str, *, drop_lookaheads: bool) -> str | None:
    """The pattern for Polars (Rust `regex`), or None when it holds a construct the two engines may read
    differently. With `drop_lookaheads`, `(?!...)` and `(?=...)` groups are taken out."""
    if drop_lookaheads:
        pattern = _without_lookaheads(pattern)
        if pattern is None:
            return None
    if UNSAFE_PATTERN.search(pattern):
        return None
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError:
        return None
    return pattern


def _without_lookaheads(pattern: str) -> str | None:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith(("(?!", "(?="), i):
            depth, j = 0, i
            while j < len(pattern):
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern[j] == "[":  # a class may hold parentheses
                    j = pattern.find("]", j + 2) + 1
                    if j == 0:
                        return None
                    continue
                depth += pattern[j] == "("
                depth -= pattern[j] == ")"
                j += 1
                if depth == 0:
                    break
            if depth:
                return None
            i = j
            continue
        if pattern[i] == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append(pattern[i])
        i += 1
    return "".join(out)
