"""Stock as of any time, rebuilt from the double-entry ledger (`gold.fct_inventory_ledger`)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.errors import QueryError
from transforms.standardize import VIRTUAL_LOCATIONS
from transforms.stock import stock_as_of as stock_as_of_transform

ORDER = ["material_id", "lot_id", "location_id"]


def stock_as_of(lake: DeltaLake, moment: datetime, *, material: str | None = None, lot: str | None = None,
                location: str | None = None) -> pl.DataFrame:
    """Quantity per material/lot/real location at `moment` (UTC), from the ledger lines up to then. Negative
    balances are shown and flagged (`is_negative`), never clipped."""
    if not lake.exists("fct_inventory_ledger"):
        raise QueryError(f"no inventory ledger in {lake.root}: run `plantlake run` first")
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
