"""Ledger over N movements (double entry + running balances + stock snapshot): plantlake's Narwhals transform on
Polars, the same transform on PySpark local[2], and hand-written DuckDB window SQL, on the same data."""

from __future__ import annotations

import argparse
import os
import gc
import resource
import time

import duckdb
import narwhals as nw
import numpy as np
import pyarrow as pa

from lakehouse.engines import collect_arrow, lazy_frame
from transforms.stock import ledger, stock_on_hand

VIRTUAL = ("V-SUPPLIER", "V-CUSTOMER")
DUCKDB_SQL = """
WITH entries AS MATERIALIZED (
    SELECT movement_id, occurred_at, material_id, lot_id, from_location_id AS location_id,
           -quantity AS quantity_delta, 0 AS entry_side FROM movements
    UNION ALL
    SELECT movement_id, occurred_at, material_id, lot_id, to_location_id AS location_id,
           quantity AS quantity_delta, 1 AS entry_side FROM movements
), balances AS MATERIALIZED (
    SELECT *, SUM(quantity_delta) OVER (PARTITION BY material_id, lot_id, location_id
                                        ORDER BY occurred_at, movement_id, entry_side
                                        ROWS UNBOUNDED PRECEDING) AS balance_after
    FROM entries
)
SELECT (SELECT count(*) FROM balances WHERE balance_after < 0) AS negative_lines,
       (SELECT count(*) FROM (SELECT material_id, lot_id, location_id, SUM(quantity_delta) AS q FROM balances
                              WHERE location_id NOT IN ('V-SUPPLIER', 'V-CUSTOMER')
                              GROUP BY ALL HAVING q <> 0)) AS balances
"""


def movements(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    locations = np.array(["V-SUPPLIER", "DOCK", *[f"BIN-{i:03d}" for i in range(200)], "LS-1", "LS-2", "V-CUSTOMER"])
    src = rng.integers(0, len(locations) - 1, n)
    dst = np.minimum(src + rng.integers(1, 4, n), len(locations) - 1)
    start_us = 1_767_571_200_000_000
    return pa.table({
        "movement_id": pa.array(np.char.add("M", np.arange(n).astype(str))),
        "occurred_at": pa.array(start_us + np.sort(rng.integers(0, 90 * 86_400_000_000, n)), pa.int64())
        .cast(pa.timestamp("us", "UTC")),
        "material_id": pa.array(np.char.add("MAT-", rng.integers(0, 500, n).astype(str))),
        "lot_id": pa.array(np.char.add("LOT-", rng.integers(0, 50_000, n).astype(str))),
        "from_location_id": pa.array(locations[src]), "to_location_id": pa.array(locations[dst]),
        "quantity": rng.uniform(1, 100, n).round(3), "movement_type": pa.array(np.full(n, "move"))})


def _project(data: pa.Table, engine: str, spark: object | None) -> tuple[int, int]:
    """The ledger computed once (as the asset stores it), then its negative lines and the stock snapshot."""
    entries = ledger(lazy_frame(data, engine, spark=spark), virtual_locations=VIRTUAL)
    if engine == "polars":
        entries = lazy_frame(collect_arrow(entries), engine)
    negative = collect_arrow(entries.filter(nw.col("balance_after") < 0).select(nw.len().alias("lines")))
    stock = collect_arrow(stock_on_hand(entries, virtual_locations=VIRTUAL).select(nw.len().alias("balances")))
    return int(negative.column(0)[0].as_py()), int(stock.column(0)[0].as_py())


def timed(fn) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(n: int = 10_000_000, with_spark: bool = True) -> dict[str, object]:
    data = movements(n)
    results: dict[str, object] = {"movements": n}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["polars_s"], polars_counts = timed(lambda: _project(data, "polars", None))
    results["polars_peak_rss_mb"] = max(rss_before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    con = duckdb.connect()
    con.register("movements", data)
    results["duckdb_s"], duck = timed(lambda: con.execute(DUCKDB_SQL).fetchone())
    assert tuple(duck) == polars_counts, (duck, polars_counts)
    if with_spark:
        from lakehouse.settings import Settings
        from lakehouse.spark import spark_session
        from pathlib import Path

        os.environ.setdefault("PLANTLAKE_SPARK_DRIVER_MEMORY", "8g")  # 20M ledger lines in one local JVM
        spark = spark_session(Settings(lake_root=Path("unused")))
        spark.sparkContext.setLogLevel("ERROR")
        results["pyspark_s"], spark_counts = timed(lambda: _project(data, "spark", spark))
        assert spark_counts == polars_counts, (spark_counts, polars_counts)
    results["negative_lines"], results["balances"] = polars_counts
    return results


def format_table(r: dict[str, object]) -> str:
    lines = [f"ledger over {r['movements']:,} movements ({2 * r['movements']:,} ledger lines; running balances + "
             f"stock snapshot; {r['balances']:,} balances, same on every engine)",
             "| engine | seconds | vs DuckDB SQL | note |", "|---|---|---|---|",
             f"| plantlake transform on Polars | {r['polars_s']:.1f} | {r['polars_s'] / r['duckdb_s']:.2f}x | "
             f"peak RSS {r['polars_peak_rss_mb']:,.0f} MB (process) |",
             f"| hand-written DuckDB window SQL | {r['duckdb_s']:.1f} | 1.00x | |"]
    if "pyspark_s" in r:
        lines.append(f"| plantlake transform on PySpark local[2] | {r['pyspark_s']:.1f} | "
                     f"{r['pyspark_s'] / r['duckdb_s']:.2f}x | Polars is {r['pyspark_s'] / r['polars_s']:.1f}x faster (Spark "
                     f"computes the ledger once per output) |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    print(format_table(run(args.movements, with_spark=not args.no_spark)))
