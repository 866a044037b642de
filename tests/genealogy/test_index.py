"""The CSR index on hand-made graphs: cycles, depth and time bounds, shares, incremental extend."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from genealogy_support import hand_edges

from transforms.genealogy import GenealogyIndex, UnknownNodeError, trace

# Two supplier lots of material A (A#1, A#2) and one of B feed work order WO-1 producing P#1 and P#2;
# P#1 is split into S#1 / S#2; S#1 and P#2 are merged into M#1, which is shipped.
PLANT = [
    ("SUP:a1", "A#1", "receipt", 100.0, 1), ("SUP:a2", "A#2", "receipt", 300.0, 1),
    ("SUP:b1", "B#1", "receipt", 50.0, 1),
    ("A#1", "P#1", "consumption", 10.0, 2), ("A#2", "P#1", "consumption", 30.0, 2),
    ("B#1", "P#1", "consumption", 5.0, 2),
    ("A#1", "P#2", "consumption", 10.0, 2), ("A#2", "P#2", "consumption", 30.0, 2),
    ("B#1", "P#2", "consumption", 5.0, 2),
    ("P#1", "S#1", "split", 6.0, 3), ("P#1", "S#2", "split", 4.0, 3),
    ("S#1", "M#1", "merge", 6.0, 4), ("P#2", "M#1", "merge", 2.0, 4),
    ("M#1", "SHP:1", "shipment", 8.0, 5),
]


def test_shares_follow_the_documented_rule_on_a_hand_made_graph() -> None:
    shares = trace(hand_edges(PLANT), "M#1", "backward").shares()
    # merge: S#1 brought 6 of 8, P#2 2 of 8; a split child is all parent: P#1 = 6/8 through S#1, plus P#2 = 2/8
    assert shares["S#1"] == pytest.approx(0.75) and shares["P#2"] == pytest.approx(0.25)
    assert shares["P#1"] == pytest.approx(0.75)
    # A#1 is 10 of the 40 of material A in each P lot: 0.25 * (0.75 + 0.25); B#1 is all of B
    assert shares["A#1"] == pytest.approx(0.25) and shares["A#2"] == pytest.approx(0.75)
    assert shares["B#1"] == pytest.approx(1.0) and shares["SUP:b1"] == pytest.approx(1.0)
    assert shares["SUP:a1"] == pytest.approx(0.25) and shares["M#1"] == 1.0
    assert "S#2" not in shares and "SHP:1" not in shares


def test_forward_shares_say_how_much_of_each_descendant_came_from_the_root() -> None:
    shares = trace(hand_edges(PLANT), "SUP:a1", "forward").shares()
    assert shares["P#1"] == pytest.approx(0.25) and shares["S#2"] == pytest.approx(0.25)
    assert shares["M#1"] == pytest.approx(0.75 * 0.25 + 0.25 * 0.25)
    assert shares["SHP:1"] == pytest.approx(0.25)


def test_depths_max_depth_and_time_bounds() -> None:
    edges = hand_edges(PLANT)
    full = trace(edges, "SHP:1", "backward")
    depths = dict(full.nodes.select("node_id", "depth").iter_rows())
    assert depths == {"SHP:1": 0, "M#1": 1, "S#1": 2, "P#2": 2, "P#1": 3, "A#1": 3, "A#2": 3, "B#1": 3,
                      "SUP:a1": 4, "SUP:a2": 4, "SUP:b1": 4}
    assert full.edges.height == 13  # every edge into a reached node: all but P#1 -> S#2
    two = trace(edges, "SHP:1", "backward", max_depth=2)
    assert set(two.nodes["node_id"]) == {"SHP:1", "M#1", "S#1", "P#2"} and two.edges.height == 3
    bounded = trace(edges, "SUP:a1", "forward", from_at="2026-01-05T00:00:00+00:00", to_at="2026-01-05T03:00:00Z")
    assert set(bounded.nodes["node_id"]) == {"SUP:a1", "A#1", "P#1", "P#2", "S#1", "S#2"}
    assert bounded.edges["occurred_at"].max().hour == 3


def test_a_cycle_terminates_and_lists_each_node_once() -> None:
    cyclic = hand_edges([("X#1", "Y#1", "split", 1.0, 1), ("Y#1", "Z#1", "split", 1.0, 2),
                         ("Z#1", "X#1", "merge", 1.0, 3), ("Z#1", "W#1", "split", 1.0, 4),
                         ("V#1", "X#1", "merge", 1.0, 0)])
    for direction in ("backward", "forward", "both"):
        result = trace(cyclic, "Y#1", direction)
        assert result.nodes["node_id"].is_unique().all()
    forward = trace(cyclic, "Y#1", "forward")
    assert forward.descendants() == {"Z#1", "X#1", "W#1"}
    assert forward.edges.height == 4 and forward.nodes.height == 4
    backward = trace(cyclic, "Y#1", "backward")
    assert backward.ancestors() == {"X#1", "Z#1", "V#1"}
    assert np.isnan(backward.shares()["V#1"])  # path sums through a cycle are not made up
    both = trace(cyclic, "Y#1", "both")
    relations = dict(both.nodes.select("node_id", "relation").iter_rows())
    assert relations == {"Y#1": "root", "X#1": "ancestor_and_descendant", "Z#1": "ancestor_and_descendant",
                         "V#1": "ancestor", "W#1": "descendant"}


def test_unknown_lot_is_a_clear_error() -> None:
    with pytest.raises(UnknownNodeError, match="NOPE"):
        trace(hand_edges(PLANT), "NOPE", "backward")


def _long_chain(count: int, seed: int) -> pl.DataFrame:
    """A random genealogy: each new lot consumes 1-3 earlier lots (many materials), plus splits and merges."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        child = f"M{i % 7}#{i}"
        for parent in {int(p) for p in rng.integers(0, max(i, 1), rng.integers(1, 4))}:
            if parent != i:
                rows.append((f"M{parent % 7}#{parent}", child, ["consumption", "split", "merge"][i % 3],
                             float(rng.integers(1, 50)), i % 48))
    return hand_edges(rows, work_order=None)


def test_extend_equals_a_full_rebuild() -> None:
    edges = _long_chain(600, seed=5)
    full = GenealogyIndex.build(edges)
    growing = GenealogyIndex.build(edges.head(400), compact_ratio=10.0)
    for start in range(400, edges.height, 97):
        growing.extend(edges.slice(start, 97))
    assert growing.edge_count == full.edge_count and growing.node_count == full.node_count
    assert growing.nodes.pending > 0  # still answering from base + delta
    for lot in ["M4#599", "M0#420", "M5#5", "M2#100"]:
        for direction in ("backward", "forward"):
            ours, expected = trace(growing, lot, direction), trace(full, lot, direction)
            assert ours.nodes.equals(expected.nodes, null_equal=True), (lot, direction)
            assert ours.edges.sort("edge_id").equals(expected.edges.sort("edge_id")), (lot, direction)
    growing.compact()
    assert growing.nodes.pending == 0
    for name, array in full.arrays().items():
        assert np.array_equal(growing.arrays()[name], array, equal_nan=True), name
    assert growing.rows.equals(full.rows)


def test_extend_past_the_compaction_threshold_compacts_by_itself() -> None:
    edges = _long_chain(300, seed=9)
    index = GenealogyIndex.build(edges.head(100), compact_ratio=0.25)
    index.extend(edges.slice(100))
    assert index.nodes.pending == 0
    for name, array in GenealogyIndex.build(edges).arrays().items():
        assert np.array_equal(index.arrays()[name], array, equal_nan=True), name
