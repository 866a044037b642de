"""How a record finds its KPI scope: a canonical material, a production line.

Material scopes always name the canonical material_id (master-data `map_material_code`), whichever system
reported the record, so KPIs from the WMS, the MES and the ledger line up on one material. A code that does
not map gets no scope_id here; `kpi_rows` files it under UNASSIGNED.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

Frame = nw.LazyFrame[Any]


def with_material_scope(records: Frame, material_codes: Frame, *, system: str, code_column: str = "material_code"
                        ) -> Frame:
    """Add scope_id = the canonical material_id of `code_column` in `system` (material_codes: material_id,
    system, system_material_code)."""
    codes = (material_codes.filter(nw.col("system") == system)
             .select(nw.col("system_material_code").alias("_code"), nw.col("material_id").alias("scope_id"))
             .unique(["_code"]))
    return records.join(codes, left_on=code_column, right_on="_code", how="left")


def with_line_of_location(records: Frame, locations: Frame, *, code_column: str) -> Frame:
    """Add scope_id = the production line a WMS location code supplies (locations: wms_location_code, line_id;
    an empty line_id counts as none)."""
    lines = (locations.filter(~nw.col("wms_location_code").is_null() & (nw.col("wms_location_code") != "")
                              & ~nw.col("line_id").is_null() & (nw.col("line_id") != ""))
             .select(nw.col("wms_location_code").alias("_code"), nw.col("line_id").alias("scope_id"))
             .unique(["_code"]))
    return records.join(lines, left_on=code_column, right_on="_code", how="left")


def with_line_of_machine(records: Frame, machines: Frame) -> Frame:
    """Add scope_id = the machine's line (machines: machine_id, line_id)."""
    lines = machines.select("machine_id", nw.col("line_id").alias("scope_id")).unique(["machine_id"])
    return records.join(lines, on="machine_id", how="left")
