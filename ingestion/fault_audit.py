"""Audit a landing against a simulator run's list of injected faults: each fault must have the outcome
ingestion promises for it. Faults that only the MES/WMS reconciliation can see (over-issue, wrong lot,
unreported consumption) must pass ingestion untouched: landed, or absent where the system never reported it.
"""

from __future__ import annotations

import polars as pl

from lakehouse.delta_io import DeltaLake

EXPECTED = {
    "malformed_record": "quarantined",
    "unknown_code": "quarantined",
    "unit_mismatch": "quarantined",
    "duplicate_event": "landed once, copy counted as duplicate",
    "duplicate_file": "file logged as duplicate_file",
    "late_event": "landed in its event-date partition",
    "over_issue": "landed (for reconciliation)",
    "wrong_lot": "landed (for reconciliation)",
    "unreported_consumption": "absent (never reported)",
    "unreported_shrinkage": "nothing to land; found only if a later cycle count shows a difference",
}
TRANSACTION_TABLES = ("wms_transactions", "mes_work_order_events", "mes_operation_events",
                      "mes_material_consumption", "mes_lot_events", "mes_quality_inspections",
                      "mes_equipment_states", "mes_material_lots", "mes_production_counts")


def _landed_keys(lake: DeltaLake) -> pl.DataFrame:
    frames = []
    for table in TRANSACTION_TABLES:
        if lake.exists(table):
            key = "transaction_id" if table == "wms_transactions" else "event_id"
            # one record can land as several rows (a lot merge: one per lot relation); count it once per file
            frames.append(lake.scan(table).select(pl.col(key).alias("record_key"), "source_file").unique()
                          .collect())
    return pl.concat(frames) if frames else pl.DataFrame(schema={"record_key": pl.String, "source_file": pl.String})


def _quarantined(lake: DeltaLake) -> pl.DataFrame:
    frames = [lake.scan(t).select("source_file", "raw_payload").collect()
              for t in ("quarantine_wms_transactions", "quarantine_mes_events") if lake.exists(t)]
    return pl.concat(frames) if frames else pl.DataFrame(schema={"source_file": pl.String, "raw_payload": pl.String})


def _lots_with_count_differences(lake: DeltaLake) -> set[str]:
    if not lake.exists("wms_transactions"):
        return set()
    counts = lake.scan("wms_transactions").filter(
        (pl.col("transaction_type") == "COUNT") & (pl.col("counted_quantity") != pl.col("system_quantity")))
    return set(counts.select("lot_code").collect().to_series().to_list())


def audit_injected_faults(lake: DeltaLake, faults: pl.DataFrame) -> pl.DataFrame:
    """One row per fault type: injected, handled as promised, and the promise."""
    landed = _landed_keys(lake)
    landed_count = landed.group_by("record_key").len()
    quarantined = _quarantined(lake)
    log = lake.scan("ingest_log").select("source_file", "status").collect() if lake.exists("ingest_log") \
        else pl.DataFrame(schema={"source_file": pl.String, "status": pl.String})
    duplicate_files = set(log.filter(pl.col("status") == "duplicate_file")["source_file"].to_list())
    counts = dict(landed_count.iter_rows())
    counted_differences = _lots_with_count_differences(lake)
    rows = []
    for fault in faults.iter_rows(named=True):
        kind, key, file = fault["fault_type"], fault["record_key"], fault["source_file"]
        if kind in ("malformed_record", "unknown_code", "unit_mismatch"):
            in_file = quarantined.filter(pl.col("source_file") == file)["raw_payload"].to_list()
            handled = any(key in raw for raw in in_file) and counts.get(key, 0) == 0
        elif kind == "duplicate_file":
            handled = file in duplicate_files
        elif kind == "unreported_consumption":
            handled = counts.get(key, 0) == 0
        elif kind == "unreported_shrinkage":
            handled = key in counted_differences
        else:
            handled = counts.get(key, 0) == 1
        rows.append({"fault_type": kind, "handled": handled})
    if not rows:
        return pl.DataFrame(schema={"fault_type": pl.String, "injected": pl.UInt32, "handled": pl.UInt32,
                                    "expected_outcome": pl.String})
    return (pl.DataFrame(rows, schema={"fault_type": pl.String, "handled": pl.Boolean}).group_by("fault_type")
            .agg(pl.len().alias("injected"), pl.col("handled").sum().cast(pl.UInt32).alias("handled"))
            .with_columns(pl.col("fault_type").replace_strict(EXPECTED, default="?").alias("expected_outcome"))
            .sort("fault_type"))


def format_audit(audit: pl.DataFrame) -> str:
    lines = [f"{'fault':<24} {'injected':>8} {'handled':>8}  expected outcome"]
    lines += [f"{r['fault_type']:<24} {r['injected']:>8} {r['handled']:>8}  {r['expected_outcome']}"
              for r in audit.iter_rows(named=True)]
    return "\n".join(lines)
