"""Signal anomaly detection: the project's robust per-tag detector (ml/anomalies.py) against an IsolationForest
per machine and tag (scikit-learn, the usual peer) on the same simulated plant, same run: event-level recall and
precision, kind-agnostic (IsolationForest names no kind), and wall time.

The IsolationForest sees, per sample, the value, its distance from the rolling median of its 11 neighbours, the
rolling standard deviation and the machine state, and is told the true share of anomalous samples as its
contamination (generous: a plant does not know it). Flagged samples one sample apart or closer form an event.

    python -m benchmarks.bench_anomalies --days 14
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.ensemble import IsolationForest

from ml.anomalies import ANALOG_TAGS, detect_anomalies
from ml.anomaly_evaluation import KEYS

SERIES = ["machine_id", "tag"]


def isolation_forest_events(signals: pl.DataFrame, contamination: float, seed: int = 0) -> pl.DataFrame:
    states = signals.filter(pl.col("tag") == "state").select("machine_id", "source_at", state=pl.col("value"))
    rows = (signals.filter(pl.col("tag").is_in(list(ANALOG_TAGS))).join(states, on=["machine_id", "source_at"])
            .sort(*SERIES, "source_at")
            .with_columns(value=pl.col("value").fill_nan(None).fill_null(-1.0))
            .with_columns(residual=pl.col("value") - pl.col("value").rolling_median(11, center=True, min_samples=1)
                          .over(SERIES),
                          spread=pl.col("value").rolling_std(11, center=True, min_samples=2).over(SERIES).fill_null(0)))
    events = []
    for (machine_id, tag), series in rows.group_by(SERIES, maintain_order=True):
        features = series.select("value", "residual", "spread", "state").to_numpy()
        flagged = IsolationForest(contamination=contamination, random_state=seed).fit_predict(features) == -1
        index = np.flatnonzero(flagged)
        if index.size == 0:
            continue
        starts = np.r_[0, np.flatnonzero(np.diff(index) > 2) + 1]
        ends = np.r_[starts[1:] - 1, index.size - 1]
        times = series["source_at"]
        events += [{"machine_id": machine_id, "tag": tag, "started_at": times[int(index[s])],
                    "ended_at": times[int(index[e])]} for s, e in zip(starts, ends)]
    return pl.DataFrame(events, schema={"machine_id": pl.String, "tag": pl.String,
                                        "started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC")})


def kind_agnostic_scores(detected: pl.DataFrame, known: pl.DataFrame, slack=timedelta(minutes=2)) -> dict[str, float]:
    known = known.with_row_index("known_id")
    detected = detected.with_row_index("event_id")
    keys = [k for k in KEYS if k != "kind"]
    pairs = known.join(detected.select(*keys, "event_id", "started_at", "ended_at"), on=keys, suffix="_d").filter(
        (pl.col("started_at") <= pl.col("ended_at_d") + slack) & (pl.col("started_at_d") - slack <= pl.col("ended_at")))
    return {"recall": pairs["known_id"].n_unique() / max(known.height, 1),
            "precision": pairs["event_id"].n_unique() / max(detected.height, 1), "events": detected.height}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--plant", type=Path, default=None, help="an already simulated plant folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plant = args.plant
        if plant is None:
            from plantlake.anomaly_evaluation import with_anomaly_rate
            from simulator import FaultRates, PlantConfig, simulate

            plant = Path(folder)
            simulate(with_anomaly_rate(PlantConfig(days=args.days, fault_rates=FaultRates.default()), 0.15), plant)
        signals = pl.read_parquet(plant / "signals" / "*.parquet").with_columns(
            pl.col("machine_id").cast(pl.String), pl.col("tag").cast(pl.String))
        known = pl.read_parquet(plant / "truth" / "signal_anomalies.parquet")
        analog_rows = signals.filter(pl.col("tag").is_in(list(ANALOG_TAGS))).height
        contamination = float(known["samples"].sum()) / analog_rows
        start = time.perf_counter()
        robust = detect_anomalies(signals)
        robust_s = time.perf_counter() - start
        start = time.perf_counter()
        forest = isolation_forest_events(signals, contamination)
        forest_s = time.perf_counter() - start
    print(f"{known.height} injected windows, {analog_rows:,} analog samples, contamination {contamination:.4f}")
    for name, events, seconds in (("robust statistics (ml/anomalies.py)", robust, robust_s),
                                  ("IsolationForest per machine and tag", forest, forest_s)):
        scores = kind_agnostic_scores(events, known)
        print(f"{name:<38} events {scores['events']:>6,}  recall {scores['recall']:.3f}  "
              f"precision {scores['precision']:.3f}  {seconds:6.1f} s")
    print(f"time ratio IsolationForest / robust: {forest_s / robust_s:.1f}x")


if __name__ == "__main__":
    main()
