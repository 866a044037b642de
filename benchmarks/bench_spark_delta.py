"""Ledger and OEE read from Delta and written back to Delta, end to end, on the same data in one run:
the Narwhals transform on Polars (delta-rs reads and writes), on PySpark fed from Arrow (delta-rs reads, Arrow ->
Spark, Spark -> Arrow, delta-rs writes: the engine before issue 18), and on Spark-on-Delta (`spark.read.format
("delta")` and `write.format("delta")`, no Arrow in between), plus DuckDB SQL over the same Delta inputs (compute
only, its result not written). Every engine's output row count is checked equal.

    python -m benchmarks.bench_spark_delta [--movements 2000000] [--machines 50] [--days 90]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import narwhals as nw
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from benchmarks import bench_ledger, bench_oee
from lakehouse.engines import _spark_safe, collect_arrow, lazy_frame
from pipelines.kpi.inputs import EquipmentInputs
from transforms.loss_mapping import load_loss_mapping
from transforms.machine_shift_oee import OeeFrames, machine_shift_oee
from transforms.stock import ledger


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _write_inputs(root: Path, tables: dict[str, pa.Table]) -> dict[str, str]:
    uris = {}
    for name, table in tables.items():
        uris[name] = str(root / "in" / name)
        write_deltalake(uris[name], _spark_safe(table), mode="overwrite")
    return uris


def _rows(uri: str) -> int:
    return DeltaTable(uri).count()


def _engines(uris: dict[str, str], out: Path, compute: Callable[[dict[str, Any]], Any], spark: Any
             ) -> dict[str, float]:
    """Seconds per engine for read inputs -> compute -> write the output table; output rows checked equal."""
    seconds, counts = {}, {}

    def polars() -> None:
        frames = {n: lazy_frame(DeltaTable(u).to_pyarrow_table()) for n, u in uris.items()}
        write_deltalake(str(out / "polars"), collect_arrow(compute(frames)), mode="overwrite")

    def spark_from_arrow() -> None:
        frames = {n: lazy_frame(DeltaTable(u).to_pyarrow_table(), "spark", spark=spark) for n, u in uris.items()}
        write_deltalake(str(out / "spark_arrow"), collect_arrow(compute(frames)), mode="overwrite")

    def spark_on_delta() -> None:
        frames = {n: nw.from_native(spark.read.format("delta").load(u)) for n, u in uris.items()}
        nw.to_native(compute(frames)).write.format("delta").mode("overwrite").save(str(out / "spark_delta"))

    for name, fn in (("polars", polars), ("spark_from_arrow", spark_from_arrow), ("spark_on_delta", spark_on_delta)):
        seconds[name], _ = _timed(fn)
        counts[name] = _rows(str(out / name.replace("_from_arrow", "_arrow").replace("_on_delta", "_delta")))
    assert len(set(counts.values())) == 1, counts
    seconds["rows_out"] = counts["polars"]
    return seconds


def ledger_case(root: Path, n: int, spark: Any) -> dict[str, float]:
    uris = _write_inputs(root / "ledger", {"movements": bench_ledger.movements(n)})
    result = _engines(uris, root / "ledger" / "out",
                      lambda f: ledger(f["movements"], virtual_locations=bench_ledger.VIRTUAL), spark)
    con = duckdb.connect()
    con.register("movements", DeltaTable(uris["movements"]).to_pyarrow_dataset())
    result["duckdb_sql"], _ = _timed(lambda: con.execute(bench_ledger.DUCKDB_SQL).fetchone())
    result["rows_in"] = n
    return result


def oee_case(root: Path, machines: int, days: int, spark: Any) -> dict[str, float]:
    inputs: EquipmentInputs = bench_oee.generate(machines, days).inputs
    mapping = load_loss_mapping()
    names = [f.name for f in fields(OeeFrames) if f.name not in ("loss_mapping", "end_us")]
    tables = {name: getattr(inputs, name) for name in names} | {"loss_mapping": mapping.as_table()}
    uris = _write_inputs(root / "oee", tables)

    def compute(frames: dict[str, Any]) -> Any:
        oee = OeeFrames(**{n: frames[n] for n in names}, loss_mapping=frames["loss_mapping"], end_us=inputs.end_us)
        return machine_shift_oee(oee, mapping)

    result = _engines(uris, root / "oee" / "out", compute, spark)
    result["duckdb_sql"], _ = _timed(lambda: bench_oee.duckdb_sql(inputs))
    result["rows_in"] = sum(t.num_rows for t in tables.values())
    return result


def run(movements: int = 2_000_000, machines: int = 50, days: int = 90) -> dict[str, dict[str, float]]:
    from lakehouse.settings import Settings
    from lakehouse.spark import spark_session

    os.environ.setdefault("PLANTLAKE_SPARK_DRIVER_MEMORY", "6g")
    spark = spark_session(Settings(lake_root=Path("unused"), spark_master="local[2]"), with_delta=True)
    spark.sparkContext.setLogLevel("ERROR")
    root = Path(tempfile.mkdtemp(prefix="bench_spark_delta_"))
    try:
        return {"ledger": ledger_case(root, movements, spark), "oee": oee_case(root, machines, days, spark)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def format_table(results: dict[str, dict[str, float]]) -> str:
    lines = ["Delta in, Delta out (local[2]); seconds, and each engine's time as a multiple of Polars'",
             "| workload | rows in | rows out | Polars (delta-rs) | DuckDB SQL (compute only) | Spark from Arrow | "
             "Spark on Delta |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        p = r["polars"]
        lines.append(f"| {name} | {r['rows_in']:,.0f} | {r['rows_out']:,.0f} | {p:.1f} | "
                     f"{r['duckdb_sql']:.1f} ({r['duckdb_sql'] / p:.2f}x) | {r['spark_from_arrow']:.1f} "
                     f"({r['spark_from_arrow'] / p:.2f}x) | {r['spark_on_delta']:.1f} ({r['spark_on_delta'] / p:.2f}x) |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movements", type=int, default=2_000_000)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    print(format_table(run(args.movements, args.machines, args.days)))
