"""`plantlake models evaluate`: both models against the naive rules and the simulator's oracle."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("models")
def models_group() -> None:
    """Predictive-maintenance and quality models (registry, scoring: the `models` asset group)."""


@models_group.command("evaluate")
@click.option("--days", default=60, show_default=True, help="Days of the simulated plant.")
@click.option("--lines", default=2, show_default=True)
@click.option("--machines-per-line", default=4, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the plant and its lake are written (default: a new temporary folder).")
def evaluate_command(days: int, lines: int, machines_per_line: int, seed: int, work_dir: Path | None) -> None:
    """Simulate a plant, ingest and materialize it, train both models on the earlier weeks and print the test
    window's PR-AUC, ROC-AUC, Brier, precision/recall, alert lead time, false alarms and lift for the model,
    the naive rule and the oracle (the simulator's true risk), with model/oracle and model/naive."""
    from plantlake.model_evaluation import simulate_and_evaluate

    if days < 21:
        raise click.BadParameter("needs at least 21 days (train, validation and test windows)", param_hint="--days")
    result = simulate_and_evaluate(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                                   work_dir=work_dir, echo=lambda line: click.echo(line, err=True))
    click.echo("\n".join(result.lines()))
