"""Writers for small WMS CSV and MES NDJSON files in a landing folder."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from data_contracts.wms import WMS_TRANSACTIONS
from lakehouse.delta_io import DeltaLake

WMS_HEADER = ",".join(WMS_TRANSACTIONS.column_names)


def wms_row(transaction_id: str = "T1", transaction_type: str = "RECEIPT",
            occurred_at: str = "2026-01-05T07:00:00+01:00", **fields: str) -> dict[str, str]:
    row = {c: "" for c in WMS_TRANSACTIONS.column_names}
    row.update(transaction_id=transaction_id, transaction_type=transaction_type, occurred_at=occurred_at,
               material_code="ALU", lot_code="LOT-1", quantity="10", unit="KG", from_location_code="",
               to_location_code="D-01", supplier_id="SUP-01", supplier_lot_code="S-9")
    row.update(fields)
    return row


def write_wms(landing: Path, name: str, rows: list[dict[str, str]], header: str = WMS_HEADER) -> Path:
    path = landing / "wms" / "receipts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [header] + [",".join(r[c] for c in WMS_TRANSACTIONS.column_names) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mes_event(event_id: str = "E1", event_type: str = "equipment_state_changed",
              occurred_at: str = "2026-01-05T06:00:00.000000+00:00", **fields: object) -> dict[str, object]:
    defaults: dict[str, dict[str, object]] = {
        "equipment_state_changed": {"machine_id": "L1-M1", "state": "running", "reason_code": "producing",
                                    "previous_state": "idle", "previous_reason_code": "no_order"},
        "material_consumed": {"work_order_id": "WO-1", "machine_id": "L1-M1", "material_code": "100100",
                              "consumed_lot_code": "LOT-1", "quantity": 850, "unit": "G",
                              "location_code": "L1-SUPER"},
    }
    return {"event_id": event_id, "event_type": event_type, "occurred_at": occurred_at,
            **defaults.get(event_type, {}), **fields}


def write_mes(landing: Path, name: str, events: list[dict[str, object] | str]) -> Path:
    path = landing / "mes" / "events" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n")
    return path


def write_master_data(lake: DeltaLake) -> DeltaLake:
    """A little master data: two materials, three locations, one machine, supplier and customer."""
    lake.overwrite("map_material_code", pa.table({
        "material_id": ["RM-1", "RM-1", "FG-1", "FG-1"], "system": ["WMS", "MES", "WMS", "MES"],
        "system_material_code": ["ALU", "100100", "PUMP", "400100"], "system_unit": ["KG", "G", "PCE", "EA"]}))
    lake.overwrite("dim_location", pa.table({
        "location_id": ["DOCK", "BIN-1", "LINE-1"], "location_type": ["dock", "warehouse_bin", "line_side"],
        "zone_id": ["Z", "Z", "L"], "wms_location_code": ["D-01", "A-01-01", "LS-1"],
        "mes_location_code": [None, None, "L1-SUPER"], "line_id": [None, None, "L1"]}))
    lake.overwrite("dim_machine", pa.table({"machine_id": ["L1-M1"], "line_id": ["L1"], "machine_name": ["m"],
                                            "opcua_browse_name": ["M1"]}))
    lake.overwrite("dim_supplier", pa.table({"supplier_id": ["SUP-01"], "supplier_name": ["s"]}))
    lake.overwrite("dim_customer", pa.table({"customer_id": ["CUS-01"], "customer_name": ["c"]}))
    return lake


# the fixtures of tests/ingestion and tests/reliability: their conftest files import them from here
@pytest.fixture
def master_lake(tmp_path: Path) -> DeltaLake:
    """A lake with a little master data."""
    return write_master_data(DeltaLake(tmp_path / "lake"))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """An empty landing folder."""
    root = tmp_path / "landing"
    root.mkdir()
    return root
