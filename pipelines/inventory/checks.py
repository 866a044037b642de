"""Ledger invariants as blocking asset checks: they fail on a corrupted ledger."""

import dagster as dg
import polars as pl

from pipelines.checks import table_key
from pipelines.inventory.ledger_buckets import ledger_buckets, materials_of
from pipelines.resources import LakeResource
from transforms.standardize import VIRTUAL_LOCATIONS

LEDGER = table_key("fct_inventory_ledger")
TOLERANCE = 1e-6


@dg.asset_check(asset=LEDGER, blocking=True, description="every movement's two lines sum to zero")
def movement_pairs_sum_to_zero(lake: LakeResource) -> dg.AssetCheckResult:
    sums = (lake.lake().scan("fct_inventory_ledger").group_by("movement_id")
            .agg(pl.col("quantity_delta").sum().alias("total"), pl.len().alias("lines"))
            .filter((pl.col("total").abs() > TOLERANCE) | (pl.col("lines") != 2)).collect())
    return dg.AssetCheckResult(passed=sums.height == 0, metadata={
        "unbalanced_movements": sums.height, "examples": dg.MetadataValue.json(sums.head(5)["movement_id"].to_list())})


@dg.asset_check(asset=LEDGER, blocking=True,
                description="stored running balances equal a recomputation from the movements")
def balances_match_recomputation(lake: LakeResource) -> dg.AssetCheckResult:
    """Recomputed bucket by bucket of whole materials (bounded memory, as the asset computes it) and compared
    with the stored lines of the same materials; stored lines of a material with no movement are wrong too."""
    delta = lake.lake()
    stored = delta.scan("fct_inventory_ledger").select("material_id", "movement_id", "entry_side", "balance_after")
    checked = mismatched = 0
    seen: list[str] = []
    _, buckets = ledger_buckets(delta)
    for lines in buckets:
        materials = materials_of(lines)
        seen += materials
        fresh = pl.from_arrow(lines.select(["movement_id", "entry_side", "balance_after"])).rename(
            {"balance_after": "recomputed"})
        joined = fresh.join(stored.filter(pl.col("material_id").is_in(materials)).drop("material_id").collect(),
                            on=["movement_id", "entry_side"], how="full", coalesce=True)
        wrong = joined.filter(pl.col("recomputed").is_null() | pl.col("balance_after").is_null()
                              | ((pl.col("recomputed") - pl.col("balance_after")).abs() > TOLERANCE))
        checked, mismatched = checked + joined.height, mismatched + wrong.height
    orphans = stored.filter(~pl.col("material_id").is_in(seen)).select(pl.len()).collect().item()
    return dg.AssetCheckResult(passed=mismatched + orphans == 0, metadata={
        "lines_checked": checked + orphans, "mismatched_lines": mismatched + orphans})


@dg.asset_check(asset=LEDGER, blocking=True,
                description="every negative running balance of a real location is flagged")
def no_unflagged_negative_balance(lake: LakeResource) -> dg.AssetCheckResult:
    ledger_rows = lake.lake().scan("fct_inventory_ledger")
    real = ~pl.col("location_id").is_in(VIRTUAL_LOCATIONS)
    counts = ledger_rows.select(
        ((pl.col("balance_after") < -TOLERANCE) & real & ~pl.col("is_negative_balance")).sum().alias("unflagged"),
        pl.col("is_negative_balance").sum().alias("flagged")).collect().row(0, named=True)
    return dg.AssetCheckResult(passed=counts["unflagged"] == 0, metadata=counts)


INVENTORY_CHECKS = [movement_pairs_sum_to_zero, balances_match_recomputation, no_unflagged_negative_balance]
