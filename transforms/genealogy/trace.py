"""Trace a lot through the genealogy (backward to its sources, forward to its uses) and recall a supplier lot.

`trace` returns every reached node once (its shortest depth, relation to the root and quantity share, see
`shares.py`) and every edge walked. `recall` is a forward trace from `SUP:<supplier lot>` summarised as the
affected lots, the end-of-chain lots, the shipments and the customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from lakehouse.errors import QueryError, UnknownLotError
from transforms.genealogy.edges import SHIPMENT_PREFIX, SUPPLIER_PREFIX
from transforms.genealogy.export import as_csv, as_json, as_tree
from transforms.genealogy.index import EDGE_TYPE_CODE, GenealogyIndex, Traversal
from transforms.genealogy.shares import propagate_shares

if TYPE_CHECKING:
    import networkx as nx

TraceDirection = Literal["backward", "forward", "both"]
PRODUCTION_EDGE_TYPES = ("consumption", "split", "merge")


class UnknownNodeError(UnknownLotError):
    """The lot (or supplier lot) is not in the genealogy."""


@dataclass(frozen=True)
class TraceResult:
    root: str
    direction: TraceDirection
    nodes: pl.DataFrame  # node_id, node_kind, relation, depth, share
    edges: pl.DataFrame  # the fct_genealogy_edges rows walked, plus the edge's share fraction

    def ancestors(self) -> set[str]:
        return set(self.nodes.filter(pl.col("relation").str.contains("ancestor"))["node_id"].to_list())

    def descendants(self) -> set[str]:
        return set(self.nodes.filter(pl.col("relation").str.contains("descendant"))["node_id"].to_list())

    def shares(self) -> dict[str, float]:
        return dict(zip(self.nodes["node_id"].to_list(), self.nodes["share"].to_list(), strict=True))

    def to_rows(self) -> pl.DataFrame:
        return self.nodes

    def to_json(self) -> str:
        return as_json({"root": self.root, "direction": self.direction}, self.nodes, self.edges)

    def to_csv(self) -> str:
        return as_csv(self.nodes)

    def to_tree(self) -> str:
        return as_tree(self.root, self.direction, self.nodes, self.edges)

    def to_networkx(self) -> nx.MultiDiGraph:
        """The trace as a directed multigraph (one edge per edge row), material flowing parent -> child: nodes
        carry node_kind, relation, depth and share; edges every column of their edge row (edge_type, quantity,
        unit, occurred_at, ...)."""
        import networkx as nx

        graph = nx.MultiDiGraph(root=self.root, direction=self.direction)
        for node in self.nodes.iter_rows(named=True):
            graph.add_node(node.pop("node_id"), **node)
        for edge in self.edges.iter_rows(named=True):
            graph.add_edge(edge.pop("parent_node_id"), edge.pop("child_node_id"), **edge)
        return graph


@dataclass(frozen=True)
class RecallResult:
    supplier_lot: str
    trace: TraceResult
    affected_lots: list[str] = field(default_factory=list)
    end_of_chain_lots: list[str] = field(default_factory=list)
    shipments: pl.DataFrame = field(default_factory=pl.DataFrame)
    customers: list[str] = field(default_factory=list)

    def to_rows(self) -> pl.DataFrame:
        """One row per shipped lot: lot, shipment, customer, quantity, time, and the supplier lot's share in it."""
        return self.shipments

    def to_json(self) -> str:
        header = {"supplier_lot": self.supplier_lot, "customers": self.customers,
                  "affected_lots": self.affected_lots, "end_of_chain_lots": self.end_of_chain_lots}
        return as_json(header, self.trace.nodes, self.trace.edges, shipments=self.shipments)

    def to_csv(self) -> str:
        return as_csv(self.shipments)

    def to_tree(self) -> str:
        return as_tree(self.trace.root, "forward", self.trace.nodes, self.trace.edges)


def trace(index_or_edges: GenealogyIndex | pl.DataFrame, lot: str, direction: TraceDirection = "backward", *,
          max_depth: int | None = None, from_at: datetime | str | None = None,
          to_at: datetime | str | None = None) -> TraceResult:
    """Every node linked to `lot` (any depth unless max_depth), walking edges with from_at <= occurred_at <= to_at."""
    if direction not in ("backward", "forward", "both"):
        raise QueryError(f"direction must be backward, forward or both, got {direction!r}")
    index = index_or_edges if isinstance(index_or_edges, GenealogyIndex) else GenealogyIndex.build(index_or_edges)
    root = index.node_id(lot)
    if root is None:
        raise UnknownNodeError(f"{lot!r} is not in the genealogy ({index.node_count:,} nodes)")
    bounds = {"max_depth": max_depth, "from_us": _epoch_us(from_at), "to_us": _epoch_us(to_at)}
    walks = [index.traverse([root], d, **bounds) for d in (("backward", "forward") if direction == "both"
                                                              else (direction,))]
    parts = [_walk_nodes(index, walk) for walk in walks]
    nodes = parts[0] if len(parts) == 1 else _merge_directions(pl.concat(parts))
    nodes = nodes.with_columns(_node_kind()).select("node_id", "node_kind", "relation", "depth", "share") \
        .sort("depth", "node_id")
    edge_ids = np.unique(np.concatenate([w.edges for w in walks]))
    edges = index.rows[edge_ids].with_columns(pl.Series("fraction", index.fraction[edge_ids]))
    return TraceResult(lot, direction, nodes, edges)


def recall(index_or_edges: GenealogyIndex | pl.DataFrame, supplier_lot_code: str) -> RecallResult:
    """Everything made from a supplier lot and everyone who received it (a forward trace from SUP:<code>)."""
    index = index_or_edges if isinstance(index_or_edges, GenealogyIndex) else GenealogyIndex.build(index_or_edges)
    node = supplier_lot_code if supplier_lot_code.startswith(SUPPLIER_PREFIX) else SUPPLIER_PREFIX + supplier_lot_code
    result = trace(index, node, "forward")
    lots = result.nodes.filter(pl.col("node_kind") == "lot")
    affected = sorted(lots["node_id"].to_list())
    lot_ids = np.array([index.node_id(n) for n in affected], dtype=np.int32)
    onward = index.incident(lot_ids, "forward") if lot_ids.size else np.empty(0, dtype=np.int32)
    feeding = onward[np.isin(index.edge_type[onward], [EDGE_TYPE_CODE[t] for t in PRODUCTION_EDGE_TYPES])]
    feeds_production = set(index.node_names(np.unique(index.parent[feeding])).to_list()) if feeding.size else set()
    end_of_chain = [lot for lot in affected if lot not in feeds_production]
    shares = result.nodes.select(pl.col("node_id").alias("parent_node_id"), pl.col("share").alias("supplier_share"))
    shipments = (result.edges.filter(pl.col("edge_type") == "shipment")
                 .select(pl.col("parent_node_id").alias("lot"), "child_node_id", "customer_id", "quantity", "unit",
                         "occurred_at", pl.col("parent_node_id"))
                 .join(shares, on="parent_node_id", how="left").drop("parent_node_id")
                 .with_columns(pl.col("child_node_id").str.strip_prefix(SHIPMENT_PREFIX).alias("shipment_id"))
                 .select("lot", "shipment_id", "customer_id", "quantity", "unit", "occurred_at", "supplier_share")
                 .sort("occurred_at", "shipment_id", "lot"))
    customers = sorted({c for c in shipments["customer_id"].to_list() if c is not None})
    return RecallResult(node, result, affected, end_of_chain, shipments, customers)


def _walk_nodes(index: GenealogyIndex, walk: Traversal) -> pl.DataFrame:
    order = np.argsort(walk.nodes)
    sorted_nodes = walk.nodes[order]
    near, far = (index.child, index.parent) if walk.direction == "backward" else (index.parent, index.child)
    local_near = order[np.searchsorted(sorted_nodes, near[walk.edges])]
    local_far = order[np.searchsorted(sorted_nodes, far[walk.edges])]
    root_local = order[np.searchsorted(sorted_nodes, walk.roots)]
    share = propagate_shares(walk.nodes.size, root_local, local_near, local_far, index.fraction[walk.edges])
    relation = "ancestor" if walk.direction == "backward" else "descendant"
    return pl.DataFrame({"node_id": index.node_names(walk.nodes),
                         "relation": np.where(walk.depths == 0, "root", relation),
                         "depth": walk.depths, "share": share},
                        schema={"node_id": pl.String, "relation": pl.String, "depth": pl.Int64, "share": pl.Float64})


def _merge_directions(nodes: pl.DataFrame) -> pl.DataFrame:
    """One row per node of a two-way trace; a node both upstream and downstream (a cycle) gets no share."""
    relations = pl.col("relation")
    return (nodes.group_by("node_id", maintain_order=True)
            .agg(pl.when((relations == "root").any()).then(pl.lit("root"))
                 .when(relations.n_unique() > 1).then(pl.lit("ancestor_and_descendant"))
                 .otherwise(relations.first()).alias("relation"),
                 pl.col("depth").min(),
                 pl.when(pl.len() == 1).then(pl.col("share").first()).otherwise(pl.lit(1.0))
                 .alias("share"))
            .with_columns(pl.when(pl.col("relation") == "ancestor_and_descendant").then(float("nan"))
                          .otherwise(pl.col("share")).alias("share")))


def _node_kind() -> pl.Expr:
    node = pl.col("node_id")
    return (pl.when(node.str.starts_with(SUPPLIER_PREFIX)).then(pl.lit("supplier_lot"))
            .when(node.str.starts_with(SHIPMENT_PREFIX)).then(pl.lit("shipment"))
            .otherwise(pl.lit("lot")).alias("node_kind"))


def _epoch_us(moment: datetime | str | None) -> int | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)
