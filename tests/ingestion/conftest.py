"""Fixtures: a lake with a little master data, and an empty landing folder."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.delta_io import DeltaLake


@pytest.fixture
def master_lake(tmp_path: Path) -> DeltaLake:
    lake = DeltaLake(tmp_path / "lake")
    lake.overwrite("map_material_code", pa.table({
        "material_id": ["RM-1", "RM-1", "FG-1", "FG-1"], "system": ["WMS", "MES", "WMS", "MES"],
        "system_material_code": ["ALU", "100100", "PUMP", "400100"], "system_unit": ["KG", "G", "PCE", "EA"]}))
    lake.overwrite("dim_location", pa.table({
        "location_id": ["DOCK", "BIN-1", "LINE-1"], "location_type": ["dock", "warehouse_bin", "line_side"],
        "zone_id": ["Z", "Z", "L"], "wms_location_code": ["D-01", "A-01-01", "LS-1"],
        "mes_location_code": [None, None, "L1-SUPER"]}))
    lake.overwrite("dim_machine", pa.table({"machine_id": ["L1-M1"], "line_id": ["L1"], "machine_name": ["m"],
                                            "opcua_browse_name": ["M1"]}))
    lake.overwrite("dim_supplier", pa.table({"supplier_id": ["SUP-01"], "supplier_name": ["s"]}))
    lake.overwrite("dim_customer", pa.table({"customer_id": ["CUS-01"], "customer_name": ["c"]}))
    return lake


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root

