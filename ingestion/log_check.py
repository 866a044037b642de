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


def signal_rows_by_file(lake: DeltaLake, first_sha: pl.DataFrame) -> pl.DataFrame:
    """file_sha256 -> rows `machine_signals` holds from that signals file. A signals row carries its file's
    name, not its fingerprint: rows count toward the first fingerprint the log landed under that name
    (`first_sha`: source_file, _first), files re-delivered under one name together; rows of a name the log never
    landed show as `unlogged: <name>`."""
    if not lake.exists("machine_signals"):
        return pl.DataFrame(schema={"file_sha256": pl.String, "rows_in_tables": pl.Int64})
    by_name = (lake.scan("machine_signals").filter(pl.col("source_file").str.starts_with("signals/"))
               .group_by("source_file").agg(pl.len().cast(pl.Int64).alias("rows_in_tables")).collect())
    return (by_name.join(first_sha, on="source_file", how="left")
            .select(pl.coalesce("_first", pl.format("unlogged: {}", "source_file")).alias("file_sha256"),
                    "rows_in_tables"))


def ingest_log_disagreements(lake: DeltaLake) -> pl.DataFrame:
    """Fingerprints whose logged rows_landed differ from the rows the tables hold (empty when they agree);
    rows in the tables from a file the log does not know show with rows_logged 0."""
    if not lake.exists("ingest_log"):
        log_rows = pl.DataFrame(schema={"file_sha256": pl.String, "source_file": pl.String, "rows_landed": pl.Int64})
    else:
        log_rows = (lake.scan("ingest_log").filter(pl.col("status").is_in(["landed", "replayed"]))
                    .select("file_sha256", "source_file", "rows_landed").collect())
    signals = log_rows.filter(pl.col("source_file").str.starts_with("signals/"))
    first_sha = signals.sort("file_sha256").group_by("source_file").agg(pl.col("file_sha256").first().alias("_first"))
    # a signals file's rows are compared per name (its rows carry no fingerprint): credited to its first fingerprint
    keyed = log_rows.join(first_sha, on="source_file", how="left").with_columns(
        pl.coalesce("_first", "file_sha256").alias("file_sha256"))
    logged = keyed.group_by("file_sha256").agg(pl.col("rows_landed").sum().alias("rows_logged"))
    in_tables = pl.concat([landed_rows_by_file(lake).with_columns(pl.col("rows_in_tables").cast(pl.Int64)),
                           signal_rows_by_file(lake, first_sha)])
    both = logged.join(in_tables, on="file_sha256", how="full", coalesce=True)
    return both.with_columns(pl.col("rows_logged").fill_null(0), pl.col("rows_in_tables").fill_null(0).cast(pl.Int64)) \
        .filter(pl.col("rows_logged") != pl.col("rows_in_tables")).sort("file_sha256")
