"""Genealogy index vs networkx vs a DuckDB recursive CTE on one synthetic genealogy of >= 4M edges.

    python -m benchmarks.bench_genealogy [--edges 4000000] [--queries 200] [--cte-queries 25]

The genealogy is deterministic (seed 7) and shaped like a plant: supplier lots received into raw lots; three
production levels whose work orders consume 4 lots (two of them of one material) picked among recently made lots
and produce 1-2 lots each (every input linked to every output); merges of intermediate lots; splits of finished
lots; shipments of two finished lots each. Measured in the same run: index build vs networkx `add_edges_from`,
and trace latency (backward from random finished lots, forward from random supplier lots) for the CSR index,
networkx ancestors/descendants and a DuckDB `WITH RECURSIVE ... UNION` over the same edges (in-memory table
from Arrow). Every sampled trace is checked to give the same node set on all three.
"""

from __future__ import annotations

import argparse
import gc
import time
from datetime import datetime, timezone

import duckdb
import networkx as nx
import numpy as np
import polars as pl

from benchmarks.harness import peak_rss_mb
from transforms.genealogy.index import GenealogyIndex

SEED = 7
START_US = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp() * 1_000_000)


def synthetic_genealogy(edges: int, seed: int = SEED) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Edges (the index columns) plus the finished lot and supplier lot node names to query."""
    rng = np.random.default_rng(seed)
    scale = edges / 3_900_000
    raw, level_orders = int(200_000 * scale), [int(250_000 * scale), int(150_000 * scale), int(200_000 * scale)]
    parts: list[dict[str, np.ndarray]] = []
    next_lot = raw
    parts.append(_block(np.arange(raw) + 10_000_000_000, np.arange(raw), "receipt", rng, 0, None, "RAW"))
    pool = np.arange(raw)
    produced_levels = []
    for level, orders in enumerate(level_orders, start=1):
        outputs = rng.integers(1, 3, orders)
        first_out = next_lot + np.concatenate([[0], np.cumsum(outputs)[:-1]])
        next_lot += int(outputs.sum())
        position = (np.arange(orders) / orders * pool.size).astype(np.int64)
        inputs = np.clip(position[:, None] - rng.integers(1, 3_000, (orders, 4)), 0, pool.size - 1)
        inputs = pool[inputs]
        if level > 1:  # later levels also take a raw lot (packaging) directly
            inputs[:, 3] = rng.integers(0, raw, orders)
        for slot in range(4):
            for out in range(2):
                has = outputs > out
                parts.append(_block(inputs[has, slot], first_out[has] + out, "consumption", rng, level,
                                    np.flatnonzero(has) + level * 10_000_000, f"M{level}-{slot // 2}"))
        produced = np.concatenate([first_out, first_out[outputs == 2] + 1])
        produced.sort()
        if level == 1:  # merge pairs of intermediate lots into a new lot the next level consumes
            pairs = produced[: (produced.size // 10) * 2].reshape(-1, 2)
            merged = next_lot + np.arange(pairs.shape[0])
            next_lot += pairs.shape[0]
            parts.append(_block(pairs.ravel(), np.repeat(merged, 2), "merge", rng, level, None, "M1-merged"))
            produced = np.concatenate([produced, merged])
        produced_levels.append(produced)
        pool = produced
    finished = produced_levels[-1]
    split_parents = finished[rng.random(finished.size) < 0.15]
    children = next_lot + np.arange(split_parents.size * 2)
    next_lot += children.size
    parts.append(_block(np.repeat(split_parents, 2), children, "split", rng, 4, None, "FG-split"))
    shipped = np.concatenate([np.setdiff1d(finished, split_parents), children])
    shipped.sort()
    parts.append(_block(shipped, 20_000_000_000 + np.arange(shipped.size) // 2, "shipment", rng, 5, None, "FG"))
    frame = pl.concat([_frame(p) for p in parts])
    lot_names = _names(pl.Series(np.concatenate([finished, children]).astype(np.int64)))
    supplier_names = _names(pl.Series((np.arange(raw) + 10_000_000_000).astype(np.int64)))
    return frame, lot_names.to_numpy(), supplier_names.to_numpy()


def _block(parents: np.ndarray, children: np.ndarray, edge_type: str, rng: np.random.Generator, level: int,
           work_orders: np.ndarray | None, material: str) -> dict[str, np.ndarray]:
    count = parents.size
    hours = np.linspace(0, 24 * 365, count) + level * 24
    return {"parent": parents.astype(np.int64), "child": children.astype(np.int64), "edge_type": edge_type,
            "work_order": work_orders, "material": material, "quantity": rng.uniform(1, 500, count).round(1),
            "occurred_at_us": (START_US + hours * 3_600_000_000).astype(np.int64)}


def _names(ids: pl.Series) -> pl.Series:
    """Ints to node names: < 1e10 lots, 1e10.. supplier lots, 2e10.. shipments."""
    return (pl.DataFrame({"id": ids}).select(
        pl.when(pl.col("id") >= 20_000_000_000).then(pl.lit("SHP:") + (pl.col("id") - 20_000_000_000)
                                                     .cast(pl.String).str.zfill(9))
        .when(pl.col("id") >= 10_000_000_000).then(pl.lit("SUP:S-") + (pl.col("id") - 10_000_000_000)
                                                   .cast(pl.String).str.zfill(9))
        .otherwise(pl.lit("LOT-") + pl.col("id").cast(pl.String).str.zfill(10)).alias("name"))["name"])


def _frame(part: dict[str, np.ndarray]) -> pl.DataFrame:
    count = part["parent"].size
    work_orders = (pl.lit("WO-") + pl.Series(part["work_order"]).cast(pl.String).str.zfill(8)
                   if part["work_order"] is not None else pl.lit(None, dtype=pl.String))
    return pl.DataFrame({"parent_node_id": _names(pl.Series(part["parent"])),
                         "child_node_id": _names(pl.Series(part["child"]))}).with_columns(
        pl.lit(part["edge_type"]).alias("edge_type"), work_orders.alias("work_order_id"),
        pl.lit(part["material"]).alias("material_code"), pl.Series("quantity", part["quantity"]),
        pl.Series("occurred_at", part["occurred_at_us"]).cast(pl.Datetime("us", "UTC"))) if count else pl.DataFrame()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50) * 1000), float(np.percentile(samples, 95) * 1000)


def _timed(fn, *args):  # noqa: ANN001, ANN202
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def run(edges: int = 4_000_000, queries: int = 200, cte_queries: int = 25, seed: int = SEED) -> dict:
    started = time.perf_counter()
    frame, finished, suppliers = synthetic_genealogy(edges, seed)
    generated = time.perf_counter() - started
    rng = np.random.default_rng(seed + 1)
    lots, sources = rng.choice(finished, queries, replace=False), rng.choice(suppliers, queries, replace=False)

    gc.collect()
    build_s, index = _timed(GenealogyIndex.build, frame)
    parents, children = frame["parent_node_id"].to_list(), frame["child_node_id"].to_list()
    graph = nx.DiGraph()
    gc.collect()
    nx_build_s, _ = _timed(graph.add_edges_from, zip(parents, children, strict=True))
    del parents, children

    con = duckdb.connect()
    arrow_edges = frame.select("parent_node_id", "child_node_id").to_arrow()
    con.register("arrow_edges", arrow_edges)
    con.execute("CREATE TABLE edges AS SELECT * FROM arrow_edges")
    con.unregister("arrow_edges")
    cte = {"backward": "WITH RECURSIVE reached(node) AS (SELECT ?::VARCHAR UNION SELECT e.parent_node_id FROM edges e "
                       "JOIN reached r ON e.child_node_id = r.node) SELECT node FROM reached",
           "forward": "WITH RECURSIVE reached(node) AS (SELECT ?::VARCHAR UNION SELECT e.child_node_id FROM edges e "
                      "JOIN reached r ON e.parent_node_id = r.node) SELECT node FROM reached"}

    results: dict[str, dict] = {}
    for direction, roots in (("backward", lots), ("forward", sources)):
        csr, nxs, ddb, sizes = [], [], [], []
        for i, name in enumerate(roots.tolist()):
            seconds, walk = _timed(lambda n: index.traverse([index.node_id(n)], direction), name)
            csr.append(seconds)
            sizes.append(walk.nodes.size)
            seconds, expected = _timed(nx.ancestors if direction == "backward" else nx.descendants, graph, name)
            nxs.append(seconds)
            assert walk.nodes.size == len(expected) + 1
            if i < cte_queries:
                seconds, rows = _timed(lambda n: con.execute(cte[direction], [n]).fetchall(), name)
                ddb.append(seconds)
                assert {r[0] for r in rows} == set(index.node_names(walk.nodes).to_list())
        results[direction] = {"csr": _percentiles(csr), "networkx": _percentiles(nxs), "duckdb_cte": _percentiles(ddb),
                              "nodes_p50": float(np.percentile(sizes, 50)), "nodes_max": int(max(sizes))}
    full_trace = []
    from transforms.genealogy.trace import trace

    for name in lots[:50].tolist():
        seconds, _ = _timed(lambda n: trace(index, n, "backward"), name)
        full_trace.append(seconds)
    return {"edges": frame.height, "nodes": index.node_count, "generate_s": generated, "index_build_s": build_s,
            "networkx_build_s": nx_build_s, "traces": results, "trace_api_backward_ms": _percentiles(full_trace),
            "queries": queries, "cte_queries": cte_queries, "peak_rss_mb": peak_rss_mb(),
            "total_s": time.perf_counter() - started}


def report(result: dict) -> str:
    build_ratio = result["index_build_s"] / result["networkx_build_s"]
    lines = [f"synthetic genealogy: {result['edges']:,} edges, {result['nodes']:,} nodes "
             f"(generated in {result['generate_s']:.1f} s); peak RSS {result['peak_rss_mb']:,.0f} MB; "
             f"total {result['total_s']:.0f} s", "",
             "| measure | CSR index | networkx | DuckDB recursive CTE | CSR / networkx | CSR / CTE | goal |",
             "|---|---|---|---|---|---|---|",
             f"| build | {result['index_build_s']:.2f} s | {result['networkx_build_s']:.2f} s | - | "
             f"{build_ratio:.2f}x | - | <= 0.25x networkx: {'met' if build_ratio <= 0.25 else 'MISSED'} |"]
    for direction, label in (("backward", "backward from finished lot"), ("forward", "forward from supplier lot")):
        t = result["traces"][direction]
        for stat, k in (("p50", 0), ("p95", 1)):
            ours, peer, cte = t["csr"][k], t["networkx"][k], t["duckdb_cte"][k]
            goal = ""
            if stat == "p95":
                goal = (f"p95 <= 50 ms: {'met' if ours <= 50 else 'MISSED'}; >= 2x faster than CTE: "
                        f"{'met' if cte / ours >= 2 else 'MISSED'}")
            lines.append(f"| {label} {stat} | {ours:.2f} ms | {peer:.2f} ms | {cte:.1f} ms | {ours / peer:.2f}x | "
                         f"{ours / cte:.3f}x | {goal} |")
        lines.append(f"| {label}: nodes reached | p50 {t['nodes_p50']:.0f}, max {t['nodes_max']:,} | | | | | |")
    p50, p95 = result["trace_api_backward_ms"]
    lines += ["", f"CSR latencies are the index traversal; the full `trace()` API (shares, rows, Polars frames) "
                  f"backward takes p50 {p50:.1f} ms / p95 {p95:.1f} ms over 50 lots.",
              f"{result['queries']} queries per direction for CSR and networkx; the CTE runs the first "
              f"{result['cte_queries']} of them (each scans the edge table per recursion step)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, default=4_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cte-queries", type=int, default=25)
    args = parser.parse_args()
    print(report(run(edges=args.edges, queries=args.queries, cte_queries=args.cte_queries)))


if __name__ == "__main__":
    main()
