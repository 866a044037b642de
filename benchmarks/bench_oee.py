"""OEE per machine and shift over N machines x D days of MES state events and production counts: plantlake's
Narwhals transform (`transforms.machine_shift_oee`) on Polars, the same transform on PySpark local[2], and
hand-written DuckDB SQL, on the same data (benchmarks/oee_data.py) in the same run.

    python -m benchmarks.bench_oee [--machines 200] [--days 365] [--repeats 3] [--no-spark] [--spark-machines N]

Each engine goes from the Arrow tables in memory to the result as an Arrow table. Polars and DuckDB: best of
`repeats` runs. PySpark: one run, Arrow -> Spark DataFrames (createDataFrame) included and also shown apart; with
`--spark-machines N` it runs on the first N machines only and its time is scaled linearly to all machines.
The results must agree per machine and shift (planned, run and ideal time, counts, A, P, Q, OEE; 1e-6 relative).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.harness import best_of, peak_rss_mb
from benchmarks.oee_data import OeeData, generate
from lakehouse.engines import collect_arrow, lazy_frame
from pipelines.kpi.inputs import EquipmentInputs, oee_frames
from transforms.loss_mapping import load_loss_mapping
from transforms.machine_shift_oee import machine_shift_oee

KEYS = ["machine_id", "shift_date", "shift_id"]
CHECKED = ["calendar_time_s", "break_time_s", "planned_stop_time_s", "not_scheduled_time_s", "unknown_time_s",
           "planned_time_s", "run_time_s", "ideal_time_s", "total_count", "good_count", "availability",
           "performance", "quality", "oee"]
RTOL = 1e-6
# The same semantics as transforms.equipment_time for MES-only data (no OPC UA state samples, no collector gaps):
# the calendar first (off -> not scheduled, break -> planned stop), then the MES state through the loss mapping
# (reason first, then the state's '*' row), an unplanned stop whose whole interval is shorter than the
# micro-stop threshold is a performance loss (run time), unknown time before a machine's first state.
# MES events are unique per machine and instant, so they are ordered by time alone.
DUCKDB_SQL = """
WITH states AS (   -- MES state intervals (until the machine's next event) and the category of each
    SELECT machine_id, at_us,
           CASE WHEN state = 'unknown' THEN 'unknown'
                WHEN state = 'unplanned_stop' AND category = 'availability_loss'
                     AND next_us - at_us < $micro_stop_us THEN 'performance_loss'
                ELSE category END AS category
    FROM (SELECT e.machine_id, e.at_us, e.state,
                 LEAD(e.at_us, 1, $end_us) OVER (PARTITION BY e.machine_id ORDER BY e.at_us) AS next_us,
                 COALESCE(r.category, s.category, 'availability_loss') AS category
          FROM mes e
          LEFT JOIN loss_mapping r ON r.state = e.state AND r.reason_code = e.reason_code AND r.reason_code <> '*'
          LEFT JOIN loss_mapping s ON s.state = e.state AND s.reason_code = '*')
), points AS (     -- the machine's state changes and the calendar's boundaries on one timeline
    SELECT machine_id, at_us, NULL AS seq, category FROM states
    UNION ALL
    SELECT machine_id, at_us, seq, NULL FROM calendar CROSS JOIN machines
), pieces AS (     -- a piece of time lasts until the next point, in the last calendar period and state before it
    SELECT p.machine_id, c.shift_date, c.shift_id, c.cal_kind, p.duration_us,
           CASE WHEN c.cal_kind = 'break' THEN 'planned_stop' ELSE COALESCE(p.category, 'unknown') END AS category
    FROM (SELECT machine_id,
                 LEAD(at_us, 1, $end_us) OVER (PARTITION BY machine_id ORDER BY at_us, seq NULLS LAST) - at_us
                     AS duration_us,
                 LAST_VALUE(seq IGNORE NULLS) OVER w AS seq,
                 LAST_VALUE(category IGNORE NULLS) OVER w AS category
          FROM points
          WINDOW w AS (PARTITION BY machine_id ORDER BY at_us, seq NULLS LAST ROWS UNBOUNDED PRECEDING)) p
    JOIN calendar c USING (seq)
    WHERE c.cal_kind <> 'off'
), times AS (
    SELECT machine_id, shift_date, shift_id,
           SUM(duration_us) / 1e6 AS calendar_time_s,
           SUM(IF(cal_kind = 'break', duration_us, 0)) / 1e6 AS break_time_s,
           SUM(IF(cal_kind = 'work' AND category = 'planned_stop', duration_us, 0)) / 1e6 AS planned_stop_time_s,
           SUM(IF(cal_kind = 'work' AND category = 'not_scheduled', duration_us, 0)) / 1e6 AS not_scheduled_time_s,
           SUM(IF(category = 'unknown', duration_us, 0)) / 1e6 AS unknown_time_s,
           SUM(IF(category IN ('running', 'performance_loss', 'quality_loss'), duration_us, 0)) / 1e6 AS run_time_s
    FROM pieces GROUP BY ALL
), counted AS (    -- a count belongs to the shift its period starts in (shift_days: shifts per UTC day)
    SELECT c.machine_id, s.shift_date, s.shift_id, SUM(c.total_count) AS total_count,
           SUM(c.good_count) AS good_count, SUM(c.total_count * i.ideal_cycle_time_s) AS ideal_time_s
    FROM counts c JOIN shift_days s ON s.utc_day = c.counted_at_us // 86400000000
    LEFT JOIN ideal i USING (machine_id, material_id)
    WHERE c.counted_at_us >= s.shift_start_us AND c.counted_at_us < s.shift_end_us
    GROUP BY ALL
), oee_inputs AS (
    SELECT t.*, calendar_time_s - break_time_s - planned_stop_time_s - not_scheduled_time_s - unknown_time_s
                AS planned_time_s,
           COALESCE(k.total_count, 0)::BIGINT AS total_count, COALESCE(k.good_count, 0)::BIGINT AS good_count,
           COALESCE(k.ideal_time_s, 0) AS ideal_time_s
    FROM times t LEFT JOIN counted k USING (machine_id, shift_date, shift_id)
)
SELECT *, IF(planned_time_s > 0, run_time_s / planned_time_s, NULL) AS availability,
       IF(run_time_s > 0, ideal_time_s / run_time_s, NULL) AS performance,
       IF(total_count > 0, good_count / total_count, NULL) AS quality,
       IF(planned_time_s > 0 AND total_count > 0, ideal_time_s * good_count / total_count / planned_time_s, NULL)
           AS oee
FROM oee_inputs
"""


def project(inputs: EquipmentInputs, to_frame: Callable[[pa.Table], Any]) -> pa.Table:
    mapping = load_loss_mapping()
    return collect_arrow(machine_shift_oee(oee_frames(inputs, mapping, to_frame), mapping))


def duckdb_sql(inputs: EquipmentInputs) -> pa.Table:
    mapping = load_loss_mapping()
    con = duckdb.connect()
    for name in ("mes", "calendar", "machines", "shift_days", "counts", "ideal"):
        con.register(name, getattr(inputs, name))
    con.register("loss_mapping", mapping.as_table())
    params = {"end_us": inputs.end_us, "micro_stop_us": int(round(mapping.micro_stop_threshold_s * 1_000_000))}
    return con.sql(DUCKDB_SQL, params=params).to_arrow_table()


def _pyspark(inputs: EquipmentInputs) -> tuple[float, float, pa.Table]:
    """Seconds for Arrow -> Spark DataFrames, seconds for the transform and collect, and the result."""
    from lakehouse.settings import Settings
    from lakehouse.spark import spark_session

    os.environ.setdefault("PLANTLAKE_SPARK_DRIVER_MEMORY", "8g")  # millions of rows through one local JVM
    spark = spark_session(Settings(lake_root=Path("unused")))
    spark.sparkContext.setLogLevel("ERROR")
    mapping = load_loss_mapping()
    gc.collect()
    start = time.perf_counter()
    frames = oee_frames(inputs, mapping, partial(lazy_frame, engine="spark", spark=spark))
    converted = time.perf_counter()
    result = collect_arrow(machine_shift_oee(frames, mapping))
    return converted - start, time.perf_counter() - converted, result


def _machines_subset(inputs: EquipmentInputs, machines: int) -> EquipmentInputs:
    keep = pa.array(inputs.machines.column("machine_id").to_pylist()[:machines])

    def only(table: pa.Table) -> pa.Table:
        return table.filter(pc.is_in(table.column("machine_id"), keep))

    return replace(inputs, mes=only(inputs.mes), opcua=only(inputs.opcua), counts=only(inputs.counts),
                   ideal=only(inputs.ideal), machines=only(inputs.machines))


def assert_same(name: str, expected: pa.Table, got: pa.Table) -> None:
    """Every machine and shift present in both, with equal counts and times and ratios within RTOL."""
    ours = pl.from_arrow(expected).select(KEYS + CHECKED)
    theirs = pl.from_arrow(got).select(KEYS + CHECKED).with_columns(pl.col("shift_date").cast(pl.Date))
    joined = ours.join(theirs, on=KEYS, how="full", coalesce=True, suffix="_other")
    missing = joined.filter(pl.col("calendar_time_s").is_null() | pl.col("calendar_time_s_other").is_null())
    if ours.height != theirs.height or missing.height:
        raise AssertionError(f"{name}: {theirs.height:,} machine-shifts vs {ours.height:,} on Polars; "
                             f"not in both: {missing.select(KEYS).head(5).to_dicts()}")
    for column in CHECKED:
        a = joined[column].cast(pl.Float64).to_numpy()
        b = joined[f"{column}_other"].cast(pl.Float64).to_numpy()
        bad = ~np.isclose(a, b, rtol=RTOL, atol=0.0, equal_nan=True)
        if bad.any():
            rows = joined.filter(pl.Series(bad)).select(KEYS + [column, f"{column}_other"]).head(5).to_dicts()
            raise AssertionError(f"{name} differs from Polars in {column} for {int(bad.sum()):,} machine-shifts, "
                                 f"e.g. {rows}")


def run(machines: int = 200, days: int = 365, repeats: int = 3, with_spark: bool = True,
        spark_machines: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    data: OeeData = generate(machines, days)
    inputs = data.inputs
    results: dict[str, Any] = {"machines": machines, "days": days, "rows": data.row_counts(),
                               "rows_in": data.rows_in, "generate_s": time.perf_counter() - started,
                               "data_rss_mb": peak_rss_mb(), "repeats": repeats}
    results["polars_s"], polars = best_of(repeats, lambda: project(inputs, lazy_frame))
    results["polars_peak_rss_mb"] = peak_rss_mb()
    results["shifts_out"] = polars.num_rows
    results["duckdb_s"], duck = best_of(repeats, lambda: duckdb_sql(inputs))
    results["duckdb_peak_rss_mb"] = peak_rss_mb()
    assert_same("DuckDB SQL", polars, duck)
    if with_spark:
        subset = spark_machines if spark_machines and spark_machines < machines else machines
        spark_inputs = _machines_subset(inputs, subset) if subset < machines else inputs
        convert_s, compute_s, spark_result = _pyspark(spark_inputs)
        expected = polars if subset == machines else polars.filter(
            pc.is_in(polars.column("machine_id"), spark_inputs.machines.column("machine_id")))
        assert_same("PySpark", expected, spark_result)
        scale = machines / subset
        results.update(spark_machines=subset, pyspark_convert_s=convert_s * scale,
                       pyspark_compute_s=compute_s * scale, pyspark_s=(convert_s + compute_s) * scale)
    return results


def format_table(r: dict[str, Any]) -> str:
    rows = r["rows"]
    ratio = r["polars_s"] / r["duckdb_s"]
    lines = [f"OEE per machine and shift, {r['machines']} machines x {r['days']} days: "
             f"{rows['mes_state_events']:,} MES state events + {rows['production_counts']:,} counts in "
             f"({rows['opcua_state_samples']:,} OPC UA samples, {rows['signal_gaps']:,} gaps; "
             f"{rows['calendar_boundaries']:,} calendar boundaries, {rows['shifts']:,} shifts), "
             f"{r['shifts_out']:,} machine-shifts out, same on every engine (generated in {r['generate_s']:.1f} s)",
             "| engine | seconds | vs DuckDB SQL | note |", "|---|---|---|---|",
             f"| plantlake transform on Polars | {r['polars_s']:.2f} | {ratio:.2f}x | best of {r['repeats']}; "
             f"peak RSS {r['polars_peak_rss_mb']:,.0f} MB (process; {r['data_rss_mb']:,.0f} MB with the data) |",
             f"| hand-written DuckDB SQL | {r['duckdb_s']:.2f} | 1.00x | best of {r['repeats']}; "
             f"peak RSS {r['duckdb_peak_rss_mb']:,.0f} MB (process high-water mark, after Polars) |"]
    goals = [f"goal: plantlake on Polars <= 1.5x DuckDB SQL: {'met' if ratio <= 1.5 else 'MISSED'} ({ratio:.2f}x)"]
    if "pyspark_s" in r:
        speedup = r["pyspark_s"] / r["polars_s"]
        scaled = (f"; run on {r['spark_machines']} of {r['machines']} machines, time scaled x"
                  f"{r['machines'] / r['spark_machines']:g}" if r["spark_machines"] < r["machines"] else "")
        lines.append(f"| plantlake transform on PySpark local[2] | {r['pyspark_s']:.1f} | "
                     f"{r['pyspark_s'] / r['duckdb_s']:.1f}x | one run: {r['pyspark_convert_s']:.1f} s Arrow -> "
                     f"Spark + {r['pyspark_compute_s']:.1f} s transform and collect{scaled} |")
        goals.append(f"goal: plantlake on Polars >= 5x faster than on PySpark: "
                     f"{'met' if speedup >= 5 else 'MISSED'} ({speedup:.1f}x)")
    return "\n".join(lines + goals)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--spark-machines", type=int, default=None, help="run PySpark on this many machines, scaled")
    args = parser.parse_args()
    print(format_table(run(args.machines, args.days, args.repeats, with_spark=not args.no_spark,
                           spark_machines=args.spark_machines)))
