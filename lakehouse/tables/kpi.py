"""KPI tables (gold): OEE per machine and shift with every component, and every KPI per scope and day."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s, _f, _i = pa.string(), pa.float64(), pa.int64()
_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("oee_by_machine_shift", "gold", pa.schema([
        pa.field("machine_id", _s, nullable=False), ("line_id", _s),
        pa.field("shift_date", pa.date32(), nullable=False), pa.field("shift_id", _s, nullable=False),
        pa.field("shift_start_at", _utc, nullable=False), pa.field("shift_end_at", _utc, nullable=False),
        pa.field("calendar_time_s", _f, nullable=False), pa.field("break_time_s", _f, nullable=False),
        pa.field("planned_stop_time_s", _f, nullable=False), pa.field("not_scheduled_time_s", _f, nullable=False),
        pa.field("unknown_time_s", _f, nullable=False),
        pa.field("planned_time_s", _f, nullable=False), pa.field("run_time_s", _f, nullable=False),
        pa.field("micro_stop_time_s", _f, nullable=False), pa.field("failure_time_s", _f, nullable=False),
        pa.field("failure_count", _i, nullable=False), pa.field("opcua_sourced_time_s", _f, nullable=False),
        pa.field("unmapped_time_s", _f, nullable=False),
        pa.field("ideal_time_s", _f, nullable=False), pa.field("total_count", _i, nullable=False),
        pa.field("good_count", _i, nullable=False), ("availability", _f), ("performance", _f), ("quality", _f),
        ("oee", _f), ("fully_productive_time_s", _f), ("availability_loss_s", _f), ("performance_loss_s", _f),
        ("quality_loss_s", _f), pa.field("is_performance_above_one", pa.bool_(), nullable=False)]),
        "OEE per machine and shift (ISO 22400): the time waterfall (calendar -> planned -> run -> net run -> "
        "fully productive) from MES state events merged with OPC UA state tags (MES first; collector gaps are "
        "unknown time, taken out of planned time) and the shift calendar; counts from MES production counts, "
        "ideal time from routings; A x P x Q with every numerator and denominator kept, so roll-ups sum "
        "instead of averaging; failures for MTBF and MTTR.",
        ("machine_id", "shift_date", "shift_id")),
    TableSpec("kpi_daily", "gold", pa.schema([
        pa.field("kpi", _s, nullable=False), pa.field("scope_type", _s, nullable=False),
        pa.field("scope_id", _s, nullable=False), pa.field("kpi_date", pa.date32(), nullable=False),
        pa.field("numerator", _f, nullable=False), pa.field("denominator", _f, nullable=False), ("value", _f)]),
        "Every KPI (OEE family, TEEP, MTBF/MTTR, yields, lead times, delivery, inventory) per scope and "
        "plant-local day (kpi_date) as numerator / denominator. Each KPI has rows in its native scope (machine, "
        "line, material, customer or location) and rolled up: machine rows to line, area and site; line rows to "
        "area and site; every other scope to site (scope_type 'site', scope_id the site's equipment id). A week or "
        "month is the sum of its days' numerators over the sum of their denominators "
        "(`plantlake kpi`, `Lake.kpi`). Definitions: transforms/kpi/definitions.py.",
        ("kpi", "scope_type", "scope_id", "kpi_date")),
]
