"""The unified inventory: canonical movements (silver), the double-entry ledger and stock on hand (gold).

Movements, ledger and stock refresh incrementally (see `pipelines/inventory/refresh.py` and
`pipelines/inventory/ledger_increment.py`); run config
`{"full_refresh": true}` recomputes everything, and the result is the same either way (tested)."""

import dagster as dg
import pydantic
import narwhals as nw
import polars as pl

from lakehouse.buckets import ROWS_PER_BUCKET
from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake, WriteResult
from lakehouse.engines import collect_arrow
from pipelines.inventory.ledger_buckets import MOVEMENT_COLUMNS, ledger_buckets
from pipelines.inventory.ledger_increment import extend_ledger, forget_refreshed_keys, refresh_stock
from pipelines.inventory.refresh import (MOVEMENT_SOURCES, Scope, ledger_scope, log_refresh, movements_scope,
                                         stock_scope)
from pipelines.checks import table_key
from pipelines.resources import LakeResource
from transforms.standardize import (VIRTUAL_LOCATIONS, mes_movements, unmapped_mes, unmapped_wms,
                                    wms_movements)
from transforms.stock import ledger, stock_on_hand
from transforms.units import unit_factors_to_base

MASTER = ["map_material_code", "dim_location", "dim_machine", "dim_material", "dim_unit_conversion"]


class RefreshConfig(dg.Config):
    full_refresh: bool = False


class LedgerConfig(RefreshConfig):
    rows_per_bucket: int = pydantic.Field(default=ROWS_PER_BUCKET, description=(
        "movements per bucket on one machine: a full refresh computes the ledger one bucket of whole materials "
        "at a time (lower it where memory is short)"))



def _spec(table: str, deps: list[str]) -> dg.AssetSpec:
    return dg.AssetSpec(table_key(table), description=CATALOG[table].description, group_name="inventory",
                        kinds={"delta", "polars", "spark"}, owners=["team:plant-data"],
                        deps=[table_key(d) for d in deps])


def _bronze(lake: LakeResource, scope: Scope) -> dict[str, nw.LazyFrame]:
    """The bronze inputs of the movements, only the dirty event dates unless the refresh is full."""
    delta = lake.lake()
    frames = lake.frames("map_material_code", "dim_location", "dim_machine")
    for table in MOVEMENT_SOURCES:
        scan = delta.scan(table)
        if not scope.is_full:
            scan = scan.filter(pl.col("event_date").is_in(scope.event_dates))
        frames[table] = lake.frame(scan.collect().to_arrow())
    frames["factors"] = lake.frame(unit_factors_to_base(delta.read_arrow("dim_material"),
                                                        delta.read_arrow("dim_unit_conversion")))
    return frames


@dg.multi_asset(specs=[_spec("fct_inventory_movements", [*MOVEMENT_SOURCES, *MASTER]),
                       _spec("quarantine_inventory_movements", [*MOVEMENT_SOURCES, *MASTER])],
                name="standardize_movements")
def standardize_movements(config: RefreshConfig, lake: LakeResource):
    """WMS transactions and MES consumption/lot events as canonical movements in base units; records whose
    codes or units do not map go to quarantine with the reason."""
    delta = lake.lake()
    scope = movements_scope(delta, full=config.full_refresh)
    f = _bronze(lake, scope)
    wms_args = (f["wms_transactions"], f["map_material_code"], f["dim_location"], f["factors"])
    mes_args = (f["mes_material_consumption"], f["mes_lot_events"], f["map_material_code"], f["dim_location"],
                f["dim_machine"], f["factors"])
    rows = pl.from_arrow(collect_arrow(nw.concat([wms_movements(*wms_args), mes_movements(*mes_args)],
                                                 how="vertical"))).with_columns(
        pl.col("occurred_at").dt.date().alias("event_date"))
    unmapped = pl.from_arrow(collect_arrow(nw.concat([unmapped_wms(*wms_args), unmapped_mes(*mes_args)],
                                                     how="vertical")))
    if scope.is_full:
        touched = sorted(rows["material_id"].unique().to_list())
        moved = delta.overwrite("fct_inventory_movements", rows)
        rejected = delta.overwrite("quarantine_inventory_movements", unmapped)
    else:
        previous = (delta.scan("fct_inventory_movements").filter(pl.col("event_date").is_in(scope.event_dates))
                    .select("material_id").unique().collect()["material_id"].to_list())
        touched = sorted(set(previous) | set(rows["material_id"].unique().to_list()))
        moved = delta.overwrite_partitions("fct_inventory_movements", rows,
                                           partitions={"event_date": scope.event_dates})
        rejected = delta.upsert("quarantine_inventory_movements", unmapped)
    log_refresh(delta, "fct_inventory_movements", scope, moved.rows_written, touched_material_ids=touched)
    meta = {"full_refresh": scope.is_full, "event_dates_refreshed": len(scope.event_dates),
            "materials_touched": len(touched)}
    yield dg.MaterializeResult(asset_key=table_key("fct_inventory_movements"), metadata={**moved.as_metadata(), **meta})
    yield dg.MaterializeResult(asset_key=table_key("quarantine_inventory_movements"), metadata=rejected.as_metadata())


@dg.asset(key=table_key("fct_inventory_ledger"), deps=[table_key("fct_inventory_movements")], group_name="inventory",
          description=CATALOG["fct_inventory_ledger"].description, kinds={"delta", "duckdb", "spark"},
          owners=["team:plant-data"])
def fct_inventory_ledger(config: LedgerConfig, lake: LakeResource) -> dg.MaterializeResult:
    """Running balances: on a full refresh of every movement; else extended for the keys whose movements
    changed, from the earliest touched event date on (`extend_ledger`)."""
    delta = lake.lake()
    scope = ledger_scope(delta, full=config.full_refresh)
    buckets = 0
    if scope.is_full and lake.settings().engine == "spark":
        result, buckets = _ledger_on_spark(lake), 1
    elif scope.is_full:
        result, buckets = _ledger_in_buckets(delta, config.rows_per_bucket)
    elif scope.event_dates:
        result = extend_ledger(delta, scope.event_dates)
    else:
        result = delta.unchanged("fct_inventory_ledger")
    log_refresh(delta, "fct_inventory_ledger", scope, result.rows_written)
    negative = delta.scan("fct_inventory_ledger").filter(pl.col("is_negative_balance")).select(pl.len())
    return dg.MaterializeResult(metadata={**result.as_metadata(), "full_refresh": scope.is_full,
                                          "event_dates_touched": len(scope.event_dates), "buckets": buckets,
                                          "negative_balance_lines": negative.collect().item()})


def _ledger_in_buckets(delta: DeltaLake, rows_per_bucket: int) -> tuple[WriteResult, int]:
    """One machine: bucket by bucket of whole materials, in bounded memory, all written in one commit that
    replaces the table (a refresh that stops half way leaves the old ledger, whole)."""
    buckets, tables = ledger_buckets(delta, rows_per_bucket=rows_per_bucket,
                                     transform=lambda frame: ledger(frame, virtual_locations=VIRTUAL_LOCATIONS))
    return delta.overwrite_stream("fct_inventory_ledger", tables), buckets


def _ledger_on_spark(lake: LakeResource) -> WriteResult:
    delta = lake.lake()
    scan = delta.scan("fct_inventory_movements").select(MOVEMENT_COLUMNS)
    entries = collect_arrow(ledger(lake.frame(scan.collect().to_arrow()), virtual_locations=VIRTUAL_LOCATIONS))
    return delta.overwrite("fct_inventory_ledger", entries)


@dg.asset(key=table_key("stock_on_hand"), deps=[table_key("fct_inventory_ledger")], group_name="inventory",
          description=CATALOG["stock_on_hand"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def stock_on_hand_asset(config: RefreshConfig, lake: LakeResource) -> dg.MaterializeResult:
    """Summed from the whole ledger on a full refresh; else only the rows of the keys whose ledger lines changed
    since the ledger version the last refresh read (`refresh_stock`)."""
    delta = lake.lake()
    scope, previous_version = stock_scope(delta, full=config.full_refresh)
    if scope.is_full:
        result = _stock_in_full(lake)
    elif scope.event_dates and previous_version is not None:
        result = refresh_stock(delta, min(scope.event_dates), previous_version)
    else:
        result = delta.unchanged("stock_on_hand")
    log_refresh(delta, "stock_on_hand", scope, result.rows_written)
    return dg.MaterializeResult(metadata={**result.as_metadata(), "full_refresh": scope.is_full})


def _stock_in_full(lake: LakeResource) -> WriteResult:
    entries = lake.frames("fct_inventory_ledger")["fct_inventory_ledger"]
    stock = stock_on_hand(entries, virtual_locations=VIRTUAL_LOCATIONS)
    last = entries.group_by("material_id", "lot_id", "location_id").agg(
        nw.col("occurred_at").max().alias("last_movement_at"))
    rows = stock.join(last, on=["material_id", "lot_id", "location_id"], how="left").with_columns(
        (nw.col("quantity") < 0).alias("is_negative"))
    following = lake.lake().version("fct_inventory_ledger")
    result = lake.lake().overwrite("stock_on_hand", collect_arrow(rows))
    forget_refreshed_keys(lake.lake(), following)
    return result


INVENTORY_ASSETS = [standardize_movements, fct_inventory_ledger, stock_on_hand_asset]
