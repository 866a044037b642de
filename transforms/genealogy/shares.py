"""Quantity-proportional shares: how much of a lot traces back to each ancestor (or forward, to each descendant).

The rule, exactly:
1. Edge fraction. The in-edges of a child node are grouped by (edge_type, work_order, material). Within a
   group, an edge's fraction is its quantity over the group's total quantity. So for a work order that consumed
   lots A1 (100 kg) and A2 (300 kg) of material A and lot B1 of material B, the fractions into each produced lot
   are A1 = 0.25, A2 = 0.75, B1 = 1.0: a fraction is "the part of the child's content of that input material
   which came from this parent". A split child has one in-edge (fraction 1); a merged lot's parents get their
   moved quantity over the merged total; a receipt is 1. Groups whose quantities are missing, or sum to <= 0,
   share equally (1 / number of edges).
2. Propagation. The share of node A in root L is the sum, over every path A -> ... -> L in the traced
   subgraph, of the product of the edge fractions on the path (share of L in itself = 1). Forward traces use the
   same formula with the roles swapped: the share of supplier lot S in a descendant D is the path sum from S
   to D. Edges and nodes outside the trace (depth or time bounds) do not contribute.
3. Cycles. Genealogy should be acyclic; a cycle (bad data) makes path sums unbounded, so nodes on a cycle,
   and every node whose paths to the root pass through one, get share NaN instead of a made-up number.
"""

from __future__ import annotations

import numpy as np


def edge_fractions(child: np.ndarray, edge_type: np.ndarray, work_order: np.ndarray, material: np.ndarray,
                   quantity: np.ndarray) -> np.ndarray:
    """The fraction of every edge within its (child, edge_type, work_order, material) group (rule 1)."""
    count = child.size
    fractions = np.ones(count, dtype=np.float64)
    if count == 0:
        return fractions
    order = np.lexsort((material, work_order, edge_type, child))
    keys = [np.asarray(k)[order] for k in (child, edge_type, work_order, material)]
    starts_group = np.ones(count, dtype=bool)
    starts_group[1:] = np.logical_or.reduce([k[1:] != k[:-1] for k in keys])
    group = np.cumsum(starts_group) - 1
    q = quantity[order].astype(np.float64)
    usable = np.isfinite(q) & (q >= 0)
    totals = np.bincount(group, weights=np.where(usable, q, 0.0))
    sizes = np.bincount(group)
    all_usable = np.bincount(group, weights=(~usable).astype(np.float64)) == 0
    proportional = all_usable[group] & (totals[group] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ordered = np.where(proportional, q / totals[group], 1.0 / sizes[group])
    fractions[order] = ordered
    return fractions


def propagate_shares(node_count: int, root_local: np.ndarray, toward_root: np.ndarray, away_from_root: np.ndarray,
                     fraction: np.ndarray) -> np.ndarray:
    """Rule 2 on a traced subgraph with local node ids 0..node_count-1.

    Each edge k links `toward_root[k]` (the end nearer the root, e.g. the child in a backward trace) to
    `away_from_root[k]`. A node's share is final once every edge leading from it toward the root has been
    counted (Kahn's order); nodes never finalised (cycles, rule 3) get NaN.
    """
    share = np.zeros(node_count, dtype=np.float64)
    share[root_local] = 1.0
    pending = np.bincount(away_from_root, minlength=node_count)
    by_near_end = np.argsort(toward_root, kind="stable")
    offsets = np.zeros(node_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(toward_root, minlength=node_count), out=offsets[1:])
    done = np.zeros(node_count, dtype=bool)
    ready = np.flatnonzero(pending == 0)
    while ready.size:
        done[ready] = True
        starts, ends = offsets[ready], offsets[ready + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            break
        edges = by_near_end[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)]
        far = away_from_root[edges]
        share += np.bincount(far, weights=share[toward_root[edges]] * fraction[edges], minlength=node_count)
        pending -= np.bincount(far, minlength=node_count)
        touched = np.unique(far)
        ready = touched[(pending[touched] == 0) & ~done[touched]]
    share[~done] = np.nan
    return share
