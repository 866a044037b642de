"""Acceptance of the models against the simulator's truth: `plantlake models evaluate --days 60`.

Simulates a plant (or takes one already simulated and ingested), builds the features from the lake, trains
both models on the earlier weeks and prints, for the latest window, model against naive rule and oracle.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lakehouse.delta_io import DeltaLake
from ml.maintenance import MaintenanceEvaluation
from ml.quality import QualityEvaluation
from ml.training import TooFewLabels


@dataclass
class SimulatorEvaluation:
    maintenance: MaintenanceEvaluation | str  # the evaluation, or why the model could not be trained
    quality: QualityEvaluation | str

    def lines(self) -> list[str]:
        out: list[str] = []
        if isinstance(self.maintenance, str):
            out.append(f"maintenance (breakdown within 24 h): not evaluated: {self.maintenance}")
        else:
            out += self._maintenance_lines(self.maintenance)
        if isinstance(self.quality, str):
            out.append(f"quality (scrap share >= 4 %): not evaluated: {self.quality}")
        else:
            out += self._quality_lines(self.quality)
        return out

    @staticmethod
    def _maintenance_lines(m: MaintenanceEvaluation) -> list[str]:
        out = [f"maintenance (breakdown within 24 h), test window from {m.split.test_start:%Y-%m-%d %H:%M}, "
               f"{m.reports['model'].rows} machine-hours, {m.reports['model'].positives} positive"]
        for name, report in m.reports.items():
            alerts = m.alerts[name]
            out.append(f"  {name:<8} PR-AUC {report.pr_auc:.3f}  ROC-AUC {report.roc_auc:.3f}  "
                       + (f"Brier {report.brier:.3f}  " if report.brier is not None else "")
                       + f"precision {report.precision:.2f} recall {report.recall:.2f} at {report.threshold:.3f}  "
                       f"breakdowns alerted >=4 h ahead {alerts.alerted_4h_ahead_share:.0%} of {alerts.breakdowns}  "
                       f"false alarms/machine-week {alerts.false_alarms_per_machine_week:.2f}")
        out.append(f"  model/oracle PR-AUC {m.model_to_oracle:.2f} (goal >= 0.9)   "
                   f"model/naive PR-AUC {m.model_to_naive:.2f} (goal >= 1.5)")
        out.append("  top features (permutation, PR-AUC drop): "
                   + ", ".join(f"{k} {v:.3f}" for k, v in m.importance.head(5).items()))
        return out

    @staticmethod
    def _quality_lines(q: QualityEvaluation) -> list[str]:
        out = [f"quality (scrap share >= 4 %), test window from {q.split.test_start:%Y-%m-%d %H:%M}, "
                   f"{q.reports['model'].rows} work orders, {q.reports['model'].positives} positive"]
        for name, report in q.reports.items():
            out.append(f"  {name:<17} PR-AUC {report.pr_auc:.3f}  ROC-AUC {report.roc_auc:.3f}  "
                       + (f"Brier {report.brier:.4f}  " if report.brier is not None else "")
                       + f"precision {report.precision:.2f} recall {report.recall:.2f}  "
                       f"lift in riskiest decile {report.top_decile_lift:.2f}")
        out.append(f"  model/oracle PR-AUC {q.model_to_oracle:.2f} (goal >= 0.9)   with/without genealogy PR-AUC "
                   f"{q.reports['model'].pr_auc:.3f}/{q.reports['without_genealogy'].pr_auc:.3f}, Brier "
                   f"{q.reports['model'].brier:.4f}/{q.reports['without_genealogy'].brier:.4f}")
        out.append("  top features (permutation, PR-AUC drop): "
                   + ", ".join(f"{k} {v:.3f}" for k, v in q.importance.head(5).items()))
        return out


def evaluate_lake(lake: DeltaLake, truth_dir: Path, *, seed: int = 0) -> SimulatorEvaluation:
    """Train and evaluate both models on an ingested and materialized lake of a simulated plant."""
    from ml import maintenance, quality
    from pipelines.models.inputs import breakdown_starts, inspections, machine_hour_rows, work_order_rows

    hours = machine_hour_rows(lake).to_pandas()
    machine_truth = pd.read_parquet(truth_dir / "machine_hours.parquet")
    oracle = maintenance.oracle_probability(hours, machine_truth)
    maintenance_result: MaintenanceEvaluation | str
    try:
        maintenance_result = maintenance.train_and_evaluate(hours, breakdown_starts(lake), oracle=oracle, seed=seed)
    except TooFewLabels as reason:
        maintenance_result = str(reason)
    orders = work_order_rows(lake).to_pandas()
    chunks = pd.read_parquet(truth_dir / "production_chunks.parquet")
    quality_result: QualityEvaluation | str
    try:
        quality_result = quality.train_and_evaluate(orders, inspections(lake),
                                                    oracle=quality.oracle_probability(orders, chunks), seed=seed)
    except TooFewLabels as reason:
        quality_result = str(reason)
    return SimulatorEvaluation(maintenance_result, quality_result)


def simulate_and_evaluate(*, days: int, lines: int = 2, machines_per_line: int = 4, seed: int = 42,
                          work_dir: Path | None = None, echo: Callable[[str], None] = print) -> SimulatorEvaluation:
    """Simulate `days` days, ingest them, materialize the lake, then `evaluate_lake`."""
    from pipelines.run import run_everything
    from plantlake.operations import ingest
    from simulator import PlantConfig, simulate

    base = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="plantlake-models-"))
    plant, lake_root = base / "plant", base / "lake"
    echo(f"simulating {days} days ({lines} lines x {machines_per_line} machines, seed {seed}) into {plant}")
    simulate(PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed), plant)
    lake = DeltaLake(lake_root)
    echo("ingesting and materializing the lake")
    ingest(lake, plant)
    run_everything(lake_root=lake_root, source_dir=plant, echo=echo)
    return evaluate_lake(lake, plant / "truth", seed=seed)
