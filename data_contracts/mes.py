"""Contracts for MES events, one per bronze MES table; NDJSON and B2MML records share them."""

from datetime import timedelta

from data_contracts.rules import Column, Contract

MAX_QUANTITY = 10_000_000.0
PLANNING_HORIZON = timedelta(days=366)  # how far ahead a planned date (start, due date) may lie
EVENT_TYPES = ("work_order_released", "work_order_started", "work_order_completed", "operation_started",
               "operation_completed", "material_consumed", "lot_produced", "lot_split", "lot_merged",
               "quality_inspection", "equipment_state_changed", "material_lot_reported", "production_counted")
UNITS = ("EA", "G", "KG", "BOX", "PAL", "PCE")
STATES = ("idle", "running", "planned_stop", "unplanned_stop")
REASON_CODES = ("not_scheduled", "no_order", "starved", "producing", "break", "changeover",
                "planned_maintenance", "breakdown", "material_shortage", "micro_stop")


def _event(*columns: Column) -> tuple[Column, ...]:
    return (Column("event_id", "code", required=True), Column("event_type", "code", required=True,
                                                              allowed=tuple(EVENT_TYPES)),
            Column("occurred_at", "timestamp", required=True), *columns)


def _quantity(name: str, required: bool = False) -> Column:
    return Column(name, "decimal", required=required, min_value=0.0, max_value=MAX_QUANTITY)


_unit = Column("unit", "code", allowed=UNITS)
_material = Column("material_code", "code", known_codes="mes_material")
_machine = Column("machine_id", "code", known_codes="machine")

MES_CONTRACTS = {
    "mes_work_order_events": Contract(
        "mes_work_order_events", "1", _event(
            Column("work_order_id", "code", required=True), Column("line_id", "code", known_codes="line"),
            _material, _quantity("planned_quantity"), _quantity("good_quantity"), _quantity("scrap_quantity"),
            _unit, Column("planned_start_at", "timestamp", future_tolerance=PLANNING_HORIZON),
            Column("due_at", "timestamp", future_tolerance=PLANNING_HORIZON)),
        key=("event_id",), record_types=("work_order_released", "work_order_started", "work_order_completed"),
        required_when=(("material_code", ("event_type", "==", "work_order_released")),
                       ("planned_quantity", ("event_type", "==", "work_order_released")))),
    "mes_operation_events": Contract(
        "mes_operation_events", "1", _event(
            Column("work_order_id", "code", required=True),
            Column("operation_seq", "integer", required=True, min_value=0, max_value=100_000),
            Column("machine_id", "code", required=True, known_codes="machine"),
            _quantity("quantity"), _quantity("good_quantity"), _quantity("scrap_quantity"), _unit,
            Column("operator_id", "code")),
        key=("event_id",), record_types=("operation_started", "operation_completed")),
    "mes_material_consumption": Contract(
        "mes_material_consumption", "1", _event(
            Column("work_order_id", "code", required=True), _machine,
            Column("material_code", "code", required=True, known_codes="mes_material"),
            Column("consumed_lot_code", "code", required=True), _quantity("quantity", required=True),
            Column("unit", "code", required=True, allowed=UNITS),
            Column("location_code", "code", known_codes="mes_location")),
        key=("event_id",), record_types=("material_consumed",)),
    "mes_lot_events": Contract(
        "mes_lot_events", "1", _event(
            Column("line_seq", "integer", required=True, min_value=0, max_value=10_000),
            Column("work_order_id", "code"), _machine,
            Column("material_code", "code", required=True, known_codes="mes_material"),
            Column("lot_code", "code", required=True), Column("source_lot_code", "code"),
            _quantity("quantity", required=True), Column("unit", "code", required=True, allowed=UNITS),
            Column("location_code", "code", known_codes="mes_location")),
        key=("event_id", "line_seq"), record_types=("lot_produced", "lot_split", "lot_merged")),
    "mes_quality_inspections": Contract(
        "mes_quality_inspections", "1", _event(
            Column("inspection_id", "code", required=True), Column("work_order_id", "code"),
            Column("operation_seq", "integer", min_value=0, max_value=100_000), _machine, _material,
            _quantity("inspected_quantity"), _quantity("good_quantity"), _quantity("scrap_quantity"),
            Column("defect_code", "code"),
            Column("setpoint_deviation_c", "decimal", min_value=-500.0, max_value=500.0),
            Column("pressure_bar", "decimal", min_value=0.0, max_value=10_000.0), _unit),
        key=("event_id",), record_types=("quality_inspection",)),
    "mes_production_counts": Contract(
        "mes_production_counts", "1", _event(
            Column("work_order_id", "code", required=True),
            Column("machine_id", "code", required=True, known_codes="machine"),
            Column("material_code", "code", required=True, known_codes="mes_material"),
            _quantity("quantity", required=True), _quantity("good_quantity", required=True), _unit),
        key=("event_id",), record_types=("production_counted",)),
    "mes_equipment_states": Contract(
        "mes_equipment_states", "1", _event(
            Column("machine_id", "code", required=True, known_codes="machine"),
            Column("state", "code", required=True, allowed=STATES),
            Column("reason_code", "code", required=True, allowed=REASON_CODES),
            Column("previous_state", "code", allowed=STATES),
            Column("previous_reason_code", "code", allowed=REASON_CODES)),
        key=("event_id",), record_types=("equipment_state_changed",)),
    "mes_material_lots": Contract(
        "mes_material_lots", "1", _event(
            Column("lot_code", "code", required=True),
            Column("material_code", "code", required=True, known_codes="mes_material"),
            Column("lot_status", "code"), _quantity("quantity"), _unit),
        key=("event_id",), record_types=("material_lot_reported",)),
}

TABLE_BY_EVENT_TYPE = {t: table for table, c in MES_CONTRACTS.items() for t in c.record_types}
