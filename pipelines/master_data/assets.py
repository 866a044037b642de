"""Master data assets: one silver table per master-data export, replaced whole on each run."""

import dagster as dg
import pyarrow as pa

from data_contracts.master import check_master_snapshot
from lakehouse.catalog import CATALOG
from lakehouse.schema import columns_to_arrow
from pipelines.checks import primary_key_check, table_key
from pipelines.resources import LakeResource, LandingResource

MASTER_FILES = {
    "dim_equipment": "master/equipment.csv",
    "dim_machine": "master/machines.csv",
    "dim_material": "master/materials.csv",
    "map_material_code": "master/material_code_map.csv",
    "dim_unit_conversion": "master/unit_conversions.csv",
    "dim_bom": "master/bom.csv",
    "dim_routing": "master/routings.csv",
    "dim_shift": "master/shift_calendar.csv",
    "dim_shift_break": "master/shift_breaks.csv",
    "dim_location": "master/locations.csv",
    "dim_supplier": "master/suppliers.csv",
    "dim_customer": "master/customers.csv",
}

# columns added after landing folders were first written: an older file without them loads them as nulls
OPTIONAL_COLUMNS = {"dim_material": ("gtin",)}


CONTRACT_CHECK = "master_file_passes_contract"


def master_data_asset(table: str, source_file: str) -> dg.AssetsDefinition:
    spec = CATALOG[table]
    key = table_key(table)

    @dg.asset(key=key, group_name="master_data", description=spec.description,
              kinds={"delta", "polars"}, owners=["team:plant-data"],
              metadata={"source_file": source_file, "primary_key": list(spec.primary_key)},
              check_specs=[dg.AssetCheckSpec(CONTRACT_CHECK, asset=key, blocking=False,
                                             description="The master file passes its contract (data_contracts/"
                                                         "master.py); a failing file is rejected whole and the "
                                                         "table keeps its last good version.")])
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource,
               landing: LandingResource) -> dg.MaterializeResult:
        data = landing.read_csv_as_text(source_file)
        for column in OPTIONAL_COLUMNS.get(table, ()):
            if column not in data.column_names:  # a landing folder written before the column existed
                data = data.append_column(column, pa.nulls(data.num_rows, pa.string()))
        verdict = check_master_snapshot(table, spec.schema, spec.primary_key, data)
        delta = lake.lake()
        if not verdict.passed:
            if not delta.exists(table):
                raise dg.Failure(f"{source_file}: {verdict.describe()}; there is no earlier version to keep, so "
                                 "nothing that needs this master data can be loaded until the file is fixed")
            context.log.warning("%s: %s; silver.%s keeps version %d", source_file, verdict.describe(), table,
                                delta.version(table))
            return dg.MaterializeResult(
                metadata={"rejected_file": source_file, "kept_version": delta.version(table),
                          "reason": verdict.describe()[:4000]},
                check_results=[dg.AssetCheckResult(check_name=CONTRACT_CHECK, passed=False,
                                                   severity=dg.AssetCheckSeverity.WARN,
                                                   metadata={"rows": verdict.rows, "bad_rows": verdict.bad_rows,
                                                             "reason": verdict.describe()[:4000]})])
        result = delta.overwrite(table, verdict.typed)
        return dg.MaterializeResult(metadata=result.as_metadata(), check_results=[
            dg.AssetCheckResult(check_name=CONTRACT_CHECK, passed=True, metadata={"rows": verdict.rows})])

    return _asset


@dg.asset(key=table_key("dim_plant"), group_name="master_data",
          description=CATALOG["dim_plant"].description, kinds={"delta", "polars"}, owners=["team:plant-data"],
          metadata={"source_file": "master/plant.json", "primary_key": ["plant_name"]})
def dim_plant(lake: LakeResource, landing: LandingResource) -> dg.MaterializeResult:
    plant = landing.read_json("master/plant.json")
    row = columns_to_arrow(CATALOG["dim_plant"], {"plant_name": [plant["plant_name"]],
                                                 "plant_timezone": [plant["plant_timezone"]]})
    return dg.MaterializeResult(metadata=lake.lake().overwrite("dim_plant", row).as_metadata())


MASTER_DATA_ASSETS = [*(master_data_asset(table, path) for table, path in MASTER_FILES.items()), dim_plant]
MASTER_DATA_CHECKS = [primary_key_check(CATALOG[table]) for table in (*MASTER_FILES, "dim_plant")]
