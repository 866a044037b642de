"""Master data assets: one silver table per master-data export, replaced whole on each run."""

from __future__ import annotations

import dagster as dg

from lakehouse.catalog import CATALOG
from pipelines.checks import primary_key_check
from pipelines.resources import LakeResource, LandingResource

MASTER_FILES = {
    "dim_equipment": "master/equipment.csv",
    "dim_machine": "master/machines.csv",
    "dim_material": "master/materials.csv",
    "map_material_code": "master/material_code_map.csv",
    "dim_unit_conversion": "master/unit_conversions.csv",
    "dim_bom": "master/bom.csv",
    "dim_routing": "master/routings.csv",
    "dim_location": "master/locations.csv",
    "dim_supplier": "master/suppliers.csv",
    "dim_customer": "master/customers.csv",
}


def master_data_asset(table: str, source_file: str) -> dg.AssetsDefinition:
    spec = CATALOG[table]

    @dg.asset(key=dg.AssetKey([spec.layer, table]), group_name="master_data", description=spec.description,
              kinds={"delta", "polars"}, owners=["team:plant-data"],
              metadata={"source_file": source_file, "primary_key": list(spec.primary_key)})
    def _asset(lake: LakeResource, landing: LandingResource) -> dg.MaterializeResult:
        result = lake.lake().overwrite(table, landing.read_csv_as_text(source_file))
        return dg.MaterializeResult(metadata=result.as_metadata())

    return _asset


MASTER_DATA_ASSETS = [master_data_asset(table, path) for table, path in MASTER_FILES.items()]
MASTER_DATA_CHECKS = [primary_key_check(CATALOG[table]) for table in MASTER_FILES]
