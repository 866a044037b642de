"""A compressed sparse row (CSR) index over genealogy edges, for traces at any depth in milliseconds.

Nodes get dense int32 ids (`StringDictionary`). Per edge, numpy arrays keep parent, child, quantity,
occurred_at (epoch microseconds), edge type, material, work order and the edge's share fraction (see
`shares.py`); the edge rows themselves stay in `rows` (a Polars frame in edge order) for output.
Forward CSR: for node v, `fwd_edges[fwd_offsets[v]:fwd_offsets[v+1]]` are the edges leaving v; backward CSR
likewise for edges arriving at v. Within a node, edges are in edge order.

Incremental: `extend(new_edges)` appends the edges, gives unseen nodes the next ids and indexes the new edges in
a small delta CSR that traversals read next to the base CSR; fractions are recomputed only for the children the
new edges touch. When the delta grows past `compact_ratio` of the base (or on `compact()`), the base CSR is
rebuilt from the numeric arrays alone and the dictionaries are re-sorted; the result then equals a full build
over the same edges, array for array. Traversals are breadth-first over whole frontiers with a visited bitmap,
so cycles terminate and each node is reported once, at its shortest depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from transforms.genealogy.dictionary import StringDictionary
from transforms.genealogy.edges import EDGE_TYPES
from transforms.genealogy.shares import edge_fractions

Direction = Literal["backward", "forward"]
INDEX_COLUMNS = ("parent_node_id", "child_node_id", "edge_type", "work_order_id", "material_code", "quantity",
                 "occurred_at")
EDGE_TYPE_CODE = {name: code for code, name in enumerate(EDGE_TYPES)}


@dataclass(frozen=True)
class Csr:
    offsets: np.ndarray  # int64, node_count + 1
    edges: np.ndarray    # int32 edge indices grouped by node

    @classmethod
    def build(cls, keys: np.ndarray, node_count: int, first_edge: int = 0) -> Csr:
        offsets = np.zeros(node_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=node_count), out=offsets[1:])
        order = np.argsort(keys, kind="stable").astype(np.int32)
        return cls(offsets, order + np.int32(first_edge) if first_edge else order)

    def incident(self, nodes: np.ndarray) -> np.ndarray:
        """Edge indices of every node in `nodes` (nodes beyond this CSR have none)."""
        nodes = nodes[nodes < self.offsets.size - 1]
        starts = self.offsets[nodes]
        counts = self.offsets[nodes + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return np.empty(0, dtype=np.int32)
        return self.edges[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)]


@dataclass(frozen=True)
class Traversal:
    """Node ids with their depth (0 = the roots) and the indices of every edge the trace walked."""
    direction: Direction
    roots: np.ndarray
    nodes: np.ndarray
    depths: np.ndarray
    edges: np.ndarray


class GenealogyIndex:
    def __init__(self, rows: pl.DataFrame, nodes: StringDictionary, materials: StringDictionary,
                 work_orders: StringDictionary, arrays: dict[str, np.ndarray], compact_ratio: float = 0.25) -> None:
        self.rows = rows
        self.nodes, self.materials, self.work_orders = nodes, materials, work_orders
        self.parent, self.child = arrays["parent"], arrays["child"]
        self.quantity, self.occurred_at_us = arrays["quantity"], arrays["occurred_at_us"]
        self.edge_type, self.material, self.work_order = arrays["edge_type"], arrays["material"], arrays["work_order"]
        self.fraction = arrays["fraction"]
        self.compact_ratio = compact_ratio
        self._index_base()

    # ---- building --------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, edges: pl.DataFrame, compact_ratio: float = 0.25) -> GenealogyIndex:
        """Index the rows of fct_genealogy_edges (at least INDEX_COLUMNS)."""
        _require_columns(edges)
        count = edges.height
        nodes, endpoint_codes = StringDictionary.build(pl.concat([edges["parent_node_id"], edges["child_node_id"]]))
        materials, material = StringDictionary.build(edges["material_code"])
        work_orders, work_order = StringDictionary.build(edges["work_order_id"])
        arrays = _numeric_columns(edges)
        arrays.update(parent=endpoint_codes[:count], child=endpoint_codes[count:], material=material,
                      work_order=work_order)
        arrays["fraction"] = edge_fractions(arrays["child"], arrays["edge_type"], work_order, material,
                                            arrays["quantity"])
        return cls(edges, nodes, materials, work_orders, arrays, compact_ratio)

    def extend(self, new_edges: pl.DataFrame) -> GenealogyIndex:
        """Append edges in place (same result as a full build over old + new edges); returns self."""
        _require_columns(new_edges)
        if new_edges.height == 0:
            return self
        first = self.edge_count
        endpoints = self.nodes.encode(_interleaved(new_edges), add=True)
        numeric = _numeric_columns(new_edges)
        self.parent = np.concatenate([self.parent, endpoints[0::2]])
        self.child = np.concatenate([self.child, endpoints[1::2]])
        self.quantity = np.concatenate([self.quantity, numeric["quantity"]])
        self.occurred_at_us = np.concatenate([self.occurred_at_us, numeric["occurred_at_us"]])
        self.edge_type = np.concatenate([self.edge_type, numeric["edge_type"]])
        self.material = np.concatenate([self.material, self.materials.encode(new_edges["material_code"], add=True)])
        self.work_order = np.concatenate([self.work_order,
                                          self.work_orders.encode(new_edges["work_order_id"], add=True)])
        self.fraction = np.concatenate([self.fraction, np.ones(new_edges.height)])
        self.rows = pl.concat([self.rows, new_edges.select(self.rows.columns)], how="vertical_relaxed")
        if self.edge_count - self._base_edges > self.compact_ratio * max(self._base_edges, 1):
            self.compact()
        else:
            self._index_delta()
        touched_children = np.unique(self.child[first:])
        self._refresh_fractions(self.incident(touched_children, "backward"))
        return self

    def compact(self) -> GenealogyIndex:
        """Fold the delta into the base CSR and re-sort the dictionaries (equals a full build); returns self."""
        for name, dictionary in (("nodes", self.nodes), ("materials", self.materials),
                                 ("work_orders", self.work_orders)):
            if dictionary.pending:
                sorted_dictionary, remap = dictionary.compacted()
                setattr(self, name, sorted_dictionary)
                for array_name in {"nodes": ("parent", "child"), "materials": ("material",),
                                   "work_orders": ("work_order",)}[name]:
                    codes = getattr(self, array_name)
                    setattr(self, array_name, np.where(codes >= 0, remap[np.maximum(codes, 0)], codes)
                            .astype(np.int32))
        self._index_base()
        return self

    def _index_base(self) -> None:
        self._base_edges = self.edge_count
        self._forward = [Csr.build(self.parent, self.node_count)]
        self._backward = [Csr.build(self.child, self.node_count)]

    def _index_delta(self) -> None:
        first = self._base_edges
        self._forward = [self._forward[0], Csr.build(self.parent[first:], self.node_count, first)]
        self._backward = [self._backward[0], Csr.build(self.child[first:], self.node_count, first)]

    def _refresh_fractions(self, edges: np.ndarray) -> None:
        self.fraction[edges] = edge_fractions(self.child[edges], self.edge_type[edges], self.work_order[edges],
                                              self.material[edges], self.quantity[edges])

    # ---- reading ---------------------------------------------------------------------------------------------
    @property
    def edge_count(self) -> int:
        return int(self.parent.size)

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    def node_id(self, name: str) -> int | None:
        return self.nodes.code(name)

    def node_names(self, ids: np.ndarray) -> pl.Series:
        return self.nodes.decode(ids)

    def incident(self, nodes: np.ndarray, direction: Direction) -> np.ndarray:
        """Edges leaving (forward) or arriving at (backward) any of `nodes`, base CSR then delta."""
        parts = [csr.incident(nodes) for csr in (self._forward if direction == "forward" else self._backward)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def traverse(self, roots: np.ndarray | list[int], direction: Direction, *, max_depth: int | None = None,
                 from_us: int | None = None, to_us: int | None = None) -> Traversal:
        """Breadth-first from `roots` over edges with from_us <= occurred_at <= to_us, to max_depth (None: all)."""
        roots = np.unique(np.asarray(roots, dtype=np.int32))
        reached = np.zeros(self.node_count, dtype=bool)
        reached[roots] = True
        far_end = self.parent if direction == "backward" else self.child
        nodes, depths, walked = [roots], [np.zeros(roots.size, dtype=np.int32)], []
        frontier, depth = roots, 0
        while frontier.size and (max_depth is None or depth < max_depth):
            edges = self.incident(frontier, direction)
            if from_us is not None or to_us is not None:
                at = self.occurred_at_us[edges]
                keep = np.ones(edges.size, dtype=bool)
                if from_us is not None:
                    keep &= at >= from_us
                if to_us is not None:
                    keep &= at <= to_us
                edges = edges[keep]
            walked.append(edges)
            ahead = far_end[edges]
            ahead = np.unique(ahead[~reached[ahead]])
            depth += 1
            reached[ahead] = True
            nodes.append(ahead)
            depths.append(np.full(ahead.size, depth, dtype=np.int32))
            frontier = ahead
        edges = np.concatenate(walked) if walked else np.empty(0, dtype=np.int32)
        return Traversal(direction, roots, np.concatenate(nodes), np.concatenate(depths), np.sort(edges))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every per-edge array and both base CSRs (what `save` writes and what equality tests compare)."""
        return {"parent": self.parent, "child": self.child, "quantity": self.quantity,
                "occurred_at_us": self.occurred_at_us, "edge_type": self.edge_type, "material": self.material,
                "work_order": self.work_order, "fraction": self.fraction,
                "fwd_offsets": self._forward[0].offsets, "fwd_edges": self._forward[0].edges,
                "bwd_offsets": self._backward[0].offsets, "bwd_edges": self._backward[0].edges}


def _require_columns(edges: pl.DataFrame) -> None:
    missing = [c for c in INDEX_COLUMNS if c not in edges.columns]
    if missing:
        raise ValueError(f"genealogy edges lack columns {missing}")


def _interleaved(edges: pl.DataFrame) -> pl.Series:
    """parent0, child0, parent1, child1, ...: new node ids follow first appearance, edge by edge."""
    return edges.select(pl.concat_list("parent_node_id", "child_node_id").alias("node")).explode("node")["node"]


def _numeric_columns(edges: pl.DataFrame) -> dict[str, np.ndarray]:
    unknown = set(edges["edge_type"].unique().to_list()) - set(EDGE_TYPE_CODE)
    if unknown:
        raise ValueError(f"unknown edge types {sorted(unknown)}; expected {EDGE_TYPES}")
    frame = edges.select(
        pl.col("quantity").cast(pl.Float64).fill_null(float("nan")),
        pl.col("occurred_at").dt.replace_time_zone(None).dt.epoch("us").alias("occurred_at_us"),
        pl.col("edge_type").replace_strict(EDGE_TYPE_CODE, return_dtype=pl.Int8))
    return {"quantity": frame["quantity"].to_numpy(), "occurred_at_us": frame["occurred_at_us"].to_numpy(),
            "edge_type": frame["edge_type"].to_numpy()}
