"""`plantlake stock`: stock per material/lot/location as of a time (`Lake.stock`)."""

from __future__ import annotations

from datetime import datetime, timezone

import click
import polars as pl

from lakehouse.errors import QueryError
from plantlake.as_of import as_datetime
from plantlake.cli.output import FORMATS, echo_frame


@click.command("stock")
@click.option("--as-of", "as_of", default=None, help="ISO 8601 date or time (UTC if no zone); default: now.")
@click.option("--material", default=None, help="Canonical material id (silver.dim_material).")
@click.option("--lot", default=None, help="Lot id.")
@click.option("--location", default=None, help="Canonical location id (silver.dim_location).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def stock_command(lake, as_of: str | None, material: str | None, lot: str | None,  # noqa: ANN001
                  location: str | None, fmt: str) -> None:
    """Stock per material/lot/location as of a time, rebuilt from the double-entry ledger.

    No balances exits 0 with a `Note:` on standard error saying why; a material, location or lot the lake does
    not know is an error (exit 1)."""
    rows = lake.stock(as_of, material=material, lot=lot, location=location)
    reason = None
    if rows.is_empty():
        moment = as_datetime(as_of) or datetime.now(timezone.utc)
        reason = why_no_stock(lake, moment, material=material, lot=lot, location=location)
    echo_frame(rows, fmt, empty_note=reason)
    if fmt == "table" and not rows.is_empty():
        click.echo(f"{rows.height} material/lot/location balances"
                   f"{'' if not rows['is_negative'].any() else ', NEGATIVE balances flagged'}")


def why_no_stock(lake, moment: datetime, *, material: str | None = None, lot: str | None = None,  # noqa: ANN001
                 location: str | None = None) -> str:
    """Why `lake.stock(moment, ...)` has no balances, in one sentence; QueryError when the question cannot have
    any (a material, location or lot the lake does not know)."""
    from transforms.standardize import VIRTUAL_LOCATIONS

    delta = lake.delta
    if material and delta.exists("dim_material"):
        known = delta.scan("dim_material").filter(pl.col("material_id") == material).select("material_id")
        if known.collect().is_empty():
            raise QueryError(f"material {material!r} is not in silver.dim_material"
                             + _system_code_hint(delta, "map_material_code", material, "material_id",
                                                 {"system_material_code": "system"}, "--material"))
    if location and location in VIRTUAL_LOCATIONS:
        return (f"{location} is a virtual location (supplier, customer, production, scrap, adjustment); stock "
                "lists real locations only")
    if location and delta.exists("dim_location"):
        known = delta.scan("dim_location").filter(pl.col("location_id") == location).select("location_id")
        if known.collect().is_empty():
            raise QueryError(f"location {location!r} is not in silver.dim_location"
                             + _system_code_hint(delta, "dim_location", location, "location_id",
                                                 {"wms_location_code": "WMS", "mes_location_code": "MES"},
                                                 "--location"))
    ledger = delta.scan("fct_inventory_ledger")
    if lot and ledger.filter(pl.col("lot_id") == lot).select("lot_id").head(1).collect().is_empty():
        raise QueryError(f"lot {lot!r} has no line in gold.fct_inventory_ledger (`plantlake trace {lot}` says "
                         "whether the genealogy knows it)")
    what = ", ".join(f"{name} {value}" for name, value in (("material", material), ("lot", lot),
                                                           ("location", location)) if value) or "the plant"
    filters = [pl.col(column) == value for column, value in (("material_id", material), ("lot_id", lot),
                                                             ("location_id", location)) if value]
    lines = ledger.filter(*filters) if filters else ledger
    first = lines.select(pl.col("occurred_at").min()).collect().item()
    if first is None:
        return f"gold.fct_inventory_ledger has no lines for {what}"
    if first > moment:
        return (f"no ledger lines for {what} up to {moment.isoformat()}; the first one is at "
                f"{first.isoformat()}")
    return (f"every balance of {what} at a real location is zero at {moment.isoformat()} "
            "(zero balances are left out)")


def _system_code_hint(delta, table: str, code: str, id_column: str, code_columns: dict[str, str],  # noqa: ANN001
                      option: str) -> str:
    """`; it is the WMS code of RM-1001 (--material takes the canonical id)` when `code` is a source-system
    code of `table`, else ''."""
    if not delta.exists(table):
        return ""
    frame = delta.scan(table)
    for column, system in code_columns.items():
        if column not in frame.collect_schema().names():
            continue
        found = frame.filter(pl.col(column) == code)
        if column == "system_material_code":
            found = found.select(id_column, pl.col("system").alias("_system"))
        else:
            found = found.select(id_column, pl.lit(system).alias("_system"))
        hit = found.head(1).collect()
        if not hit.is_empty():
            return (f"; it is the {hit['_system'][0]} code of {hit[id_column][0]} ({option} takes the canonical "
                    f"{id_column})")
    return ""
