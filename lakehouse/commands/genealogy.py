"""`plantlake trace` and `plantlake recall`: lot genealogy from silver.fct_genealogy_edges.

Mounted by the CLI group with `main.add_command(trace_command, "trace")` and
`main.add_command(recall_command, "recall")`; the lake root comes from the group's Settings (ctx.obj).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from lakehouse.delta_io import DeltaLake
from lakehouse.settings import Settings

FORMATS = ("json", "csv", "tree")


def _lake() -> DeltaLake:
    context = click.get_current_context()
    settings = context.find_object(Settings) or Settings.from_env()
    return DeltaLake(settings.lake_root)


def _index():  # noqa: ANN202 - imported lazily so `--help` stays fast
    from transforms.genealogy.persistence import EDGES_TABLE, lake_index

    lake = _lake()
    if not lake.exists(EDGES_TABLE):
        raise click.ClickException(f"no genealogy table silver.{EDGES_TABLE} under {lake.root}: "
                                   "run `plantlake run` first")
    return lake_index(lake)


def _render(result, output_format: str) -> str:  # noqa: ANN001
    return {"json": result.to_json, "csv": result.to_csv, "tree": result.to_tree}[output_format]()


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@click.command("trace")
@click.argument("lot")
@click.option("--direction", type=click.Choice(["backward", "forward", "both"]), default="backward",
              show_default=True, help="backward: where the lot came from; forward: where it went.")
@click.option("--max-depth", type=click.IntRange(min=0), default=None, help="Stop after N edges (default: no limit).")
@click.option("--from", "from_at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
              default=None, help="Only edges at or after this time (ISO; UTC unless an offset is given).")
@click.option("--to", "to_at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
              default=None, help="Only edges at or before this time (ISO; UTC unless an offset is given).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="tree", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def trace_command(lot: str, direction: str, max_depth: int | None, from_at: datetime | None,
                  to_at: datetime | None, output_format: str, output: Path | None) -> None:
    """Trace LOT through the genealogy: every ancestor and/or descendant, with depth and quantity share."""
    from transforms.genealogy.trace import UnknownNodeError, trace

    try:
        result = trace(_index(), lot, direction, max_depth=max_depth, from_at=from_at, to_at=to_at)  # type: ignore[arg-type]
    except UnknownNodeError as error:
        raise click.ClickException(str(error.args[0])) from None
    _emit(_render(result, output_format), output)


@click.command("recall")
@click.argument("supplier_lot")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="tree", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def recall_command(supplier_lot: str, output_format: str, output: Path | None) -> None:
    """Everything made from SUPPLIER_LOT (with or without the SUP: prefix): lots, shipments and customers."""
    from transforms.genealogy.trace import UnknownNodeError, recall

    try:
        result = recall(_index(), supplier_lot)
    except UnknownNodeError as error:
        raise click.ClickException(str(error.args[0])) from None
    text = _render(result, output_format)
    if output_format == "tree":
        text = (f"supplier lot {result.supplier_lot}: {len(result.affected_lots)} affected lots, "
                f"{result.shipments.height} shipped lot lines, customers: {', '.join(result.customers) or 'none'}\n"
                + text)
    _emit(text, output)
