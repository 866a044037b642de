"""Quality KPIs (ISO 22400 first pass yield, scrap ratio, rework ratio) per machine or line and plant-local
inspection day, from MES quality inspections.

`inspections` (bronze mes_quality_inspections): occurred_at, machine_id, inspected_quantity, good_quantity,
scrap_quantity (missing quantities count as 0). For scope "line", `machines` (dim_machine: machine_id, line_id)
maps each machine to its line.

Every ratio has the inspected quantity as denominator, so the three add up per row: yield + scrap ratio +
rework ratio = 1 whenever good + scrap <= inspected. The MES reports no rework: rework is what was inspected
but neither passed nor scrapped, max(inspected - good - scrap, 0).
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals as nw

from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day
from transforms.kpi.scopes import with_line_of_machine

Frame = nw.LazyFrame[Any]
Scope = Literal["machine", "line"]


def scoped_inspections(inspections: Frame, machines: Frame | None = None, *, plant_timezone: str,
                       scope: Scope = "machine") -> Frame:
    """Inspections with scope_id (machine or its line), day and quantities with nulls as 0."""
    quantities = [nw.col(c).cast(nw.Float64).fill_null(0.0)
                  for c in ("inspected_quantity", "good_quantity", "scrap_quantity")]
    rows = inspections.with_columns(*quantities, plant_day("occurred_at", plant_timezone).alias("day"))
    if scope == "machine":
        return rows.with_columns(nw.col("machine_id").alias("scope_id"))
    if scope == "line":
        if machines is None:
            raise ValueError("scope 'line' needs machines (machine_id, line_id)")
        return with_line_of_machine(rows, machines)
    raise ValueError(f"scope must be machine or line, got {scope!r}")


def first_pass_yield(inspections: Frame, machines: Frame | None = None, *, plant_timezone: str,
                     scope: Scope = "machine") -> Frame:
    """first_pass_yield: good quantity / inspected quantity."""
    rows = scoped_inspections(inspections, machines, plant_timezone=plant_timezone, scope=scope)
    return kpi_rows(rows, kpi="first_pass_yield", scope_type=scope, numerator=nw.col("good_quantity"),
                    denominator=nw.col("inspected_quantity"))


def scrap_ratio(inspections: Frame, machines: Frame | None = None, *, plant_timezone: str,
                scope: Scope = "machine") -> Frame:
    """scrap_ratio: scrap quantity / inspected quantity."""
    rows = scoped_inspections(inspections, machines, plant_timezone=plant_timezone, scope=scope)
    return kpi_rows(rows, kpi="scrap_ratio", scope_type=scope, numerator=nw.col("scrap_quantity"),
                    denominator=nw.col("inspected_quantity"))


def rework_ratio(inspections: Frame, machines: Frame | None = None, *, plant_timezone: str,
                 scope: Scope = "machine") -> Frame:
    """rework_ratio: max(inspected - good - scrap, 0) / inspected quantity."""
    rows = scoped_inspections(inspections, machines, plant_timezone=plant_timezone, scope=scope)
    rework = nw.col("inspected_quantity") - nw.col("good_quantity") - nw.col("scrap_quantity")
    return kpi_rows(rows, kpi="rework_ratio", scope_type=scope,
                    numerator=nw.when(rework > 0).then(rework).otherwise(0.0),
                    denominator=nw.col("inspected_quantity"))
