"""Lot genealogy: who came from whom, from supplier lots through production to shipments."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s = pa.string()
_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("fct_genealogy_edges", "silver", pa.schema([
        pa.field("edge_id", _s, nullable=False),
        pa.field("parent_node_id", _s, nullable=False), pa.field("child_node_id", _s, nullable=False),
        pa.field("edge_type", _s, nullable=False),
        ("work_order_id", _s), ("machine_id", _s), ("material_code", _s), ("quantity", pa.float64()),
        ("unit", _s), pa.field("occurred_at", _utc, nullable=False),
        ("supplier_id", _s), ("customer_id", _s), pa.field("source_event_id", _s, nullable=False)]),
        "One genealogy edge: parent node -> child node. Nodes are lot codes, supplier lots (SUP:<supplier lot>) "
        "and shipments (SHP:<shipment id>); edge_type is receipt, consumption, split, merge or shipment; "
        "quantity is what moved along the edge, in the reporting system's unit.",
        ("edge_id",)),
]
