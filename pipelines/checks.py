"""Asset checks derived from the catalog."""

from __future__ import annotations

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG, TableSpec
from pipelines.resources import LakeResource


def table_key(table: str) -> dg.AssetKey:
    """The asset key of a catalog table: <layer>/<name>."""
    return dg.AssetKey([CATALOG[table].layer, table])


def primary_key_check(spec: TableSpec) -> dg.AssetChecksDefinition:
    """Blocking check: the primary key is unique and never null."""
    keys = list(spec.primary_key)

    @dg.asset_check(asset=table_key(spec.name), name="primary_key_unique_not_null",
                    blocking=True, description=f"{', '.join(keys)} is unique and not null")
    def _check(lake: LakeResource) -> dg.AssetCheckResult:
        frame = lake.lake().scan(spec.name).select(keys)
        stats = frame.select(
            pl.len().alias("rows"),
            pl.any_horizontal([pl.col(k).is_null() for k in keys]).sum().alias("null_keys"),
            pl.struct(keys).n_unique().alias("distinct_keys"),
        ).collect().row(0, named=True)
        duplicates = stats["rows"] - stats["distinct_keys"]
        return dg.AssetCheckResult(passed=duplicates == 0 and stats["null_keys"] == 0,
                                   metadata={"rows": stats["rows"], "duplicate_keys": duplicates,
                                             "null_keys": stats["null_keys"]})

    return _check
