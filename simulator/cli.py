"""Click commands: `plantlake simulate ...` (batch run, `--continue` to append days) and
`plantlake simulate opcua-server`.

`simulate_command` is a click group invoked without a subcommand for the batch run;
it is mounted under the `plantlake` CLI and also runs standalone via `python -m simulator`.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import click

from .config import MATERIAL_SUPPLY_POLICIES, FaultRates, PlantConfig


def _config(days: int, lines: int, machines_per_line: int, seed: int, start_date: str, clean: bool,
            signal_interval_s: int, b2mml_share: float, material_supply: str = "at_release") -> PlantConfig:
    return PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                       start_date=date.fromisoformat(start_date),
                       fault_rates=FaultRates.none() if clean else FaultRates.default(),
                       signal_interval_s=signal_interval_s, b2mml_share=b2mml_share, material_supply=material_supply)


@click.group(name="simulate", invoke_without_command=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/raw"),
              show_default=True, help="Directory to write master data, source-system files and truth to.")
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True)
@click.option("--lines", type=click.IntRange(1, 99), default=2, show_default=True)
@click.option("--machines-per-line", type=click.IntRange(1, 99), default=4, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=42, show_default=True)
@click.option("--start-date", default="2026-01-05", show_default=True, help="First simulated day (ISO date).")
@click.option("--no-faults", "--clean", "clean", is_flag=True, help="Inject no faults (FaultRates.none()); --clean is the old name.")
@click.option("--signal-interval-s", type=click.IntRange(1, 3600), default=60, show_default=True)
@click.option("--b2mml-share", type=click.FloatRange(0.0, 1.0), default=0.1, show_default=True,
              help="Share of work orders reported as ISA-95 B2MML XML instead of NDJSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--material-supply", type=click.Choice(MATERIAL_SUPPLY_POLICIES), default="at_release",
              show_default=True, help="When the WMS issues material to the line: at release, called off when the "
                                      "order is next (late issues stop the line), or by the shortage forecast "
                                      "(simulator/material_supply.py).")
@click.option("--continue", "continue_", is_flag=True,
              help="Append --days more days to the plant simulated into --out before (ids, stock, open work orders, "
                   "machines and random streams carry on; truth covers all days). Other options default to the "
                   "stored ones and must match them if given; --start-date must be the day after the stored end.")
@click.pass_context
def simulate_command(ctx: click.Context, out_dir: Path, days: int, lines: int, machines_per_line: int, seed: int,
                     start_date: str, clean: bool, signal_interval_s: int, b2mml_share: float,
                     no_progress: bool, continue_: bool, material_supply: str = "at_release") -> None:
    """Simulate a plant and write MES, WMS, OPC UA history and ground truth to --out."""
    if ctx.invoked_subcommand is not None:
        return
    if continue_:
        _continue(ctx, out_dir, days, not no_progress)
        return
    from .simulation import OutputFolderError, simulate

    cfg = _config(days, lines, machines_per_line, seed, start_date, clean, signal_interval_s, b2mml_share,
                  material_supply)
    try:
        result = simulate(cfg, out_dir, progress=not no_progress)
    except OutputFolderError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.summary())


def _continue(ctx: click.Context, out_dir: Path, days: int, progress: bool) -> None:
    """`--continue`: only the options given on the command line are checked against the stored simulation."""
    from .simulation import ContinuationError, continue_simulation

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)

    settings = {name: ctx.params[name] for name in ("seed", "lines", "machines_per_line", "signal_interval_s",
                                                     "b2mml_share") if given(name)}
    if given("start_date"):
        try:
            settings["start_date"] = date.fromisoformat(ctx.params["start_date"])
        except ValueError as exc:
            raise click.ClickException(f"cannot continue: --start-date: {exc}") from exc
    if given("clean"):
        settings["fault_rates"] = FaultRates.none() if ctx.params["clean"] else None
    try:
        result = continue_simulation(out_dir, days, progress=progress, **settings)
    except ContinuationError as exc:
        raise click.ClickException(f"cannot continue: {exc}") from exc
    click.echo(result.summary())


@simulate_command.command(name="opcua-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=4840, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=42, show_default=True)
@click.option("--lines", type=click.IntRange(1, 99), default=2, show_default=True)
@click.option("--machines-per-line", type=click.IntRange(1, 99), default=4, show_default=True)
@click.option("--start-date", default="2026-01-05", show_default=True)
@click.option("--update-interval-s", type=click.FloatRange(0.05), default=1.0, show_default=True)
@click.option("--time-scale", type=click.FloatRange(0.1), default=1.0, show_default=True,
              help="Simulated seconds per wall-clock second.")
@click.option("--duration-s", type=click.FloatRange(0.0), default=None, help="Stop after this many seconds.")
@click.option("--username", default=None, help="Require this user instead of anonymous access; its password is "
              "read from the environment variable PLANTLAKE_SIM_OPCUA_PASSWORD, never from the command line.")
@click.option("--certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Server certificate (DER/PEM) enabling Basic256Sha256 Sign & SignAndEncrypt.")
@click.option("--private-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
def opcua_server_command(host: str, port: int, seed: int, lines: int, machines_per_line: int, start_date: str,
                         update_interval_s: float, time_scale: float, duration_s: float | None,
                         username: str | None, certificate: Path | None,
                         private_key: Path | None) -> None:
    """Serve live machine tags over OPC UA at opc.tcp://HOST:PORT."""
    from .opcua_server import serve, users_from_env

    try:
        users = users_from_env(username)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if (certificate is None) != (private_key is None):
        raise click.UsageError("--certificate and --private-key go together")
    cfg = PlantConfig(lines=lines, machines_per_line=machines_per_line, seed=seed,
                      start_date=date.fromisoformat(start_date), fault_rates=FaultRates.none())
    click.echo(f"OPC UA server on opc.tcp://{host}:{port} (namespace urn:plantlake:simulator); Ctrl+C stops")
    try:
        asyncio.run(serve(cfg, host=host, port=port, update_interval_s=update_interval_s, duration_s=duration_s,
                          time_scale=time_scale, users=users, certificate=certificate, private_key=private_key))
    except KeyboardInterrupt:
        click.echo("stopped")


from .mqtt_publisher import mqtt_publish_command  # noqa: E402 - the live MQTT feed, a subcommand of simulate

simulate_command.add_command(mqtt_publish_command)
