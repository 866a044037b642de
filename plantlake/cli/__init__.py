"""The `plantlake` command line: a thin layer over the Python API (`plantlake.Lake`). Every subcommand takes
--help; `--lake` (or PLANTLAKE_LAKE) picks the lake.

Every mistake is one line on standard error, `Error: ...`, with a documented exit code (`EXIT_CODES`, shown
by `plantlake --help`), never a traceback: the library's `PlantlakeError` and OS errors exit 1, click's usage
errors exit 2, anything unexpected (a bug) exits 3 with one line (`--verbose` shows the traceback)."""

from __future__ import annotations

import json
import logging
import os
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import click

from lakehouse.catalog import CATALOG
from lakehouse.errors import PlantlakeError
from lakehouse.lake_lock import LakeBusyError
from lakehouse.settings import ENGINES
from plantlake.errors import PlantlakeWarning
from plantlake.cli.output import FORMATS, echo_frame, note
from plantlake.cli.progress import (LOG_LEVELS, LakeWatcher, Progress, configure_logging, landing_file_count,
                                    run_with_progress)
from plantlake.lake import Lake

log = logging.getLogger("plantlake")

EXIT_CODES = {
    0: "done; also a valid question with no rows (a `Note: ...` on stderr says why) and `tables` on a folder "
       "with no tables",
    1: "an error: the command was understood but cannot be answered, or it failed (unknown table, KPI, scope, "
       "lot or material; a `stock --as-of` that is not an ISO 8601 date or time; a period that ends before it "
       "starts; a lake not written yet; a missing landing folder; a failed run; a file that cannot be written)",
    2: "bad usage, from click: unknown command or option, missing or extra argument, a value not among the "
       "choices, not a number or date of the form --help shows, or a file where a folder is wanted",
    3: "an internal error (a bug): one line; rerun with --verbose for the traceback",
    4: "`ingest` landed what it could, but this run rejected files or quarantined rows (the last line counts "
       "them; `plantlake quarantine list` shows why), so a scheduler notices",
    5: "the lake is busy: another `ingest` or `run` is writing it (the message names it); retry when it has "
       "finished",
    130: "interrupted (Ctrl-C)",
}
INTERNAL_ERROR, LANDED_WITH_REJECTIONS, LAKE_BUSY, INTERRUPTED = 3, 4, 5, 130


def _epilog() -> str:
    """Exit codes and environment for `plantlake --help` (each block kept as written: click's \\b)."""
    codes = [textwrap.fill(text, width=100, initial_indent=f"  {code:<5}", subsequent_indent=" " * 7)
             for code, text in EXIT_CODES.items()]
    environment = textwrap.fill(
        "PLANTLAKE_LAKE (--lake), PLANTLAKE_ENGINE (--engine), PLANTLAKE_SOURCE_DIR (--source), "
        "PLANTLAKE_LOG_LEVEL (--log-level: debug, info, warning or error, default warning: the `plantlake` "
        "logger and the Dagster console log of in-process runs; --verbose means debug).",
        width=100, initial_indent="  ", subsequent_indent="  ")
    return ("\b\nExit codes:\n" + "\n".join(codes) + "\n\n\b\nEnvironment:\n" + environment
            + "\n\nProgress of run, ingest and demo goes to standard error: a bar on a terminal, log lines "
              "otherwise. Answers go to standard output; notes, warnings and errors to standard error.")


EPILOG = _epilog()


def one_line(text: str) -> str:
    """A message as one line: its non-blank lines joined with '; '."""
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip()) or "(no message)"


def _os_message(error: OSError) -> str:
    if error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


class PlantlakeGroup(click.Group):
    """Turns every error into one line on standard error with a documented exit code (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", PlantlakeWarning)
                return self._invoke_one_line(ctx)
        finally:  # after catch_warnings: a warning shown inside it would be recorded again, forever
            for warning in caught:
                if issubclass(warning.category, PlantlakeWarning):
                    click.echo(f"Warning: {one_line(str(warning.message))}", err=True)
                else:  # a library's warning (Dagster previews, deprecations) is for developers: --verbose
                    log.debug(f"{warning.category.__name__} at {warning.filename}:{warning.lineno}: "
                              f"{one_line(str(warning.message))}")

    def _invoke_one_line(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LakeBusyError as error:
            click.echo(f"Error: {one_line(str(error))}", err=True)
            ctx.exit(LAKE_BUSY)
        except PlantlakeError as error:
            raise click.ClickException(one_line(str(error))) from None
        except click.UsageError:
            raise
        except click.ClickException as error:
            error.message = one_line(error.message)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            ctx.exit(INTERRUPTED)
        except OSError as error:
            raise click.ClickException(one_line(_os_message(error))) from None
        except Exception as error:
            if ctx.meta.get("plantlake.verbose"):
                raise
            click.echo(f"Error: internal error, {type(error).__name__}: {one_line(str(error))} "
                       "(a bug; rerun with --verbose for the traceback)", err=True)
            ctx.exit(INTERNAL_ERROR)


@click.group(cls=PlantlakeGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.option("--lake", "lake_root", type=click.Path(file_okay=False, path_type=Path), envvar="PLANTLAKE_LAKE",
              default=Path("lake"), show_default=True, help="Root folder of the Delta lake (env PLANTLAKE_LAKE).")
@click.option("--engine", type=click.Choice(ENGINES), envvar="PLANTLAKE_ENGINE", default="polars",
              show_default=True, help="Transform engine (env PLANTLAKE_ENGINE).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), envvar="PLANTLAKE_LOG_LEVEL",
              default="warning", show_default=True,
              help="Level of the plantlake logger and of the Dagster console log of in-process runs "
                   "(env PLANTLAKE_LOG_LEVEL).")
@click.option("-v", "--verbose", is_flag=True,
              help="Same as --log-level debug: log details, one line per landed file, tracebacks of internal "
                   "errors.")
@click.pass_context
def main(ctx: click.Context, lake_root: Path, engine: str, log_level: str, verbose: bool) -> None:
    """plantlake: a manufacturing data lakehouse joining MES, WMS and OPC UA signals on Delta Lake."""
    previous_engine = os.environ.get("PLANTLAKE_ENGINE")
    os.environ["PLANTLAKE_ENGINE"] = engine  # what the pipelines read; put back when an in-process call ends

    def restore_engine() -> None:
        if previous_engine is None:
            os.environ.pop("PLANTLAKE_ENGINE", None)
        else:
            os.environ["PLANTLAKE_ENGINE"] = previous_engine

    ctx.call_on_close(restore_engine)
    ctx.meta["plantlake.verbose"] = verbose
    configure_logging("debug" if verbose else log_level.lower(), ctx)
    ctx.obj = Lake(lake_root)


SOURCE = click.option("--source", "source_dir", type=click.Path(file_okay=False, path_type=Path),
                      envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
                      help="Landing folder the source systems deliver into (env PLANTLAKE_SOURCE_DIR).")


@main.command()
@SOURCE
@click.option("--full-refresh", is_flag=True, help="Rebuild silver and gold from bronze instead of refreshing "
              "them incrementally (movements, ledger and genealogy recomputed and overwritten).")
@click.pass_obj
def run(lake: Lake, source_dir: Path, full_refresh: bool) -> None:
    """Materialize every asset in-process (no Dagster web server needed) and print the lake and its counts.

    Progress per asset goes to standard error (a bar on a terminal, log lines otherwise)."""
    _require_landing_folder(source_dir)
    outcome = run_with_progress(lake, source_dir, full_refresh=full_refresh)
    _print_tables(lake)
    if not outcome.success:
        raise click.ClickException(f"run {outcome.run_id} failed: {outcome.failure}")
    _print_ingest_audit(lake, source_dir)


@main.command()
@click.option("--out", "source_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("landing"),
              show_default=True, help="Where the simulated plant delivers its files (the landing folder).")
@click.option("--days", default=42, show_default=True,
              help="Days simulated. 42 give the quality model enough history to train a champion that beats the "
                   "naive rule (on seed 42: 14 days train too few orders to split on, 28 hold 2 high-scrap orders "
                   "in the validation weeks), so the demo scores work orders too.")
@click.option("--lines", default=2, show_default=True)
@click.option("--machines-per-line", default=4, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--no-faults", "no_faults", is_flag=True, help="Inject no faults (a clean plant).")
@click.option("--live-seconds", default=30.0, show_default=True,
              help="Seconds of live OPC UA collection from the simulator's server (0 to skip).")
@click.option("--live-mqtt-seconds", default=25.0, show_default=True,
              help="Seconds of live MES/WMS events over MQTT moving stock (0 to skip).")
@click.pass_obj
def demo(lake: Lake, source_dir: Path, days: int, lines: int, machines_per_line: int, seed: int,
         no_faults: bool, live_seconds: float, live_mqtt_seconds: float) -> None:
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
    outcome = run_with_progress(lake, source_dir)
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
    if live_mqtt_seconds > 0:
        from plantlake.live_mqtt import show_live_stock

        click.echo(f"\n== stock moving live: the simulator publishes MES and WMS events over MQTT for about "
                   f"{live_mqtt_seconds:.0f} s; `plantlake listen --refresh` lands them and refreshes stock")
        show_live_stock(source_dir, lake.root, live_mqtt_seconds, click.echo)
    click.echo("\nPython:  from plantlake import Lake; Lake().kpi('oee', scope='line', grain='week')")
    click.echo("Open the Dagster UI on these assets:  make ui   (then browse http://127.0.0.1:3000)")


@main.command()
@click.option("--source", "source_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="PLANTLAKE_SOURCE_DIR", default=Path("landing"), show_default=True,
              help="Landing folder to ingest (env PLANTLAKE_SOURCE_DIR).")
@click.option("--verbose", is_flag=True, help="Print one line per file (as the global --verbose does).")
@click.pass_context
def ingest(ctx: click.Context, source_dir: Path, verbose: bool) -> None:
    """Land every new file of the landing folder in bronze (exactly once; bad rows to quarantine).

    Master data first: the landing folder's master/ when it has one, else what the lake holds (contracts check
    codes against it). Progress per file goes to standard error (a bar on a terminal, log lines otherwise)."""
    from ingestion.report import format_counts

    lake: Lake = ctx.obj
    verbose = verbose or bool(ctx.meta.get("plantlake.verbose"))
    _require_landing_folder(source_dir)
    progress = Progress("ingest", landing_file_count(source_dir, lake.root), "file")

    def show(outcome: Any) -> None:
        progress.advance(f"{outcome.source_file}: {outcome.status}")
        if verbose or outcome.status == "rejected":
            progress.echo(f"  {outcome.status:<14} {outcome.source_file}  read={outcome.rows_read} "
                          f"landed={outcome.rows_landed} quarantined={outcome.rows_quarantined} "
                          f"duplicate={outcome.rows_duplicate}"
                          + (f"  error: {outcome.error}" if outcome.error else ""))

    files = "the new files" if progress.total is None else \
        f"{progress.total} new file{'' if progress.total == 1 else 's'}"
    progress.line(f"{files} in {source_dir} to land into {lake.root} (master data and quarantine replay first)")
    try:
        with LakeWatcher(lake.root, lambda name: log.debug(f"new commit in {name}"), progress.tick):
            report = lake.ingest(source_dir, progress=show)
        progress.finish(report.files, "looked at")
    finally:
        progress.close()
    click.echo(report.master_data)
    click.echo(report.replay.summary())
    click.echo(f"ingest run {report.run_id}: {report.files} files")
    click.echo(format_counts(report.counts))
    counts = report.counts
    rejected = int(counts["rejected_files"].sum()) if counts.height else 0
    quarantined = int(counts["rows_quarantined"].sum()) if counts.height else 0
    landed = int(counts["rows_landed"].sum()) if counts.height else 0
    click.echo(f"{'ok' if not (rejected or quarantined) else 'NOT CLEAN'}: {landed:,} rows landed, "
               f"{quarantined:,} rows quarantined, {rejected} files rejected")
    if rejected or quarantined:
        ctx.exit(LANDED_WITH_REJECTIONS)


@main.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def tables(lake: Lake, fmt: str) -> None:
    """List the lake's tables with rows, version, last write and description."""
    rows = lake.tables()
    echo_frame(rows if fmt != "table" else rows.drop("description"), fmt, empty_note=_no_tables(lake))


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
    try:
        rows = lake.sql(query)
    except PlantlakeError as error:
        if "Catalog Error" not in str(error):
            raise
        hint = (_no_tables(lake) + " (`plantlake run` writes them)" if not lake.store.tables()
                else "`plantlake tables` lists this lake's tables")
        raise click.ClickException(f"{one_line(str(error))}; {hint}") from None
    echo_frame(rows, fmt)


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
    """Compact small files (optimize), vacuum old ones and write a checkpoint, per table.

    --table takes the names `plantlake tables` prints (`bronze.machine_signals`) or bare ones."""
    from lakehouse.errors import TableNotFoundError

    qualified = []
    for name in names:  # every name checked before any table is touched
        spec = lake.store.spec(name)
        if not lake.store.exists(spec.name):
            raise TableNotFoundError(f"{spec.qualified_name} has not been written in {lake.root} yet: "
                                     "`plantlake tables` lists the tables this lake has")
        qualified.append(spec.qualified_name)
    if not names and not lake.store.tables():
        note(_no_tables(lake) + ": nothing to maintain")
        return
    for report in lake.maintain(qualified, retention_hours=retention_hours):
        click.echo(f"{report.table}: compacted {report.files_removed} -> {report.files_added} files, "
                   f"vacuumed {report.files_vacuumed}, checkpoint at version {report.version}")


def _require_landing_folder(source_dir: Path) -> None:
    if not source_dir.is_dir():
        raise click.ClickException(f"landing folder {source_dir} does not exist (--source or PLANTLAKE_SOURCE_DIR;"
                                   " `plantlake simulate --out DIR` makes one)")


def _no_tables(lake: Lake) -> str:
    if not lake.root.exists():
        return f"there is no lake at {lake.root} yet (the folder does not exist)"
    return f"the lake at {lake.root} has no tables yet"


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
    from plantlake.cli.anomalies import anomalies_group
    from plantlake.cli.app import app_command
    from plantlake.cli.flow import bottleneck_command, lots_command
    from plantlake.cli.schedule import schedule_group
    from plantlake.cli.genealogy import export_group, recall_command, trace_command
    from plantlake.cli.kpi import kpi_command
    from plantlake.cli.models import models_group
    from plantlake.cli.quarantine import quarantine_group
    from plantlake.cli.realtime import listen_command, serve_api_command
    from plantlake.cli.stock import stock_command
    from plantlake.cli.shortages import shortages_command
    from simulator.cli import simulate_command

    main.add_command(simulate_command, name="simulate")
    main.add_command(collect_command, name="collect")
    main.add_command(stock_command, name="stock")
    main.add_command(shortages_command, name="shortages")
    main.add_command(bottleneck_command, name="bottleneck")
    main.add_command(lots_command, name="lots")
    main.add_command(schedule_group, name="schedule")
    main.add_command(trace_command, name="trace")
    main.add_command(recall_command, name="recall")
    main.add_command(kpi_command, name="kpi")
    main.add_command(quarantine_group, name="quarantine")
    main.add_command(export_group, name="export")
    main.add_command(anomalies_group, name="anomalies")
    main.add_command(models_group, name="models")
    main.add_command(app_command, name="app")
    main.add_command(listen_command, name="listen")
    main.add_command(serve_api_command, name="serve-api")


_mount_subcommands()
