"""Master data has contracts: a master file passes whole or is rejected whole with the lines and rules it
breaks; a rejected file leaves the table at its last good version (a warning check says why) and stops
nothing else; with no earlier version the run fails with the reason."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import dagster as dg
import pyarrow.csv as pa_csv
import pytest

from data_contracts.master import check_master_snapshot
from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from pipelines.master_data.assets import CONTRACT_CHECK, MASTER_DATA_ASSETS
from pipelines.resources import LakeResource, LandingResource
from simulator import FaultRates, PlantConfig, simulate


def text_table(csv: str):  # noqa: ANN201 - a pyarrow table of strings, as LandingResource.read_csv_as_text reads
    return pa_csv.read_csv(io.BytesIO(csv.encode()), convert_options=pa_csv.ConvertOptions(
        column_types={name: "string" for name in csv.splitlines()[0].split(",")}, strings_can_be_null=True))


def verdict(table: str, csv: str):  # noqa: ANN201
    spec = CATALOG[table]
    return check_master_snapshot(table, spec.schema, spec.primary_key, text_table(csv))


GOOD_BOM = "parent_material_id,component_material_id,quantity_per_parent,bom_level\nSF-1, RM-1 ,850,2\nFG-1,SF-1,1,1\n"


def test_a_good_master_file_passes_trimmed_and_typed() -> None:
    good = verdict("dim_bom", GOOD_BOM)
    assert good.passed and good.typed is not None
    assert good.typed.to_pylist()[0] == {"parent_material_id": "SF-1", "component_material_id": "RM-1",
                                         "quantity_per_parent": 850.0, "bom_level": 2}


@pytest.mark.parametrize(("table", "csv", "reason"), [
    ("dim_bom", "parent_material_id,component_material_id,quantity_per_parent,bom_level\nSF-1,RM-1,٨٥٠,2\n",
     "line 2: quantity_per_parent is a finite decimal"),
    ("dim_bom", "parent_material_id,component_material_id,quantity_per_parent,bom_level\nSF-1,RM-1,-4,2\n",
     "line 2: quantity_per_parent within [0.0, None]"),
    ("dim_bom", "parent_material_id,component_material_id,quantity_per_parent,bom_level\nSF-1,RM-1,4,99999999999999999999\n",
     "line 2: bom_level converts to a 64-bit integer"),
    ("dim_bom", GOOD_BOM + "SF-1,RM-1,9,2\n", "line 4: (parent_material_id, component_material_id) is unique"),
    ("dim_unit_conversion", "material_id,from_unit,to_unit,factor\nRM-1,KG,G,\n", "line 2: factor is present"),
    ("dim_customer", "customer_id,customer_name\nCUS-1,=HYPERLINK(\"http://x\")\n",
     "line 2: customer_name is not a spreadsheet formula"),
    ("dim_customer", "customer_id,customer_name\nCUS-1,  \n CUS-1 ,Acme\n", "line 3: customer_id is unique"),
    ("dim_machine", "machine_id,line_id,machine_name,opcua_browse_name\nWC-1,\x1b[31mLINE,M,M\n",
     "line 2: line_id holds no control characters"),
    ("dim_customer", "customer_id,customer_name,customer_name\nCUS-1,A,B\n",
     "the header names customer_name more than once"),
    ("dim_customer", "customer_name\nAcme\n", "the header lacks customer_id"),
])
def test_a_bad_master_file_is_rejected_whole_with_the_line_and_rule(table: str, csv: str, reason: str) -> None:
    bad = verdict(table, csv)
    assert not bad.passed and bad.typed is None
    assert reason in bad.problems, bad.problems
    assert bad.describe().startswith(f"master file for {table} rejected whole")


def materialize(landing: Path, root: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(MASTER_DATA_ASSETS, raise_on_error=False, resources={
        "lake": LakeResource(lake_root=str(root)), "landing": LandingResource(source_dir=str(landing))})


def test_a_rejected_master_file_keeps_the_last_good_version_and_stops_nothing(tmp_path: Path) -> None:
    landing, root = tmp_path / "landing", tmp_path / "lake"
    simulate(PlantConfig(days=1, lines=1, machines_per_line=2, seed=3, fault_rates=FaultRates.none()), landing)
    assert materialize(landing, root).success
    lake = DeltaLake(root)
    version, rows = lake.version("dim_bom"), lake.scan("dim_bom").collect()

    bom = landing / "master" / "bom.csv"
    bom.write_text(bom.read_text() + "SF-3001,RM-9999,lots,2\n")
    again = materialize(landing, root)
    assert again.success  # every other master table still loads
    [check] = [c for c in again.get_asset_check_evaluations() if c.check_name == CONTRACT_CHECK
               and c.asset_key == dg.AssetKey(["silver", "dim_bom"])]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "quantity_per_parent is a finite decimal" in check.metadata["reason"].value
    assert lake.version("dim_bom") == version and lake.scan("dim_bom").collect().equals(rows)
    passed = [c for c in again.get_asset_check_evaluations() if c.check_name == CONTRACT_CHECK and c.passed]
    assert len(passed) == 11  # the other eleven master files

    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    failed = materialize(landing, fresh)
    assert not failed.success
    [failure] = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "master/bom.csv: master file for dim_bom rejected whole (1 of" in str(failure.event_specific_data.error)
    assert not DeltaLake(fresh).exists("dim_bom") and DeltaLake(fresh).exists("dim_machine")
