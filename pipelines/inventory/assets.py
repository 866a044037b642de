"""The unified inventory: canonical movements (silver), the double-entry ledger and stock on hand (gold)."""

import dagster as dg
import narwhals as nw
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.engines import collect_arrow, lazy_frame
from pipelines.resources import LakeResource
from transforms.standardize import (VIRTUAL_LOCATIONS, mes_movements, unmapped_mes, unmapped_wms,
                                    wms_movements)
from transforms.stock import ledger, stock_on_hand
from transforms.units import unit_factors_to_base

BRONZE = ["wms_transactions", "mes_material_consumption", "mes_lot_events"]
MASTER = ["map_material_code", "dim_location", "dim_machine", "dim_material", "dim_unit_conversion"]


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey([CATALOG[table].layer, table])


def _spec(table: str, deps: list[str]) -> dg.AssetSpec:
    return dg.AssetSpec(_key(table), description=CATALOG[table].description, group_name="inventory",
                        kinds={"delta", "polars", "spark"}, owners=["team:plant-data"],
                        deps=[_key(d) for d in deps])


@dg.multi_asset(specs=[_spec("fct_inventory_movements", BRONZE + MASTER),
                       _spec("quarantine_inventory_movements", BRONZE + MASTER)], name="standardize_movements")
def standardize_movements(lake: LakeResource):
    """WMS transactions and MES consumption/lot events as canonical movements in base units; records whose
    codes or units do not map go to quarantine with the reason."""
    f = lake.frames(*BRONZE, "map_material_code", "dim_location", "dim_machine")
    delta = lake.lake()
    engine = lake.settings().engine
    factors = lazy_frame(unit_factors_to_base(delta.read_arrow("dim_material"), delta.read_arrow("dim_unit_conversion")),
                         engine, spark=_spark(f))
    wms_args = (f["wms_transactions"], f["map_material_code"], f["dim_location"], factors)
    mes_args = (f["mes_material_consumption"], f["mes_lot_events"], f["map_material_code"], f["dim_location"],
                f["dim_machine"], factors)
    movements = nw.concat([wms_movements(*wms_args), mes_movements(*mes_args)], how="vertical")
    moved = delta.overwrite("fct_inventory_movements", pl.from_arrow(collect_arrow(movements)).with_columns(
        pl.col("occurred_at").dt.date().alias("event_date")))
    unmapped = nw.concat([unmapped_wms(*wms_args), unmapped_mes(*mes_args)], how="vertical")
    rejected = delta.overwrite("quarantine_inventory_movements", collect_arrow(unmapped))
    yield dg.MaterializeResult(asset_key=_key("fct_inventory_movements"), metadata=moved.as_metadata())
    yield dg.MaterializeResult(asset_key=_key("quarantine_inventory_movements"), metadata=rejected.as_metadata())


@dg.asset(key=_key("fct_inventory_ledger"), deps=[_key("fct_inventory_movements")], group_name="inventory",
          description=CATALOG["fct_inventory_ledger"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def fct_inventory_ledger(lake: LakeResource) -> dg.MaterializeResult:
    movements = lake.frames("fct_inventory_movements")["fct_inventory_movements"]
    entries = ledger(movements.select("movement_id", "occurred_at", "material_id", "lot_id", "from_location_id",
                                      "to_location_id", "quantity", "movement_type"),
                     virtual_locations=VIRTUAL_LOCATIONS)
    result = lake.lake().overwrite("fct_inventory_ledger", collect_arrow(entries))
    negative = lake.lake().scan("fct_inventory_ledger").filter(pl.col("is_negative_balance")).select(pl.len())
    return dg.MaterializeResult(metadata={**result.as_metadata(), "negative_balance_lines": negative.collect().item()})


@dg.asset(key=_key("stock_on_hand"), deps=[_key("fct_inventory_ledger")], group_name="inventory",
          description=CATALOG["stock_on_hand"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def stock_on_hand_asset(lake: LakeResource) -> dg.MaterializeResult:
    entries = lake.frames("fct_inventory_ledger")["fct_inventory_ledger"]
    stock = stock_on_hand(entries, virtual_locations=VIRTUAL_LOCATIONS)
    last = entries.group_by("material_id", "lot_id", "location_id").agg(
        nw.col("occurred_at").max().alias("last_movement_at"))
    rows = stock.join(last, on=["material_id", "lot_id", "location_id"], how="left").with_columns(
        (nw.col("quantity") < 0).alias("is_negative"))
    result = lake.lake().overwrite("stock_on_hand", collect_arrow(rows))
    return dg.MaterializeResult(metadata=result.as_metadata())


def _spark(frames: dict) -> object:
    native = nw.to_native(next(iter(frames.values())))
    return getattr(native, "sparkSession", None)


INVENTORY_ASSETS = [standardize_movements, fct_inventory_ledger, stock_on_hand_asset]
