"""`plantlake stock`: stock per material/lot/location as of a time (`Lake.stock`)."""

from __future__ import annotations

import click

from plantlake.cli.output import FORMATS, echo_frame


@click.command("stock")
@click.option("--as-of", "as_of", default=None, help="ISO 8601 date or time (UTC if no zone); default: now.")
@click.option("--material", default=None, help="Canonical material id.")
@click.option("--lot", default=None, help="Lot id.")
@click.option("--location", default=None, help="Canonical location id.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def stock_command(lake, as_of: str | None, material: str | None, lot: str | None,  # noqa: ANN001
                  location: str | None, fmt: str) -> None:
    """Stock per material/lot/location as of a time, rebuilt from the double-entry ledger."""
    rows = lake.stock(as_of, material=material, lot=lot, location=location)
    echo_frame(rows, fmt)
    if fmt == "table":
        click.echo(f"{rows.height} material/lot/location balances"
                   f"{'' if not rows['is_negative'].any() else ', NEGATIVE balances flagged'}")
