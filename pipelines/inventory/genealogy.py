"""The lot genealogy edges (silver), built from bronze consumption, lot events and WMS receipts/shipments."""

import dagster as dg

from lakehouse.catalog import CATALOG
from lakehouse.engines import collect_arrow
from pipelines.inventory.assets import _key
from pipelines.resources import LakeResource
from transforms.genealogy.edges import genealogy_edges

SOURCES = ["mes_material_consumption", "mes_lot_events", "wms_transactions"]


@dg.asset(key=_key("fct_genealogy_edges"), deps=[_key(t) for t in SOURCES], group_name="inventory",
          description=CATALOG["fct_genealogy_edges"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def fct_genealogy_edges(lake: LakeResource) -> dg.MaterializeResult:
    frames = lake.frames(*SOURCES)
    edges = genealogy_edges(frames["mes_material_consumption"], frames["mes_lot_events"], frames["wms_transactions"])
    result = lake.lake().overwrite("fct_genealogy_edges", collect_arrow(edges))
    return dg.MaterializeResult(metadata=result.as_metadata())
