"""Dispatching: which queued operation a machine starts next.

The plant's own rule is first-in first-out: each machine works through its queue in release order and waits
(starved) when the operation at the head is not ready, even if a later one is. A schedule - `dispatch_ranks`,
work order id -> rank, e.g. a suggested sequence - replaces the order: the machine starts the queued
operation of the lowest rank next (orders without a rank after every ranked one, in release order) and, like
the plant's rule, waits for it when it is not ready. `continue_simulation(..., dispatch_ranks=...)` runs a
continued period under a schedule; the ranks are not stored in the simulation state."""

from __future__ import annotations

UNRANKED = 1 << 60


def next_in_queue(model, machine) -> None:
    """Move the operation the schedule wants next to the head of the machine's queue (no-op without one)."""
    ranks = model.dispatch_ranks
    if not ranks or len(machine.queue) < 2:
        return
    best = min(range(len(machine.queue)), key=lambda i: (ranks.get(machine.queue[i][0].work_order_id, UNRANKED), i))
    if best:
        entry = machine.queue[best]
        del machine.queue[best]
        machine.queue.appendleft(entry)
