"""Stock as of any time, from the double-entry ledger (`gold.fct_inventory_ledger`).

Stock at or after the ledger's latest line is `gold.stock_on_hand` as it stands, when that table was refreshed
from the ledger version readers are served: read as it is (milliseconds, the app's "stock now") instead of summed
again from every ledger line (seconds at tens of millions of lines). Any earlier moment, or a stock table behind
its ledger, is rebuilt from the lines up to the moment. Both give the same rows: a stored running balance is the
fixed-point sum of its key's lines (see `transforms.stock`), and tests compare the two.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.errors import QueryError
from lakehouse.publication import publication_status
from pipelines.inventory.refresh import last_source_version
from transforms.standardize import VIRTUAL_LOCATIONS
from transforms.stock import stock_as_of as stock_as_of_transform

ORDER = ["material_id", "lot_id", "location_id"]


def stock_as_of(lake: DeltaLake, moment: datetime, *, material: str | None = None, lot: str | None = None,
                location: str | None = None) -> pl.DataFrame:
    """Quantity per material/lot/real location at `moment` (UTC), from the ledger lines up to then. Negative
    balances are shown and flagged (`is_negative`), never clipped."""
    if not lake.exists("fct_inventory_ledger"):
        raise QueryError(f"no inventory ledger in {lake.root}: run `plantlake run` first")
    if stock_table_answers(lake, moment):
        return stock_from_table(lake, material=material, lot=lot, location=location)
    return stock_from_ledger(lake, moment, material=material, lot=lot, location=location)


def stock_from_ledger(lake: DeltaLake, moment: datetime, *, material: str | None = None, lot: str | None = None,
                      location: str | None = None) -> pl.DataFrame:
    """`stock_as_of` summed from the ledger lines up to `moment`, whatever `gold.stock_on_hand` holds."""
    entries = lake.scan("fct_inventory_ledger").filter(pl.col("occurred_at") <= moment)
    for column, value in (("material_id", material), ("lot_id", lot), ("location_id", location)):
        if value:
            entries = entries.filter(pl.col(column) == value)
    frame = entries.select("movement_id", "occurred_at", "material_id", "lot_id", "location_id",
                           "quantity_delta").collect()
    result = pl.from_arrow(collect_arrow(stock_as_of_transform(lazy_frame(frame.to_arrow()), moment,
                                                               virtual_locations=VIRTUAL_LOCATIONS)))
    assert isinstance(result, pl.DataFrame)
    return result.with_columns((pl.col("quantity") < 0).alias("is_negative")).sort(ORDER)


def stock_table_answers(lake: DeltaLake, moment: datetime) -> bool:
    """Whether `gold.stock_on_hand` is the stock at `moment`: readers are served the newest versions of it and of
    the ledger, its latest refresh read that ledger version, and no ledger line occurred after `moment` (from the
    ledger files' statistics; a file without them sends the question to the ledger)."""
    if not lake.exists("stock_on_hand"):
        return False
    if not (publication_status(lake, "fct_inventory_ledger").is_current
            and publication_status(lake, "stock_on_hand").is_current):
        return False
    if last_source_version(lake, "stock_on_hand") != lake.version("fct_inventory_ledger"):
        return False
    latest = latest_line_at(lake)
    return latest is not None and latest <= moment


def latest_line_at(lake: DeltaLake) -> datetime | None:
    """The latest `occurred_at` in the ledger by its files' statistics (None: a file has none, or no file)."""
    files = pa.table(lake.table("fct_inventory_ledger").get_add_actions(flatten=True))
    if files.num_rows == 0 or "max.occurred_at" not in files.column_names:
        return None
    column = files.column("max.occurred_at")
    if column.null_count:
        return None
    return max(column.cast(pa.timestamp("us", "UTC")).to_pylist())


def stock_from_table(lake: DeltaLake, *, material: str | None = None, lot: str | None = None,
                     location: str | None = None) -> pl.DataFrame:
    """`gold.stock_on_hand` in the shape `stock_as_of` returns (its rows are the ledger's last balances)."""
    rows = lake.scan("stock_on_hand")
    for column, value in (("material_id", material), ("lot_id", lot), ("location_id", location)):
        if value:
            rows = rows.filter(pl.col(column) == value)
    return rows.select(*ORDER, "quantity", "is_negative").collect().sort(ORDER)
