"""MES events as reported by the execution system (NDJSON or ISA-95 B2MML; MES codes and units)."""

import pyarrow as pa

from lakehouse.catalog import TableSpec
from lakehouse.tables.lineage import UTC, with_lineage

_s, _f, _i = pa.string(), pa.float64(), pa.int64()


def _event(*fields: pa.Field | tuple[str, pa.DataType]) -> pa.Schema:
    return with_lineage(pa.field("event_id", _s, nullable=False), pa.field("event_type", _s, nullable=False),
                        pa.field("occurred_at", UTC, nullable=False), *fields)


TABLES = [
    TableSpec("mes_work_order_events", "bronze", _event(
        pa.field("work_order_id", _s, nullable=False), ("line_id", _s), ("material_code", _s),
        ("planned_quantity", _f), ("good_quantity", _f), ("scrap_quantity", _f), ("unit", _s),
        ("planned_start_at", UTC), ("due_at", UTC)),
        "Work order released, started and completed; a release carries the planned start and the due date "
        "(planned completion), fixed at release.", ("event_id",), partition_by=("event_date",)),
    TableSpec("mes_operation_events", "bronze", _event(
        pa.field("work_order_id", _s, nullable=False), pa.field("operation_seq", _i, nullable=False),
        pa.field("machine_id", _s, nullable=False), ("quantity", _f), ("good_quantity", _f),
        ("scrap_quantity", _f), ("unit", _s), ("operator_id", _s)),
        "Routing operations started and completed on a machine; a start names the operator on the machine "
        "(null from B2MML).", ("event_id",), partition_by=("event_date",)),
    TableSpec("mes_material_consumption", "bronze", _event(
        pa.field("work_order_id", _s, nullable=False), ("machine_id", _s),
        pa.field("material_code", _s, nullable=False), pa.field("consumed_lot_code", _s, nullable=False),
        pa.field("quantity", _f, nullable=False), pa.field("unit", _s, nullable=False), ("location_code", _s)),
        "Component lots consumed by work orders.", ("event_id",), partition_by=("event_date",)),
    TableSpec("mes_lot_events", "bronze", _event(
        pa.field("line_seq", _i, nullable=False), ("work_order_id", _s), ("machine_id", _s),
        pa.field("material_code", _s, nullable=False), pa.field("lot_code", _s, nullable=False),
        ("source_lot_code", _s), pa.field("quantity", _f, nullable=False), pa.field("unit", _s, nullable=False),
        ("location_code", _s)),
        "Lots produced, split and merged: one row per lot relation (source_lot_code is the input lot of a "
        "split or merge; quantity is what moved along the relation).",
        ("event_id", "line_seq"), partition_by=("event_date",)),
    TableSpec("mes_quality_inspections", "bronze", _event(
        pa.field("inspection_id", _s, nullable=False), ("work_order_id", _s), ("operation_seq", _i),
        ("machine_id", _s), ("material_code", _s), ("inspected_quantity", _f), ("good_quantity", _f),
        ("scrap_quantity", _f), ("defect_code", _s), ("setpoint_deviation_c", _f), ("pressure_bar", _f),
        ("unit", _s)),
        "Quality inspections with measured process parameters and defect codes.",
        ("event_id",), partition_by=("event_date",)),
    TableSpec("mes_production_counts", "bronze", _event(
        pa.field("work_order_id", _s, nullable=False), pa.field("machine_id", _s, nullable=False),
        pa.field("material_code", _s, nullable=False), pa.field("quantity", _f, nullable=False),
        pa.field("good_quantity", _f, nullable=False), ("unit", _s)),
        "A machine's count for one run period (starting at occurred_at): units completed and units good.",
        ("event_id",), partition_by=("event_date",)),
    TableSpec("mes_equipment_states", "bronze", _event(
        pa.field("machine_id", _s, nullable=False), pa.field("state", _s, nullable=False),
        pa.field("reason_code", _s, nullable=False), ("previous_state", _s), ("previous_reason_code", _s)),
        "Equipment state changes with reason codes.", ("event_id",), partition_by=("event_date",)),
    TableSpec("mes_material_lots", "bronze", _event(
        pa.field("lot_code", _s, nullable=False), pa.field("material_code", _s, nullable=False),
        ("lot_status", _s), ("quantity", _f), ("unit", _s)),
        "Material lots and sublots as the MES reports them (B2MML MaterialInformation, MaterialLot, MaterialSubLot): "
        "status and quantity; a sublot is a row under its own lot code with its parent lot's material.",
        ("event_id",), partition_by=("event_date",)),
]
