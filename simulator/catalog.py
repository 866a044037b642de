"""Static product catalog of the simulated pump plant: materials, system codes, BOM.

Quantities inside the simulator are always integers in the material's base unit
(EA or G), which keeps every stock balance exact. MES and WMS use their own
material codes and units; `wms_pack_base` is the WMS handling unit expressed in
base units (WMS receives, issues and returns whole handling units).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MaterialSpec:
    material_id: str
    material_name: str
    material_type: str  # raw | semi_finished | finished | packaging
    base_unit: str  # EA | G
    mes_code: str
    mes_unit: str
    wms_code: str
    wms_unit: str
    wms_pack_base: int  # base units per WMS unit
    conversions: tuple[tuple[str, str, float], ...]  # (from_unit, to_unit, factor)
    supplier_id: str = ""
    ideal_cycle_time_s: float = 0.0  # base ideal cycle time per unit (produced materials)


MATERIALS: tuple[MaterialSpec, ...] = (
    MaterialSpec("RM-1001", "Aluminium billet 6082", "raw", "G", "100100", "G",
                 "ALU-BILLET", "KG", 1000, (("KG", "G", 1000.0),), "SUP-01"),
    MaterialSpec("RM-1002", "Polymer granulate PA66", "raw", "G", "100200", "G",
                 "PA66-GRAN", "KG", 1000, (("KG", "G", 1000.0),), "SUP-02"),
    MaterialSpec("RM-1003", "Hex screw M6x20", "raw", "EA", "100300", "EA",
                 "SCR-M6-20", "BOX", 250, (("BOX", "EA", 250.0),), "SUP-03"),
    MaterialSpec("RM-1004", "O-ring 40x3 NBR", "raw", "EA", "100400", "EA",
                 "ORING-40", "BOX", 100, (("BOX", "EA", 100.0),), "SUP-03"),
    MaterialSpec("RM-1005", "Copper winding wire 0.8 mm", "raw", "G", "100500", "G",
                 "CU-WIRE-08", "KG", 1000, (("KG", "G", 1000.0),), "SUP-04"),
    MaterialSpec("RM-1006", "Ball bearing 6204", "raw", "EA", "100600", "EA",
                 "BRG-6204", "BOX", 24, (("BOX", "EA", 24.0),), "SUP-04"),
    MaterialSpec("PK-2001", "Folding carton 300x200x200", "packaging", "EA", "200100", "EA",
                 "CARTON-M", "PAL", 1000, (("PAL", "BOX", 40.0), ("BOX", "EA", 25.0)), "SUP-05"),
    MaterialSpec("PK-2002", "Product label 100x50", "packaging", "EA", "200200", "EA",
                 "LABEL-100", "BOX", 1000, (("BOX", "EA", 1000.0),), "SUP-05"),
    MaterialSpec("SF-3001", "Pump housing", "semi_finished", "EA", "300100", "EA",
                 "HSG-PUMP", "PCE", 1, (("PCE", "EA", 1.0),), ideal_cycle_time_s=24.0),
    MaterialSpec("SF-3002", "Impeller", "semi_finished", "EA", "300200", "EA",
                 "IMPELLER", "PCE", 1, (("PCE", "EA", 1.0),), ideal_cycle_time_s=16.0),
    MaterialSpec("SF-3003", "Motor stator", "semi_finished", "EA", "300300", "EA",
                 "STATOR", "PCE", 1, (("PCE", "EA", 1.0),), ideal_cycle_time_s=28.0),
    MaterialSpec("FG-4001", "Compact pump CP-25", "finished", "EA", "400100", "EA",
                 "PUMP-CP25", "PCE", 1, (("PCE", "EA", 1.0),), ideal_cycle_time_s=36.0),
    MaterialSpec("FG-4002", "Power pump PP-40", "finished", "EA", "400200", "EA",
                 "PUMP-PP40", "PCE", 1, (("PCE", "EA", 1.0),), ideal_cycle_time_s=44.0),
    MaterialSpec("FG-4003", "Circulator C-15", "finished", "EA", "400300", "EA",
                 "CIRC-C15", "PCE", 1, (("PCE", "EA", 1.0),), ideal_cycle_time_s=30.0),
)

# parent -> ((component, quantity per parent in component base unit), ...)
BOM: dict[str, tuple[tuple[str, int], ...]] = {
    "SF-3001": (("RM-1001", 850), ("RM-1003", 4)),
    "SF-3002": (("RM-1002", 120),),
    "SF-3003": (("RM-1005", 300), ("RM-1006", 2)),
    "FG-4001": (("SF-3001", 1), ("SF-3002", 1), ("SF-3003", 1), ("RM-1004", 2),
                ("RM-1003", 6), ("PK-2001", 1), ("PK-2002", 1)),
    "FG-4002": (("SF-3001", 1), ("SF-3002", 2), ("SF-3003", 1), ("RM-1004", 3),
                ("RM-1003", 8), ("PK-2001", 1), ("PK-2002", 1)),
    "FG-4003": (("SF-3002", 1), ("SF-3003", 1), ("RM-1004", 1), ("RM-1003", 4),
                ("PK-2001", 1), ("PK-2002", 1)),
}

SUPPLIERS: tuple[tuple[str, str], ...] = (
    ("SUP-01", "Nordalu Metals GmbH"),
    ("SUP-02", "Rheinpoly Compounds AG"),
    ("SUP-03", "Fastenix Industrial Supply"),
    ("SUP-04", "Elbe Drive Components"),
    ("SUP-05", "Packwell Verpackungen"),
)

CUSTOMERS: tuple[tuple[str, str], ...] = (
    ("CUS-01", "Aqua Systems Distribution"),
    ("CUS-02", "HeatTech Installers"),
    ("CUS-03", "Municipal Water Works Ost"),
    ("CUS-04", "Garden & Pool Retail"),
    ("CUS-05", "Industrial Fluid Services"),
)

MACHINE_TYPES: tuple[tuple[str, str], ...] = (
    ("Machining center", "Machining"),
    ("Injection molding", "Molding"),
    ("Winding station", "Winding"),
    ("Assembly cell", "Assembly"),
    ("Leak test bench", "LeakTest"),
    ("Packing station", "Packing"),
)

MATERIALS_BY_ID: dict[str, MaterialSpec] = {m.material_id: m for m in MATERIALS}


def produced_materials() -> list[MaterialSpec]:
    return [m for m in MATERIALS if m.material_type in ("semi_finished", "finished")]


def purchased_materials() -> list[MaterialSpec]:
    return [m for m in MATERIALS if m.material_type in ("raw", "packaging")]


def bom_level(parent_id: str) -> int:
    """Level of a BOM relation: 1 = components of finished goods, 2 = of semi-finished."""
    return 1 if MATERIALS_BY_ID[parent_id].material_type == "finished" else 2


def operation_count(material_id: str, machines_per_line: int) -> int:
    """Finished goods visit every machine of a line, semi-finished all but the last."""
    if MATERIALS_BY_ID[material_id].material_type == "finished" or machines_per_line == 1:
        return machines_per_line
    return machines_per_line - 1


def unit_factor_to_base(material: MaterialSpec, unit: str) -> float | None:
    """Factor converting a quantity in `unit` to the base unit, chaining conversions."""
    factors = {material.base_unit: 1.0}
    changed = True
    while changed:
        changed = False
        for from_unit, to_unit, factor in material.conversions:
            if to_unit in factors and from_unit not in factors:
                factors[from_unit] = factor * factors[to_unit]
                changed = True
    return factors.get(unit)
