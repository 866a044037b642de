"""Looking ahead at the line side: requirements, the shortage forecast and pick suggestions (gold), forecast as
of the latest event the lake holds. Recomputed whole each run (overwrite): the tables are a forecast, not
history."""

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.errors import QueryError
from pipelines.checks import primary_key_check, table_key
from pipelines.lookahead.forecast import forecast_at, latest_moment, load_inputs
from pipelines.resources import LakeResource

TABLES = ("line_material_requirements", "shortage_forecast", "pick_suggestions")
SOURCES = ("mes_work_order_events", "mes_operation_events", "mes_production_counts", "wms_transactions",
           "fct_inventory_ledger", "dim_routing", "dim_bom", "dim_location", "map_material_code", "dim_shift",
           "dim_shift_break", "dim_plant", "dim_material", "dim_unit_conversion")


class LookaheadConfig(dg.Config):
    horizon_hours: float = 8.0


@dg.multi_asset(specs=[dg.AssetSpec(table_key(t), description=CATALOG[t].description, group_name="lookahead",
                                    kinds={"delta", "polars", "spark"}, owners=["team:plant-data"],
                                    deps=[table_key(s) for s in SOURCES]) for t in TABLES],
                name="forecast_line_side")
def forecast_line_side(config: LookaheadConfig, lake: LakeResource):
    """Time-phased requirements per line and material, when each line side runs short, and FIFO picks."""
    delta = lake.lake()
    try:
        inputs = load_inputs(delta)
        moment = latest_moment(inputs)
    except QueryError as exc:  # nothing to look ahead from yet: empty tables that say why
        for table in TABLES:
            result = delta.overwrite(table, CATALOG[table].schema.empty_table())
            yield dg.MaterializeResult(asset_key=table_key(table), metadata={**result.as_metadata(),
                                                                             "note": str(exc)})
        return
    forecast = forecast_at(inputs, moment, horizon_s=config.horizon_hours * 3600.0,
                           engine=lake.settings().engine, spark=lake.spark())
    for table, rows in zip(TABLES, (forecast.requirements, forecast.shortages, forecast.picks)):
        result = delta.overwrite(table, rows.select(CATALOG[table].schema.names).to_arrow())
        yield dg.MaterializeResult(asset_key=table_key(table), metadata={
            **result.as_metadata(), "forecast_at": moment.isoformat(), "horizon_hours": config.horizon_hours})


@dg.asset_check(asset=table_key("pick_suggestions"), blocking=True,
                description="picks of a lot never exceed its warehouse stock, and every shortfall the warehouse "
                            "can cover is covered")
def picks_cover_shortfalls(lake: LakeResource) -> dg.AssetCheckResult:
    delta = lake.lake()
    picks = delta.scan("pick_suggestions").collect()
    shortages = delta.scan("shortage_forecast").collect()
    # per material: the picks add up to the shortfall of all lines, or to all the warehouse holds
    needed = shortages.group_by("material_id").agg(pl.col("shortfall_quantity").sum(), pl.col("warehouse_quantity").max())
    picked = picks.group_by("material_id").agg(pl.col("pick_quantity").sum())
    uncovered = (needed.join(picked, on="material_id", how="left")
                 .with_columns(pl.col("pick_quantity").fill_null(0.0))
                 .filter((pl.col("pick_quantity") - pl.min_horizontal("shortfall_quantity", "warehouse_quantity"))
                         .abs() > 1e-6))
    by_lot = picks.group_by("material_id", "lot_id").agg(pl.col("pick_quantity").sum())
    stock = (delta.scan("stock_on_hand").group_by("material_id", "lot_id").agg(pl.col("quantity").sum()).collect()
             if delta.exists("stock_on_hand") else pl.DataFrame(schema={"material_id": pl.String,
                                                                        "lot_id": pl.String, "quantity": pl.Float64}))
    over = by_lot.join(stock, on=["material_id", "lot_id"], how="left").filter(
        pl.col("pick_quantity") > pl.col("quantity").fill_null(0.0) + 1e-6)
    return dg.AssetCheckResult(passed=uncovered.is_empty() and over.is_empty(),
                               metadata={"uncovered_shortages": uncovered.height, "lots_overpicked": over.height})


@dg.asset_check(asset=table_key("line_material_requirements"), blocking=True,
                description="requirements are positive and inside the horizon after the forecast moment")
def requirements_in_horizon(lake: LakeResource) -> dg.AssetCheckResult:
    rows = lake.lake().scan("line_material_requirements").collect()
    bad = rows.filter((pl.col("required_quantity") <= 0) | (pl.col("required_at") < pl.col("forecast_at"))).height
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows": rows.height, "bad_rows": bad})


LOOKAHEAD_ASSETS = [forecast_line_side]
LOOKAHEAD_CHECKS = [*(primary_key_check(CATALOG[t]) for t in TABLES), picks_cover_shortfalls,
                    requirements_in_horizon]
