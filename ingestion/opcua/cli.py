"""`plantlake collect`: run the OPC UA collector from a TOML config or from command line options."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ingestion.opcua.collector import CollectorReport, run_collectors
from ingestion.opcua.config import CollectorConfig
from ingestion.opcua.errors import CollectorError, ConfigError
from lakehouse.delta_io import DeltaLake

EXAMPLES = """
\b
Examples:
  plantlake collect --config opcua.toml --duration-s 3600
  plantlake collect --config line1.toml --config line2.toml     # two servers, one writer
  plantlake collect --endpoint opc.tcp://10.0.0.5:4840 --browse-root "ns=2;s=Line1" --max-depth 3
  plantlake collect --endpoint opc.tcp://plc:4840 --node "M1/temperature_c=ns=2;s=M1.temperature_c"
  PLANTLAKE_OPCUA_PASSWORD=... plantlake collect --config opcua.toml --username collector \\
      --password-env PLANTLAKE_OPCUA_PASSWORD

Stop with Ctrl-C (SIGINT) or SIGTERM: buffered values are flushed before exit. See
ingestion/opcua/config.py for the TOML keys.
"""


@click.command("collect", epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Collector TOML config; other options override its values. Repeat it to collect several "
                   "servers in this process: one writer commits all of them every flush interval.")
@click.option("--endpoint", help="Server URL (opc.tcp://host:port) when not using --config.")
@click.option("--browse-root", help="Discover variables below this NodeId (machine = parent object name).")
@click.option("--max-depth", type=click.IntRange(1, 10), default=3, show_default=True,
              help="How many levels below --browse-root to browse.")
@click.option("--node", "nodes", multiple=True, metavar="MACHINE/TAG=NODEID",
              help="A variable to collect by NodeId (repeatable).")
@click.option("--lake", "lake_root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Lake root folder; default: the `plantlake --lake` given before the subcommand, else "
                   "PLANTLAKE_LAKE, else ./lake.")
@click.option("--collector-id", help="Names the state file used for crash recovery (default: opcua).")
@click.option("--duration-s", type=click.FloatRange(min=0.1), help="Stop after this many seconds (default: run until "
              "stopped).")
@click.option("--flush-interval-s", type=click.FloatRange(min=0.05), help="Write a micro-batch this often.")
@click.option("--sampling-interval-ms", type=click.FloatRange(min=0), help="Requested server sampling interval.")
@click.option("--reconnect-max-s", type=click.FloatRange(min=0, min_open=True),
              help="Cap of the reconnect backoff (TOML reconnect.max_s; default 5): a server that is back is "
                   "reconnected within about this long.")
@click.option("--compact-every-s", type=click.FloatRange(min=0),
              help="Compact the partitions written since the last compaction this often (TOML compact_every_s; "
                   "default 600; 0 = never).")
@click.option("--security-policy", type=click.Choice(["None", "Basic256Sha256"]), help="Message security policy.")
@click.option("--security-mode", type=click.Choice(["Sign", "SignAndEncrypt"]), help="Message security mode.")
@click.option("--client-cert", type=click.Path(exists=True, dir_okay=False), help="Collector certificate (DER/PEM).")
@click.option("--client-key", type=click.Path(exists=True, dir_okay=False), help="Collector private key (PEM).")
@click.option("--server-cert", type=click.Path(exists=True, dir_okay=False),
              help="Server certificate to trust (default: taken from the server's endpoint list).")
@click.option("--username", help="User name for a user/password login.")
@click.option("--password-env", metavar="VAR", help="Environment variable holding the password.")
@click.option("--allow-password-without-encryption", "allow_clear_password", is_flag=True,
              help="Accept a password login over security policy None, which sends the password in clear text "
                   "(TOML auth.allow_password_without_encryption).")
@click.option("-v", "--verbose", is_flag=True, help="Log asyncua's own messages too.")
def collect_command(config_files: tuple[Path, ...], endpoint: str | None, browse_root: str | None, max_depth: int,
                    nodes: tuple[str, ...], lake_root: Path, collector_id: str | None, duration_s: float | None,
                    flush_interval_s: float | None, sampling_interval_ms: float | None,
                    reconnect_max_s: float | None, compact_every_s: float | None, security_policy: str | None,
                    security_mode: str | None, client_cert: str | None, client_key: str | None,
                    server_cert: str | None, username: str | None, password_env: str | None,
                    allow_clear_password: bool, verbose: bool) -> None:
    """Collect OPC UA machine signals into the machine_signals Delta table.

    One subscription monitors every node; values land every flush interval and the partitions written are
    compacted every --compact-every-s. Lost connections are retried with exponential backoff (capped at
    --reconnect-max-s) and booked in machine_signal_gaps from the last value delivered, as is a crash of the
    previous run."""
    _configure_logging(verbose)
    overrides = {k: v for k, v in {
        "endpoint": endpoint, "collector_id": collector_id, "flush_interval_s": flush_interval_s,
        "sampling_interval_ms": sampling_interval_ms, "compact_every_s": compact_every_s}.items() if v is not None}
    security = {k: v for k, v in {"policy": security_policy, "mode": security_mode, "client_certificate": client_cert,
                                  "private_key": client_key, "server_certificate": server_cert}.items() if v}
    auth = {k: v for k, v in {"username": username, "password_env": password_env,
                              "allow_password_without_encryption": allow_clear_password}.items() if v}
    try:
        configs = [build_config(config_file, overrides, browse_root, max_depth, nodes, security, auth,
                                reconnect={"max_s": reconnect_max_s} if reconnect_max_s is not None else None)
                   for config_file in config_files or (None,)]
        _distinct_state_files(configs)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc
    lake = DeltaLake(lake_root or _global_lake_root())
    click.echo(f"collecting from {', '.join(c.endpoint for c in configs)} into {lake.root} (run until "
               f"{f'{duration_s:g} s passed' if duration_s else 'stopped'})")
    try:
        with imports_frozen():
            reports = asyncio.run(_run_until_signal(configs, lake, duration_s))
    except CollectorError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("\n".join(format_report(report) for report in reports))


def build_config(config_file: Path | None, overrides: dict[str, Any], browse_root: str | None, max_depth: int,
                 nodes: tuple[str, ...], security: dict[str, Any], auth: dict[str, Any],
                 reconnect: dict[str, Any] | None = None) -> CollectorConfig:
    import tomllib

    data: dict[str, Any] = {}
    base_dir = Path.cwd()
    if config_file is not None:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        base_dir = config_file.parent
    data.update(overrides)
    if browse_root:
        data["browse"] = {"root": browse_root, "max_depth": max_depth}
    if nodes:
        data["nodes"] = list(data.get("nodes", [])) + [_parse_node_option(n) for n in nodes]
    if security:
        data["security"] = {**data.get("security", {}), **{k: str(Path(v).resolve()) if k != "policy" and
                                                           k != "mode" else v for k, v in security.items()}}
    if reconnect:
        data["reconnect"] = {**data.get("reconnect", {}), **reconnect}
    if auth:
        # --password-env replaces the file's password source; an inline password in the file is still refused.
        data["auth"] = {k: v for k, v in {**data.get("auth", {}), **auth}.items()
                        if not ("password_env" in auth and k == "password_file")}
    if "endpoint" not in data:
        raise ConfigError("endpoint: give --config FILE or --endpoint URL")
    return CollectorConfig.from_dict(data, base_dir=base_dir)


def _parse_node_option(text: str) -> dict[str, str]:
    target, sep, node_id = text.partition("=")
    machine_id, slash, tag = target.partition("/")
    if not (sep and slash and machine_id and tag and node_id):
        raise ConfigError(f"--node: expected MACHINE/TAG=NODEID, got {text!r}")
    return {"machine_id": machine_id, "tag": tag, "node_id": node_id}


def _distinct_state_files(configs: list[CollectorConfig]) -> None:
    """Each collector of the process needs its own state file (crash recovery), named by collector_id."""
    ids = [c.collector_id for c in configs]
    if len(set(ids)) < len(ids):
        raise ConfigError(f"collector_id: each --config needs its own, got {', '.join(ids)}")


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """While the block runs, what the imports built (asyncua, pyarrow, polars, deltalake: hundreds of thousands of
    objects that live as long as the process) is out of the garbage collector's reach (gc.freeze), so its full
    passes walk only what the collector allocates. At 5,000 values/s those passes cost the collector about 0.4
    CPU s per 10 s otherwise, a quarter of all the bare asyncua client spends (benchmarks/bench_opcua.py).
    Unfrozen at the end, so the objects are released normally at exit."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _run_until_signal(configs: list[CollectorConfig], lake: DeltaLake,
                            duration_s: float | None) -> list[CollectorReport]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        return await run_collectors(configs, lake, stop, duration_s=duration_s)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def format_report(report: CollectorReport) -> str:
    lines = [f"run {report.run_id}: {report.targets} nodes, {report.received} values received, "
             f"{report.written} rows landed in machine_signals, {report.duplicates_skipped} duplicates skipped, "
             f"{report.reconnects} reconnects, {len(report.gaps)} gaps, {report.compactions} compactions "
             f"({report.files_compacted} small files compacted)"]
    for gap in report.gaps:
        where = f"{gap.target.machine_id}/{gap.target.tag}" if gap.target else gap.endpoint
        lines.append(f"  gap {gap.scope:<10} {where}: {gap.started_at.isoformat()} -> {gap.ended_at.isoformat()} "
                     f"({(gap.ended_at - gap.started_at).total_seconds():.1f} s, {gap.reason})")
    return "\n".join(lines)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=os.environ.get("PLANTLAKE_LOG_LEVEL", "INFO" if verbose else "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # asyncua logs every dropped connection as an ERROR with a traceback; the collector reports outages itself.
        logging.getLogger("asyncua").setLevel(logging.CRITICAL)


def main() -> None:
    collect_command()


if __name__ == "__main__":
    main()


def _global_lake_root() -> Path:
    """The lake the `plantlake` group was given (`plantlake --lake X collect`), else PLANTLAKE_LAKE, else ./lake."""
    context = click.get_current_context(silent=True)
    root = context.find_root().params.get("lake_root") if context else None
    return Path(root) if root else Path(os.environ.get("PLANTLAKE_LAKE", "lake"))
