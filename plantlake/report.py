"""What `plantlake demo` prints: stock, reconciliation, OEE per line, the plant KPIs and one trace each way."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake
from plantlake.lake import Lake


def oee_lines(lake: DeltaLake) -> list[str]:
    from lakehouse.engines import collect_arrow, lazy_frame
    from transforms.oee import roll_up

    if not lake.exists("oee_by_machine_shift"):
        return ["  no OEE table"]
    lines_oee = pl.from_arrow(collect_arrow(roll_up(lazy_frame(lake.read_arrow("oee_by_machine_shift")),
                                                    ["line_id"]))).sort("line_id")
    return [f"  {r['line_id']:<10} A {r['availability']:.3f}  P {r['performance']:.3f}  Q {r['quality']:.3f}  "
            f"OEE {r['oee']:.3f}  ({r['planned_time_s'] / 3600:,.1f} planned h, {r['total_count']:,} units)"
            for r in lines_oee.iter_rows(named=True)]


DEMO_KPIS = [  # (kpi, label, scale, unit shown)
    ("teep", "TEEP (fully productive / calendar time)", 1, ""),
    ("mtbf", "MTBF", 1 / 3600, "h"), ("mttr", "MTTR", 1 / 60, "min"),
    ("first_pass_yield", "first-pass yield", 1, ""), ("scrap_ratio", "scrap ratio", 1, ""),
    ("throughput_time", "production lead time (release -> completion)", 1 / 3600, "h"),
    ("schedule_adherence", "schedule adherence (completed by due date)", 1, ""),
    ("material_supply_lead_time", "material supply lead time (request -> line side)", 1 / 60, "min"),
    ("dock_to_stock_time", "dock-to-stock time (receipt -> putaway)", 1 / 60, "min"),
    ("otif", "OTIF (shipments on time in full)", 1, ""),
    ("inventory_accuracy", "inventory accuracy (cycle counts matching)", 1, ""),
    ("inventory_accuracy_quantity", "inventory accuracy (quantity-weighted)", 1, ""),
    ("inventory_turns", "inventory turns (annualised)", 1, "/year"),
    ("days_of_supply", "days of supply", 1, "days"),
    ("end_to_end_lead_time", "end-to-end lead time (supplier receipt -> shipment)", 1 / 86400, "days"),
]


def kpi_lines(lake: Lake) -> list[str]:
    """The plant's KPIs over the whole simulated period, at site scope (numerator / denominator summed)."""
    if not lake.delta.exists("kpi_daily"):
        return ["  no kpi_daily table"]
    rows = lake.kpi([k for k, *_ in DEMO_KPIS], scope="site", grain="month")
    totals = rows.group_by("kpi").agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    by_kpi = {r["kpi"]: r for r in totals.iter_rows(named=True)}
    lines = []
    for kpi, label, scale, unit in DEMO_KPIS:
        row = by_kpi.get(kpi)
        if row is None or not row["denominator"]:
            lines.append(f"  {label:<52} n/a (nothing measured)")
            continue
        value = row["numerator"] / row["denominator"] * scale
        shown = f"{value:.1%}" if not unit else f"{value:,.2f} {unit}"
        lines.append(f"  {label:<52} {shown:>12}   ({row['numerator']:,.0f} / {row['denominator']:,.0f})")
    return lines


def risk_lines(lake: DeltaLake, *, top: int = 5) -> list[str]:
    """The riskiest machines and work orders from gold.machine_risk / gold.quality_risk, with top reasons."""
    lines = []
    for table, key, risk, what in (("machine_risk", "machine_id", "breakdown_risk", "machines (breakdown within 24 h)"),
                                   ("quality_risk", "work_order_id", "high_scrap_risk", "work orders (scrap >= 4 %)")):
        lines += ["", f"== the {top} riskiest {what}"]
        rows = lake.scan(table).collect() if lake.exists(table) else pl.DataFrame()
        if rows.is_empty():
            lines.append("  none scored yet: no champion model (too little history to train; see the "
                         "models/* assets' metadata)")
            continue
        for row in rows.sort(risk, descending=True).head(top).iter_rows(named=True):
            lines.append(f"  {row[key]:<12} {row[risk]:>6.1%}  model v{row['model_version']}  because "
                         f"{row['top_reasons'] or 'no feature stands out'}")
    return lines


def inventory_report(lake_root: Path) -> str:
    api = Lake(lake_root)
    lake = api.delta
    stock = lake.scan("stock_on_hand").collect()
    by_material = (stock.group_by("material_id").agg(pl.col("quantity").sum(), pl.len().alias("balances"))
                   .sort("material_id"))
    lines = ["== stock on hand (from the double-entry ledger; base units)",
             f"{stock.height} material/lot/location balances, {int(stock['is_negative'].sum())} negative"]
    lines += [f"  {r['material_id']:<10} {r['quantity']:>14,.0f} in {r['balances']} balances"
              for r in by_material.iter_rows(named=True)]
    differences = lake.scan("reconciliation_differences").collect()
    lines += ["", "== MES <-> WMS reconciliation: differences by type"]
    counts = differences.group_by("difference_type").len().sort("difference_type")
    lines += [f"  {r['difference_type']:<24} {r['len']:>4}" for r in counts.iter_rows(named=True)] or ["  none"]

    lines += ["", "== OEE per line (A x P x Q, rolled up by summing times and counts over machines and shifts)"]
    lines += oee_lines(lake)
    lines += ["", "== plant KPIs for the simulated period (site; `plantlake kpi --list` names them all)"]
    lines += kpi_lines(api)
    lines += risk_lines(lake)

    edges = lake.scan("fct_genealogy_edges").collect()
    shipped = edges.filter(pl.col("edge_type") == "shipment").sort("occurred_at")
    if shipped.height:
        lot = shipped["parent_node_id"][-1]
        backward = api.trace_result(lot, direction="backward", max_depth=3)
        lines += ["", f"== backward trace of shipped lot {lot} (3 levels of {backward.nodes.height - 1} ancestors shown)",
                  backward.to_tree()]
    received = edges.filter(pl.col("edge_type") == "receipt").sort("occurred_at")
    if received.height:
        supplier_lot = received["parent_node_id"][0]
        result = api.recall_result(supplier_lot)
        lines += ["", f"== forward trace (recall) of supplier lot {supplier_lot}",
                  f"{len(result.affected_lots)} affected lots, {result.shipments.height} shipped lots, "
                  f"customers: {', '.join(result.customers) or 'none yet'}"]
        with pl.Config(tbl_rows=10, tbl_hide_dataframe_shape=True, tbl_width_chars=120):
            lines.append(str(result.shipments.head(10)))
    return "\n".join(lines)
