"""Model features and risk scores (gold): per machine and hour, per work order, and the scored risk tables."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s, _f, _b = pa.string(), pa.float64(), pa.bool_()
_utc = pa.timestamp("us", tz="UTC")
_SIGNALS = ("vibration", "temperature", "current", "speed")


def _signal_fields() -> list[tuple[str, pa.DataType]]:
    fields = []
    for name in _SIGNALS:
        fields += [(f"{name}_mean_1h", _f), (f"{name}_max_1h", _f)]
        fields += [(f"{name}_mean_{w}h", _f) for w in (4, 12, 48)]
        fields += [(f"{name}_slope_{w}h", _f) for w in (12, 48)]
    return fields


MACHINE_HOUR_FEATURES = pa.schema([
    pa.field("machine_id", _s, nullable=False), pa.field("hour_start_at", _utc, nullable=False),
    pa.field("predicted_at", _utc, nullable=False), ("run_share", _f), ("micro_stops_24h", _f),
    ("breakdowns_7d", _f), ("breakdown_starts", _f), *_signal_fields(),
    ("run_h_since_maintenance", _f), ("run_h_since_breakdown", _f), ("hours_since_breakdown", _f),
    ("speed_vs_7d", _f), ("last_shift_availability", _f), ("last_shift_performance", _f),
    ("last_shift_quality", _f), ("is_breakdown_within_horizon", _b)])

MACHINE_HOUR_SIGNAL_STATS = pa.schema([
    pa.field("machine_id", _s, nullable=False), pa.field("hour_start_at", _utc, nullable=False),
    pa.field("hour_date", pa.date32(), nullable=False), ("run_share", _f),
    *((f"{name}_{part}", _f if part != "n" else pa.int64()) for name in _SIGNALS for part in ("sum", "n", "max")),
    ("breakdown_starts", pa.int64()), ("maintenance_starts", pa.int64()), ("micro_stops", pa.int64())])

WORK_ORDER_QUALITY_FEATURES = pa.schema([
    pa.field("work_order_id", _s, nullable=False), pa.field("predicted_at", _utc, nullable=False),
    ("first_machine_id", _s), ("material_code", _s), ("inspected_units", _f), ("scrap_units", _f),
    ("inspections", _f), ("pressure_max_bar", _f), ("deviation_mean_c", _f), ("deviation_square_mean", _f),
    ("pressure_excess_mean_bar", _f), ("machine_vibration_mean_48h", _f), ("machine_run_h_since_maintenance", _f),
    ("scrap_share", _f), ("supplier_lots", _f), ("suppliers", _f),
    ("input_lot_prior_inspected_units", _f), ("input_lot_prior_scrap_share_max", _f),
    ("riskiest_supplier_lot", _s), ("input_lot_prior_scrap_share", _f), ("input_lot_order_scrap_share_min_max", _f),
    ("input_lot_high_scrap_order_share_max", _f), ("is_high_scrap", _b)])

TABLES = [
    TableSpec("machine_hour_signal_stats", "silver", MACHINE_HOUR_SIGNAL_STATS,
              "Per machine and hour with signal samples (ml.features.maintenance.hourly_signal_stats): sums, "
              "counts and maxima of each condition tag while running, the running share and the hour's breakdown, "
              "planned-maintenance and micro-stop starts. Each hour depends only on its own samples and events, so "
              "the machine_hour_features refresh recomputes just the event dates whose inputs changed.",
              ("machine_id", "hour_start_at"), partition_by=("hour_date",)),
    TableSpec("machine_hour_features", "gold", MACHINE_HOUR_FEATURES,
              "Predictive-maintenance features per machine and hour (ml.features.maintenance): rolling means and "
              "slopes of vibration, temperature, motor current and speed while running over 4-48 h, run hours "
              "since the last planned maintenance and breakdown, micro-stops, speed loss and the last ended "
              "shift's A/P/Q, all from data before predicted_at (end of the hour); label "
              "is_breakdown_within_horizon (an MES breakdown starts within 24 h; null while not yet observable).",
              ("machine_id", "hour_start_at")),
    TableSpec("work_order_quality_features", "gold", WORK_ORDER_QUALITY_FEATURES,
              "Quality features per work order (ml.features.quality) at its latest inspection (predicted_at): "
              "process parameters of its operations, wear proxies of its machines (48-hour mean vibration and run "
              "hours since planned maintenance, from machine_hour_features as of each inspection) and input-lot "
              "features through the genealogy (supplier lots of its inputs, directly or inside subassemblies, and "
              "the scrap of other orders that consumed them before predicted_at, pooled, per worst lot and per other "
              "order); label is_high_scrap (scrap share >= 4 %).",
              ("work_order_id",)),
    TableSpec("machine_risk", "gold", pa.schema([
        pa.field("machine_id", _s, nullable=False), pa.field("predicted_at", _utc, nullable=False),
        pa.field("breakdown_risk", _f, nullable=False), pa.field("horizon_h", pa.int64(), nullable=False),
        ("top_reasons", _s), pa.field("model_name", _s, nullable=False),
        pa.field("model_version", _s, nullable=False), pa.field("scored_at", _utc, nullable=False)]),
              "Risk that each machine breaks down within the horizon after its latest hour of data, with the "
              "features that raise it most (`name=value (+risk)`) and the registry model version that scored it.",
              ("machine_id",)),
    TableSpec("quality_risk", "gold", pa.schema([
        pa.field("work_order_id", _s, nullable=False), pa.field("predicted_at", _utc, nullable=False),
        pa.field("is_open", _b, nullable=False), pa.field("high_scrap_risk", _f, nullable=False),
        ("riskiest_supplier_lot", _s), ("top_reasons", _s), ("produced_lot_ids", pa.list_(_s)),
        pa.field("model_name", _s, nullable=False),
        pa.field("model_version", _s, nullable=False), pa.field("scored_at", _utc, nullable=False)]),
              "Risk that a work order scraps at least 4 % of its units, for every open order and every order "
              "inspected in the last 7 days, with its top reasons, the lots it produced so far (the lots at risk, "
              "as the MES reported them and from the genealogy) and the registry model version that scored it.",
              ("work_order_id",)),
]
