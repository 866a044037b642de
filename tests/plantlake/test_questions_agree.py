"""One question, three routes, one answer: the Python API (`plantlake.Lake`), the CLI's JSON output and DuckDB SQL
written by hand from the documented tables (docs/catalog.md) give the same numbers for a table of questions.

The SQL never calls plantlake's transforms: it sums numerators and denominators the way docs/kpis.md says, rebuilds
stock from the ledger's signed lines, and walks the genealogy edges with recursive CTEs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from plantlake import Lake

# The virtual locations as master data declares them (silver.dim_location, location_type 'virtual'): the other side
# of a movement, never stock. `test_the_literal_virtual_locations_are_the_documented_ones` ties the two together.
VIRTUAL = ("V-SUPPLIER", "V-CUSTOMER", "V-PRODUCTION-CONSUMPTION", "V-PRODUCTION-OUTPUT", "V-LOT-TRANSFORMATION",
           "V-INVENTORY-ADJUSTMENT", "V-SCRAP")
ZERO = 1e-9  # a balance this close to zero is no balance (summation order may leave a residue of this size)


@dataclass(frozen=True)
class Plant:
    """The lake and the question's inputs, picked from the raw tables (not from the API's answers)."""

    lake: Lake
    root: Path
    cli: Callable[..., Any]
    monday: date
    sunday: date
    month_start: date
    month_end: date
    moment: datetime
    material: str
    lot: str
    supplier_lot: str

    def sql(self, query: str) -> list[dict[str, Any]]:
        return self.lake.sql(query).to_dicts()


@pytest.fixture(scope="module")
def plant(plant_root: Path, cli_json: Callable[..., Any]) -> Plant:
    lake = Lake(plant_root)
    first_day = lake.sql("select min(kpi_date) as d from gold.kpi_daily")["d"][0]
    monday = first_day - timedelta(days=first_day.weekday())
    month_start = first_day.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    first_move = lake.sql("select min(occurred_at) as t from gold.fct_inventory_ledger")["t"][0]
    moment = datetime.combine(first_move.date() + timedelta(days=5), time(12, 0), tzinfo=timezone.utc)
    material = lake.sql(f"""
        select material_id from gold.fct_inventory_ledger
        where occurred_at <= TIMESTAMPTZ '{moment.isoformat()}' and location_id not in {VIRTUAL}
        group by material_id order by count(distinct (lot_id, location_id)) desc, material_id limit 1
    """)["material_id"][0]
    # the shipped lot with the deepest history (then the most ancestors), and its first supplier lot
    lot = lake.sql("""
        with recursive walk(root, node_id, depth) as (
            select parent_node_id, parent_node_id, 0 from silver.fct_genealogy_edges where edge_type = 'shipment'
            union
            select w.root, e.parent_node_id, w.depth + 1
            from silver.fct_genealogy_edges e join walk w on e.child_node_id = w.node_id
            where w.depth < 100
        )
        select root from walk group by root order by max(depth) desc, count(distinct node_id) desc, root limit 1
    """)["root"][0]
    supplier_node = min(row["node_id"] for row in _ancestors_sql(lake, lot) if row["node_id"].startswith("SUP:"))
    return Plant(lake, plant_root, cli_json, monday, monday + timedelta(days=6), month_start, month_end, moment,
                 material, lot, supplier_node.removeprefix("SUP:"))


# ---- the answers, each route normalized to the same plain shape ------------------------------------------------
def kpi_answer(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, float, float | None]]:
    """{(scope_id, period): (numerator, denominator, value)}"""
    answer = {(str(r["scope_id"]), str(r["period"])): (r["numerator"], r["denominator"], r["value"]) for r in rows}
    assert len(answer) == len(rows), "one row per scope and period"
    return answer


def stock_answer(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, float, bool]]:
    """[(material, lot, location, quantity, is_negative)] sorted, zero balances left out."""
    return sorted((r["material_id"], r["lot_id"], r["location_id"], r["quantity"], r["is_negative"])
                  for r in rows if abs(r["quantity"]) > ZERO)


def depth_answer(rows: list[dict[str, Any]]) -> dict[str, int]:
    """{node_id: depth}"""
    answer = {r["node_id"]: r["depth"] for r in rows}
    assert len(answer) == len(rows), "each node once"
    return answer


def shipment_answer(rows: list[dict[str, Any]]) -> list[tuple[str, str, str | None, float | None]]:
    """[(lot, shipment_id, customer_id, quantity)] sorted (a multiset: one entry per shipped lot line)."""
    return sorted(((r["lot"], r["shipment_id"], r["customer_id"], r["quantity"]) for r in rows),
                  key=lambda t: (t[0], t[1], str(t[2]), -math.inf if t[3] is None else t[3]))


def kpi_sql_daily(plant: Plant, kpi: str, scope_type: str, scope_id: str, unit: str, start: date, end: date) -> str:
    return f"""
        select scope_id, strftime(date_trunc('{unit}', kpi_date), '%Y-%m-%d') as period,
               sum(numerator) as numerator, sum(denominator) as denominator,
               sum(numerator) / sum(denominator) as value
        from gold.kpi_daily
        where kpi = '{kpi}' and scope_type = '{scope_type}' and scope_id = '{scope_id}'
          and kpi_date between DATE '{start}' and DATE '{end}'
        group by all"""


def oee_sql_from_shifts(plant: Plant) -> str:
    """OEE straight from the base table: fully productive time over planned time of the line's machines."""
    return f"""
        select m.line_id as scope_id, strftime(date_trunc('week', s.shift_date), '%Y-%m-%d') as period,
               sum(s.fully_productive_time_s) as numerator, sum(s.planned_time_s) as denominator,
               sum(s.fully_productive_time_s) / sum(s.planned_time_s) as value
        from gold.oee_by_machine_shift s join silver.dim_machine m on m.machine_id = s.machine_id
        where m.line_id = 'LINE-01' and s.shift_date between DATE '{plant.monday}' and DATE '{plant.sunday}'
        group by all"""


def otif_sql_from_customers(plant: Plant) -> str:
    """Site OTIF as the sum over the customers (OTIF's native scope), summed then divided."""
    return f"""
        select (select equipment_id from silver.dim_equipment where equipment_level = 'site') as scope_id,
               strftime(date_trunc('month', kpi_date), '%Y-%m-%d') as period,
               sum(numerator) as numerator, sum(denominator) as denominator,
               sum(numerator) / sum(denominator) as value
        from gold.kpi_daily
        where kpi = 'otif' and scope_type = 'customer'
          and kpi_date between DATE '{plant.month_start}' and DATE '{plant.month_end}'
        group by all"""


def stock_sql(plant: Plant, material: str | None) -> str:
    only = f"and material_id = '{material}'" if material else ""
    return f"""
        select material_id, lot_id, location_id, sum(quantity_delta) as quantity,
               sum(quantity_delta) < 0 as is_negative
        from gold.fct_inventory_ledger
        where occurred_at <= TIMESTAMPTZ '{plant.moment.isoformat()}' {only}
          and location_id not in {VIRTUAL}
        group by material_id, lot_id, location_id
        having sum(quantity_delta) != 0"""


def _ancestors_sql(lake: Lake, lot: str) -> list[dict[str, Any]]:
    """The lot (depth 0) and every node upstream of it, at its shortest depth."""
    return lake.sql(f"""
        with recursive walk(node_id, depth) as (
            select '{lot}', 0
            union
            select e.parent_node_id, w.depth + 1
            from silver.fct_genealogy_edges e join walk w on e.child_node_id = w.node_id
            where w.depth < 100
        )
        select node_id, min(depth) as depth from walk group by node_id""").to_dicts()


def recall_sql(plant: Plant) -> str:
    """Every shipment edge leaving a node reachable from the supplier lot."""
    return f"""
        with recursive reached(node_id) as (
            select 'SUP:' || '{plant.supplier_lot}'
            union
            select e.child_node_id from silver.fct_genealogy_edges e join reached r on e.parent_node_id = r.node_id
        )
        select e.parent_node_id as lot, regexp_replace(e.child_node_id, '^SHP:', '') as shipment_id,
               e.customer_id, e.quantity
        from silver.fct_genealogy_edges e join reached r on e.parent_node_id = r.node_id
        where e.edge_type = 'shipment'"""


@dataclass(frozen=True)
class Question:
    name: str
    api: Callable[[Plant], Any]
    cli: Callable[[Plant], Any]
    sql: tuple[Callable[[Plant], Any], ...]


QUESTIONS = [
    Question(
        "oee_of_a_line_for_an_iso_week",
        api=lambda p: kpi_answer(p.lake.kpi("oee", scope="line:LINE-01", start=p.monday, end=p.sunday,
                                            grain="week").to_dicts()),
        cli=lambda p: kpi_answer(p.cli(p.root, "kpi", "--kpi", "oee", "--scope", "line:LINE-01", "--from",
                                       str(p.monday), "--to", str(p.sunday), "--grain", "week")),
        sql=(lambda p: kpi_answer(p.sql(kpi_sql_daily(p, "oee", "line", "LINE-01", "week", p.monday, p.sunday))),
             lambda p: kpi_answer(p.sql(oee_sql_from_shifts(p))))),
    Question(
        "site_otif_for_a_month",
        api=lambda p: kpi_answer(p.lake.kpi("otif", scope="site", start=p.month_start, end=p.month_end,
                                            grain="month").to_dicts()),
        cli=lambda p: kpi_answer(p.cli(p.root, "kpi", "--kpi", "otif", "--scope", "site", "--from",
                                       str(p.month_start), "--to", str(p.month_end), "--grain", "month")),
        sql=(lambda p: kpi_answer(p.sql(kpi_sql_daily(p, "otif", "site", _site(p), "month", p.month_start,
                                                      p.month_end))),
             lambda p: kpi_answer(p.sql(otif_sql_from_customers(p))))),
    Question(
        "stock_of_a_material_as_of_a_time",
        api=lambda p: stock_answer(p.lake.stock(p.moment, material=p.material).to_dicts()),
        cli=lambda p: stock_answer(p.cli(p.root, "stock", "--as-of", p.moment.isoformat(), "--material",
                                         p.material)),
        sql=(lambda p: stock_answer(p.sql(stock_sql(p, p.material))),)),
    Question(
        "stock_of_every_material_as_of_a_time",
        api=lambda p: stock_answer(p.lake.stock(p.moment.isoformat()).to_dicts()),
        cli=lambda p: stock_answer(p.cli(p.root, "stock", "--as-of", p.moment.strftime("%Y-%m-%dT%H:%M:%SZ"))),
        sql=(lambda p: stock_answer(p.sql(stock_sql(p, None))),)),
    Question(
        "backward_trace_of_a_shipped_lot",
        api=lambda p: depth_answer(p.lake.trace(p.lot, direction="backward").to_dicts()),
        cli=lambda p: depth_answer(p.cli(p.root, "trace", p.lot, "--direction", "backward")["nodes"]),
        sql=(lambda p: depth_answer(_ancestors_sql(p.lake, p.lot)),)),
    Question(
        "recall_of_a_supplier_lot",
        api=lambda p: shipment_answer(p.lake.recall(p.supplier_lot).to_dicts()),
        cli=lambda p: shipment_answer(p.cli(p.root, "recall", p.supplier_lot)["shipments"]),
        sql=(lambda p: shipment_answer(p.sql(recall_sql(p))),)),
]


def _site(plant: Plant) -> str:
    return plant.sql("select equipment_id from silver.dim_equipment where equipment_level = 'site'")[0]["equipment_id"]


def assert_same(got: Any, want: Any, where: str = "answer") -> None:
    """Equal, floats within 1e-9 relative (1e-12 absolute near zero)."""
    if isinstance(want, float) or isinstance(got, float):
        assert isinstance(got, (int, float)) and isinstance(want, (int, float)), f"{where}: {got!r} != {want!r}"
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {got!r} != {want!r}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), \
            f"{where}: keys differ: only got {set(got) - set(want)}, only wanted {set(want) - set(got)}"
        for key in want:
            assert_same(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.name for q in QUESTIONS])
def test_the_api_the_cli_and_hand_written_sql_agree(plant: Plant, question: Question) -> None:
    api = question.api(plant)
    assert api, f"{question.name}: the API's answer is empty"
    assert_same(question.cli(plant), api, f"{question.name} (CLI)")
    for i, sql in enumerate(question.sql):
        assert_same(sql(plant), api, f"{question.name} (SQL route {i + 1})")


def test_the_answers_are_about_something(plant: Plant) -> None:
    """The picked questions are not trivial: a full week of a producing line, several stock balances, a deep
    trace back to supplier lots, a recall reaching customers."""
    ((numerator, denominator, value),) = QUESTIONS[0].api(plant).values()
    assert denominator > 0 and 0 < value < 1 and numerator > 0
    assert plant.sql(f"select count(distinct shift_date) as n from gold.oee_by_machine_shift "
                     f"where shift_date between DATE '{plant.monday}' and DATE '{plant.sunday}'")[0]["n"] >= 5
    ((_, shipped, _),) = QUESTIONS[1].api(plant).values()
    assert shipped >= 5
    assert len(QUESTIONS[2].api(plant)) >= 2
    assert len(QUESTIONS[3].api(plant)) > len(QUESTIONS[2].api(plant))
    trace = plant.lake.trace(plant.lot, direction="backward")
    assert trace["depth"].max() >= 3 and trace.filter(pl.col("node_kind") == "supplier_lot").height >= 2
    recall = plant.lake.recall(plant.supplier_lot)
    assert plant.lot in recall["lot"].to_list() and recall["customer_id"].drop_nulls().n_unique() >= 1


def test_the_literal_virtual_locations_are_the_documented_ones(plant: Plant) -> None:
    documented = plant.sql("select location_id from silver.dim_location where location_type = 'virtual'")
    assert sorted(r["location_id"] for r in documented) == sorted(VIRTUAL)
