"""Delta IO through delta-rs (`deltalake`): every table write and read in the project goes through here.

Writes are explicit about their mode and idempotent where the mode allows it:
- `append`: adds the rows.
- `overwrite_partitions`: replaces exactly the partitions present in the data (by predicate).
- `insert_new`: inserts rows whose merge keys are not in the table yet (the dedup path). It anti-joins the
  batch against the keys already stored (only in the partitions the batch touches) and appends the rest, so
  existing files are never rewritten; a batch with nothing new commits nothing.
- `upsert`: delta-rs MERGE, updating matched rows and inserting the others.
- `overwrite_stream`: replaces the whole table with tables computed one after another, in one commit.
- `replace_rows`: delta-rs MERGE that replaces the rows of the given keys (deleting those with no new row).
Every write first conforms the data to the table's catalog schema; a mismatch raises `SchemaMismatchError`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from lakehouse.catalog import CATALOG, Catalog, TableSpec
from lakehouse.errors import TableNotFoundError, VersionNotFoundError
from lakehouse.lake_lock import table_write_lock
from lakehouse.schema import conform

Version = int | datetime | None


@dataclass(frozen=True)
class WriteResult:
    table: str
    operation: str
    rows_in: int
    rows_written: int
    version: int | None
    duplicates_skipped: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {"table": self.table, "operation": self.operation, "rows_in": self.rows_in,
                "rows_written": self.rows_written, "duplicates_skipped": self.duplicates_skipped,
                "table_version": -1 if self.version is None else self.version}


class DeltaLake:
    """The lake under one root folder; tables are addressed by catalog name."""

    def __init__(self, root: Path | str, catalog: Catalog = CATALOG) -> None:
        self.root = Path(root)
        self.catalog = catalog

    # ---- table handles -------------------------------------------------------------------------
    def spec(self, name: str) -> TableSpec:
        return self.catalog[name]

    def uri(self, name: str) -> str:
        return str(self.spec(name).path(self.root).absolute())

    def exists(self, name: str) -> bool:
        return DeltaTable.is_deltatable(self.uri(name))

    def create(self, name: str) -> DeltaTable:
        """Create the table empty with its catalog schema; a no-op when it exists."""
        spec = self.spec(name)
        Path(self.uri(name)).mkdir(parents=True, exist_ok=True)
        return DeltaTable.create(self.uri(name), spec.schema, mode="ignore",
                                 partition_by=list(spec.partition_by) or None, name=spec.name,
                                 description=spec.description)

    def table(self, name: str, *, version: Version = None) -> DeltaTable:
        if not self.exists(name):
            raise TableNotFoundError(f"table {self.spec(name).qualified_name} does not exist at {self.uri(name)}")
        dt = DeltaTable(self.uri(name))
        if version is not None:
            try:
                dt.load_as_version(version)
            except Exception as error:  # delta-rs raises its own error types for a version it does not have
                raise VersionNotFoundError(f"table {self.spec(name).qualified_name} has no version as of {version}: "
                                           f"{str(error).splitlines()[0]}") from error
        return dt

    def version(self, name: str) -> int:
        return self.table(name).version()

    def history(self, name: str, limit: int | None = None) -> list[dict[str, Any]]:
        return self.table(name).history(limit)

    # ---- writes --------------------------------------------------------------------------------
    def append(self, name: str, data: Any, *, table: DeltaTable | None = None) -> WriteResult:
        """Add the rows. `table`: this table's DeltaTable, kept open (and up to date) by a writer committing
        every few seconds; the write then uses its loaded log instead of checking that the table exists and
        opening it twice (to write, then for the version), which costs more than a small batch's write."""
        spec = self.spec(name)
        batch = conform(spec, data, large_strings=True)
        if table is not None:
            write_deltalake(table, batch, mode="append")
            return WriteResult(spec.name, "append", batch.num_rows, batch.num_rows, table.version())
        self.create(name)
        write_deltalake(self.uri(name), batch, mode="append")
        return WriteResult(spec.name, "append", batch.num_rows, batch.num_rows, self.version(name))

    def unchanged(self, name: str) -> WriteResult:
        """The result of a refresh that had nothing to write: no commit, the table (created empty when missing)
        at its current version."""
        self.create(name)
        return WriteResult(self.spec(name).name, "none", 0, 0, self.version(name))

    def overwrite(self, name: str, data: Any) -> WriteResult:
        """Replace the whole table's contents (a new version; history keeps the old one)."""
        spec = self.spec(name)
        batch = conform(spec, data)
        self.create(name)
        # the catalog is the source of truth: a full replace also takes the catalog's current schema
        write_deltalake(self.uri(name), batch, mode="overwrite", schema_mode="overwrite")
        return WriteResult(spec.name, "overwrite", batch.num_rows, batch.num_rows, self.version(name))

    def overwrite_stream(self, name: str, tables: Iterable[pa.Table]) -> WriteResult:
        """Replace the whole table with `tables` (each conformed as it comes, never all in memory at once) in
        one commit: a reader sees the old table or the new one, and a write that stops half way commits nothing.
        The table takes the catalog's schema and partitioning (a table laid out otherwise is laid out anew).
        The first table is computed before the write starts, so a producer that reads the lake through delta-rs
        (as `lakehouse.buckets` spills its input on the first table) does not run inside delta-rs' writer, which
        cannot block on a second runtime; later tables must come from elsewhere (spilled buckets do)."""
        spec = self.spec(name)
        rows = 0
        pending = iter(tables)
        first = next(pending, None)

        def batches() -> Iterator[pa.RecordBatch]:
            nonlocal rows
            for table in itertools.chain([] if first is None else [first], pending):
                conformed = conform(spec, table)
                rows += conformed.num_rows
                yield from conformed.to_batches()

        self.create(name)
        write_deltalake(self.uri(name), pa.RecordBatchReader.from_batches(spec.schema, batches()), mode="overwrite",
                        schema_mode="overwrite", partition_by=list(spec.partition_by) or None)
        return WriteResult(spec.name, "overwrite", rows, rows, self.version(name))

    def replace_rows(self, name: str, keys: Any, rows: Any) -> WriteResult:
        """MERGE on the merge keys: stored rows whose keys are in `keys` are replaced by `rows` (keys without a
        row in `rows` are deleted, rows of keys not stored are inserted); other rows and files stay as they are."""
        spec = self.spec(name)
        batch = conform(spec, rows)
        merge_keys = list(spec.merge_keys)
        source = (pl.from_arrow(keys).select(merge_keys).unique()  # type: ignore[union-attr]
                  .join(pl.from_arrow(batch).with_columns(pl.lit(True).alias("_present")),  # type: ignore[union-attr]
                        on=merge_keys, how="full", coalesce=True)
                  .with_columns(pl.col("_present").fill_null(False)))
        self.create(name)
        if source.height == 0:
            return WriteResult(spec.name, "replace_rows", 0, 0, self.version(name))
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in merge_keys)
        columns = {c: f"s.{c}" for c in spec.schema.names}
        metrics = (self.table(name).merge(source.to_arrow(), predicate, source_alias="s", target_alias="t")
                   .when_matched_delete("NOT s._present").when_matched_update(columns, "s._present")
                   .when_not_matched_insert(columns, "s._present").execute())
        written = int(metrics.get("num_target_rows_inserted", 0)) + int(metrics.get("num_target_rows_updated", 0))
        return WriteResult(spec.name, "replace_rows", batch.num_rows, written, self.version(name))

    def overwrite_partitions(self, name: str, data: Any, *, partitions: dict[str, list[Any]] | None = None
                             ) -> WriteResult:
        """Replace exactly the partitions present in `data` (or, when given, the listed `partitions`, which
        may end up empty); other partitions are untouched."""
        spec = self.spec(name)
        if not spec.partition_by:
            raise ValueError(f"{spec.qualified_name} is not partitioned; use overwrite()")
        batch = conform(spec, data, large_strings=True)
        self.create(name)
        if partitions is not None:
            if not any(partitions.values()):
                return WriteResult(spec.name, "overwrite_partitions", batch.num_rows, 0, self.version(name))
            predicate = " AND ".join(f"{col} IN ({', '.join(_sql_literal(v) for v in values)})"
                                     for col, values in partitions.items())
        elif batch.num_rows == 0:
            return WriteResult(spec.name, "overwrite_partitions", 0, 0, self.version(name))
        else:
            predicate = _partition_predicate(batch, spec.partition_by)
        write_deltalake(self.uri(name), batch, mode="overwrite", predicate=predicate)
        return WriteResult(spec.name, "overwrite_partitions", batch.num_rows, batch.num_rows, self.version(name))

    def insert_new(self, name: str, data: Any) -> WriteResult:
        """Insert rows whose merge keys are not stored yet; duplicates within the batch keep the first."""
        return self.insert_new_rows(name, data)[0]

    def insert_new_rows(self, name: str, data: Any) -> tuple[WriteResult, pl.DataFrame]:
        """`insert_new`, also returning the rows it inserted (callers attribute them back to their sources)."""
        spec = self.spec(name)
        batch = conform(spec, data, large_strings=True)
        keys = list(spec.merge_keys)
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        unique = frame.select(pl.struct(keys).n_unique()).item() == frame.height  # the usual batch: one pass
        fresh = frame if unique else frame.unique(subset=keys, keep="first", maintain_order=True)
        with table_write_lock(self.root, name):  # nobody appends between reading the stored keys and appending
            self.create(name)
            if fresh.height:
                stored = self._stored_keys(spec, batch)
                if stored.height:
                    fresh = fresh.join(stored, on=keys, how="anti", nulls_equal=True)
            if fresh.height:  # every row new: the conformed batch as it is, not converted back and cast again
                rows = batch if fresh.height == batch.num_rows else fresh.to_arrow().cast(spec.schema)
                write_deltalake(self.uri(name), rows, mode="append")
        result = WriteResult(spec.name, "insert_new", batch.num_rows, fresh.height, self.version(name),
                             duplicates_skipped=batch.num_rows - fresh.height)
        return result, fresh

    def upsert(self, name: str, data: Any) -> WriteResult:
        """MERGE on the merge keys: matched rows are updated, the others inserted."""
        spec = self.spec(name)
        batch = conform(spec, data)
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        source = frame.unique(subset=list(spec.merge_keys), keep="last", maintain_order=True).to_arrow()
        self.create(name)
        predicate = " AND ".join(f"t.{k} = s.{k}" for k in spec.merge_keys)
        metrics = (self.table(name).merge(source.cast(spec.schema), predicate, source_alias="s", target_alias="t")
                   .when_matched_update_all().when_not_matched_insert_all().execute())
        written = int(metrics.get("num_target_rows_inserted", 0)) + int(metrics.get("num_target_rows_updated", 0))
        return WriteResult(spec.name, "upsert", batch.num_rows, written, self.version(name),
                           duplicates_skipped=batch.num_rows - source.num_rows)

    def _stored_keys(self, spec: TableSpec, batch: pa.Table) -> pl.DataFrame:
        filters = None
        if spec.partition_by:
            filters = [(col, "in", pc.unique(batch[col]).to_pylist()) for col in spec.partition_by]
        stored = self.table(spec.name).to_pyarrow_table(columns=list(spec.merge_keys), filters=filters)
        frame = pl.from_arrow(stored)
        assert isinstance(frame, pl.DataFrame)
        return frame

    # ---- reads ---------------------------------------------------------------------------------
    def scan(self, name: str, *, version: Version = None) -> pl.LazyFrame:
        """A Polars LazyFrame over the table (optionally as of a version number or a timestamp)."""
        self.table(name)
        return pl.scan_delta(self.uri(name), version=version)

    def read_arrow(self, name: str, *, version: Version = None, columns: list[str] | None = None,
                   filters: list[tuple[str, str, Any]] | None = None) -> pa.Table:
        table = self.table(name, version=version).to_pyarrow_table(columns=columns, filters=filters)
        spec = self.spec(name)
        wanted = columns or spec.schema.names
        return table.select(wanted).cast(pa.schema([spec.schema.field(c) for c in wanted]))

    def read_pandas(self, name: str, *, version: Version = None, columns: list[str] | None = None) -> pd.DataFrame:
        return self.read_arrow(name, version=version, columns=columns).to_pandas()

    def row_count(self, name: str) -> int:
        return self.table(name).count()

    # ---- maintenance ---------------------------------------------------------------------------
    def optimize(self, name: str, *, target_size: int | None = None) -> dict[str, Any]:
        """Compact small files into larger ones (a new version with operation OPTIMIZE)."""
        return self.table(name).optimize.compact(target_size=target_size)

    def vacuum(self, name: str, *, retention_hours: int = 168, dry_run: bool = False) -> list[str]:
        """Delete files no version within `retention_hours` needs. Below the table's 7-day default
        the retention check is lifted explicitly: time travel to older versions stops working."""
        return self.table(name).vacuum(retention_hours=retention_hours, dry_run=dry_run,
                                       enforce_retention_duration=retention_hours >= 168)

    def checkpoint(self, name: str) -> None:
        """Write a checkpoint so opening the table reads one Parquet file instead of every commit."""
        self.table(name).create_checkpoint()

    def duckdb(self, connection: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with a view `<layer>.<name>` over every existing table (current version).

        DuckDB scans each table's Arrow dataset from delta-rs, so no DuckDB extension download is needed."""
        con = connection or duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")  # timestamps come back in UTC, as every other read gives them
        for spec in self.tables():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.layer}")
            source = f"_delta_{spec.layer}_{spec.name}"
            con.register(source, self.table(spec.name).to_pyarrow_dataset())
            con.execute(f"CREATE OR REPLACE TEMP VIEW {spec.name} AS SELECT * FROM {source}")
            con.execute(f"CREATE OR REPLACE VIEW {spec.layer}.{spec.name} AS SELECT * FROM {source}")
        return con

    def tables(self) -> list[TableSpec]:
        """Catalog tables that exist in this lake."""
        return [spec for spec in self.catalog if self.exists(spec.name)]


def _partition_predicate(batch: pa.Table, partition_by: tuple[str, ...]) -> str:
    clauses = []
    for col in partition_by:
        values = pc.unique(batch[col]).to_pylist()
        if any(v is None for v in values):
            raise ValueError(f"partition column {col!r} has nulls; cannot overwrite a null partition by predicate")
        clauses.append(f"{col} IN ({', '.join(_sql_literal(v) for v in values)})")
    return " AND ".join(clauses)


def _sql_literal(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
