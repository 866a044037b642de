"""Report-level fault injection applied when a day's MES/WMS records are written.

Fault types injected here (the simulation-level ones - unreported_consumption,
wrong_lot, over_issue - are injected in `material_flow`):
- malformed_record: an NDJSON line truncated mid-object, or a CSV row whose quantity is
  not a number ("n/a") or whose occurred_at is not ISO 8601 ("31.02.2026 25:61").
- unknown_code: a material code (MES, WMS) or location code (WMS) not in master data.
- unit_mismatch: a unit that cannot be converted to the material's base unit ("L").
- duplicate_event: the same record (same event_id / transaction_id) written twice.
- late_event: a record written into the file of a later day (occurred_at unchanged).
- duplicate_file: a whole day file delivered a second time as `<date>_redelivery.<ext>`.
Every fault is returned as a dict for `truth/faults.parquet`; records that already carry
a simulation-level fault are left untouched so each record has at most one fault.
"""

from __future__ import annotations

import json

import numpy as np

from .config import FaultRates

INCONVERTIBLE_UNIT = "L"


def _fault(fault_type: str, system: str, source_file: str, record_key: str, description: str) -> dict:
    return {"fault_type": fault_type, "source_system": system, "source_file": source_file,
            "record_key": record_key, "description": description}


def serialize_event(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def corrupt_mes_events(events: list[dict], protected: set[str], rng: np.random.Generator, rates: FaultRates,
                       source_file: str, allow_late: bool) -> tuple[list[str], list[dict], list[dict]]:
    """Serialized lines to write, faults injected, events postponed to a later day's file."""
    lines, faults, late = [], [], []
    for event in events:
        key = str(event["event_id"])
        draws = rng.random(5)
        if key in protected:
            lines.append(serialize_event(event))
            continue
        if allow_late and draws[0] < rates.late_event:
            late.append(event)
            continue
        line = serialize_event(event)
        malformed = False
        if draws[1] < rates.malformed_record:
            line = line[: max(24, len(line) // 2)]
            malformed = True
            faults.append(_fault("malformed_record", "MES", source_file, key, "JSON line truncated mid-object"))
        elif draws[2] < rates.unknown_code and "material_code" in event:
            code = f"ZZ{event['material_code']}"
            line = serialize_event({**event, "material_code": code})
            faults.append(_fault("unknown_code", "MES", source_file, key, f"material_code {code} not in master data"))
        elif draws[3] < rates.unit_mismatch and "unit" in event:
            line = serialize_event({**event, "unit": INCONVERTIBLE_UNIT})
            faults.append(_fault("unit_mismatch", "MES", source_file, key,
                                 f"unit {INCONVERTIBLE_UNIT} instead of {event['unit']}"))
        lines.append(line)
        if not malformed and draws[4] < rates.duplicate_event:
            lines.append(line)
            faults.append(_fault("duplicate_event", "MES", source_file, key, "event written twice"))
    return lines, faults, late


def corrupt_wms_rows(rows: list[dict], protected: set[str], rng: np.random.Generator, rates: FaultRates,
                     source_file: str, allow_late: bool) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows to write, faults injected, rows postponed to a later day's file."""
    written, faults, late = [], [], []
    for row in rows:
        key = row["transaction_id"]
        draws = rng.random(6)
        if key in protected:
            written.append(row)
            continue
        if allow_late and draws[0] < rates.late_event:
            late.append(row)
            continue
        if draws[1] < rates.malformed_record:
            if row["quantity"] and draws[5] < 0.5:
                row = {**row, "quantity": "n/a"}
                description = "quantity is not a number"
            else:
                row = {**row, "occurred_at": "31.02.2026 25:61"}
                description = "occurred_at is not an ISO 8601 timestamp"
            faults.append(_fault("malformed_record", "WMS", source_file, key, description))
        elif draws[2] < rates.unknown_code:
            if draws[5] < 0.5:
                row = {**row, "material_code": f"ZZ-{row['material_code']}"}
                description = f"material_code {row['material_code']} not in master data"
            else:
                column = "to_location_code" if row["to_location_code"] else "from_location_code"
                row = {**row, column: "X-99-99"}
                description = f"{column} X-99-99 not in master data"
            faults.append(_fault("unknown_code", "WMS", source_file, key, description))
        elif draws[3] < rates.unit_mismatch:
            faults.append(_fault("unit_mismatch", "WMS", source_file, key,
                                 f"unit {INCONVERTIBLE_UNIT} instead of {row['unit']}"))
            row = {**row, "unit": INCONVERTIBLE_UNIT}
        written.append(row)
        if draws[4] < rates.duplicate_event:
            written.append(row)
            faults.append(_fault("duplicate_event", "WMS", source_file, key, "transaction row written twice"))
    return written, faults, late


def late_fault(system: str, source_file: str, record_key: str, occurred_at: str) -> dict:
    return _fault("late_event", system, source_file, record_key,
                  f"record occurred at {occurred_at} but was delivered in a later day's file")


def duplicate_file_fault(system: str, copy_file: str, original_file: str) -> dict:
    return _fault("duplicate_file", system, copy_file, original_file, f"second delivery of {original_file}")
