"""Does the ingest log agree with the tables? For every file fingerprint logged as landed, the rows bronze holds
with that fingerprint must equal the rows the log says landed (after a crash and the rerun too)."""

from __future__ import annotations

import polars as pl

from lakehouse.delta_io import DeltaLake


def landed_rows_by_file(lake: DeltaLake) -> pl.DataFrame:
    """file_sha256 -> rows bronze holds with it, over every bronze table that records its file's fingerprint."""
    counts = [lake.scan(spec.name).group_by("file_sha256").agg(pl.len().alias("rows_in_tables"))
              for spec in lake.tables() if spec.layer == "bronze" and spec.name != "ingest_log"
              and "file_sha256" in spec.schema.names and lake.exists(spec.name)]
    if not counts:
        return pl.DataFrame(schema={"file_sha256": pl.String, "rows_in_tables": pl.UInt32})
    return pl.concat(counts).group_by("file_sha256").agg(pl.col("rows_in_tables").sum()).collect()


def ingest_log_disagreements(lake: DeltaLake) -> pl.DataFrame:
    """Fingerprints whose logged rows_landed differ from the rows the tables hold (empty when they agree);
    rows in the tables from a file the log does not know show with rows_logged 0."""
    if not lake.exists("ingest_log"):
        logged = pl.DataFrame(schema={"file_sha256": pl.String, "rows_logged": pl.Int64})
    else:
        logged = (lake.scan("ingest_log").filter(pl.col("status").is_in(["landed", "replayed"])).group_by("file_sha256")
                  .agg(pl.col("rows_landed").sum().alias("rows_logged")).collect())
    both = logged.join(landed_rows_by_file(lake), on="file_sha256", how="full", coalesce=True)
    return both.with_columns(pl.col("rows_logged").fill_null(0), pl.col("rows_in_tables").fill_null(0).cast(pl.Int64)) \
        .filter(pl.col("rows_logged") != pl.col("rows_in_tables")).sort("file_sha256")
