"""KPI roll-ups up the equipment hierarchy: machine rows to line, area and site, line rows to area and site,
other scopes to site; sums before dividing, a KPI kept natively at a level is not rolled into it, parity."""

from __future__ import annotations

import pyarrow as pa
import pytest
from kpi_support import day

from lakehouse.engines import collect_arrow, lazy_frame
from lakehouse.parity import assert_engine_parity
from transforms.kpi.hierarchy import equipment_ancestors, scope_rollups

MACHINES = pa.table({"machine_id": ["M1", "M2", "M3", "M9"], "line_id": ["L1", "L1", "L2", "L-ORPHAN"]})
EQUIPMENT = pa.table({"equipment_id": ["SITE-1", "AREA-1", "AREA-2", "L1", "L2"],
                      "parent_equipment_id": [None, "SITE-1", "SITE-1", "AREA-1", "AREA-2"]},
                     schema=pa.schema({"equipment_id": pa.string(), "parent_equipment_id": pa.string()}))
DAILY = pa.table({
    "kpi": ["oee", "oee", "oee", "oee", "first_pass_yield", "first_pass_yield", "otif", "otif"],
    "scope_type": ["machine"] * 4 + ["line", "line", "customer", "customer"],
    "scope_id": ["M1", "M2", "M3", "M9", "L1", "L2", "C1", "C2"],
    "day": [day(5)] * 8,
    "numerator": [30.0, 50.0, 20.0, 5.0, 90.0, 40.0, 1.0, 3.0],
    "denominator": [100.0, 100.0, 50.0, 10.0, 100.0, 50.0, 2.0, 4.0]},
    schema=pa.schema({"kpi": pa.string(), "scope_type": pa.string(), "scope_id": pa.string(), "day": pa.date32(),
                      "numerator": pa.float64(), "denominator": pa.float64()}))


def rollups(daily: pa.Table = DAILY) -> dict[tuple[str, str, str], tuple[float, float]]:
    ancestors = equipment_ancestors(lazy_frame(MACHINES), lazy_frame(EQUIPMENT))
    rows = collect_arrow(scope_rollups(lazy_frame(daily), ancestors, site_id="SITE-1")).to_pylist()
    assert all(r["day"] == day(5) for r in rows)
    return {(r["kpi"], r["scope_type"], r["scope_id"]): (r["numerator"], r["denominator"]) for r in rows}


def test_ancestors_follow_the_hierarchy_and_name_missing_parents_unassigned() -> None:
    rows = collect_arrow(equipment_ancestors(lazy_frame(MACHINES), lazy_frame(EQUIPMENT))).to_pylist()
    assert sorted((r["machine"], r["line"], r["area"], r["site"]) for r in rows) == [
        ("M1", "L1", "AREA-1", "SITE-1"), ("M2", "L1", "AREA-1", "SITE-1"), ("M3", "L2", "AREA-2", "SITE-1"),
        ("M9", "L-ORPHAN", "unassigned", "unassigned")]


def test_each_level_sums_numerators_and_denominators_of_the_level_below() -> None:
    assert rollups() == {
        ("oee", "line", "L1"): (80.0, 200.0), ("oee", "line", "L2"): (20.0, 50.0),
        ("oee", "line", "L-ORPHAN"): (5.0, 10.0),
        ("oee", "area", "AREA-1"): (80.0, 200.0), ("oee", "area", "AREA-2"): (20.0, 50.0),
        ("oee", "area", "unassigned"): (5.0, 10.0),
        ("oee", "site", "SITE-1"): (105.0, 260.0),  # every machine counts once at the site
        ("first_pass_yield", "area", "AREA-1"): (90.0, 100.0), ("first_pass_yield", "area", "AREA-2"): (40.0, 50.0),
        ("first_pass_yield", "site", "SITE-1"): (130.0, 150.0),
        ("otif", "site", "SITE-1"): (4.0, 6.0),
    }


def test_a_kpi_kept_at_two_levels_rolls_up_from_the_finest_and_never_into_a_native_level() -> None:
    native_line_oee = pa.concat_tables([DAILY, pa.table({
        "kpi": ["oee", "otif"], "scope_type": ["line", "material"], "scope_id": ["L1", "MAT-1"],
        "day": [day(5)] * 2, "numerator": [1.0, 7.0], "denominator": [2.0, 7.0]}, schema=DAILY.schema)])
    rolled = rollups(native_line_oee)
    assert not [key for key in rolled if key[:2] == ("oee", "line")]
    assert rolled[("oee", "area", "AREA-1")] == (80.0, 200.0)  # from the machines, the line row not added again
    assert rolled[("oee", "site", "SITE-1")] == (105.0, 260.0)
    assert rolled[("otif", "site", "SITE-1")] == (4.0, 6.0)  # customer before material: one scope, not both


@pytest.mark.spark
def test_polars_and_spark_give_the_same_rollups(spark: object) -> None:
    def transform(daily, machines, equipment):  # noqa: ANN001, ANN202
        return scope_rollups(daily, equipment_ancestors(machines, equipment), site_id="SITE-1")

    assert_engine_parity(transform, {"daily": DAILY, "machines": MACHINES, "equipment": EQUIPMENT}, spark=spark)
