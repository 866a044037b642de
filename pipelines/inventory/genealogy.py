"""The lot genealogy edges (silver), built from bronze consumption, lot events and WMS receipts/shipments.

Incremental: edges are recomputed only for the work orders with events on dirty days (all of each such
order's consumption and output, since a consumed quantity is allocated over every lot the order produced)
and for receipts, shipments, splits and merges of dirty days, then upserted on edge_id. Bronze is
insert-only, so an edge never disappears; an allocation that changes updates its edge."""

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow
from pipelines.checks import table_key
from pipelines.inventory.assets import RefreshConfig
from pipelines.inventory.refresh import Scope, dirty_dates_scope, log_refresh
from pipelines.resources import LakeResource
from transforms.genealogy.edges import genealogy_edges

SOURCES = ("mes_material_consumption", "mes_lot_events", "wms_transactions")


def _inputs(delta: DeltaLake, scope: Scope) -> dict[str, pl.DataFrame]:
    if scope.is_full:
        return {table: delta.scan(table).collect() for table in SOURCES}
    dirty = pl.col("event_date").is_in(scope.event_dates)
    orders = pl.concat([delta.scan(t).filter(dirty).select("work_order_id").collect()
                        for t in ("mes_material_consumption", "mes_lot_events")]).drop_nulls().unique()
    of_orders = pl.col("work_order_id").is_in(orders["work_order_id"].to_list())
    return {"mes_material_consumption": delta.scan("mes_material_consumption").filter(of_orders).collect(),
            "mes_lot_events": delta.scan("mes_lot_events").filter(of_orders | dirty).collect(),
            "wms_transactions": delta.scan("wms_transactions").filter(dirty).collect()}


@dg.asset(key=table_key("fct_genealogy_edges"), deps=[table_key(t) for t in SOURCES], group_name="inventory",
          description=CATALOG["fct_genealogy_edges"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def fct_genealogy_edges(config: RefreshConfig, lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    scope = dirty_dates_scope(delta, "fct_genealogy_edges", SOURCES, full=config.full_refresh)
    f = {name: lake.frame(frame.to_arrow()) for name, frame in _inputs(delta, scope).items()}
    edges = collect_arrow(genealogy_edges(f["mes_material_consumption"], f["mes_lot_events"], f["wms_transactions"]))
    result = (delta.overwrite("fct_genealogy_edges", edges) if scope.is_full
              else delta.upsert("fct_genealogy_edges", edges))
    log_refresh(delta, "fct_genealogy_edges", scope, result.rows_written)
    return dg.MaterializeResult(metadata={**result.as_metadata(), "full_refresh": scope.is_full,
                                          "event_dates_refreshed": len(scope.event_dates)})
