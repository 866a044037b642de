"""Unit conversion factors to each material's base unit, from the master-data conversion table."""

from __future__ import annotations

import polars as pl
import pyarrow as pa


def unit_factors_to_base(materials: pa.Table, conversions: pa.Table) -> pa.Table:
    """(material_id, unit, factor_to_base) for the base unit itself and every unit that converts to it,
    directly or by chaining (PAL -> BOX -> EA). Conversions are usable in both directions."""
    base = {r["material_id"]: r["base_unit"] for r in materials.select(["material_id", "base_unit"]).to_pylist()}
    edges: dict[str, dict[str, dict[str, float]]] = {}
    for r in conversions.to_pylist():
        graph = edges.setdefault(r["material_id"], {})
        graph.setdefault(r["from_unit"], {})[r["to_unit"]] = r["factor"]
        graph.setdefault(r["to_unit"], {})[r["from_unit"]] = 1.0 / r["factor"]
    rows = []
    for material, base_unit in sorted(base.items()):
        factor_to_base = {base_unit: 1.0}
        frontier = [base_unit]
        graph = edges.get(material, {})
        while frontier:  # walk out from the base unit: factor(u) = factor(v) * (quantity in v per unit of u)
            unit = frontier.pop()
            for other, per_unit in graph.get(unit, {}).items():
                if other not in factor_to_base:
                    factor_to_base[other] = factor_to_base[unit] / per_unit
                    frontier.append(other)
        rows += [{"material_id": material, "unit": unit, "factor_to_base": factor}
                 for unit, factor in sorted(factor_to_base.items())]
    return pl.DataFrame(rows, schema={"material_id": pl.String, "unit": pl.String,
                                      "factor_to_base": pl.Float64}).to_arrow()
