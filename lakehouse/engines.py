"""Running one transform definition on Polars, DuckDB or PySpark through Narwhals.

A transform takes and returns Narwhals LazyFrames. `lazy_frame` wraps Arrow data for the chosen engine and
`collect_arrow` brings a result back as Arrow, whichever engine computed it. The project's engines are Polars
(one machine) and Spark (a cluster); on one machine DuckDB runs the transforms whose cost is a window over many
small groups (the ledger's running balances: DuckDB's window operator is several times faster than Polars'
`over` there), through the same Narwhals definition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import duckdb
import narwhals as nw
import polars as pl
import pyarrow as pa

from lakehouse.settings import Engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def lazy_frame(data: pa.Table, engine: Engine | Literal["duckdb"] = "polars", *, spark: SparkSession | None = None,
               duckdb_connection: duckdb.DuckDBPyConnection | None = None) -> nw.LazyFrame[Any]:
    if engine == "duckdb":
        connection = duckdb_connection or duckdb.connect()
        return nw.from_native(connection.from_arrow(data))
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
    if isinstance(native, duckdb.DuckDBPyRelation):
        return native.to_arrow_table()
    if hasattr(native, "toArrow"):
        return native.toArrow()
    return nw.from_native(frame).lazy().collect().to_arrow()


def _spark_safe(data: pa.Table) -> pa.Table:
    """Spark has no unsigned or view types; widen them so createDataFrame keeps every value. A column without
    chunks (an empty table) gets one empty chunk: PySpark rebuilds nested columns chunk by chunk and cannot
    rebuild one from none."""
    fields = []
    for field in data.schema:
        t = field.type
        if pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_large_string(t) or t == pa.string_view():
            t = pa.string()
        fields.append(pa.field(field.name, t, field.nullable))
    schema = pa.schema(fields)
    data = data.cast(schema)
    if any(column.num_chunks == 0 for column in data.columns):
        data = pa.Table.from_arrays([column if column.num_chunks else pa.chunked_array([pa.array([], f.type)], f.type)
                                     for column, f in zip(data.columns, schema)], schema=schema)
    return data
