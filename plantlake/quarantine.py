"""Quarantined rows as people look at them: every quarantine table in one frame, with each row's replay status."""

from __future__ import annotations

import polars as pl

from ingestion.replay import KEYS, REFERENCE_REASON
from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError

QUARANTINE_TABLES = [spec.name for spec in CATALOG.in_layer("quarantine")
                     if spec.name.startswith("quarantine_") and "file_sha256" in spec.schema.names
                     and spec.name != "quarantine_replays"]
COLUMNS = ["quarantine_table", "source_file", "source_line", "record_seq", "record_type", "reasons", "status",
           "raw_payload", "quarantined_at", "file_sha256"]


def quarantined_rows(lake: DeltaLake, table: str | None = None, *, source_file: str | None = None) -> pl.DataFrame:
    names = QUARANTINE_TABLES if table is None else [lake.spec(table).name]
    unknown = [n for n in names if n not in QUARANTINE_TABLES]
    if unknown:
        raise QueryError(f"{', '.join(unknown)} is not a quarantine table; they are "
                         f"{', '.join('quarantine.' + n for n in QUARANTINE_TABLES)}")
    parts = []
    for name in names:
        if not lake.exists(name):
            continue
        rows = lake.scan(name)
        if source_file:
            rows = rows.filter(pl.col("source_file") == source_file)
        parts.append(rows.select(pl.lit(name).alias("quarantine_table"), "source_file", "source_line", "record_seq",
                                 "record_type", "reasons", "raw_payload", "quarantined_at", "file_sha256").collect())
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in COLUMNS})
    rows = pl.concat(parts)
    waiting = pl.col("reasons").list.eval(pl.element().str.contains(REFERENCE_REASON.pattern)).list.all()
    rows = rows.with_columns(pl.when(waiting).then(pl.lit("waiting_for_master_data"))
                             .otherwise(pl.lit("quarantined")).alias("status"))
    if lake.exists("quarantine_replays"):
        settled = (lake.scan("quarantine_replays").filter(pl.col("outcome").is_in(["landed", "duplicate"]))
                   .select(pl.col("quarantine_table"), *KEYS, pl.col("outcome").alias("_replayed")).collect()
                   .unique(["quarantine_table", *KEYS]))
        rows = (rows.join(settled, on=["quarantine_table", *KEYS], how="left")
                .with_columns(pl.coalesce("_replayed", "status").alias("status")).drop("_replayed"))
    return rows.select(COLUMNS).sort("quarantine_table", "source_file", "source_line", "record_seq")
