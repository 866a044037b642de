"""Looking ahead at the line side (gold): time-phased material requirements, predicted shortages and the picks
that cover them, as forecast at the latest refresh (see transforms/material_requirements.py and
transforms/shortages.py)."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s, _f = pa.string(), pa.float64()
_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("line_material_requirements", "gold", pa.schema([
        pa.field("line_id", _s, nullable=False), pa.field("material_id", _s, nullable=False),
        pa.field("work_order_id", _s, nullable=False), pa.field("required_at", _utc, nullable=False),
        pa.field("required_quantity", _f, nullable=False), pa.field("cumulative_quantity", _f, nullable=False),
        pa.field("forecast_at", _utc, nullable=False)]),
        "Material each line needs in the next hours (default 8 h), per material and waiting work order: the "
        "order's BOM quantity (base unit) at its predicted start on the line's first machine (release order, "
        "the machine's actual rate, shift working time); cumulative_quantity sums the line's requirement of the "
        "material up to that order.", ("line_id", "material_id", "work_order_id")),
    TableSpec("shortage_forecast", "gold", pa.schema([
        pa.field("line_id", _s, nullable=False), pa.field("material_id", _s, nullable=False),
        pa.field("short_at", _utc, nullable=False), pa.field("work_order_id", _s, nullable=False),
        pa.field("line_side_quantity", _f, nullable=False), pa.field("required_quantity", _f, nullable=False),
        pa.field("shortfall_quantity", _f, nullable=False), pa.field("warehouse_quantity", _f, nullable=False),
        pa.field("forecast_at", _utc, nullable=False)]),
        "When each line side runs short inside the horizon: the first waiting order its line-side stock does "
        "not cover (short_at), the horizon's requirement beyond the line-side stock (shortfall_quantity) and "
        "what the warehouse holds of the material.", ("line_id", "material_id")),
    TableSpec("pick_suggestions", "gold", pa.schema([
        pa.field("line_id", _s, nullable=False), pa.field("material_id", _s, nullable=False),
        pa.field("lot_id", _s, nullable=False), pa.field("from_location_id", _s, nullable=False),
        ("to_location_id", _s), pa.field("pick_quantity", _f, nullable=False),
        pa.field("lot_received_at", _utc, nullable=False), pa.field("short_at", _utc, nullable=False),
        pa.field("pick_by_at", _utc, nullable=False), pa.field("lead_time_s", _f, nullable=False),
        pa.field("pick_rule", _s, nullable=False), pa.field("forecast_at", _utc, nullable=False)]),
        "Picks covering every predicted shortfall from warehouse lots, first-in first-out (the lake has no "
        "expiry dates): quantity, source bin and lot, the line side, and pick_by_at = short_at minus the "
        "observed median issue lead time.", ("line_id", "material_id", "lot_id", "from_location_id")),
]
