"""MES event contract: one JSON object per line in `mes/events/<YYYY-MM-DD>.ndjson`.

Every event has `event_id` (unique string), `event_type` and `occurred_at` (ISO 8601,
UTC, microsecond precision, `+00:00` offset, e.g. `2026-01-05T05:12:33.120417+00:00`;
the simulation time rounded to whole microseconds exactly as the truth tables round it).
Material codes are MES codes and quantities are in the MES unit given in `unit` (see
master/material_code_map.csv).
Lot codes are plant-wide lot identifiers shared by MES, WMS and the ground truth.
`work_order_released` carries the order's planned start and due date (see
`simulator.planning`), stamped like `occurred_at`.

Consumption is booked by the MES as a backflush at the start of the first operation
of a work order (one `material_consumed` event per consumed lot). Work orders selected
for ISA-95 B2MML exchange report release/production/consumption/lots as XML instead
(see `simulator.b2mml`); quality inspections, lot splits/merges and machine states
are always NDJSON events. `production_counted` reports a machine's count for each run period (at most 15
minutes, never across a shift or break boundary), stamped with the period's start.
"""

from __future__ import annotations

EVENT_FIELDS: dict[str, dict[str, str]] = {
    "work_order_released": {
        "work_order_id": "work order identifier (shared with WMS)",
        "line_id": "production line equipment id",
        "material_code": "MES code of the material to produce",
        "planned_quantity": "quantity to produce, in `unit`",
        "unit": "MES unit of the material",
        "planned_start_at": "planned start (ISO 8601 UTC, microseconds): when the line's outstanding load "
                            "is planned to be done",
        "due_at": "due date (ISO 8601 UTC, microseconds): the planned completion, fixed at release",
    },
    "work_order_started": {
        "work_order_id": "work order identifier",
        "line_id": "production line equipment id",
    },
    "work_order_completed": {
        "work_order_id": "work order identifier",
        "line_id": "production line equipment id",
        "good_quantity": "good units leaving the last operation",
        "scrap_quantity": "units scrapped over all operations",
        "unit": "MES unit of the produced material",
    },
    "operation_started": {
        "work_order_id": "work order identifier",
        "operation_seq": "routing operation number (10, 20, ...)",
        "machine_id": "work cell equipment id",
        "operator_id": "operator assigned to the machine in the shift the operation starts in (OP-<line><crew><n>)",
    },
    "operation_completed": {
        "work_order_id": "work order identifier",
        "operation_seq": "routing operation number",
        "machine_id": "work cell equipment id",
        "quantity": "units processed by the operation",
        "good_quantity": "units passed on",
        "scrap_quantity": "units scrapped at this operation",
        "unit": "MES unit of the produced material",
    },
    "material_consumed": {
        "work_order_id": "work order identifier",
        "machine_id": "machine of the first operation",
        "material_code": "MES code of the consumed component",
        "consumed_lot_code": "lot the component was taken from",
        "quantity": "consumed quantity in `unit`",
        "unit": "MES unit of the component",
        "location_code": "MES line-side location code",
    },
    "lot_produced": {
        "work_order_id": "work order identifier",
        "machine_id": "machine of the last operation",
        "material_code": "MES code of the produced material",
        "lot_code": "new lot",
        "quantity": "good quantity in the lot, in `unit`",
        "unit": "MES unit",
        "location_code": "MES line-side location code",
    },
    "lot_split": {
        "material_code": "MES material code",
        "lot_code": "lot that is split (ceases to exist)",
        "split_lots": "list of {lot_code, quantity} created from it",
        "unit": "MES unit",
        "location_code": "MES line-side location code",
    },
    "lot_merged": {
        "material_code": "MES material code",
        "merged_lots": "list of {lot_code, quantity} merged (cease to exist)",
        "lot_code": "resulting lot",
        "quantity": "quantity of the resulting lot",
        "unit": "MES unit",
        "location_code": "MES line-side location code",
    },
    "quality_inspection": {
        "inspection_id": "inspection identifier",
        "work_order_id": "work order identifier",
        "operation_seq": "operation inspected",
        "machine_id": "work cell equipment id",
        "material_code": "MES material code",
        "inspected_quantity": "units inspected (all units since the previous inspection)",
        "good_quantity": "units passed",
        "scrap_quantity": "units failed and scrapped",
        "defect_code": "dominant defect (D01-DIMENSION, D02-POROSITY, D03-SURFACE) or null",
        "setpoint_deviation_c": "mean process temperature deviation from setpoint, deg C",
        "pressure_bar": "mean process pressure, bar",
        "unit": "MES unit",
    },
    "production_counted": {
        "work_order_id": "work order identifier",
        "machine_id": "work cell equipment id",
        "material_code": "MES code of the material being produced",
        "quantity": "units completed on the machine in the counted period that starts at occurred_at",
        "good_quantity": "of those, units without defect",
        "unit": "MES unit",
    },
    "equipment_state_changed": {
        "machine_id": "work cell equipment id",
        "state": "idle | running | planned_stop | unplanned_stop",
        "reason_code": "not_scheduled, no_order, starved, producing, break, changeover, "
                       "planned_maintenance, breakdown, material_shortage, micro_stop",
        "previous_state": "state before the change",
        "previous_reason_code": "reason before the change",
    },
}

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_FIELDS)


def build_event(event_id: str, event_type: str, occurred_at_iso: str, **fields: object) -> dict[str, object]:
    """An MES event dict with exactly the documented fields, in documented order."""
    expected = EVENT_FIELDS[event_type]
    missing = set(expected) - set(fields)
    unexpected = set(fields) - set(expected)
    if missing or unexpected:
        raise ValueError(f"{event_type}: missing {sorted(missing)} unexpected {sorted(unexpected)}")
    event: dict[str, object] = {"event_id": event_id, "event_type": event_type, "occurred_at": occurred_at_iso}
    for name in expected:
        event[name] = fields[name]
    return event
