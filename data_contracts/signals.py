"""Contract for historical machine-signal files (typed Parquet: validated as typed columns, not text)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

import great_expectations as gx
import pandas as pd
import polars as pl

from data_contracts.rules import EARLIEST
from data_contracts.runner import ROW_INDEX, new_suite

REQUIRED_COLUMNS = ("machine_id", "tag", "source_at", "value", "status_code")
MAX_STATUS_CODE = 0xFFFFFFFF
BAD_STATUS = 0x80000000  # OPC UA severity bits 10: a Bad sample carries no usable value


def signal_suite(machines: Sequence[str], now: datetime, tolerance: timedelta = timedelta(hours=1)) -> gx.ExpectationSuite:
    e = gx.expectations
    suite = new_suite("machine_signals_v1")
    for column in ("machine_id", "tag", "source_at", "status_code"):
        suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=column, meta={"name": f"{column} is present"}))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="machine_id", value_set=list(machines),
                                                        meta={"name": "machine_id is a known machine code"}))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(
        column="source_at__epoch_s", min_value=EARLIEST.timestamp(), max_value=(now + tolerance).timestamp(),
        meta={"name": "source_at is after 2000 and not in the future"}))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(
        column="status_code", min_value=0, max_value=MAX_STATUS_CODE,
        meta={"name": "status_code is an OPC UA StatusCode"}))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="value__is_finite", value_set=[True],
                                                        meta={"name": "value is finite (or the sample is Bad)"}))
    suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(
        column_list=["machine_id", "tag", "source_at"], meta={"name": "(machine_id, tag, source_at) is unique"}))
    return suite


def signal_validation_frame(frame: pl.DataFrame) -> pd.DataFrame:
    """The columns the suite reads: keys, epoch seconds of source_at, status, finiteness of value."""
    return frame.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW_INDEX), "machine_id", "tag", "status_code",
        (pl.col("source_at").dt.epoch("us") / 1e6).alias("source_at__epoch_s"),
        pl.col("source_at").cast(pl.Int64).alias("source_at"),
        (pl.col("value").is_null() | pl.col("value").is_finite() | (pl.col("status_code") >= BAD_STATUS))
        .alias("value__is_finite"),
    ).to_pandas()
