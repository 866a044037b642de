"""The ledger on one machine in bounded memory: movements in buckets of whole materials, one bucket at a time.

Running balances are per material, lot and location, so a bucket of whole materials holds every line its
balances need; a full refresh streams the buckets' lines into one commit that replaces
`gold.fct_inventory_ledger`. `lakehouse.buckets` splits the movements (read as a stream of record batches from
Delta) into key-hash buckets on disk, about one per million movements, and runs the Narwhals `ledger` transform
on each on DuckDB, whose window operator handles millions of small groups several times faster than Polars'.
A lake of fewer movements than that is one bucket: computed at once, written in one commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import narwhals as nw

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from lakehouse.buckets import ROWS_PER_BUCKET, Transform, scan_in_buckets
from lakehouse.delta_io import DeltaLake
from transforms.standardize import VIRTUAL_LOCATIONS
from transforms.stock import ledger

MOVEMENT_COLUMNS = ["movement_id", "occurred_at", "material_id", "lot_id", "from_location_id", "to_location_id",
                    "quantity", "movement_type"]
BATCH_ROWS = 250_000


def movements_scanner(lake: DeltaLake) -> ds.Scanner:
    """The ledger's input columns of `silver.fct_inventory_movements`."""
    dataset = lake.table("fct_inventory_movements").to_pyarrow_dataset()
    return dataset.scanner(columns=MOVEMENT_COLUMNS, batch_size=BATCH_ROWS)


def ledger_buckets(lake: DeltaLake, *, rows_per_bucket: int | None = None,
                   transform: Transform | None = None) -> tuple[int, Iterator[pa.Table]]:
    """Ledger lines of every movement, one table per bucket of whole materials: (buckets, tables); `transform`
    (default: `transforms.stock.ledger` with the virtual locations) computes a bucket's lines."""
    return scan_in_buckets(movements_scanner(lake), transform or standard_ledger, group_by=["material_id"],
                           rows_per_bucket=rows_per_bucket or ROWS_PER_BUCKET, engine="duckdb")


def standard_ledger(movements: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    return ledger(movements, virtual_locations=VIRTUAL_LOCATIONS)


def materials_of(table: pa.Table) -> list[str]:
    return sorted(pc.unique(table.column("material_id")).to_pylist())
