"""The genealogy as a picture drawn without any external program: networkx lays the trace out in layers (depth
back to the left, forward to the right), Altair draws it (in the browser, or as SVG through vl-convert)."""

from __future__ import annotations

import altair as alt
import networkx as nx
import polars as pl

KIND_COLOURS = {"supplier_lot": "#f58518", "lot": "#4c78a8", "shipment": "#54a24b"}


def layout(nodes: pl.DataFrame, edges: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(nodes with x, y; edges with x, y, x2, y2): ancestors at -depth, descendants at +depth, the root at 0."""
    graph = nx.DiGraph()
    for node_id, kind, relation, depth, share in nodes.select("node_id", "node_kind", "relation", "depth",
                                                               "share").iter_rows():
        layer = 0 if relation == "root" else (-depth if "ancestor" in relation else depth)
        graph.add_node(node_id, layer=layer, kind=kind, share=share)
    for parent, child in edges.select("parent_node_id", "child_node_id").iter_rows():
        if parent in graph and child in graph:
            graph.add_edge(parent, child)
    positions = nx.multipartite_layout(graph, subset_key="layer") if graph.number_of_nodes() > 1 else \
        {node: (0.0, 0.0) for node in graph}
    placed = nodes.with_columns(pl.col("node_id").map_elements(lambda n: float(positions[n][0]), pl.Float64).alias("x"),
                                pl.col("node_id").map_elements(lambda n: float(positions[n][1]), pl.Float64).alias("y"))
    lines = [{"parent": p, "child": c, "x": float(positions[p][0]), "y": float(positions[p][1]),
              "x2": float(positions[c][0]), "y2": float(positions[c][1])} for p, c in graph.edges]
    return placed, pl.DataFrame(lines, schema={"parent": pl.String, "child": pl.String, "x": pl.Float64,
                                               "y": pl.Float64, "x2": pl.Float64, "y2": pl.Float64})


def genealogy_chart(nodes: pl.DataFrame, edges: pl.DataFrame, *, height: int = 420) -> alt.LayerChart:
    placed, lines = layout(nodes, edges)
    axis = alt.Axis(labels=False, ticks=False, grid=False, title=None, domain=False)
    links = alt.Chart(lines.to_pandas()).mark_rule(color="#999", opacity=0.6).encode(
        x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q")
    frame = placed.to_pandas()
    points = alt.Chart(frame).mark_circle(size=220, opacity=1).encode(
        x="x:Q", y="y:Q",
        color=alt.Color("node_kind:N", scale=alt.Scale(domain=list(KIND_COLOURS), range=list(KIND_COLOURS.values()))),
        tooltip=["node_id", "node_kind", "relation", "depth", alt.Tooltip("share:Q", format=".4f")])
    labels = alt.Chart(frame).mark_text(dy=-14, fontSize=10).encode(x="x:Q", y="y:Q", text="node_id:N")
    return alt.layer(links, points, labels).properties(height=height)


def genealogy_svg(nodes: pl.DataFrame, edges: pl.DataFrame) -> str:
    """The same picture as a standalone SVG (vl-convert, no browser or graphviz needed)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(genealogy_chart(nodes, edges).properties(width=900).to_json())
