"""`plantlake anomalies evaluate`: event-level recall and precision of the signal anomaly detector per kind, on
a simulated plant with injected sensor anomalies."""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from plantlake.anomaly_evaluation import DOCUMENTED_SIZE, GOAL, evaluate_plant, simulate_and_evaluate, with_anomaly_rate


@click.group("anomalies")
def anomalies_group() -> None:
    """Sensor anomalies in the machine signals (gold.signal_anomalies)."""


@anomalies_group.command("evaluate")
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True)
@click.option("--lines", type=click.IntRange(1, 99), default=2, show_default=True)
@click.option("--machines-per-line", type=click.IntRange(1, 99), default=4, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=42, show_default=True)
@click.option("--rate", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Chance of a sensor anomaly per machine, tag and day (default: the simulator's default rate).")
@click.option("--plant", "plant_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Score an already simulated plant folder instead of simulating one.")
def evaluate_command(days: int, lines: int, machines_per_line: int, seed: int, rate: float | None,
                     plant_dir: Path | None) -> None:
    """Simulate a plant with sensor anomalies, run the detector on its signals and print event-level recall and
    precision per kind against the injected windows (all sizes, and above the documented sizes)."""
    from simulator import FaultRates, PlantConfig

    if plant_dir is not None:
        click.echo(f"== scoring the detector on the plant in {plant_dir}")
        result = evaluate_plant(plant_dir)
    else:
        config = PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                             fault_rates=FaultRates.default())
        if rate is not None:
            config = with_anomaly_rate(config, rate)
        click.echo(f"== simulating {lines} lines x {machines_per_line} machines x {days} days (seed {seed}, "
                   f"anomaly rate {config.fault_rates.signal_anomaly} per machine, tag and day)")
        result = simulate_and_evaluate(config)
    click.echo(f"{result.signal_rows:,} signal rows scored\n")
    with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, float_precision=3):
        click.echo("all sizes:")
        click.echo(result.all_sizes)
        sizes = ", ".join(f"{kind} >= {size:g} noise sd" for kind, size in DOCUMENTED_SIZE.items())
        click.echo(f"\nabove the documented size ({sizes}):")
        click.echo(result.above_size)
        for kind, bands in result.by_size.items():
            click.echo(f"\nrecall of {kind}s by size (noise standard deviations):")
            click.echo(bands)
    verdict = "met" if result.goal_met() else "NOT met"
    click.echo(f"\ngoal recall and precision >= {GOAL} for spikes, stuck values and drifts above the documented "
               f"size: {verdict}")
