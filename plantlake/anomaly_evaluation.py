"""How well the signal anomaly detector (ml/anomalies.py) finds the sensor anomalies the simulator injected:
the detector runs on a simulated plant's signal files and is scored against `truth/signal_anomalies.parquet`
per kind (`ml.anomaly_evaluation`). Behind `plantlake anomalies evaluate`."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from ml.anomalies import DetectorSettings, detect_anomalies
from ml.anomaly_evaluation import event_scores, recall_by_size

# the documented sizes (in noise standard deviations of the tag) above which the goal is recall and precision >= 0.9
DOCUMENTED_SIZE = {"spike": 8.0, "drift": 30.0}
GOAL = 0.9
SIZE_BANDS = {"spike": [4.0, 6.0, 8.0, 10.0, 15.0, 20.0], "drift": [5.0, 10.0, 20.0, 30.0, 40.0, 60.0]}


@dataclass(frozen=True)
class AnomalyEvaluation:
    all_sizes: pl.DataFrame  # per kind: known, found, recall, detected, right, precision
    above_size: pl.DataFrame  # the same with spikes and drifts below DOCUMENTED_SIZE left out
    by_size: dict[str, pl.DataFrame]  # recall per size band of spikes and drifts
    signal_rows: int

    def goal_met(self) -> bool:
        rows = self.above_size.filter(pl.col("kind").is_in(["spike", "stuck", "drift"]))
        return bool(rows.height and (rows["recall"].fill_null(0) >= GOAL).all()
                    and (rows["precision"].fill_null(0) >= GOAL).all())


def evaluate_plant(plant_dir: Path, settings: DetectorSettings = DetectorSettings()) -> AnomalyEvaluation:
    """Score the detector on the signal files of a plant simulated into `plant_dir`."""
    truth_file = Path(plant_dir) / "truth" / "signal_anomalies.parquet"
    if not truth_file.is_file():
        raise FileNotFoundError(f"{truth_file} does not exist: simulate the plant with sensor anomalies first "
                                "(`plantlake simulate` without --no-faults)")
    signals = pl.scan_parquet(Path(plant_dir) / "signals" / "*.parquet")
    detected = detect_anomalies(signals, settings)
    known = pl.read_parquet(truth_file)
    return AnomalyEvaluation(
        all_sizes=event_scores(detected, known), above_size=event_scores(detected, known,
                                                                         min_size_in_noise_sd=DOCUMENTED_SIZE),
        by_size={kind: recall_by_size(detected, known, kind, edges) for kind, edges in SIZE_BANDS.items()},
        signal_rows=signals.select(pl.len()).collect().item())


def simulate_and_evaluate(config, settings: DetectorSettings = DetectorSettings()) -> AnomalyEvaluation:  # noqa: ANN001
    """Simulate `config` (a `simulator.PlantConfig`) into a temporary folder and score the detector on it."""
    from simulator import simulate

    if config.fault_rates.signal_anomaly <= 0:
        raise ValueError("the plant has no sensor anomalies to find (signal_anomaly rate 0)")
    with tempfile.TemporaryDirectory(prefix="plantlake-anomalies-") as folder:
        simulate(config, Path(folder))
        return evaluate_plant(Path(folder), settings)


def with_anomaly_rate(config, rate: float):  # noqa: ANN001, ANN201
    return replace(config, fault_rates=replace(config.fault_rates, signal_anomaly=rate))
