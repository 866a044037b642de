"""Text renderings of traces and recalls: JSON (nodes, edges, header fields), CSV (one frame) and an indented tree."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

import polars as pl

from lakehouse.csv_safety import safe_write_csv


def as_json(header: dict[str, Any], nodes: pl.DataFrame, edges: pl.DataFrame, **frames: pl.DataFrame) -> str:
    document = {**header, "nodes": _records(nodes), "edges": _records(edges)}
    document.update({name: _records(frame) for name, frame in frames.items()})
    return json.dumps(document, indent=2, default=_plain)


def as_csv(frame: pl.DataFrame) -> str:
    """CSV with formula-looking text cells escaped (OWASP CSV injection)."""
    return safe_write_csv(_text_safe(frame))


def as_tree(root: str, direction: str, nodes: pl.DataFrame, edges: pl.DataFrame) -> str:
    """The trace as an indented tree from the root; a node reached again is shown once more as '(see above)'.
    Backward lists each node's parents under it; forward its children; both shows the two trees in turn."""
    share = dict(zip(nodes["node_id"].to_list(), nodes["share"].to_list(), strict=True))
    sections = ["backward", "forward"] if direction == "both" else [direction]
    lines: list[str] = []
    for section in sections:
        near, far = ("child_node_id", "parent_node_id") if section == "backward" else ("parent_node_id",
                                                                                      "child_node_id")
        branches: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for edge in edges.sort("occurred_at", far).iter_rows(named=True):
            branches[edge[near]].append(edge)
        if direction == "both":
            lines.append(f"[{section}]")
        lines.append(f"{root}")
        shown = {root}
        stack = [(edge, 1) for edge in reversed(branches[root])]
        while stack:
            edge, depth = stack.pop()
            node = edge[far]
            label = f"{'  ' * depth}<- " if section == "backward" else f"{'  ' * depth}-> "
            details = [edge["edge_type"]]
            if edge.get("quantity") is not None:
                details.append(f"{edge['quantity']:g} {edge.get('unit') or ''}".strip())
            if edge.get("work_order_id"):
                details.append(edge["work_order_id"])
            if edge.get("customer_id"):
                details.append(f"customer {edge['customer_id']}")
            node_share = share.get(node)
            if node_share is not None and node_share == node_share and section == "backward":
                details.append(f"share {node_share:.4g}")
            seen = node in shown
            lines.append(f"{label}{node} [{', '.join(details)}]{' (see above)' if seen else ''}")
            if not seen:
                shown.add(node)
                stack.extend((child, depth + 1) for child in reversed(branches[node]))
    return "\n".join(lines)


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    cleaned = frame.with_columns(pl.col(floats).fill_nan(None)) if floats else frame
    return cleaned.to_dicts()


def _text_safe(frame: pl.DataFrame) -> pl.DataFrame:
    temporal = [name for name, dtype in frame.schema.items() if dtype.is_temporal()]
    return frame.with_columns(pl.col(temporal).dt.to_string("%Y-%m-%dT%H:%M:%S%.6f%:z")) if temporal else frame


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
