"""WMS transaction export contract: `wms/<type>/<YYYY-MM-DD>.csv` (UTF-8, header row).

All transaction types share one column layout; a column that does not apply to a type
is empty. Quantity semantics:

- `quantity` is always positive and in the WMS unit in `unit` (master/material_code_map,
  system WMS). The direction of a movement is given by `from_location_code` ->
  `to_location_code` (WMS location codes). An empty from-location means the goods come
  from outside the warehouse (supplier for RECEIPT); an empty to-location means they
  leave it (customer for SHIPMENT).
- RECEIPT: supplier -> receiving dock, with `supplier_id` and `supplier_lot_code`.
- PUTAWAY: receiving dock or production line-side (new production lots) -> bin.
- MOVE: bin -> bin. PICK: bin -> shipping dock for a customer shipment (`shipment_id`).
- ISSUE: bin -> line-side for a work order; `requested_at` is when production requested
  the material, `occurred_at` when it arrived line-side (supply lead time).
- RETURN: line-side -> bin (whole handling units left over after production).
- SHIPMENT: shipping dock -> customer, with `customer_id` and `shipment_id`.
- PICK and SHIPMENT rows also carry the customer order of their shipment:
  `ordered_quantity` (what the customer ordered, in `unit`; the shipment is short when
  the stock could not cover it) and `due_at` (the promised ship time). Both are empty on
  other types; exports from before these columns existed lack them.
- COUNT: cycle count of one lot in `from_location_code`; `quantity` is empty,
  `counted_quantity` is what was physically found and `system_quantity` what the WMS
  expected (both in `unit`). The WMS adjusts its book to the counted quantity.

`occurred_at`, `requested_at` and `due_at` are ISO 8601 in plant local time with UTC offset
(whole seconds).
"""

from __future__ import annotations

WMS_COLUMNS: tuple[str, ...] = (
    "transaction_id", "transaction_type", "occurred_at", "material_code", "lot_code", "quantity",
    "unit", "from_location_code", "to_location_code", "supplier_id", "supplier_lot_code",
    "customer_id", "shipment_id", "work_order_id", "requested_at", "counted_quantity",
    "system_quantity", "ordered_quantity", "due_at",
)

WMS_TYPE_DIRECTORIES: dict[str, str] = {
    "RECEIPT": "receipts",
    "PUTAWAY": "putaways",
    "MOVE": "moves",
    "PICK": "picks",
    "ISSUE": "issues",
    "RETURN": "returns",
    "SHIPMENT": "shipments",
    "COUNT": "cycle_counts",
}


def format_quantity(value: float) -> str:
    """Plain decimal without exponent; integers without a fractional part."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def build_row(transaction_id: str, transaction_type: str, occurred_at_iso: str, **fields: str) -> dict[str, str]:
    unknown = set(fields) - set(WMS_COLUMNS)
    if unknown:
        raise ValueError(f"unknown WMS columns {sorted(unknown)}")
    row = {column: "" for column in WMS_COLUMNS}
    row.update(transaction_id=transaction_id, transaction_type=transaction_type, occurred_at=occurred_at_iso)
    row.update(fields)
    return row
