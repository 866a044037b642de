"""Per-source landing counts from the ingest log, as the demo and `plantlake ingest` print them."""

from __future__ import annotations

import polars as pl

from lakehouse.delta_io import DeltaLake


def ingest_counts(lake: DeltaLake, run_id: str | None = None) -> pl.DataFrame:
    """Files and rows per source (one run, or every run)."""
    if not lake.exists("ingest_log"):
        return pl.DataFrame()
    log = lake.scan("ingest_log")
    if run_id:
        log = log.filter(pl.col("ingest_run_id") == run_id)
    return (log.group_by("source").agg(
        pl.len().alias("files"),
        (pl.col("status") == "duplicate_file").sum().alias("duplicate_files"),
        (pl.col("status") == "rejected").sum().alias("rejected_files"),
        pl.col("rows_read").sum(), pl.col("rows_landed").sum(), pl.col("rows_quarantined").sum(),
        pl.col("rows_duplicate").sum(),
    ).sort("source").collect())


def format_counts(counts: pl.DataFrame) -> str:
    if counts.is_empty():
        return "no files landed"
    header = f"{'source':<16} {'files':>6} {'dup files':>9} {'rejected':>8} {'rows read':>10} {'landed':>10} " \
             f"{'quarantined':>11} {'duplicate':>9}"
    lines = [header]
    for r in counts.iter_rows(named=True):
        lines.append(f"{r['source']:<16} {r['files']:>6} {r['duplicate_files']:>9} {r['rejected_files']:>8} "
                     f"{r['rows_read']:>10,} {r['rows_landed']:>10,} {r['rows_quarantined']:>11,} "
                     f"{r['rows_duplicate']:>9,}")
    totals = counts.select(pl.col("rows_read", "rows_landed", "rows_quarantined", "rows_duplicate").sum()).row(0)
    balanced = "conserved" if totals[0] == sum(totals[1:]) else "NOT CONSERVED"
    lines.append(f"rows read {totals[0]:,} = landed {totals[1]:,} + quarantined {totals[2]:,} "
                 f"+ duplicate {totals[3]:,}  ({balanced})")
    return "\n".join(lines)
