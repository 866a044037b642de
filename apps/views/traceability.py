"""Traceability (quality teams): find a lot, supplier lot or shipment; its genealogy as a picture and a table,
backward and forward, with quantities and shares; a recall with its lots, shipments and customers, exported as
formula-safe CSV and as JSON."""

from __future__ import annotations

import polars as pl
import streamlit as st

from apps import data, ui
from apps.export import safe_csv
from apps.graph import genealogy_chart, genealogy_svg

KINDS = ["lot", "supplier lot", "shipment"]


def render() -> None:
    st.title("Traceability")
    trace_section()
    st.divider()
    recall_section()


def trace_section() -> None:
    st.subheader("Genealogy")
    start_node = ui.param("node")
    start_kind = ("supplier lot" if start_node and start_node.startswith("SUP:") else
                  "shipment" if start_node and start_node.startswith("SHP:") else "lot")
    row = st.columns([1, 2, 2, 2])
    kind = row[0].radio("Search", KINDS, index=KINDS.index(start_kind), key="tr_kind")
    text = row[1].text_input("Contains", value=start_node or "", key="tr_text")
    found = data.search_nodes(text, kind=kind)
    if not found:
        st.info(f"No {kind} whose id contains {text!r}.")
        return
    node = row[2].selectbox("Node", found, index=ui.index_of(found, start_node), key="tr_node")
    directions = ["backward", "forward", "both"]
    direction = row[3].radio("Direction", directions, index=ui.index_of(directions, ui.param("direction"), 2),
                             horizontal=True, key="tr_direction")
    nodes, edges = data.trace(node, direction)
    st.markdown(f"**{node}**: {nodes.height - 1} linked nodes, {edges.height} edges ({direction})")
    st.altair_chart(genealogy_chart(nodes, edges), width="stretch", key="genealogy_graph")
    tabs = st.tabs(["Nodes", "Edges (quantities)", "Picture as SVG"])
    with tabs[0]:
        ui.table(nodes, narrow="`plantlake trace` lists them all")
    with tabs[1]:
        ui.table(edges.select("parent_node_id", "child_node_id", "edge_type", "quantity", "unit", "fraction",
                              "occurred_at", "work_order_id", "machine_id", "customer_id"),
                 narrow="`plantlake trace` lists them all")
    with tabs[2]:
        if st.button("Render SVG", key="tr_svg"):
            st.download_button("Download genealogy.svg", genealogy_svg(nodes, edges), file_name=f"{node}.svg",
                               mime="image/svg+xml")


def recall_section() -> None:
    st.subheader("Recall")
    supplier_lots = [node.removeprefix("SUP:") for node in data.search_nodes("", kind="supplier lot", limit=10**9)]
    if not supplier_lots:
        st.info("The genealogy has no supplier lots yet.")
        return
    start = (ui.param("supplier_lot") or "").removeprefix("SUP:")
    supplier_lots = ui.choices(supplier_lots, keep=start)
    supplier_lot = st.selectbox("Supplier lot", supplier_lots, index=ui.index_of(supplier_lots, start),
                                key="rc_supplier_lot")
    result = data.recall(supplier_lot)
    cards = st.columns(3)
    cards[0].metric("Customers", len(result.customers))
    cards[1].metric("Shipments", result.shipments["shipment_id"].n_unique() if not result.shipments.is_empty() else 0)
    cards[2].metric("Affected lots", len(result.affected_lots))
    st.markdown("**Customers:** " + (", ".join(result.customers) or "none (nothing made from it was shipped)"))
    ui.table(result.shipments, narrow="the CSV and JSON below hold them all")
    with st.expander(f"Affected lots ({len(result.affected_lots)}), end-of-chain lots "
                     f"({len(result.end_of_chain_lots)})"):
        end_of_chain = set(result.end_of_chain_lots)
        ui.table(pl.DataFrame({"lot": result.affected_lots,
                               "is_end_of_chain": [lot in end_of_chain for lot in result.affected_lots]}),
                 narrow="the JSON below holds them all")
    buttons = st.columns(2)
    buttons[0].download_button("Recall as CSV", safe_csv(result.shipments), file_name=f"recall-{supplier_lot}.csv",
                               mime="text/csv", key="rc_csv")
    buttons[1].download_button("Recall as JSON", result.json, file_name=f"recall-{supplier_lot}.json",
                               mime="application/json", key="rc_json")


ui.run_page(render, "silver.fct_genealogy_edges")
