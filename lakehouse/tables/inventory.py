"""The unified inventory: canonical movements from both systems, the double-entry ledger and stock."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s, _f = pa.string(), pa.float64()
_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("fct_inventory_movements", "silver", pa.schema([
        pa.field("movement_id", _s, nullable=False), pa.field("occurred_at", _utc, nullable=False),
        pa.field("event_date", pa.date32(), nullable=False),
        pa.field("material_id", _s, nullable=False), pa.field("lot_id", _s, nullable=False),
        pa.field("from_location_id", _s, nullable=False), pa.field("to_location_id", _s, nullable=False),
        pa.field("quantity", _f, nullable=False), pa.field("movement_type", _s, nullable=False),
        pa.field("source_system", _s, nullable=False), pa.field("source_event_id", _s, nullable=False),
        ("work_order_id", _s), ("reported_material_code", _s), ("reported_quantity", _f), ("reported_unit", _s)]),
        "One physical movement of a lot between two locations in canonical codes and the material's base unit, "
        "from a WMS transaction or an MES event (virtual locations stand for suppliers, production, customers, "
        "lot transformations and inventory adjustments).", ("movement_id",), partition_by=("event_date",)),
    TableSpec("quarantine_inventory_movements", "quarantine", pa.schema([
        pa.field("source_system", _s, nullable=False), pa.field("source_event_id", _s, nullable=False),
        pa.field("occurred_at", _utc, nullable=False), ("reported_material_code", _s), ("reported_unit", _s),
        ("reported_location_code", _s), pa.field("reason", _s, nullable=False)]),
        "Bronze records that cannot become movements: unmapped codes or units that do not convert "
        "(never dropped, never guessed).", ("source_system", "source_event_id")),
    TableSpec("fct_inventory_ledger", "gold", pa.schema([
        pa.field("movement_id", _s, nullable=False), pa.field("entry_side", pa.int8(), nullable=False),
        pa.field("occurred_at", _utc, nullable=False), pa.field("event_date", pa.date32(), nullable=False),
        pa.field("material_id", _s, nullable=False), pa.field("lot_id", _s, nullable=False),
        pa.field("location_id", _s, nullable=False), pa.field("quantity_delta", _f, nullable=False),
        pa.field("balance_after", _f, nullable=False), pa.field("is_negative_balance", pa.bool_(), nullable=False),
        pa.field("movement_type", _s, nullable=False)]),
        "Double-entry inventory ledger: two lines per movement (-quantity leaving, +quantity arriving) with the "
        "running balance per material/lot/location in event-time order (ties: movement id, then leaving first).",
        ("movement_id", "entry_side"), partition_by=("event_date",)),
    TableSpec("stock_on_hand", "gold", pa.schema([
        pa.field("material_id", _s, nullable=False), pa.field("lot_id", _s, nullable=False),
        pa.field("location_id", _s, nullable=False), pa.field("quantity", _f, nullable=False),
        pa.field("is_negative", pa.bool_(), nullable=False), pa.field("last_movement_at", _utc, nullable=False)]),
        "Stock per material/lot/real location now (derived from the ledger, never maintained); negative "
        "balances are flagged, not clipped.", ("material_id", "lot_id", "location_id")),
    TableSpec("reconciliation_differences", "gold", pa.schema([
        pa.field("difference_id", _s, nullable=False), ("work_order_id", _s),
        pa.field("material_id", _s, nullable=False), ("lot_id", _s),
        pa.field("difference_type", _s, nullable=False), ("standard_quantity", _f), ("issued_quantity", _f),
        ("consumed_quantity", _f), ("difference_quantity", _f), ("occurred_at", _utc), ("event_date", pa.date32())]),
        "MES consumption vs WMS issues to the line vs BOM standard, per work order, material and lot, with "
        "a named difference type (see transforms/reconciliation.py).", ("difference_id",)),
    TableSpec("refresh_log", "silver", pa.schema([
        pa.field("table_name", _s, nullable=False), pa.field("run_id", _s, nullable=False),
        pa.field("refreshed_at", _utc, nullable=False), pa.field("is_full", pa.bool_(), nullable=False),
        ("source_version", pa.int64()), ("touched_event_dates", pa.list_(pa.date32())),
        ("touched_material_ids", pa.list_(_s)), pa.field("rows_written", pa.int64(), nullable=False)]),
        "One row per refresh of an incremental inventory table: full or partial, the version of its source of "
        "change marks it read up to (source_version), and which event dates and materials it recomputed.", ("table_name", "run_id")),
    TableSpec("ledger_refreshed_keys", "silver", pa.schema([
        pa.field("ledger_version", pa.int64(), nullable=False), pa.field("material_id", _s, nullable=False),
        pa.field("lot_id", _s, nullable=False), pa.field("location_id", _s, nullable=False)]),
        "The material/lot/location keys whose lines an incremental ledger refresh recomputed, with the ledger "
        "version it wrote: stock on hand replaces those keys' rows, and drops the records of the versions it "
        "has followed.", ("ledger_version", "material_id", "lot_id", "location_id")),
]
