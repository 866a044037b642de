"""Equipment and operators in the genealogy: the lots a machine made in a time window, the lots an operator
touched, and the starting lots of a recall from a machine and a window.

A work order's output lots are the children of its consumption edges (`fct_genealogy_edges`: component lot ->
produced lot, stamped with the work order). An operation "made" its order's lots when it ran on the machine
inside the window (its span [started_at, ended_at] overlaps [start, end)); an operator "touched" the lots of
every order one of whose operations they started."""

from __future__ import annotations

from datetime import datetime

import polars as pl

LOT_COLUMNS = ["lot_id", "work_order_id", "operation_seq", "machine_id", "operator_id", "started_at", "ended_at"]


def order_output_lots(edges: pl.DataFrame) -> pl.DataFrame:
    """(work_order_id, lot_id): each order's produced lots, from consumption edges."""
    return (edges.filter((pl.col("edge_type") == "consumption") & pl.col("work_order_id").is_not_null())
            .select("work_order_id", pl.col("child_node_id").alias("lot_id")).unique())


def lots_made(operations: pl.DataFrame, edges: pl.DataFrame, *, machine_id: str | None = None,
              operator_id: str | None = None, start: datetime | None = None, end: datetime | None = None
              ) -> pl.DataFrame:
    """The lots of the work orders whose operations ran on `machine_id` (or were started by `operator_id`)
    overlapping [start, end), one row per lot and operation, ordered by start then lot."""
    chosen = operations
    if machine_id is not None:
        chosen = chosen.filter(pl.col("machine_id") == machine_id)
    if operator_id is not None:
        chosen = chosen.filter(pl.col("operator_id") == operator_id)
    if start is not None:
        chosen = chosen.filter(pl.col("ended_at") > start)
    if end is not None:
        chosen = chosen.filter(pl.col("started_at") < end)
    return (chosen.join(order_output_lots(edges), on="work_order_id", how="inner").select(LOT_COLUMNS)
            .sort("started_at", "lot_id", "operation_seq"))
