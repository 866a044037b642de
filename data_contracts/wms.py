"""Contract for WMS transaction exports (one contract for every transaction type)."""

from datetime import timedelta

from data_contracts.rules import Column, Contract

WMS_TRANSACTION_TYPES = ("RECEIPT", "PUTAWAY", "MOVE", "PICK", "ISSUE", "RETURN", "SHIPMENT", "COUNT")
UNITS = ("EA", "G", "KG", "BOX", "PAL", "PCE")
MAX_QUANTITY = 10_000_000.0
PROMISE_HORIZON = timedelta(days=366)  # how far ahead a promised ship time may lie
# Columns added to the export later (the customer order of PICK and SHIPMENT rows): a file written before has
# no such header and its rows read them as null.
ADDED_COLUMNS = ("ordered_quantity", "due_at")

WMS_TRANSACTIONS = Contract(
    entity="wms_transactions", version="1",
    description="A WMS movement or count, in WMS codes and units, as exported by the warehouse system.",
    key=("transaction_id",),
    columns=(
        Column("transaction_id", "code", required=True),
        Column("transaction_type", "code", required=True, allowed=WMS_TRANSACTION_TYPES),
        Column("occurred_at", "timestamp", required=True),
        Column("material_code", "code", required=True, known_codes="wms_material"),
        Column("lot_code", "code"),
        Column("quantity", "decimal", min_value=0.0, max_value=MAX_QUANTITY),
        Column("unit", "code", required=True, allowed=UNITS),
        Column("from_location_code", "code", known_codes="wms_location"),
        Column("to_location_code", "code", known_codes="wms_location"),
        Column("supplier_id", "code", known_codes="supplier"),
        Column("supplier_lot_code", "code"),
        Column("customer_id", "code", known_codes="customer"),
        Column("shipment_id", "code"),
        Column("work_order_id", "code"),
        Column("requested_at", "timestamp"),
        Column("counted_quantity", "decimal", min_value=0.0, max_value=MAX_QUANTITY),
        Column("system_quantity", "decimal", min_value=0.0, max_value=MAX_QUANTITY),
        Column("ordered_quantity", "decimal", min_value=0.0, max_value=MAX_QUANTITY),
        Column("due_at", "timestamp", future_tolerance=PROMISE_HORIZON),
    ),
    required_when=(
        ("quantity", ("transaction_type", "!=", "COUNT")),
        ("lot_code", ("transaction_type", "!=", "COUNT")),
        ("counted_quantity", ("transaction_type", "==", "COUNT")),
        ("supplier_id", ("transaction_type", "==", "RECEIPT")),
        ("customer_id", ("transaction_type", "==", "SHIPMENT")),
    ),
)
