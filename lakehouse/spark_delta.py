"""The lake read and written through delta-spark: the `spark` engine's `DeltaLake`.

`SparkDeltaLake` keeps `DeltaLake`'s write API (append, overwrite, overwrite_partitions, insert_new, upsert) and its
contract, but every write is a Delta commit made by Spark (`engineInfo: Apache-Spark/... Delta-Lake/...` in the
log), and `read_spark` reads with `spark.read.format("delta")` (`versionAsOf`/`timestampAsOf` when pinned):
- a Spark DataFrame (or a Narwhals frame over one) is written as it is, cast to the catalog's types, with no Arrow
  round trip; Arrow, Polars or pandas data (a CSV read, a Polars result) becomes a DataFrame of the catalog schema;
- `create` makes the table through Spark with the catalog's schema, partitioning and description;
- `overwrite_partitions` is `replaceWhere` on the partitions present (or listed); `insert_new` is an insert-only
  MERGE on the merge keys (null-safe equality, duplicates in the batch keep the first); `upsert` is a MERGE that
  updates matched rows and inserts the others (duplicates in the batch keep the last).
Reads that work on Polars (scan, read_arrow, history) and maintenance stay on delta-rs: both implementations
read and write the same tables (tests/spark_delta/ proves it both ways).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakehouse.catalog import CATALOG, Catalog, TableSpec
from lakehouse.delta_io import DeltaLake, Version, WriteResult, _sql_literal
from lakehouse.schema import SchemaMismatchError, conform

if TYPE_CHECKING:
    import polars as pl
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

ORDER_COLUMN = "__plantlake_row_order"


def spark_schema(spec: TableSpec) -> StructType:
    """The catalog's Arrow schema as a Spark StructType (nullability kept)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(spec.schema)


def is_spark_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pyspark.sql") and hasattr(data, "sparkSession")


def native_spark(data: Any) -> Any:
    """The Spark DataFrame inside a Narwhals frame (or `data` itself)."""
    import narwhals as nw

    if isinstance(data, (nw.LazyFrame, nw.DataFrame)):
        data = nw.to_native(data)
    return data


class SparkDeltaLake(DeltaLake):
    """The lake under one root folder, written by delta-spark through `spark` (a session with the Delta
    extension: `lakehouse.spark.spark_session(with_delta=True)`)."""

    def __init__(self, root: Path | str, spark: SparkSession, catalog: Catalog = CATALOG) -> None:
        super().__init__(root, catalog)
        self.spark = spark

    # ---- reads ---------------------------------------------------------------------------------
    def read_spark(self, name: str, *, version: Version = None) -> DataFrame:
        """The table as a Spark DataFrame read by delta-spark (as of a version number or a timestamp)."""
        self.table(name)  # a missing table raises TableNotFoundError, as every other read does
        reader = self.spark.read.format("delta")
        if isinstance(version, int):
            reader = reader.option("versionAsOf", version)
        elif isinstance(version, datetime):
            reader = reader.option("timestampAsOf", version.isoformat())
        return reader.load(self.uri(name))

    # ---- writes --------------------------------------------------------------------------------
    def create(self, name: str) -> Any:
        """Create the table empty with its catalog schema and partitioning, through Spark; a no-op when it exists."""
        if self.exists(name):
            return None
        from delta.tables import DeltaTable as SparkDeltaTable

        spec = self.spec(name)
        builder = (SparkDeltaTable.createIfNotExists(self.spark).location(self.uri(name))
                   .addColumns(spark_schema(spec)).comment(spec.description))
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        return builder.execute()

    def append(self, name: str, data: Any) -> WriteResult:
        spec = self.spec(name)
        frame, rows = self._conformed(spec, data)
        self.create(name)
        frame.write.format("delta").mode("append").save(self.uri(name))
        rows = self._output_rows(name) if rows is None else rows
        return WriteResult(spec.name, "append", rows, rows, self.version(name))

    def overwrite(self, name: str, data: Any) -> WriteResult:
        """Replace the whole table's contents, taking the catalog's current schema (history keeps the old one)."""
        spec = self.spec(name)
        frame, rows = self._conformed(spec, data)
        self.create(name)
        writer = frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
        if spec.partition_by:
            writer = writer.partitionBy(*spec.partition_by)
        writer.save(self.uri(name))
        rows = self._output_rows(name) if rows is None else rows
        return WriteResult(spec.name, "overwrite", rows, rows, self.version(name))

    def overwrite_partitions(self, name: str, data: Any, *, partitions: dict[str, list[Any]] | None = None
                             ) -> WriteResult:
        """`replaceWhere` on the partitions present in `data` (or the listed `partitions`, which may end up
        empty); other partitions are untouched."""
        spec = self.spec(name)
        if not spec.partition_by:
            raise ValueError(f"{spec.qualified_name} is not partitioned; use overwrite()")
        frame, rows = self._conformed(spec, data)
        self.create(name)
        if partitions is not None:
            if not any(partitions.values()):
                return WriteResult(spec.name, "overwrite_partitions", rows or 0, 0, self.version(name))
            values = partitions
        else:
            values = {col: [r[0] for r in frame.select(col).distinct().collect()] for col in spec.partition_by}
            if not all(values.values()):
                return WriteResult(spec.name, "overwrite_partitions", 0, 0, self.version(name))
            nulls = [col for col, vs in values.items() if any(v is None for v in vs)]
            if nulls:
                raise ValueError(f"partition column {nulls[0]!r} has nulls; cannot overwrite a null partition "
                                 "by predicate")
        predicate = " AND ".join(f"{col} IN ({', '.join(_sql_literal(v) for v in vs)})" for col, vs in values.items())
        (frame.write.format("delta").mode("overwrite").option("replaceWhere", predicate).save(self.uri(name)))
        rows = self._output_rows(name) if rows is None else rows
        return WriteResult(spec.name, "overwrite_partitions", rows, rows, self.version(name))

    def insert_new(self, name: str, data: Any) -> WriteResult:
        """Insert-only MERGE on the merge keys: rows whose keys are stored already are skipped."""
        spec = self.spec(name)
        frame, rows = self._conformed(spec, data, keep="first")
        self.create(name)
        metrics = self._merge(spec, frame, update=False)
        inserted = int(metrics.get("numTargetRowsInserted", 0))
        return WriteResult(spec.name, "insert_new", rows, inserted, self.version(name),
                           duplicates_skipped=rows - inserted)

    def insert_new_rows(self, name: str, data: Any) -> tuple[WriteResult, pl.DataFrame]:
        """`insert_new`, also returning the rows it inserted (collected to Polars: callers attribute them back)."""
        import polars as pl

        spec = self.spec(name)
        frame, rows = self._conformed(spec, data, keep="first")
        self.create(name)
        keys = list(spec.merge_keys)
        stored = self.read_spark(name).select(*keys)
        fresh = frame.join(stored, on=[frame[k].eqNullSafe(stored[k]) for k in keys], how="left_anti").cache()
        try:
            inserted = pl.from_arrow(fresh.toArrow())
            metrics = self._merge(spec, fresh, update=False) if inserted.height else {}
        finally:
            fresh.unpersist()
        assert isinstance(inserted, pl.DataFrame)
        written = int(metrics.get("numTargetRowsInserted", 0))
        return (WriteResult(spec.name, "insert_new", rows, written, self.version(name),
                            duplicates_skipped=rows - written), inserted)

    def upsert(self, name: str, data: Any) -> WriteResult:
        """MERGE on the merge keys: matched rows are updated, the others inserted."""
        spec = self.spec(name)
        frame, rows = self._conformed(spec, data, keep="last")
        self.create(name)
        metrics = self._merge(spec, frame, update=True)
        written = int(metrics.get("numTargetRowsInserted", 0)) + int(metrics.get("numTargetRowsUpdated", 0))
        source_rows = int(metrics.get("numSourceRows", rows))
        return WriteResult(spec.name, "upsert", rows, written, self.version(name),
                           duplicates_skipped=rows - source_rows)

    # ---- helpers -------------------------------------------------------------------------------
    def _merge(self, spec: TableSpec, source: DataFrame, *, update: bool) -> dict[str, Any]:
        from delta.tables import DeltaTable as SparkDeltaTable

        condition = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in spec.merge_keys)
        target = SparkDeltaTable.forPath(self.spark, self.uri(spec.name))
        merge = target.alias("t").merge(source.alias("s"), condition)
        if update:
            merge = merge.whenMatchedUpdateAll()
        merge.whenNotMatchedInsertAll().execute()
        last = target.history(1).select("operation", "operationMetrics").collect()[0]
        return {k: v for k, v in (last["operationMetrics"] or {}).items()} if last["operation"] == "MERGE" else {}

    def _output_rows(self, name: str) -> int:
        """Rows the table's last commit wrote (Spark's operationMetrics; no second pass over the data)."""
        metrics = self.history(name, 1)[0].get("operationMetrics") or {}
        return int(metrics.get("numOutputRows", 0))

    def _conformed(self, spec: TableSpec, data: Any, *, keep: str | None = None) -> tuple[DataFrame, int | None]:
        """`data` as a Spark DataFrame with exactly the catalog's columns and types (and, with `keep`, one row
        per merge key: the first or the last in the batch's order), with its row count before deduplication
        (None for a Spark frame written as it is: the commit's metrics count it)."""
        data = native_spark(data)
        if is_spark_frame(data):
            return self._conform_spark(spec, data, keep=keep)
        batch = conform(spec, data)
        rows = batch.num_rows
        if keep is not None and rows:
            import polars as pl

            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            batch = frame.unique(subset=list(spec.merge_keys), keep=keep, maintain_order=True).to_arrow()
        return self.spark.createDataFrame(_spark_safe_arrow(batch.cast(spec.schema)), schema=spark_schema(spec)), rows

    def _conform_spark(self, spec: TableSpec, frame: DataFrame, *, keep: str | None
                       ) -> tuple[DataFrame, int | None]:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        expected = spark_schema(spec)
        missing = [f.name for f in expected if f.name not in frame.columns]
        extra = [c for c in frame.columns if c not in expected.fieldNames()]
        if missing or extra:
            raise SchemaMismatchError(spec.qualified_name, missing=missing, extra=extra)
        frame = frame.select(*(F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in expected))
        if keep is not None:
            keys = list(spec.merge_keys)
            order = F.monotonically_increasing_id()
            window = Window.partitionBy(*keys).orderBy(F.col(ORDER_COLUMN).asc() if keep == "first"
                                                       else F.col(ORDER_COLUMN).desc())
            counted = frame.withColumn(ORDER_COLUMN, order).cache()
            rows = counted.count()
            frame = (counted.withColumn("__rank", F.row_number().over(window)).filter(F.col("__rank") == 1)
                     .drop("__rank", ORDER_COLUMN))
            return frame, rows
        # a null in a non-nullable column fails the commit itself (Delta enforces the table's NOT NULL columns)
        return frame, None


def _spark_safe_arrow(data: pa.Table) -> pa.Table:
    from lakehouse.engines import _spark_safe

    return _spark_safe(data)
