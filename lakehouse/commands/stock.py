"""Stock as of any time, from the ledger: `plantlake stock` and the same as a Python function."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click
import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from transforms.standardize import VIRTUAL_LOCATIONS
from transforms.stock import stock_as_of as stock_as_of_transform

ORDER = ["material_id", "lot_id", "location_id"]


def stock_as_of(lake_root: Path | str, as_of: datetime | None = None, *, material: str | None = None,
                lot: str | None = None, location: str | None = None) -> pl.DataFrame:
    """Quantity per material/lot/real location at `as_of` (UTC; default now), rebuilt from the ledger lines
    up to then. Negative balances are shown, never clipped."""
    lake = DeltaLake(lake_root)
    if not lake.exists("fct_inventory_ledger"):
        raise click.ClickException(f"no inventory ledger in {lake_root}: run `plantlake run` first")
    moment = _utc(as_of or datetime.now(timezone.utc))
    entries = lake.scan("fct_inventory_ledger").filter(pl.col("occurred_at") <= moment)
    for column, value in (("material_id", material), ("lot_id", lot), ("location_id", location)):
        if value:
            entries = entries.filter(pl.col(column) == value)
    frame = entries.select("movement_id", "occurred_at", "material_id", "lot_id", "location_id",
                           "quantity_delta").collect()
    stock = collect_arrow(stock_as_of_transform(lazy_frame(frame.to_arrow()), moment,
                                                virtual_locations=VIRTUAL_LOCATIONS))
    result = pl.from_arrow(stock)
    assert isinstance(result, pl.DataFrame)
    return result.with_columns((pl.col("quantity") < 0).alias("is_negative")).sort(ORDER)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@click.command("stock")
@click.option("--as-of", "as_of", default=None, help="ISO 8601 time (UTC if no zone); default: now.")
@click.option("--material", default=None, help="Canonical material id.")
@click.option("--lot", default=None, help="Lot id.")
@click.option("--location", default=None, help="Canonical location id.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def stock_command(ctx: click.Context, as_of: str | None, material: str | None, lot: str | None,
                  location: str | None, fmt: str) -> None:
    """Stock per material/lot/location as of a time, rebuilt from the double-entry ledger."""
    moment = datetime.fromisoformat(as_of) if as_of else None
    rows = stock_as_of(ctx.obj.lake_root, moment, material=material, lot=lot, location=location)
    if fmt == "json":
        click.echo(json.dumps(rows.to_dicts(), indent=2, default=str))
    elif fmt == "csv":
        click.echo(rows.write_csv(), nl=False)
    else:
        with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True):
            click.echo(rows)
        click.echo(f"{rows.height} material/lot/location balances"
                   f"{'' if not rows['is_negative'].any() else ', NEGATIVE balances flagged'}")
