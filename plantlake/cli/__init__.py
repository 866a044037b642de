"""The `plantlake` command line: a thin layer over the Python API (`plantlake.Lake`). Every subcommand takes
--help; `--lake` (or PLANTLAKE_LAKE) picks the lake. A `PlantlakeError` is printed as one line, exit code 1."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from lakehouse.catalog import CATALOG
from lakehouse.errors import PlantlakeError
from lakehouse.settings import ENGINES
from plantlake.errors import PlantlakeWarning
from plantlake.cli.output import FORMATS, echo_frame
from plantlake.lake import Lake


class PlantlakeGroup(click.Group):
    """Turns the library's own errors into one line on standard error (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PlantlakeWarning)
            try:
                return super().invoke(ctx)
            except PlantlakeError as error:
                raise click.ClickException(str(error)) from None
            finally:
                for warning in caught:
                    if issubclass(warning.category, PlantlakeWarning):
                        click.echo(f"Warning: {warning.message}", err=True)
                    else:
                        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


@click.group(cls=PlantlakeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lake", "lake_root", type=click.Path(file_okay=False, path_type=Path), envvar="PLANTLAKE_LAKE",
              default=Path("lake"), show_default=True, help="Root folder of the Delta lake (env PLANTLAKE_LAKE).")
@click.option("--engine", type=click.Choice(ENGINES), envvar="PLANTLAKE_ENGINE", default="polars",
              show_default=True, help="Transform engine (env PLANTLAKE_ENGINE).")
@click.pass_context
def main(ctx: click.Context, lake_root: Path, engine: str) -> None:
    """plantlake: a manufacturing data lakehouse joining MES, WMS and OPC UA signals on Delta Lake."""
    os.environ["PLANTLAKE_ENGINE"] = engine
    ctx.obj = Lake(lake_root)


SOURCE = click.option("--source", "source_dir", type=click.Path(file_okay=False, path_type=Path),
                      envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
                      help="Landing folder the source systems deliver into (env PLANTLAKE_SOURCE_DIR).")


@main.command()
@SOURCE
@click.pass_obj
def run(lake: Lake, source_dir: Path) -> None:
    """Materialize every asset in-process (no Dagster web server needed) and print the lake and its counts."""
    if not source_dir.is_dir():
        raise click.ClickException(f"landing folder {source_dir} does not exist")
    outcome = lake.run(source_dir, echo=click.echo)
    _print_tables(lake)
    if not outcome.success:
        raise click.ClickException(f"run {outcome.run_id} failed: {outcome.failure}")
    _print_ingest_audit(lake, source_dir)


@main.command()
@click.option("--out", "source_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("landing"),
              show_default=True, help="Where the simulated plant delivers its files (the landing folder).")
@click.option("--days", default=14, show_default=True)
@click.option("--lines", default=2, show_default=True)
@click.option("--machines-per-line", default=4, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--no-faults", "no_faults", is_flag=True, help="Inject no faults (a clean plant).")
@click.option("--live-seconds", default=30.0, show_default=True,
              help="Seconds of live OPC UA collection from the simulator's server (0 to skip).")
@click.pass_obj
def demo(lake: Lake, source_dir: Path, days: int, lines: int, machines_per_line: int, seed: int,
         no_faults: bool, live_seconds: float) -> None:
    """Simulate the default plant, materialize every asset, print the summary and how to open the UI.

    The demo writes only to folders it creates and marks as its own (the landing folder and the lake): a rerun
    empties them, and a folder holding anything else is refused, untouched."""
    from plantlake.demo_folders import claim_demo_folders
    from plantlake.report import inventory_report
    from simulator import FaultRates, PlantConfig, simulate

    if source_dir.resolve() == lake.root.resolve():
        raise click.ClickException("the landing folder (--out) and the lake (--lake) must be different folders")
    claim_demo_folders({"landing folder": source_dir, "lake": lake.root})
    config = PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                         fault_rates=FaultRates.none() if no_faults else FaultRates.default())
    click.echo(f"== simulating {lines} lines x {machines_per_line} machines x {days} days (seed {seed}) "
               f"into {source_dir}")
    click.echo(simulate(config, source_dir, progress=sys.stderr.isatty()).summary())
    click.echo(f"\n== materializing every asset into {lake.root}")
    outcome = lake.run(source_dir, echo=click.echo)
    click.echo("")
    _print_tables(lake)
    if not outcome.success:
        raise click.ClickException(f"run {outcome.run_id} failed: {outcome.failure}")
    _print_ingest_audit(lake, source_dir)
    click.echo("\n" + inventory_report(lake.root))
    if live_seconds > 0:
        from plantlake.live_signals import collect_live_signals

        click.echo(f"\n== collecting {live_seconds:.0f} s of live OPC UA signals from the simulator's server (loopback)")
        report = collect_live_signals(config, lake.root, live_seconds)
        click.echo(f"{report.targets} nodes, {report.received:,} value changes received, {report.written:,} rows "
                   f"landed in bronze.machine_signals, {report.duplicates_skipped} duplicates skipped, "
                   f"{report.reconnects} reconnects, {len(report.gaps)} gaps")
    click.echo("\nPython:  from plantlake import Lake; Lake().kpi('oee', scope='line', grain='week')")
    click.echo("Open the Dagster UI on these assets:  make ui   (then browse http://127.0.0.1:3000)")


@main.command()
@click.option("--source", "source_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
              help="Landing folder to ingest (env PLANTLAKE_SOURCE_DIR).")
@click.option("--verbose", is_flag=True, help="Print one line per file.")
@click.pass_obj
def ingest(lake: Lake, source_dir: Path, verbose: bool) -> None:
    """Land every new file of the landing folder in bronze (exactly once; bad rows to quarantine).

    Master data must be in the lake first (`plantlake run` lands it): contracts check codes against it."""
    from ingestion.report import format_counts

    def show(outcome: Any) -> None:
        if verbose or outcome.status == "rejected":
            click.echo(f"  {outcome.status:<14} {outcome.source_file}  read={outcome.rows_read} "
                       f"landed={outcome.rows_landed} quarantined={outcome.rows_quarantined} "
                       f"duplicate={outcome.rows_duplicate}" + (f"  error: {outcome.error}" if outcome.error else ""))

    report = lake.ingest(source_dir, progress=show)
    click.echo(report.master_data)
    click.echo(report.replay.summary())
    click.echo(f"ingest run {report.run_id}: {report.files} files")
    click.echo(format_counts(report.counts))


@main.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def tables(lake: Lake, fmt: str) -> None:
    """List the lake's tables with rows, version, last write and description."""
    rows = lake.tables()
    if rows.is_empty():
        click.echo(f"The lake at {lake.root} has no tables yet.")
        return
    echo_frame(rows if fmt != "table" else rows.drop("description"), fmt)


@main.command()
@click.argument("table")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Newest N commits only.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def history(lake: Lake, table: str, limit: int | None, fmt: str) -> None:
    """A table's commits (version, time, operation): what `lake.read(..., as_of=...)` can go back to."""
    echo_frame(lake.history(table, limit), fmt, str_lengths=60)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def sql(lake: Lake, query: str, fmt: str) -> None:
    """Run a DuckDB SQL QUERY over the lake (tables named `layer.table`, e.g. gold.kpi_daily)."""
    echo_frame(lake.sql(query), fmt)


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


@main.command("api-reference")
def api_reference() -> None:
    """Print the Python API reference (docs/api.md is this output)."""
    from plantlake.reference import api_markdown

    click.echo(api_markdown(), nl=False)


@main.command()
@click.option("--table", "names", multiple=True, help="Table name (repeatable); default: every existing table.")
@click.option("--retention-hours", default=168, show_default=True,
              help="Vacuum keeps files needed by versions newer than this.")
@click.pass_obj
def maintain(lake: Lake, names: tuple[str, ...], retention_hours: int) -> None:
    """Compact small files (optimize), vacuum old ones and write a checkpoint, per table."""
    for report in lake.maintain(names, retention_hours=retention_hours):
        click.echo(f"{report.table}: compacted {report.files_removed} -> {report.files_added} files, "
                   f"vacuumed {report.files_vacuumed}, checkpoint at version {report.version}")


def _print_tables(lake: Lake) -> None:
    rows = lake.tables()
    width = max([len(n) for n in rows["name"]] + [5])
    click.echo(f"{'table':<{width}}  {'rows':>12}  {'version':>7}")
    for name, count, version in rows.select("name", "rows", "version").iter_rows():
        click.echo(f"{name:<{width}}  {count:>12,}  {version:>7}")


def _print_ingest_audit(lake: Lake, source_dir: Path) -> None:
    import polars as pl

    from ingestion.fault_audit import audit_injected_faults, format_audit
    from ingestion.report import format_counts, ingest_counts

    click.echo("\n== landed and quarantined per source")
    click.echo(format_counts(ingest_counts(lake.delta)))
    faults = source_dir / "truth" / "faults.parquet"
    if faults.exists():
        click.echo("\n== the simulator's injected faults, and what ingestion did with them")
        click.echo(format_audit(audit_injected_faults(lake.delta, pl.read_parquet(faults))))


def _mount_subcommands() -> None:
    from ingestion.opcua.cli import collect_command
    from plantlake.cli.genealogy import recall_command, trace_command
    from plantlake.cli.kpi import kpi_command
    from plantlake.cli.quarantine import quarantine_group
    from plantlake.cli.stock import stock_command
    from simulator.cli import simulate_command

    main.add_command(simulate_command, name="simulate")
    main.add_command(collect_command, name="collect")
    main.add_command(stock_command, name="stock")
    main.add_command(trace_command, name="trace")
    main.add_command(recall_command, name="recall")
    main.add_command(kpi_command, name="kpi")
    main.add_command(quarantine_group, name="quarantine")


_mount_subcommands()
