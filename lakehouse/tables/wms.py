"""WMS transactions as exported by the warehouse system (WMS codes and units, one table for every type)."""

import pyarrow as pa

from lakehouse.catalog import TableSpec
from lakehouse.tables.lineage import UTC, with_lineage

_s, _f = pa.string(), pa.float64()

TABLES = [
    TableSpec("wms_transactions", "bronze", with_lineage(
        pa.field("transaction_id", _s, nullable=False), pa.field("transaction_type", _s, nullable=False),
        pa.field("occurred_at", UTC, nullable=False), pa.field("material_code", _s, nullable=False),
        ("lot_code", _s), ("quantity", _f), pa.field("unit", _s, nullable=False),
        ("from_location_code", _s), ("to_location_code", _s), ("supplier_id", _s), ("supplier_lot_code", _s),
        ("customer_id", _s), ("shipment_id", _s), ("work_order_id", _s), ("requested_at", UTC),
        ("counted_quantity", _f), ("system_quantity", _f), ("ordered_quantity", _f), ("due_at", UTC)),
        "WMS receipts, putaways, moves, picks, issues, returns, shipments and cycle counts, as exported "
        "(quantities positive in the WMS unit; direction from -> to location). PICK and SHIPMENT rows carry "
        "their shipment's customer order: ordered_quantity (WMS unit) and due_at (promised ship time); null "
        "elsewhere and in exports from before these columns.",
        ("transaction_id",), partition_by=("event_date",)),
]
