"""Engine parity: run one transform on Polars and on PySpark and prove the results are the same.

Results are compared as sets of rows (sorted on every column, since Spark gives no row order), with a
relative tolerance on floating-point columns (Spark and Polars may sum in different orders).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pyarrow as pa
from polars.testing import assert_frame_equal

from lakehouse.engines import collect_arrow, lazy_frame

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Transform = Callable[..., nw.LazyFrame[Any]]


@dataclass(frozen=True)
class ParityResult:
    polars: pl.DataFrame
    spark: pl.DataFrame

    @property
    def rows(self) -> int:
        return self.polars.height


def run_on_both(transform: Transform, inputs: Mapping[str, pa.Table], *, spark: SparkSession,
                **options: Any) -> ParityResult:
    """Run `transform(**frames, **options)` on each engine; return both results as Polars frames."""
    results = {}
    for engine in ("polars", "spark"):
        frames = {name: lazy_frame(table, engine, spark=spark) for name, table in inputs.items()}
        results[engine] = _normalised(collect_arrow(transform(**frames, **options)))
    return ParityResult(polars=results["polars"], spark=results["spark"])


def assert_engine_parity(transform: Transform, inputs: Mapping[str, pa.Table], *, spark: SparkSession,
                         sort_by: Sequence[str] | None = None, rel_tol: float = 1e-9,
                         **options: Any) -> ParityResult:
    """Fail with a row-level diff unless Polars and PySpark give the same rows (floats within rel_tol)."""
    result = run_on_both(transform, inputs, spark=spark, **options)
    left, right = result.polars, result.spark
    if sorted(left.columns) != sorted(right.columns):
        raise AssertionError(f"columns differ: polars {left.columns} vs spark {right.columns}")
    right = right.select(left.columns)
    keys = list(sort_by) if sort_by else left.columns
    left, right = left.sort(keys, nulls_last=True), right.sort(keys, nulls_last=True)
    assert_frame_equal(left, right, check_exact=False, rel_tol=rel_tol, abs_tol=0.0, check_dtypes=False)
    return result


def _normalised(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    casts = {}
    for name, dtype in frame.schema.items():
        if dtype.is_integer():
            casts[name] = pl.Int64
        elif isinstance(dtype, pl.Datetime):
            casts[name] = pl.Datetime("us", "UTC")
    return frame.cast(casts) if casts else frame
