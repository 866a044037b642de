"""Hourly maintenance features over N machines x D days of signals: plantlake's Narwhals transforms
(`ml.features.maintenance` on Polars) against hand-written DuckDB SQL for the same windows, on the same data in
the same run; then scoring N machines and training the breakdown model on the features.

    python -m benchmarks.bench_features [--machines 200] [--days 14] [--interval-s 60] [--repeats 2]

The issue's size is 200 machines x 365 days (`--days 365`: about 525 million samples, more memory than a
shared 24 GB machine has); the default is 14 days of the same 200 machines. Signals are synthetic (a state tag
and four condition tags per sample, wear rising between resets). Both engines go from Arrow in memory to the
hourly feature rows; the results must agree on the rolling means and slopes (1e-6 relative).
"""

from __future__ import annotations

import argparse
import time

import duckdb
import narwhals as nw
import numpy as np
import polars as pl
import pyarrow as pa

from benchmarks.harness import best_of
from lakehouse.engines import collect_arrow
from ml.features.maintenance import CONDITION_TAGS, hourly_signal_stats, machine_hour_features

CHECKED = ["vibration_mean_4h", "vibration_mean_48h", "temperature_mean_12h", "vibration_slope_12h",
           "current_slope_48h", "micro_stops_24h"]
RTOL = 1e-6


def generate(machines: int, days: int, interval_s: int, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    samples = days * 86400 // interval_s
    times = np.datetime64("2026-01-05T00:00:00", "us") + np.arange(samples) * np.timedelta64(interval_s, "s")
    tags = ("state", *CONDITION_TAGS)
    machine_col, tag_col, time_col, value_col = [], [], [], []
    for m in range(machines):
        running = (rng.random(samples) < 0.7).astype(float)
        wear = (np.arange(samples) % (40 * 3600 // interval_s)) / (40 * 3600 / interval_s) * 0.6
        values = {"state": running,
                  "vibration_mm_s": 0.3 + running * (1.5 + 7 * wear ** 2) + np.abs(rng.normal(0, 0.08, samples)),
                  "temperature_c": 24 + running * (14 + 12 * wear) + rng.normal(0, 0.3, samples),
                  "motor_current_a": 0.6 + running * (5 + 3 * wear) + rng.normal(0, 0.12, samples),
                  "speed_per_min": running * 60 / (1.03 + 0.05 * wear)}
        for tag in tags:
            machine_col.append(np.full(samples, m, dtype=np.int32))
            tag_col.append(np.full(samples, tags.index(tag), dtype=np.int32))
            time_col.append(times)
            value_col.append(values[tag])
    machine_ids = [f"M{m:04d}" for m in range(machines)]
    signals = pa.table({
        "machine_id": pa.DictionaryArray.from_arrays(np.concatenate(machine_col), machine_ids).cast(pa.string()),
        "tag": pa.DictionaryArray.from_arrays(np.concatenate(tag_col), list(tags)).cast(pa.string()),
        "source_at": pa.array(np.concatenate(time_col), pa.timestamp("us", tz="UTC")),
        "value": np.concatenate(value_col), "status_code": np.zeros(len(tags) * samples * machines, np.int64)})
    events = days * 8 * machines
    states = pa.table({
        "machine_id": rng.choice(machine_ids, events),
        "occurred_at": pa.array(np.datetime64("2026-01-05T00:00:00", "us")
                                + rng.integers(0, days * 86400, events) * np.timedelta64(1, "s"),
                                pa.timestamp("us", tz="UTC")),
        "state": ["unplanned_stop"] * events,
        "reason_code": rng.choice(["micro_stop", "breakdown", "planned_maintenance"], events, p=[0.8, 0.1, 0.1])})
    return signals, states


def plantlake_features(signals: pa.Table, states: pa.Table) -> pl.DataFrame:
    hours = hourly_signal_stats(nw.from_native(pl.from_arrow(signals).lazy()), nw.from_native(pl.from_arrow(states).lazy()))
    return pl.from_arrow(collect_arrow(machine_hour_features(hours)))


def _window_sql(name: str) -> str:
    sums = []
    for window in (4, 12, 48):
        sums.append(f"sum({name}_sum) OVER (w ROWS {window - 1} PRECEDING) AS s_{name}_{window}, "
                    f"sum({name}_n) OVER (w ROWS {window - 1} PRECEDING) AS n_{name}_{window}")
    for window in (12, 48):
        half = window // 2
        sums.append(f"sum({name}_sum) OVER (w ROWS BETWEEN {window - 1} PRECEDING AND {half} PRECEDING) AS o_{name}_{window}, "
                    f"sum({name}_n) OVER (w ROWS BETWEEN {window - 1} PRECEDING AND {half} PRECEDING) AS on_{name}_{window}, "
                    f"sum({name}_sum) OVER (w ROWS {half - 1} PRECEDING) AS r_{name}_{window}, "
                    f"sum({name}_n) OVER (w ROWS {half - 1} PRECEDING) AS rn_{name}_{window}")
    return ", ".join(sums)


def _ratio_sql(name: str) -> str:
    out = [f"CASE WHEN n_{name}_{w} > 0 THEN s_{name}_{w} / n_{name}_{w} END AS {name}_mean_{w}h" for w in (4, 12, 48)]
    out += [f"(CASE WHEN rn_{name}_{w} > 0 THEN r_{name}_{w} / rn_{name}_{w} END - "
            f"CASE WHEN on_{name}_{w} > 0 AND {_full(w)} THEN o_{name}_{w} / on_{name}_{w} END) / {w // 2} "
            f"AS {name}_slope_{w}h" for w in (12, 48)]
    return ", ".join(out)


def _full(window: int) -> str:
    # the Narwhals slope lags the recent half by half a window: null until that many hours exist
    return f"row_number() OVER (w) > {window // 2}"


SHORT = {"vibration_mm_s": "vibration", "temperature_c": "temperature", "motor_current_a": "current",
         "speed_per_min": "speed"}


def duckdb_features(signals: pa.Table, states: pa.Table) -> pl.DataFrame:
    conditional = ", ".join(
        f"sum(CASE WHEN tag = '{t}' THEN value END) AS {SHORT[t]}_sum, "
        f"count(CASE WHEN tag = '{t}' THEN 1 END) AS {SHORT[t]}_n" for t in CONDITION_TAGS)
    names = [SHORT[t] for t in CONDITION_TAGS]
    sql = f"""
    WITH good AS (SELECT machine_id, tag, source_at, value, date_trunc('hour', source_at) AS hour_start_at
                  FROM signals WHERE status_code = 0 AND value IS NOT NULL),
    state AS (SELECT machine_id, source_at, hour_start_at, value = 1 AS is_running FROM good WHERE tag = 'state'),
    running AS (SELECT g.machine_id, s.hour_start_at, {conditional}
                FROM good g JOIN state s USING (machine_id, source_at)
                WHERE s.is_running AND g.tag <> 'state' GROUP BY ALL),
    share AS (SELECT machine_id, hour_start_at, avg(is_running::DOUBLE) AS run_share FROM state GROUP BY ALL),
    events AS (SELECT machine_id, date_trunc('hour', occurred_at) AS hour_start_at,
                      count(*) FILTER (WHERE reason_code = 'micro_stop') AS micro_stops
               FROM states GROUP BY ALL),
    hours AS (SELECT share.machine_id, share.hour_start_at, {", ".join(f"coalesce({n}_sum, 0) AS {n}_sum, coalesce({n}_n, 0) AS {n}_n" for n in names)},
                     coalesce(micro_stops, 0) AS micro_stops
              FROM share LEFT JOIN running USING (machine_id, hour_start_at)
                         LEFT JOIN events USING (machine_id, hour_start_at)),
    rolled AS (SELECT machine_id, hour_start_at, {", ".join(_window_sql(n) for n in names)},
                      sum(micro_stops) OVER (w ROWS 23 PRECEDING) AS micro_stops_24h, row_number() OVER (w) AS rn
               FROM hours WINDOW w AS (PARTITION BY machine_id ORDER BY hour_start_at))
    SELECT machine_id, hour_start_at, {", ".join(_ratio_sql(n).replace("row_number() OVER (w)", "rn") for n in names)},
           micro_stops_24h
    FROM rolled"""
    connection = duckdb.connect()
    connection.register("signals", signals)
    connection.register("states", states)
    return pl.from_arrow(connection.sql(sql).arrow())


def check_agree(ours: pl.DataFrame, peer: pl.DataFrame) -> int:
    keys = ["machine_id", "hour_start_at"]
    left = ours.select(keys + CHECKED).sort(keys)
    right = peer.select(keys + CHECKED).sort(keys).with_columns(pl.col("hour_start_at").cast(left["hour_start_at"].dtype))
    if left.height != right.height:
        raise AssertionError(f"row counts differ: plantlake {left.height}, DuckDB {right.height}")
    for column in CHECKED:
        a, b = left[column].cast(pl.Float64).to_numpy(), right[column].cast(pl.Float64).to_numpy()
        if not np.allclose(a, b, rtol=RTOL, atol=1e-9, equal_nan=True):
            bad = int((~np.isclose(a, b, rtol=RTOL, atol=1e-9, equal_nan=True)).sum())
            raise AssertionError(f"{column}: {bad} rows differ between plantlake and DuckDB")
    return left.height


def scoring_and_training(features: pl.DataFrame, machines: int) -> dict[str, float]:
    from ml.maintenance import feature_columns
    from ml.training import fit_calibrated, risk_and_top_reasons, split_by_time

    rows = features.to_pandas()
    rng = np.random.default_rng(1)
    risk = 1 - np.exp(-24 * (0.004 + 0.35 * (np.nan_to_num(rows["vibration_mean_4h"].to_numpy(), nan=1.8) - 1.8)
                             .clip(0) / 7))
    rows["is_breakdown_within_horizon"] = rng.random(len(rows)) < risk
    features_used = [c for c in feature_columns(rows) if c != "breakdown_starts"]
    start = time.perf_counter()
    split = split_by_time(rows, time_column="predicted_at")
    model = fit_calibrated(split, label="is_breakdown_within_horizon", numeric=features_used, categorical=[])
    training_s = time.perf_counter() - start
    latest = rows.sort_values("hour_start_at").groupby("machine_id").tail(1)
    start = time.perf_counter()
    risk_and_top_reasons(model, latest, split.train.sample(min(len(split.train), 20_000), random_state=0),
                         features=features_used)
    scoring_s = time.perf_counter() - start
    return {"training_rows": len(split.train), "training_s": training_s, "scoring_machines": len(latest),
            "scoring_s": scoring_s}


def run(machines: int = 200, days: int = 14, interval_s: int = 60, repeats: int = 2) -> dict[str, object]:
    signals, states = generate(machines, days, interval_s)
    ours_s, ours = best_of(repeats, lambda: plantlake_features(signals, states))
    peer_s, peer = best_of(repeats, lambda: duckdb_features(signals, states))
    rows = check_agree(ours, peer)
    return {"machines": machines, "days": days, "samples": signals.num_rows, "feature_rows": rows,
            "plantlake_s": ours_s, "duckdb_s": peer_s, **scoring_and_training(ours, machines)}


def format_table(result: dict[str, object]) -> str:
    ratio = result["plantlake_s"] / result["duckdb_s"]
    return "\n".join([
        f"hourly maintenance features, {result['machines']} machines x {result['days']} days "
        f"({result['samples']:,} samples -> {result['feature_rows']:,} machine-hours; results agree)",
        "| step | plantlake | peer | plantlake / peer (time) |", "|---|---|---|---|",
        f"| hourly features | Narwhals on Polars: {result['plantlake_s']:.2f} s | hand-written DuckDB SQL: "
        f"{result['duckdb_s']:.2f} s | {ratio:.2f}x (goal <= 1.5x) |",
        f"| scoring {result['scoring_machines']} machines (risk + top reasons) | {result['scoring_s']:.2f} s | - | goal <= 2 s |",
        f"| training on {result['training_rows']:,} rows (fit + calibration) | {result['training_s']:.1f} s | - | "
        f"goal <= 180 s for 1 year |"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--interval-s", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(format_table(run(args.machines, args.days, args.interval_s, args.repeats)))


if __name__ == "__main__":
    main()
