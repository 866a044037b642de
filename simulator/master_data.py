"""Master data of the simulated plant (ISA-95 equipment, materials, codes, BOM, routings,
locations, calendar) built as a pure function of the config and written as CSV files."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .catalog import (BOM, CUSTOMERS, MACHINE_TYPES, MATERIALS, SUPPLIERS, bom_level,
                      operation_count, produced_materials)
from .config import PlantConfig
from .designed_bottleneck import apply_bottleneck_factor
from .shift_calendar import SCHEDULED_WEEKDAYS, SHIFT_PATTERNS, WEEKDAY_NAMES

WAREHOUSE_ZONES: dict[str, tuple[str, int]] = {  # zone_id -> (aisle letter, bins)
    "Z-RAW": ("A", 12),
    "Z-PCK": ("B", 6),
    "Z-SFG": ("C", 10),
    "Z-FGD": ("D", 10),
}
ZONE_BY_MATERIAL_TYPE = {"raw": "Z-RAW", "packaging": "Z-PCK", "semi_finished": "Z-SFG",
                         "finished": "Z-FGD"}
VIRTUAL_LOCATIONS = ("V-SUPPLIER", "V-PRODUCTION-CONSUMPTION", "V-PRODUCTION-OUTPUT",
                     "V-CUSTOMER", "V-SCRAP", "V-INVENTORY-ADJUSTMENT", "V-LOT-TRANSFORMATION")
RECEIVING_DOCK = "DOCK-RCV"
SHIPPING_DOCK = "DOCK-SHP"
# GS1 prefix 952 is reserved by GS1 for demonstrations and examples: the simulated plant's GTINs can never be a
# real company's. GTIN = this company prefix + a 5-digit item reference (the material number) + check digit.
GTIN_COMPANY_PREFIX = "9524321"


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of a GTIN, GLN or SSCC without its check digit: from the right, digits are
    weighted 3, 1, 3, 1, ...; the check digit brings the weighted sum up to a multiple of 10."""
    if not digits.isdigit():
        raise ValueError(f"a GS1 key has only digits, got {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def material_gtin(material_id: str) -> str:
    """The material's GTIN in the 14-digit form GS1 recommends for databases (GTIN-13, zero-filled): the demo
    company prefix, the material number as item reference (RM-1001 -> 01001) and the check digit."""
    number = "".join(ch for ch in material_id if ch.isdigit())
    if not number or len(number) > 12 - len(GTIN_COMPANY_PREFIX):
        raise ValueError(f"material id {material_id!r} has no item number for a GTIN")
    body = GTIN_COMPANY_PREFIX + number.zfill(12 - len(GTIN_COMPANY_PREFIX))
    return "0" + body + str(gs1_check_digit(body))


def line_id(line_index: int) -> str:
    return f"LINE-{line_index + 1:02d}"


def machine_id(line_index: int, position: int) -> str:
    return f"WC-{line_index + 1:02d}-{position + 1:02d}"


def line_side_location(line_index: int) -> str:
    return f"LS-{line_id(line_index)}"


@dataclass(frozen=True)
class MasterData:
    tables: dict[str, list[dict[str, object]]]
    machine_ids: tuple[str, ...]
    machines_by_line: tuple[tuple[str, ...], ...]
    ideal_cycle_time_s: dict[tuple[str, str], float]  # (material_id, machine_id) -> s
    bins_by_zone: dict[str, tuple[str, ...]]
    wms_location_code: dict[str, str]
    mes_location_code: dict[str, str]

    def write(self, master_dir: Path, plant_info: dict[str, object]) -> None:
        master_dir.mkdir(parents=True, exist_ok=True)
        for name, rows in self.tables.items():
            write_csv(master_dir / f"{name}.csv", list(rows[0].keys()), rows)
        (master_dir / "plant.json").write_text(json.dumps(plant_info, indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8")


def write_csv(path: Path, header: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _equipment(cfg: PlantConfig) -> list[dict[str, object]]:
    rows = [
        {"equipment_id": "ENT-PLANTLAKE", "parent_equipment_id": "", "equipment_level": "enterprise",
         "equipment_name": "Plantlake Industries"},
        {"equipment_id": "SITE-01", "parent_equipment_id": "ENT-PLANTLAKE", "equipment_level": "site",
         "equipment_name": cfg.plant_name},
        {"equipment_id": "AREA-01", "parent_equipment_id": "SITE-01", "equipment_level": "area",
         "equipment_name": "Pump production"},
    ]
    for line in range(cfg.lines):
        rows.append({"equipment_id": line_id(line), "parent_equipment_id": "AREA-01",
                     "equipment_level": "line", "equipment_name": f"Pump line {line + 1}"})
        for position in range(cfg.machines_per_line):
            long_name, _ = MACHINE_TYPES[position % len(MACHINE_TYPES)]
            rows.append({"equipment_id": machine_id(line, position), "parent_equipment_id": line_id(line),
                         "equipment_level": "work_cell",
                         "equipment_name": f"{long_name} {line + 1}.{position + 1}"})
    return rows


def _machines(cfg: PlantConfig) -> list[dict[str, object]]:
    rows = []
    for line in range(cfg.lines):
        for position in range(cfg.machines_per_line):
            long_name, short_name = MACHINE_TYPES[position % len(MACHINE_TYPES)]
            rows.append({"machine_id": machine_id(line, position), "line_id": line_id(line),
                         "machine_name": f"{long_name} {line + 1}.{position + 1}",
                         "opcua_browse_name": f"{short_name}_{line + 1:02d}_{position + 1:02d}"})
    return rows


def _ideal_cycle_times(cfg: PlantConfig) -> dict[tuple[str, str], float]:
    rng = np.random.default_rng([cfg.seed, 101])
    machine_factor = rng.uniform(0.85, 1.1, size=(cfg.lines, cfg.machines_per_line))
    position_factor = rng.uniform(0.75, 1.0, size=cfg.machines_per_line)
    times = {}
    for material in produced_materials():
        for line in range(cfg.lines):
            for position in range(operation_count(material.material_id, cfg.machines_per_line)):
                seconds = material.ideal_cycle_time_s * machine_factor[line, position] * position_factor[position]
                times[(material.material_id, machine_id(line, position))] = round(float(seconds), 1)
    return times


def _locations(cfg: PlantConfig) -> tuple[list[dict[str, object]], dict[str, tuple[str, ...]]]:
    rows = [
        {"location_id": RECEIVING_DOCK, "location_type": "dock", "zone_id": "Z-DOCK",
         "wms_location_code": "RCV-DOOR-01", "mes_location_code": "", "line_id": ""},
        {"location_id": SHIPPING_DOCK, "location_type": "dock", "zone_id": "Z-DOCK",
         "wms_location_code": "SHP-DOOR-01", "mes_location_code": "", "line_id": ""},
    ]
    bins_by_zone = {}
    for zone_id, (aisle, bin_count) in WAREHOUSE_ZONES.items():
        bins = []
        for number in range(1, bin_count + 1):
            location = f"WH-{zone_id[2:]}-{number:02d}"
            bins.append(location)
            rows.append({"location_id": location, "location_type": "warehouse_bin", "zone_id": zone_id,
                         "wms_location_code": f"{aisle}-{(number - 1) // 4 + 1:02d}-{(number - 1) % 4 + 1:02d}",
                         "mes_location_code": "", "line_id": ""})
        bins_by_zone[zone_id] = tuple(bins)
    for line in range(cfg.lines):
        rows.append({"location_id": line_side_location(line), "location_type": "line_side",
                     "zone_id": "Z-PROD", "wms_location_code": f"PSA-{line + 1:02d}",
                     "mes_location_code": f"L{line + 1:02d}-SUPPLY", "line_id": line_id(line)})
    for location in VIRTUAL_LOCATIONS:
        rows.append({"location_id": location, "location_type": "virtual", "zone_id": "Z-VIRTUAL",
                     "wms_location_code": "", "mes_location_code": "", "line_id": ""})
    return rows, bins_by_zone


def build_master_data(cfg: PlantConfig) -> MasterData:
    cycle_times = apply_bottleneck_factor(cfg, _ideal_cycle_times(cfg), machine_id)
    locations, bins_by_zone = _locations(cfg)
    routings = []
    for material in produced_materials():
        for line in range(cfg.lines):
            for position in range(operation_count(material.material_id, cfg.machines_per_line)):
                machine = machine_id(line, position)
                routings.append({"material_id": material.material_id, "line_id": line_id(line),
                                 "operation_seq": (position + 1) * 10, "machine_id": machine,
                                 "ideal_cycle_time_s": cycle_times[(material.material_id, machine)]})
    tables = {
        "equipment": _equipment(cfg),
        "machines": _machines(cfg),
        "materials": [{"material_id": m.material_id, "material_name": m.material_name,
                       "material_type": m.material_type, "base_unit": m.base_unit,
                       "gtin": material_gtin(m.material_id)} for m in MATERIALS],
        "material_code_map": [row for m in MATERIALS for row in (
            {"material_id": m.material_id, "system": "MES", "system_material_code": m.mes_code,
             "system_unit": m.mes_unit},
            {"material_id": m.material_id, "system": "WMS", "system_material_code": m.wms_code,
             "system_unit": m.wms_unit})],
        "unit_conversions": [{"material_id": m.material_id, "from_unit": f, "to_unit": t, "factor": factor}
                             for m in MATERIALS for f, t, factor in m.conversions],
        "bom": [{"parent_material_id": parent, "component_material_id": component,
                 "quantity_per_parent": quantity, "bom_level": bom_level(parent)}
                for parent, components in BOM.items() for component, quantity in components],
        "routings": routings,
        "shift_calendar": [{"shift_id": p.shift_id, "shift_name": p.shift_name,
                            "start_local_time": p.start_local_time.isoformat(),
                            "end_local_time": p.end_local_time.isoformat(),
                            "scheduled_weekdays": ",".join(WEEKDAY_NAMES[d] for d in SCHEDULED_WEEKDAYS)}
                           for p in SHIFT_PATTERNS],
        "shift_breaks": [{"shift_id": p.shift_id, "break_seq": seq + 1,
                          "break_start_local_time": start.isoformat(), "break_end_local_time": end.isoformat()}
                         for p in SHIFT_PATTERNS for seq, (start, end) in enumerate(p.breaks)],
        "locations": locations,
        "suppliers": [{"supplier_id": s, "supplier_name": n} for s, n in SUPPLIERS],
        "customers": [{"customer_id": c, "customer_name": n} for c, n in CUSTOMERS],
    }
    machines_by_line = tuple(tuple(machine_id(line, p) for p in range(cfg.machines_per_line))
                             for line in range(cfg.lines))
    return MasterData(
        tables=tables,
        machine_ids=tuple(m for line in machines_by_line for m in line),
        machines_by_line=machines_by_line,
        ideal_cycle_time_s=cycle_times,
        bins_by_zone=bins_by_zone,
        wms_location_code={r["location_id"]: r["wms_location_code"] for r in locations},
        mes_location_code={r["location_id"]: r["mes_location_code"] for r in locations},
    )
