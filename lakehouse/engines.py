"""Running one transform definition on Polars or PySpark through Narwhals.

A transform takes and returns Narwhals LazyFrames. `lazy_frame` wraps Arrow data for the chosen engine and
`collect_arrow` brings a result back as Arrow, whichever engine computed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pyarrow as pa

from lakehouse.settings import Engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def lazy_frame(data: pa.Table, engine: Engine = "polars", *, spark: SparkSession | None = None) -> nw.LazyFrame[Any]:
    if engine == "polars":
        frame = pl.from_arrow(data)
        assert isinstance(frame, pl.DataFrame)
        return nw.from_native(frame.lazy())
    if engine == "spark":
        if spark is None:
            raise ValueError("the spark engine needs a SparkSession (lakehouse.spark.spark_session())")
        return nw.from_native(spark.createDataFrame(_spark_safe(data)))
    raise ValueError(f"unknown engine {engine!r}")


def collect_arrow(frame: nw.LazyFrame[Any] | nw.DataFrame[Any]) -> pa.Table:
    """Execute a Narwhals frame on its engine and return Arrow."""
    native = nw.to_native(frame)
    if isinstance(native, pl.LazyFrame):
        return native.collect().to_arrow()
    if isinstance(native, pl.DataFrame):
        return native.to_arrow()
    if hasattr(native, "toArrow"):
        return native.toArrow()
    return nw.from_native(frame).lazy().collect().to_arrow()


def _spark_safe(data: pa.Table) -> pa.Table:
    """Spark has no unsigned or view types; widen them so createDataFrame keeps every value."""
    fields = []
    for field in data.schema:
        t = field.type
        if pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_large_string(t) or t == pa.string_view():
            t = pa.string()
        fields.append(pa.field(field.name, t, field.nullable))
    return data.cast(pa.schema(fields))
