"""`plantlake trace` and `plantlake recall`: lot genealogy (`Lake.trace_result`, `Lake.recall_result`)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

FORMATS = ("json", "csv", "tree", "epcis")  # epcis: a GS1 EPCIS 2.0 JSON-LD document
MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"])


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _render(result, output_format: str) -> str:  # noqa: ANN001
    return {"json": result.to_json, "csv": result.to_csv, "tree": result.to_tree}[output_format]()


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
        return
    blocking = next((p for p in [output.parent, *output.parent.parents] if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise click.ClickException(f"cannot write {output}: {blocking} is a file, not a folder")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@click.command("trace")
@click.argument("lot")
@click.option("--direction", type=click.Choice(["backward", "forward", "both"]), default="backward",
              show_default=True, help="backward: where the lot came from; forward: where it went.")
@click.option("--max-depth", type=click.IntRange(min=0), default=None, help="Stop after N edges (default: no limit).")
@click.option("--from", "from_at", type=MOMENT, default=None,
              help="Only edges at or after this time (ISO; UTC unless an offset is given).")
@click.option("--to", "to_at", type=MOMENT, default=None,
              help="Only edges at or before this time (ISO; UTC unless an offset is given).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="tree", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def trace_command(lake, lot: str, direction: str, max_depth: int | None, from_at: datetime | None,  # noqa: ANN001
                  to_at: datetime | None, output_format: str, output: Path | None) -> None:
    """Trace LOT through the genealogy: every ancestor and/or descendant, with depth and quantity share."""
    if from_at and to_at and _utc(from_at) > _utc(to_at):
        raise click.ClickException(f"--from {from_at.isoformat()} is after --to {to_at.isoformat()}: "
                                   "the window is empty")
    if output_format == "epcis":
        from plantlake.epcis import epcis_json

        _emit(epcis_json(lake.trace_epcis(lot, direction=direction, max_depth=max_depth, start=from_at,
                                           end=to_at)), output)
        return
    result = lake.trace_result(lot, direction=direction, max_depth=max_depth, start=from_at, end=to_at)
    _emit(_render(result, output_format), output)


@click.command("recall")
@click.argument("supplier_lot")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="tree", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def recall_command(lake, supplier_lot: str, output_format: str, output: Path | None) -> None:  # noqa: ANN001
    """Everything made from SUPPLIER_LOT (with or without the SUP: prefix): lots, shipments and customers."""
    if output_format == "epcis":
        from plantlake.epcis import epcis_json

        _emit(epcis_json(lake.recall_epcis(supplier_lot)), output)
        return
    result = lake.recall_result(supplier_lot)
    text = _render(result, output_format)
    if output_format == "tree":
        text = (f"supplier lot {result.supplier_lot}: {len(result.affected_lots)} affected lots, "
                f"{result.shipments.height} shipped lot lines, customers: {', '.join(result.customers) or 'none'}\n"
                + text)
    _emit(text, output)


def _moment_text(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An ISO date or time, kept as text: a date means the whole day for --to (plantlake.epcis.export_epcis)."""
    from lakehouse.errors import QueryError
    from plantlake.as_of import as_datetime

    if value is None:
        return None
    try:
        as_datetime(value)
    except QueryError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time") from None
    return value


@click.group("export")
def export_group() -> None:
    """Export the lake in standard formats trading partners read."""


@export_group.command("epcis")
@click.option("--from", "from_at", callback=_moment_text, default=None, metavar="DATE|TIME",
              help="First day or moment (ISO; UTC unless an offset is given); default: the first edge.")
@click.option("--to", "to_at", callback=_moment_text, default=None, metavar="DATE|TIME",
              help="Last day (the whole day) or moment (ISO; UTC unless an offset is given); default: the last edge.")
@click.option("--id-format", type=click.Choice(["digital_link", "epc"]), default="digital_link", show_default=True,
              help="Identifiers as GS1 Digital Link URIs or as EPC URNs (LGTIN, SGLN, PGLN).")
@click.option("--site-gln", default=None, help="The plant's GLN (13 digits; default: a GS1 demo GLN).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def export_epcis_command(lake, from_at: str | None, to_at: str | None, id_format: str,  # noqa: ANN001
                         site_gln: str | None, output: Path | None) -> None:
    """The genealogy of a period as a GS1 EPCIS 2.0 JSON-LD document: receipts, production, splits, merges and
    shipments as events trading partners can read."""
    from plantlake.epcis import EpcisOptions, epcis_json

    options = EpcisOptions(id_format=id_format, **({"site_gln": site_gln} if site_gln else {}))
    _emit(epcis_json(lake.epcis(from_at, to_at, options=options)), output)
