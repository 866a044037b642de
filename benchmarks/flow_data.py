"""Synthetic production flow for the flow benchmark: N machines in lines of four, D days, in the shapes the
flow transforms read (MES operation events, equipment state events, releases, WMS issues; numpy, seeded).

Each line gets about six work orders a working day (released at 04:00 local, issues arriving 20-60 minutes
later); an order visits the line's machines in order, each operation starting when the previous one is done
and the machine is free. An operation is a 10-20 min changeover (60 % of them), producing, and with 30 %
chance a 10-60 min breakdown in the middle; between operations the machine reports starved (waiting for the
previous operation) or no_order. About 5 equipment state events and 2 operation events per operation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
UTC = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class FlowData:
    operation_events: pa.Table
    state_events: pa.Table
    releases: pa.Table
    issues: pa.Table
    machines: pa.Table
    period_end: datetime


def _ts(seconds: list[float]) -> pa.Array:
    return pa.array(np.round(np.asarray(seconds) * 1e6).astype(np.int64), pa.int64()).cast(UTC)


def generate(machines: int = 200, days: int = 365, seed: int = 1) -> FlowData:
    rng = np.random.default_rng(seed)
    lines = max(1, machines // 4)
    t0 = START.timestamp()
    op_rows: dict[str, list] = {k: [] for k in ("event_type", "at", "work_order_id", "operation_seq", "machine_id",
                                                 "operator_id")}
    st_rows: dict[str, list] = {"machine_id": [], "at": [], "reason_code": []}
    releases: dict[str, list] = {"work_order_id": [], "at": []}
    issues: dict[str, list] = {"work_order_id": [], "at": []}
    machine_ids, line_ids = [], []
    order = 0
    for line in range(lines):
        ids = [f"WC-{line + 1:03d}-{p + 1:02d}" for p in range(4)]
        machine_ids += ids
        line_ids += [f"LINE-{line + 1:03d}"] * 4
        free = [t0] * 4
        waiting_row = []  # per position: the row of the machine's current waiting state (one event per instant)
        for machine_id in ids:
            waiting_row.append(len(st_rows["at"]))
            st_rows["machine_id"].append(machine_id), st_rows["at"].append(t0), st_rows["reason_code"].append("no_order")
        for day in range(days):
            if (START + timedelta(days=day)).weekday() >= 5:
                continue
            release = t0 + day * 86400 + 3 * 3600
            for _ in range(int(rng.integers(4, 9))):
                order += 1
                wo = f"WO-{order:07d}"
                releases["work_order_id"].append(wo), releases["at"].append(release)
                arrival = release + float(rng.uniform(1200, 3600))
                issues["work_order_id"].append(wo), issues["at"].append(arrival)
                ready = arrival
                for position, machine_id in enumerate(ids):
                    start = max(ready, free[position])
                    if ready > free[position] and position > 0:  # the machine waited for this order
                        st_rows["reason_code"][waiting_row[position]] = "starved"
                    elif ready <= free[position]:  # no wait at all: no waiting state between the operations
                        st_rows["reason_code"][waiting_row[position]] = None
                    operator = f"OP-{line + 1:03d}{position + 1:02d}{int(rng.integers(2))}"
                    op_rows["event_type"].append("operation_started"), op_rows["at"].append(start)
                    for name, value in (("work_order_id", wo), ("operation_seq", (position + 1) * 10),
                                        ("machine_id", machine_id), ("operator_id", operator)):
                        op_rows[name].append(value)
                    cursor = start
                    if rng.random() < 0.6:
                        st_rows["machine_id"].append(machine_id), st_rows["at"].append(cursor)
                        st_rows["reason_code"].append("changeover")
                        cursor += float(rng.uniform(600, 1200))
                    producing = float(rng.uniform(1800, 5400))
                    st_rows["machine_id"].append(machine_id), st_rows["at"].append(cursor)
                    st_rows["reason_code"].append("producing")
                    if rng.random() < 0.3:
                        half = producing * float(rng.uniform(0.2, 0.8))
                        st_rows["machine_id"] += [machine_id, machine_id]
                        st_rows["at"] += [cursor + half, cursor + half + float(rng.uniform(600, 3600))]
                        st_rows["reason_code"] += ["breakdown", "producing"]
                        cursor = st_rows["at"][-1] + producing - half
                    else:
                        cursor += producing
                    op_rows["event_type"].append("operation_completed"), op_rows["at"].append(cursor)
                    for name, value in (("work_order_id", wo), ("operation_seq", (position + 1) * 10),
                                        ("machine_id", machine_id), ("operator_id", None)):
                        op_rows[name].append(value)
                    waiting_row[position] = len(st_rows["at"])
                    st_rows["machine_id"].append(machine_id), st_rows["at"].append(cursor)
                    st_rows["reason_code"].append("no_order")
                    free[position], ready = cursor, cursor
    end = START + timedelta(days=days + 30)
    return FlowData(
        pa.table({"event_type": op_rows["event_type"], "occurred_at": _ts(op_rows["at"]),
                  "work_order_id": op_rows["work_order_id"], "operation_seq": pa.array(op_rows["operation_seq"], pa.int64()),
                  "machine_id": op_rows["machine_id"], "operator_id": pa.array(op_rows["operator_id"], pa.string())}),
        pa.table({"machine_id": st_rows["machine_id"], "occurred_at": _ts(st_rows["at"]),
                  "reason_code": pa.array(st_rows["reason_code"], pa.string())}).filter(
            pa.compute.is_valid(pa.array(st_rows["reason_code"], pa.string()))),
        pa.table({"work_order_id": releases["work_order_id"], "released_at": _ts(releases["at"])}),
        pa.table({"work_order_id": issues["work_order_id"], "issued_at": _ts(issues["at"])}),
        pa.table({"machine_id": machine_ids, "line_id": line_ids}), end)
