"""Traces and recalls over the edges built from bronze equal what the simulator's truth graph says."""

from __future__ import annotations

import networkx as nx
import polars as pl
import pytest
from genealogy_support import PlantLake, clean_plant_lake

from transforms.genealogy import GenealogyIndex, recall, trace


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> PlantLake:
    return clean_plant_lake(tmp_path_factory.mktemp("genealogy_plant"))


@pytest.fixture(scope="module")
def index(plant: PlantLake) -> GenealogyIndex:
    edges = pl.from_arrow(plant.lake.read_arrow("fct_genealogy_edges"))
    assert isinstance(edges, pl.DataFrame)
    return GenealogyIndex.build(edges)


def test_every_finished_lot_traces_to_the_truth_ancestors_and_descendants(plant: PlantLake,
                                                                         index: GenealogyIndex) -> None:
    truth = plant.truth_graph()
    finished = plant.finished_lots()
    assert len(finished) >= 10
    several_inputs = splits_or_merges = 0
    for lot in finished:
        backward, forward = trace(index, lot, "backward"), trace(index, lot, "forward")
        assert backward.ancestors() == nx.ancestors(truth, lot), lot
        assert forward.descendants() == nx.descendants(truth, lot), lot
        assert backward.nodes["node_id"].is_unique().all() and forward.nodes["node_id"].is_unique().all()
        several_inputs += truth.in_degree(lot) > 1
        splits_or_merges += backward.edges["edge_type"].is_in(["split", "merge"]).any()
    assert several_inputs >= 5 and splits_or_merges >= 3  # the check covers multi-input lots, splits and merges


def test_both_directions_is_the_union_with_the_root_once(index: GenealogyIndex, plant: PlantLake) -> None:
    truth = plant.truth_graph()
    both = trace(index, "LOT-0000033", "both")
    assert both.ancestors() == nx.ancestors(truth, "LOT-0000033")
    assert both.descendants() == nx.descendants(truth, "LOT-0000033")
    assert both.nodes.filter(pl.col("relation") == "root")["node_id"].to_list() == ["LOT-0000033"]
    assert both.nodes.height == 1 + len(both.ancestors()) + len(both.descendants())


def test_recall_lists_exactly_the_customers_the_truth_reaches(plant: PlantLake, index: GenealogyIndex) -> None:
    truth, customers_of = plant.truth_graph(), plant.shipment_customers()
    supplier_lots = sorted(n for n in truth.nodes if n.startswith("SUP:"))
    assert len(supplier_lots) >= 5
    reached_customers = 0
    for node in supplier_lots:
        expected = {customers_of[d] for d in nx.descendants(truth, node) if d.startswith("SHP:")}
        result = recall(index, node.removeprefix("SUP:"))
        assert set(result.customers) == expected, node
        assert set(result.affected_lots) == {d for d in nx.descendants(truth, node)
                                             if not d.startswith(("SUP:", "SHP:"))}
        shipped = {f"SHP:{s}" for s in result.shipments["shipment_id"].to_list()}
        assert shipped == {d for d in nx.descendants(truth, node) if d.startswith("SHP:")}
        reached_customers += len(expected)
    assert reached_customers >= 3


def test_recall_shipments_carry_the_truth_quantities(plant: PlantLake, index: GenealogyIndex) -> None:
    truth = plant.truth_edges().filter(pl.col("edge_type") == "shipment")
    shipped = {(p, c.removeprefix("SHP:")): q for p, c, q in
               truth.select("parent_lot_id", "child_lot_id", "quantity").iter_rows()}
    checked = set()
    for node in sorted(n for n in plant.truth_graph().nodes if n.startswith("SUP:")):
        for lot, shipment, quantity in recall(index, node).shipments.select("lot", "shipment_id", "quantity").rows():
            assert shipped[(lot, shipment)] == pytest.approx(quantity)
            checked.add((lot, shipment))
    assert checked == set(shipped)


def test_backward_shares_equal_path_sums_on_the_truth(plant: PlantLake, index: GenealogyIndex) -> None:
    """An independent computation of the share rule on the truth graph: edge fraction = quantity over the
    child's in-edges of the same type, work order and parent material; share = sum over paths of products."""
    truth = plant.truth_edges()
    movements = pl.read_parquet(plant.landing / "truth" / "movements.parquet").drop_nulls("lot_id")
    material_of = dict(movements.select("lot_id", "material_id").unique(subset="lot_id").iter_rows())
    rows = truth.with_columns(pl.col("parent_lot_id").replace_strict(material_of, default=None).alias("material"),
                              pl.when(pl.col("edge_type") == "consumption").then(pl.col("work_order_id"))
                              .alias("group_work_order"))
    rows = rows.with_columns((pl.col("quantity") / pl.col("quantity").sum().over(
        "child_lot_id", "edge_type", "group_work_order", "material")).alias("fraction"))
    graph = nx.DiGraph()
    for parent, child, fraction in rows.select("parent_lot_id", "child_lot_id", "fraction").iter_rows():
        graph.add_edge(parent, child, fraction=fraction)
    compared = 0
    for lot in plant.finished_lots():
        expected = {lot: 1.0}
        for node in reversed(list(nx.topological_sort(graph.subgraph(nx.ancestors(graph, lot) | {lot})))):
            if node != lot:
                expected[node] = sum(expected[c] * graph[node][c]["fraction"] for c in graph.successors(node)
                                     if c in expected)
        ours = trace(index, lot, "backward").shares()
        assert ours.keys() == expected.keys()
        for node, share in expected.items():
            assert ours[node] == pytest.approx(share, rel=1e-9), (lot, node)
            compared += 1
    assert compared > 200
