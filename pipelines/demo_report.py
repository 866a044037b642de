"""What `plantlake demo` prints about the inventory: stock, reconciliation and one trace each way."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake


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


def inventory_report(lake_root: Path) -> str:
    from transforms.genealogy.persistence import lake_index
    from transforms.genealogy.trace import recall, trace

    lake = DeltaLake(lake_root)
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

    edges = lake.scan("fct_genealogy_edges").collect()
    index = lake_index(lake)
    shipped = edges.filter(pl.col("edge_type") == "shipment").sort("occurred_at")
    if shipped.height:
        lot = shipped["parent_node_id"][-1]
        backward = trace(index, lot, "backward", max_depth=3)
        lines += ["", f"== backward trace of shipped lot {lot} (3 levels of {backward.nodes.height - 1} ancestors shown)",
                  backward.to_tree()]
    received = edges.filter(pl.col("edge_type") == "receipt").sort("occurred_at")
    if received.height:
        supplier_lot = received["parent_node_id"][0]
        result = recall(index, supplier_lot)
        lines += ["", f"== forward trace (recall) of supplier lot {supplier_lot}",
                  f"{len(result.affected_lots)} affected lots, {result.shipments.height} shipped lots, "
                  f"customers: {', '.join(result.customers) or 'none yet'}"]
        with pl.Config(tbl_rows=10, tbl_hide_dataframe_shape=True, tbl_width_chars=120):
            lines.append(str(result.shipments.head(10)))
    return "\n".join(lines)
