"""The Little's law check's work order spans: an order whose `work_order_completed` record was lost (truncated,
quarantined) leaves the system when its last routing step ends, not at the window's end."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import narwhals as nw
import polars as pl

from pipelines.flow.assets import work_order_spans
from transforms.flow.wip import LITTLE_TOLERANCE, littles_law

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=timezone.utc)
ROUTING = pl.DataFrame({"material_id": ["SF-1"] * 2, "line_id": ["L1"] * 2, "operation_seq": [10, 20]})
MATERIALS = pl.DataFrame({"system_material_code": ["300100"], "material_id": ["SF-1"]})


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def plant(days: int, lost: set[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One order released a day, through ops 10 and 20 in 10 h; the completion record of the `lost` days is
    missing; the last order is still at op 10 (op 20 not ended) at the end."""
    events: dict[str, list] = {k: [] for k in ("event_type", "work_order_id", "occurred_at", "line_id",
                                               "material_code")}
    ops: dict[str, list] = {"work_order_id": [], "operation_seq": [], "ended_at": []}

    def event(kind: str, order: str, at: datetime) -> None:
        for key, value in zip(events, (kind, order, at, "L1", "300100")):
            events[key].append(value)

    for day in range(days):
        order, released = f"WO-{day}", hours(24 * day)
        event("work_order_released", order, released)
        ops["work_order_id"] += [order, order]
        ops["operation_seq"] += [10, 20]
        if day == days - 1:
            ops["ended_at"] += [released + timedelta(hours=5), None]
            continue
        ops["ended_at"] += [released + timedelta(hours=5), released + timedelta(hours=10)]
        if day not in lost:
            event("work_order_completed", order, released + timedelta(hours=10))
    return pl.DataFrame(events), pl.DataFrame(ops, schema={"work_order_id": pl.String, "operation_seq": pl.Int64,
                                                           "ended_at": pl.Datetime("us", "UTC")})


def test_an_order_without_its_completion_record_completes_at_its_last_step() -> None:
    orders, ops = plant(4, lost={1})
    spans = work_order_spans(orders, ops, ROUTING, MATERIALS).sort("work_order_id")
    assert spans["completed_at"].to_list() == [hours(10), hours(34), hours(58), None]


def test_lost_completion_records_do_not_break_littles_law() -> None:
    orders, ops = plant(30, lost={1, 2, 5})
    spans = work_order_spans(orders, ops, ROUTING, MATERIALS)
    law = littles_law(nw.from_native(spans.lazy()), window_start=hours(0), window_end=hours(24 * 29)).to_native()
    assert law.collect()["relative_gap"].item() <= LITTLE_TOLERANCE
    # read from the completion records alone, the three orders sit in the WIP to the window's end
    by_record = spans.join(orders.filter(pl.col("event_type") == "work_order_completed")
                           .select("work_order_id", pl.col("occurred_at").alias("recorded")), on="work_order_id",
                           how="left").select("work_order_id", "released_at", pl.col("recorded").alias("completed_at"))
    law = littles_law(nw.from_native(by_record.lazy()), window_start=hours(0), window_end=hours(24 * 29))
    assert law.to_native().collect()["relative_gap"].item() > LITTLE_TOLERANCE
