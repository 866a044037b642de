"""The `plantlake` command line. Every subcommand takes --help; `--lake` (or PLANTLAKE_LAKE) picks the lake."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from lakehouse.catalog import CATALOG
from lakehouse.settings import ENGINES, Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lake", "lake_root", type=click.Path(file_okay=False, path_type=Path), envvar="PLANTLAKE_LAKE",
              default=Path("lake"), show_default=True, help="Root folder of the Delta lake (env PLANTLAKE_LAKE).")
@click.option("--engine", type=click.Choice(ENGINES), envvar="PLANTLAKE_ENGINE", default="polars",
              show_default=True, help="Transform engine (env PLANTLAKE_ENGINE).")
@click.pass_context
def main(ctx: click.Context, lake_root: Path, engine: str) -> None:
    """plantlake: a manufacturing data lakehouse joining MES, WMS and OPC UA signals on Delta Lake."""
    ctx.obj = Settings.from_env(lake_root=lake_root, engine=engine)


@main.command()
@click.option("--source", "source_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
              help="Landing folder the source systems deliver into (env PLANTLAKE_SOURCE_DIR).")
@click.pass_obj
def run(settings: Settings, source_dir: Path) -> None:
    """Materialize every asset in-process (no Dagster web server needed) and print the lake summary."""
    from lakehouse.summary import lake_summary
    from pipelines.run import run_everything

    outcome = run_everything(lake_root=settings.lake_root, source_dir=source_dir, echo=click.echo)
    click.echo(lake_summary(settings.lake_root))
    if not outcome.success:
        raise click.ClickException(f"run {outcome.run_id} failed: {outcome.failure}")
    _print_ingest_audit(settings.lake_root, source_dir)


@main.command()
@click.option("--out", "source_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("landing"),
              show_default=True, help="Where the simulated plant delivers its files (the landing folder).")
@click.option("--days", default=14, show_default=True)
@click.option("--lines", default=2, show_default=True)
@click.option("--machines-per-line", default=4, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--clean", is_flag=True, help="Inject no faults.")
@click.option("--live-seconds", default=30.0, show_default=True,
              help="Seconds of live OPC UA collection from the simulator's server (0 to skip).")
@click.pass_obj
def demo(settings: Settings, source_dir: Path, days: int, lines: int, machines_per_line: int, seed: int,
         clean: bool, live_seconds: float) -> None:
    """Simulate the default plant, materialize every asset, print the summary and how to open the UI."""
    import shutil

    from lakehouse.summary import lake_summary
    from pipelines.run import run_everything
    from simulator import FaultRates, PlantConfig, simulate

    for folder in (source_dir, settings.lake_root):
        if folder.exists():
            shutil.rmtree(folder)
    config = PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                         fault_rates=FaultRates.none() if clean else FaultRates.default())
    click.echo(f"== simulating {lines} lines x {machines_per_line} machines x {days} days (seed {seed}) "
               f"into {source_dir}")
    click.echo(simulate(config, source_dir, progress=sys.stderr.isatty()).summary())
    click.echo(f"\n== materializing every asset into {settings.lake_root}")
    outcome = run_everything(lake_root=settings.lake_root, source_dir=source_dir, echo=click.echo)
    click.echo("\n" + lake_summary(settings.lake_root))
    if not outcome.success:
        raise click.ClickException(f"run {outcome.run_id} failed: {outcome.failure}")
    _print_ingest_audit(settings.lake_root, source_dir)
    from pipelines.demo_report import inventory_report

    click.echo("\n" + inventory_report(settings.lake_root))
    if live_seconds > 0:
        from pipelines.live_signals import collect_live_signals

        click.echo(f"\n== collecting {live_seconds:.0f} s of live OPC UA signals from the simulator's server (loopback)")
        report = collect_live_signals(config, settings.lake_root, live_seconds)
        click.echo(f"{report.targets} nodes, {report.received:,} value changes received, {report.written:,} rows "
                   f"landed in bronze.machine_signals, {report.duplicates_skipped} duplicates skipped, "
                   f"{report.reconnects} reconnects, {len(report.gaps)} gaps")
    click.echo("\nOpen the Dagster UI on these assets:  make ui   (then browse http://127.0.0.1:3000)")


@main.command()
@click.option("--source", "source_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
              help="Landing folder to ingest (env PLANTLAKE_SOURCE_DIR).")
@click.option("--verbose", is_flag=True, help="Print one line per file.")
@click.pass_obj
def ingest(settings: Settings, source_dir: Path, verbose: bool) -> None:
    """Land every new file of the landing folder in bronze (exactly once; bad rows to quarantine).

    Master data must be in the lake first (`plantlake run` lands it): contracts check codes against it."""
    from ingestion.landing import Lander
    from ingestion.report import format_counts, ingest_counts
    from lakehouse.delta_io import DeltaLake

    lake = DeltaLake(settings.lake_root)
    lander = Lander(lake, source_dir)

    def show(outcome) -> None:
        if verbose or outcome.status == "rejected":
            click.echo(f"  {outcome.status:<14} {outcome.source_file}  read={outcome.rows_read} "
                       f"landed={outcome.rows_landed} quarantined={outcome.rows_quarantined} "
                       f"duplicate={outcome.rows_duplicate}" + (f"  error: {outcome.error}" if outcome.error else ""))

    from ingestion.signal_files import land_signal_files

    outcomes = [*lander.land_all(progress=show), *land_signal_files(lander, progress=show)]
    click.echo(f"ingest run {lander.run_id}: {len(outcomes)} files")
    click.echo(format_counts(ingest_counts(lake, lander.run_id)))


def _print_ingest_audit(lake_root: Path, source_dir: Path) -> None:
    import polars as pl

    from ingestion.fault_audit import audit_injected_faults, format_audit
    from ingestion.report import format_counts, ingest_counts
    from lakehouse.delta_io import DeltaLake

    lake = DeltaLake(lake_root)
    click.echo("\n== landed and quarantined per source")
    click.echo(format_counts(ingest_counts(lake)))
    faults = source_dir / "truth" / "faults.parquet"
    if faults.exists():
        click.echo("\n== the simulator's injected faults, and what ingestion did with them")
        click.echo(format_audit(audit_injected_faults(lake, pl.read_parquet(faults))))


@main.command()
@click.pass_obj
def tables(settings: Settings) -> None:
    """List the lake's tables with rows, version and files."""
    from lakehouse.summary import lake_summary

    click.echo(lake_summary(settings.lake_root))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
def catalog(fmt: str) -> None:
    """Print the table catalog (docs/catalog.md is this output)."""
    if fmt == "markdown":
        click.echo(CATALOG.to_markdown())
        return
    click.echo(json.dumps([{"table": s.qualified_name, "description": s.description,
                            "primary_key": list(s.primary_key), "partition_by": list(s.partition_by),
                            "columns": {f.name: str(f.type) for f in s.schema}} for s in CATALOG], indent=2))


@main.command()
@click.option("--table", "names", multiple=True, help="Table name (repeatable); default: every existing table.")
@click.option("--retention-hours", default=168, show_default=True,
              help="Vacuum keeps files needed by versions newer than this.")
@click.pass_obj
def maintain(settings: Settings, names: tuple[str, ...], retention_hours: int) -> None:
    """Compact small files (optimize), vacuum old ones and write a checkpoint, per table."""
    from lakehouse.delta_io import DeltaLake

    lake = DeltaLake(settings.lake_root)
    for name in names or tuple(spec.name for spec in lake.tables()):
        metrics = lake.optimize(name)
        removed = lake.vacuum(name, retention_hours=retention_hours)
        lake.checkpoint(name)
        click.echo(f"{name}: compacted {metrics['numFilesRemoved']} -> {metrics['numFilesAdded']} files, "
                   f"vacuumed {len(removed)}, checkpoint at version {lake.version(name)}")


def _mount_subcommands() -> None:
    from ingestion.opcua.cli import collect_command
    from lakehouse.commands.genealogy import recall_command, trace_command
    from lakehouse.commands.kpi import kpi_command
    from lakehouse.commands.stock import stock_command
    from simulator.cli import simulate_command

    main.add_command(simulate_command, name="simulate")
    main.add_command(collect_command, name="collect")
    main.add_command(stock_command, name="stock")
    main.add_command(trace_command, name="trace")
    main.add_command(recall_command, name="recall")
    main.add_command(kpi_command, name="kpi")


_mount_subcommands()

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
