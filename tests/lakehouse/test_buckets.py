"""A group-local transform run bucket by bucket gives the rows it gives at once, each group in one bucket."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from lakehouse.buckets import ROWS_PER_BUCKET, bucket_count, run_in_buckets
from lakehouse.engines import collect_arrow, lazy_frame
from transforms.stock import ledger


VIRTUAL = ("V-SUPPLIER", "V-CUSTOMER")


def movements(n: int, seed: int) -> pa.Table:
    """Random moves of 300 lots of 40 materials between 12 locations, some at the same instant."""
    rng = np.random.default_rng(seed)
    locations = np.array(["V-SUPPLIER", *[f"BIN-{i}" for i in range(10)], "V-CUSTOMER"])
    return pa.table({
        "movement_id": [f"M{i:06d}" for i in range(n)],
        "occurred_at": pa.array(1_767_571_200_000_000 + rng.integers(0, 10**8, n) * 1_000, pa.int64())
        .cast(pa.timestamp("us", "UTC")),
        "material_id": [f"MAT-{i}" for i in rng.integers(0, 40, n)],
        "lot_id": [f"LOT-{i}" for i in rng.integers(0, 300, n)],
        "from_location_id": locations[rng.integers(0, 11, n)], "to_location_id": locations[rng.integers(1, 12, n)],
        "quantity": rng.uniform(0.001, 50, n).round(3), "movement_type": ["move"] * n})


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_ledger_in_buckets_equals_the_ledger_at_once(tmp_path: Path, engine: str) -> None:
    data = movements(30_000, seed=4)
    at_once = pl.from_arrow(collect_arrow(ledger(lazy_frame(data), virtual_locations=VIRTUAL)))
    spilled = []
    tables = list(run_in_buckets(data.to_batches(max_chunksize=4_000), data.schema,
                                 lambda frame: ledger(frame, virtual_locations=VIRTUAL),
                                 group_by=["material_id", "lot_id"], buckets=7, engine=engine, spill_dir=tmp_path,
                                 progress=lambda done, total: spilled.append((done, total))))
    assert len(tables) == 7 and spilled[-1] == (7, 7)
    assert list(tmp_path.iterdir()) == []  # the spill files are gone
    groups = [set(pl.from_arrow(t.select(["material_id", "lot_id"])).unique().rows()) for t in tables]
    assert sum(len(g) for g in groups) == len(set().union(*groups))  # no (material, lot) in two buckets
    in_buckets = pl.concat([pl.from_arrow(t) for t in tables]).select(at_once.columns).cast(at_once.schema)
    order = ["movement_id", "entry_side"]
    assert in_buckets.height == at_once.height == 60_000
    assert in_buckets.sort(order).equals(at_once.sort(order))


def test_one_bucket_is_computed_at_once_and_empty_input_gives_nothing() -> None:
    data = movements(1_000, seed=5)
    tables = list(run_in_buckets(data.to_batches(), data.schema, lambda f: ledger(f), group_by=["material_id"],
                                 buckets=1))
    assert [t.num_rows for t in tables] == [2_000]
    empty = data.slice(0, 0)
    assert list(run_in_buckets(empty.to_batches(), empty.schema, lambda f: ledger(f), group_by=["material_id"],
                               buckets=3)) == []
    assert (bucket_count(0), bucket_count(ROWS_PER_BUCKET - 1), bucket_count(ROWS_PER_BUCKET + 1),
            bucket_count(10, 3)) == (1, 1, 2, 4)
