"""Master data: the plant's equipment, materials, code maps, units, BOMs, routings, shifts and locations."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s = pa.string()

TABLES = [
    TableSpec("dim_equipment", "silver", pa.schema([
        pa.field("equipment_id", _s, nullable=False), ("parent_equipment_id", _s),
        pa.field("equipment_level", _s, nullable=False), ("equipment_name", _s)]),
        "ISA-95 equipment hierarchy: enterprise, site, area, line, work cell.", ("equipment_id",)),
    TableSpec("dim_machine", "silver", pa.schema([
        pa.field("machine_id", _s, nullable=False), pa.field("line_id", _s, nullable=False),
        ("machine_name", _s), ("opcua_browse_name", _s)]),
        "Machines (ISA-95 work cells) with their line and OPC UA browse name.", ("machine_id",)),
    TableSpec("dim_material", "silver", pa.schema([
        pa.field("material_id", _s, nullable=False), ("material_name", _s),
        pa.field("material_type", _s, nullable=False), pa.field("base_unit", _s, nullable=False), ("gtin", _s)]),
        "Materials in the canonical code system with their base unit and GS1 GTIN (14 digits, zero-filled; null "
        "when the material has none: an EPCIS export of its lots then fails).", ("material_id",)),
    TableSpec("map_material_code", "silver", pa.schema([
        pa.field("material_id", _s, nullable=False), pa.field("system", _s, nullable=False),
        pa.field("system_material_code", _s, nullable=False), pa.field("system_unit", _s, nullable=False)]),
        "MES and WMS material codes and units mapped to the canonical material.",
        ("system", "system_material_code")),
    TableSpec("dim_unit_conversion", "silver", pa.schema([
        pa.field("material_id", _s, nullable=False), pa.field("from_unit", _s, nullable=False),
        pa.field("to_unit", _s, nullable=False), pa.field("factor", pa.float64(), nullable=False)]),
        "Unit conversions per material: quantity in to_unit = quantity in from_unit x factor.",
        ("material_id", "from_unit", "to_unit")),
    TableSpec("dim_bom", "silver", pa.schema([
        pa.field("parent_material_id", _s, nullable=False), pa.field("component_material_id", _s, nullable=False),
        pa.field("quantity_per_parent", pa.float64(), nullable=False), ("bom_level", pa.int64())]),
        "Bills of material: component quantity (component base unit) per unit of parent.",
        ("parent_material_id", "component_material_id")),
    TableSpec("dim_routing", "silver", pa.schema([
        pa.field("material_id", _s, nullable=False), pa.field("line_id", _s, nullable=False),
        pa.field("operation_seq", pa.int64(), nullable=False),
        pa.field("machine_id", _s, nullable=False), pa.field("ideal_cycle_time_s", pa.float64(), nullable=False)]),
        "Routings: the machine and ideal cycle time of each operation producing a material on a line.",
        ("material_id", "line_id", "operation_seq")),
    TableSpec("dim_shift", "silver", pa.schema([
        pa.field("shift_id", _s, nullable=False), ("shift_name", _s),
        pa.field("start_local_time", _s, nullable=False), pa.field("end_local_time", _s, nullable=False),
        pa.field("scheduled_weekdays", _s, nullable=False)]),
        "Shift patterns in plant local time (HH:MM:SS; Delta has no time type) and the weekdays they run.",
        ("shift_id",)),
    TableSpec("dim_shift_break", "silver", pa.schema([
        pa.field("shift_id", _s, nullable=False), pa.field("break_seq", pa.int64(), nullable=False),
        pa.field("break_start_local_time", _s, nullable=False), pa.field("break_end_local_time", _s, nullable=False)]),
        "Planned breaks of each shift, in plant local time.", ("shift_id", "break_seq")),
    TableSpec("dim_plant", "silver", pa.schema([
        pa.field("plant_name", _s, nullable=False), pa.field("plant_timezone", _s, nullable=False)]),
        "The plant and its time zone (shifts and days are cut in this zone).", ("plant_name",)),
    TableSpec("dim_location", "silver", pa.schema([
        pa.field("location_id", _s, nullable=False), pa.field("location_type", _s, nullable=False),
        ("zone_id", _s), ("wms_location_code", _s), ("mes_location_code", _s), ("line_id", _s)]),
        "Locations (docks, bins, line-side, virtual) with their WMS and MES codes; line-side locations name "
        "the production line they supply.", ("location_id",)),
    TableSpec("dim_supplier", "silver", pa.schema([
        pa.field("supplier_id", _s, nullable=False), ("supplier_name", _s)]),
        "Suppliers.", ("supplier_id",)),
    TableSpec("dim_customer", "silver", pa.schema([
        pa.field("customer_id", _s, nullable=False), ("customer_name", _s)]),
        "Customers.", ("customer_id",)),
]
