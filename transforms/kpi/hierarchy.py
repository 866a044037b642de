"""KPI rows rolled up the ISA-95 equipment hierarchy (machine -> line -> area -> site) and to the site for every
other scope, so `gold.kpi_daily` holds the row a question asks for at every level.

Rolling up sums numerators and denominators, then divides (`with_value`): a line's OEE is the sum of its
machines' fully productive time over the sum of their planned time, never an average of ratios.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.kpi.long_format import KPI_COLUMNS, UNASSIGNED

Frame = nw.LazyFrame[Any]
EQUIPMENT_LEVELS = ("machine", "line", "area", "site")


def equipment_ancestors(machines: Frame, equipment: Frame) -> Frame:
    """machine, line, area, site per machine (machines: machine_id, line_id; equipment: equipment_id,
    parent_equipment_id): a machine's line from dim_machine, the line's area and the area's site from the
    equipment hierarchy. A missing parent is UNASSIGNED."""
    parents = equipment.select(nw.col("equipment_id").alias("_child"), nw.col("parent_equipment_id").alias("_parent"))
    with_area = (machines.select(nw.col("machine_id").alias("machine"), nw.col("line_id").alias("line"))
                 .join(parents.rename({"_child": "line", "_parent": "area"}), on="line", how="left"))
    with_site = with_area.join(parents.rename({"_child": "area", "_parent": "site"}), on="area", how="left")
    return with_site.select(nw.col(level).cast(nw.String).fill_null(UNASSIGNED) for level in EQUIPMENT_LEVELS)


def scope_rollups(kpis: Frame, ancestors: Frame, *, site_id: str) -> Frame:
    """The roll-up rows (KPI_COLUMNS, summed) of daily KPI rows in their native scope: machine rows to line,
    area and site; line rows to area and site; rows of any other scope type (material, customer, location) to
    the site. `ancestors` is `equipment_ancestors`. Returns only the new rows.

    A KPI kept natively at more than one scope type rolls up from its finest one only (machine before line
    before any other), so nothing is counted twice, and never into a scope type it is kept at natively."""
    base = _finest_native_rows(kpis)
    parts = []
    for native_index, native in enumerate(EQUIPMENT_LEVELS[:2]):
        levels = ancestors.select(native, *EQUIPMENT_LEVELS[native_index + 1:3]).unique()
        rows = base.filter(nw.col("scope_type") == native).join(levels, left_on="scope_id", right_on=native,
                                                                how="left")
        for target in EQUIPMENT_LEVELS[native_index + 1:3]:
            parts.append(rows.select("kpi", nw.lit(target).alias("scope_type"),
                                     nw.col(target).fill_null(UNASSIGNED).alias("scope_id"),
                                     "day", "numerator", "denominator"))
    parts.append(base.select("kpi", nw.lit("site").alias("scope_type"), nw.lit(site_id).alias("scope_id"),
                             "day", "numerator", "denominator"))
    native_scopes = kpis.select("kpi", "scope_type").unique()
    return (nw.concat(parts, how="vertical").join(native_scopes, on=["kpi", "scope_type"], how="anti")
            .group_by("kpi", "scope_type", "scope_id", "day")
            .agg(nw.col("numerator").sum(), nw.col("denominator").sum()).select(*KPI_COLUMNS))


def _finest_native_rows(kpis: Frame) -> Frame:
    """Each KPI's rows of its finest native scope type (machine 0, line 1, anything else 2; ties by name)."""
    rank = (nw.when(nw.col("scope_type") == "machine").then(nw.lit(0))
            .when(nw.col("scope_type") == "line").then(nw.lit(1)).otherwise(nw.lit(2)))
    ranked = kpis.select("kpi", "scope_type").unique().with_columns(rank.alias("_rank"))
    finest = (ranked.group_by("kpi").agg(nw.col("_rank").min())
              .join(ranked, on=["kpi", "_rank"], how="inner")
              .group_by("kpi").agg(nw.col("scope_type").min()))
    return kpis.join(finest, on=["kpi", "scope_type"], how="inner")
