"""Contracts declared as column rules, turned into Great Expectations suites and typed frames.

A source record arrives as text. Each rule says what the text of one column must look like (kind, required,
allowed values, range, codes known to master data); `Contract.suite()` turns the rules into a GX suite and
`Contract.validation_frame()` builds the frame GX validates: the raw text columns plus typed helper columns for
range checks. Rows that pass become typed Arrow rows through `Contract.typed()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

import great_expectations as gx
import pandas as pd
import polars as pl

from great_expectations.expectations.row_conditions import Column as RowColumn

from data_contracts.runner import ROW_INDEX, new_suite

Kind = Literal["text", "code", "decimal", "integer", "timestamp"]
# ASCII digits only: `\d` would accept Arabic-Indic or full-width digits, which no cast reads
DECIMAL_RE = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
INTEGER_RE = r"^-?[0-9]+$"
TIMESTAMP_WITH_ZONE_RE = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
                          r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$")
# spreadsheet formula / DDE injection (OWASP CSV injection), also behind leading blanks; a minus only as a number
FORMULA_RE = r"^\s*[=+@]|^[\t\r]|^\s*-(?![0-9.]+$)"
CONTROL_RE = r"[\x00-\x1f\x7f]"  # NUL, escape sequences, line breaks inside a value: no identifier holds them
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)

PL_TYPES = {"text": pl.String, "code": pl.String, "decimal": pl.Float64, "integer": pl.Int64,
            "timestamp": pl.Datetime("us", "UTC")}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = False
    allowed: tuple[str, ...] = ()
    known_codes: str | None = None  # name of a master-data code set the value must be in
    min_value: float | None = None
    max_value: float | None = None
    future_tolerance: timedelta | None = None  # timestamps: how far ahead of now a value may be (default: the
    # contract's tolerance); a planned date such as a due date is legitimately in the future


@dataclass(frozen=True)
class Contract:
    entity: str
    version: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    record_types: tuple[str, ...] = ()
    required_when: tuple[tuple[str, tuple[str, str, str]], ...] = ()  # column, (other column, "=="|"!=", value)
    future_tolerance: timedelta = timedelta(hours=1)
    description: str = ""
    _names: tuple[str, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_names", tuple(c.name for c in self.columns))

    @property
    def column_names(self) -> tuple[str, ...]:
        return self._names

    @property
    def key_rule(self) -> str:
        """The name of the expectation that the business key is unique within a batch."""
        return f"{self.key[0]} is unique" if len(self.key) == 1 else f"({', '.join(self.key)}) is unique"

    def suite(self, code_sets: Mapping[str, Sequence[str]], now: datetime) -> gx.ExpectationSuite:
        suite = new_suite(f"{self.entity}_v{self.version}")
        e = gx.expectations
        for col in self.columns:
            name = col.name
            if col.required:
                suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=name, meta={"name": f"{name} is present"}))
            if col.kind == "decimal":
                suite.add_expectation(e.ExpectColumnValuesToMatchRegex(
                    column=name, regex=DECIMAL_RE, meta={"name": f"{name} is a finite decimal"}))
            elif col.kind == "integer":
                suite.add_expectation(e.ExpectColumnValuesToMatchRegex(
                    column=name, regex=INTEGER_RE, meta={"name": f"{name} is an integer"}))
            elif col.kind == "timestamp":
                suite.add_expectation(e.ExpectColumnValuesToMatchRegex(
                    column=name, regex=TIMESTAMP_WITH_ZONE_RE, meta={"name": f"{name} is ISO 8601 with a zone"}))
                suite.add_expectation(e.ExpectColumnValuesToBeInSet(
                    column=f"{name}__is_real", value_set=[True], meta={"name": f"{name} is a real date and time"}))
                ahead = "not in the future" if col.future_tolerance is None else \
                    f"at most {col.future_tolerance.days} days ahead"
                latest = now + (self.future_tolerance if col.future_tolerance is None else col.future_tolerance)
                suite.add_expectation(e.ExpectColumnValuesToBeBetween(
                    column=f"{name}__epoch_s", min_value=EARLIEST.timestamp(), max_value=latest.timestamp(),
                    meta={"name": f"{name} is after 2000 and {ahead}"}))
            elif not (col.allowed or col.known_codes):  # a value from a known set cannot be a formula
                suite.add_expectation(e.ExpectColumnValuesToNotMatchRegex(
                    column=name, regex=FORMULA_RE, meta={"name": f"{name} is not a spreadsheet formula"}))
                suite.add_expectation(e.ExpectColumnValuesToNotMatchRegex(
                    column=name, regex=CONTROL_RE, meta={"name": f"{name} holds no control characters"}))
            if col.kind in ("decimal", "integer"):  # matches the pattern but does not convert (overflow, 1e999)
                noun = "a finite decimal" if col.kind == "decimal" else "a 64-bit integer"
                suite.add_expectation(e.ExpectColumnValuesToBeInSet(
                    column=f"{name}__converts", value_set=[True], meta={"name": f"{name} converts to {noun}"}))
            if col.kind in ("decimal", "integer") and (col.min_value is not None or col.max_value is not None):
                suite.add_expectation(e.ExpectColumnValuesToBeBetween(
                    column=f"{name}__value", min_value=col.min_value, max_value=col.max_value,
                    meta={"name": f"{name} within [{col.min_value}, {col.max_value}]"}))
            if col.allowed:
                suite.add_expectation(e.ExpectColumnValuesToBeInSet(
                    column=name, value_set=list(col.allowed), meta={"name": f"{name} is an allowed value"}))
            if col.known_codes:
                suite.add_expectation(e.ExpectColumnValuesToBeInSet(
                    column=name, value_set=list(code_sets.get(col.known_codes, ())),
                    meta={"name": f"{name} is a known {col.known_codes} code"}))
        for name, (on, op, value) in self.required_when:
            condition = RowColumn(on) == value if op == "==" else RowColumn(on) != value
            suite.add_expectation(e.ExpectColumnValuesToNotBeNull(
                column=name, row_condition=condition, meta={"name": f"{name} is present when {on} {op} {value}"}))
        if len(self.key) == 1:
            suite.add_expectation(e.ExpectColumnValuesToBeUnique(column=self.key[0], meta={"name": self.key_rule}))
        else:
            suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=list(self.key),
                                                                    meta={"name": self.key_rule}))
        return suite

    def normalized(self, text: pl.DataFrame) -> pl.DataFrame:
        """Every value trimmed of surrounding blanks; a value blank after trimming is absent (null), so an
        empty or blank required field fails "is present" whichever format carried it (CSV reads an empty field
        as null, JSON keeps "")."""
        def trimmed(name: str) -> pl.Expr:
            value = pl.col(name).str.strip_chars()
            return pl.when(value == "").then(None).otherwise(value).alias(name)

        return text.with_columns(trimmed(name) for name in self.column_names)

    def text_frame(self, rows: Sequence[Mapping[str, str | None]]) -> pl.DataFrame:
        data = {name: [r.get(name) for r in rows] for name in self.column_names}
        return pl.DataFrame(data, schema={name: pl.String for name in self.column_names})

    def typed(self, text: pl.DataFrame) -> pl.DataFrame:
        """Text columns converted to their kinds; values that do not convert become null (the contract has
        already rejected those rows). Only the contract's columns that `text` holds are typed."""
        return text.select(_typed(col) for col in self.columns if col.name in text.columns)

    def helper_columns(self, text: pl.DataFrame, typed: pl.DataFrame) -> list[pl.Series | pl.Expr]:
        """The typed helper columns GX range-checks (`<column>__value`, `__converts`, `__epoch_s`, `__is_real`)
        for the contract's columns that `text` holds."""
        helpers = []
        for col in self.columns:
            if col.name not in text.columns:
                continue
            if col.kind in ("decimal", "integer"):
                helpers.append(typed[col.name].cast(pl.Float64).alias(f"{col.name}__value"))
                pattern = DECIMAL_RE if col.kind == "decimal" else INTEGER_RE
                helpers.append((text[col.name].is_null() | ~text[col.name].str.contains(pattern)
                                | typed[col.name].cast(pl.Float64).is_finite().fill_null(False))
                               .alias(f"{col.name}__converts"))
            elif col.kind == "timestamp":
                helpers.append((typed[col.name].dt.epoch("us") / 1e6).alias(f"{col.name}__epoch_s"))
                helpers.append(pl.when(text[col.name].str.contains(TIMESTAMP_WITH_ZONE_RE))
                               .then(typed[col.name].is_not_null())
                               .alias(f"{col.name}__is_real"))
        return helpers

    def validation_frame(self, text: pl.DataFrame, typed: pl.DataFrame | None = None) -> pd.DataFrame:
        """The frame GX validates; pass `typed` when the caller already typed `text`."""
        typed = self.typed(text) if typed is None else typed
        frame = text.with_columns(self.helper_columns(text, typed)).with_row_index(ROW_INDEX)
        return frame.to_pandas()


def _typed(col: Column) -> pl.Expr:
    source = pl.col(col.name)
    if col.kind == "decimal":
        return source.cast(pl.Float64, strict=False)
    if col.kind == "integer":
        return source.cast(pl.Int64, strict=False)
    if col.kind == "timestamp":
        return (source.str.replace(" ", "T", literal=True)
                .str.to_datetime(TIMESTAMP_FORMAT, strict=False, time_zone="UTC", time_unit="us"))
    return source
