"""Production-flow facts over N machines x D days (benchmarks/flow_data.py): plantlake's Narwhals transforms on
Polars (state intervals -> per-operation queue/setup/processing/stopped/starved/blocked time -> WIP over time,
`transforms.flow`) against the same facts in hand-written DuckDB SQL (an interval range join), on the same Arrow
tables in the same run; then the active-period bottleneck sweep per line and shift (no peer: it is our own
sequential algorithm), timed alone.

    python -m benchmarks.bench_flow [--machines 200] [--days 365] [--repeats 3]

Both sides go from the Arrow tables in memory to Arrow results; best of `repeats`. The results must agree per
operation (every time column within 1e-5 s: epoch seconds in float64) and per WIP step."""

from __future__ import annotations

import argparse
import time

import duckdb
import narwhals as nw
import polars as pl
import pyarrow as pa

from benchmarks.flow_data import FlowData, generate
from benchmarks.harness import Measurement, best_of, peak_rss_mb
from transforms.flow.bottleneck import bottleneck_by_line_shift
from transforms.flow.intervals import state_intervals
from transforms.flow.operations import operation_flow
from transforms.flow.wip import wip_over_time

TIMES = ["queue_s", "setup_s", "processing_s", "stopped_s", "starved_s", "blocked_s"]
DUCKDB_SQL = """
WITH iv AS (
    SELECT machine_id, epoch_us(occurred_at) / 1e6 AS start_s,
           LEAD(epoch_us(occurred_at) / 1e6, 1, $end_s) OVER (PARTITION BY machine_id ORDER BY occurred_at) AS end_s,
           CASE WHEN reason_code = 'changeover' THEN 'setup' WHEN reason_code = 'producing' THEN 'processing'
                WHEN reason_code IN ('starved', 'material_shortage') THEN 'starved'
                WHEN reason_code = 'blocked' THEN 'blocked' ELSE 'other' END AS category
    FROM state_events),
spans AS (
    SELECT work_order_id, operation_seq, max(machine_id) AS machine_id,
           max(operator_id) FILTER (WHERE event_type = 'operation_started') AS operator_id,
           min(epoch_us(occurred_at) / 1e6) FILTER (WHERE event_type = 'operation_started') AS started_s,
           max(epoch_us(occurred_at) / 1e6) FILTER (WHERE event_type = 'operation_completed') AS ended_s
    FROM operation_events GROUP BY work_order_id, operation_seq),
ops AS (
    SELECT s.*,
           LAG(ended_s) OVER (PARTITION BY work_order_id ORDER BY operation_seq) AS previous_s,
           coalesce(LAG(ended_s) OVER (PARTITION BY machine_id ORDER BY started_s), 0.0) AS free_s,
           coalesce(LEAD(started_s) OVER (PARTITION BY machine_id ORDER BY started_s), ended_s) AS next_s
    FROM spans s WHERE started_s IS NOT NULL AND ended_s IS NOT NULL),
first_start AS (SELECT work_order_id, min(started_s) AS first_s FROM ops GROUP BY work_order_id),
material AS (
    SELECT i.work_order_id, max(epoch_us(i.issued_at) / 1e6) AS material_s
    FROM issues i JOIN first_start f USING (work_order_id)
    WHERE epoch_us(i.issued_at) / 1e6 <= f.first_s + 1.0 GROUP BY i.work_order_id),
released AS (SELECT work_order_id, min(epoch_us(released_at) / 1e6) AS released_s FROM releases GROUP BY 1),
ready AS (
    SELECT o.*, CASE WHEN previous_s IS NULL
                     THEN least(greatest(r.released_s, m.material_s), started_s) ELSE previous_s END AS ready_s
    FROM ops o LEFT JOIN released r USING (work_order_id) LEFT JOIN material m USING (work_order_id)),
inside AS (   -- state time during the operation, per category
    SELECT o.work_order_id, o.operation_seq,
           sum(least(iv.end_s, o.ended_s) - greatest(iv.start_s, o.started_s)) FILTER (WHERE category = 'setup') AS setup_s,
           sum(least(iv.end_s, o.ended_s) - greatest(iv.start_s, o.started_s)) FILTER (WHERE category = 'processing') AS processing_s
    FROM ops o JOIN iv ON iv.machine_id = o.machine_id AND iv.start_s < o.ended_s AND iv.end_s > o.started_s
    GROUP BY 1, 2),
before AS (   -- starved time between the machine's previous operation and this start
    SELECT o.work_order_id, o.operation_seq, sum(least(iv.end_s, o.started_s) - greatest(iv.start_s, o.free_s)) AS starved_s
    FROM ops o JOIN iv ON iv.machine_id = o.machine_id AND iv.start_s < o.started_s AND iv.end_s > o.free_s
    WHERE iv.category = 'starved' GROUP BY 1, 2),
after AS (    -- blocked time between this completion and the machine's next start
    SELECT o.work_order_id, o.operation_seq, sum(least(iv.end_s, o.next_s) - greatest(iv.start_s, o.ended_s)) AS blocked_s
    FROM ops o JOIN iv ON iv.machine_id = o.machine_id AND iv.start_s < o.next_s AND iv.end_s > o.ended_s
    WHERE iv.category = 'blocked' GROUP BY 1, 2)
SELECT r.work_order_id, r.operation_seq, r.machine_id, r.operator_id, r.started_s - r.ready_s AS queue_s,
       coalesce(i.setup_s, 0.0) AS setup_s, coalesce(i.processing_s, 0.0) AS processing_s,
       r.ended_s - r.started_s - coalesce(i.setup_s, 0.0) - coalesce(i.processing_s, 0.0) AS stopped_s,
       coalesce(b.starved_s, 0.0) AS starved_s, coalesce(a.blocked_s, 0.0) AS blocked_s,
       r.ready_s, r.started_s, r.ended_s
FROM ready r LEFT JOIN inside i USING (work_order_id, operation_seq) LEFT JOIN before b USING (work_order_id, operation_seq)
LEFT JOIN after a USING (work_order_id, operation_seq)
"""
WIP_SQL = """
WITH steps AS (
    SELECT machine_id, ready_s AS at_s, 1 AS dq, 0 AS dp FROM ops_facts
    UNION ALL SELECT machine_id, started_s, -1, 1 FROM ops_facts
    UNION ALL SELECT machine_id, ended_s, 0, -1 FROM ops_facts),
summed AS (SELECT machine_id, at_s, sum(dq) AS dq, sum(dp) AS dp FROM steps GROUP BY 1, 2)
SELECT machine_id, at_s, sum(dq) OVER w AS queue_wip, sum(dp) OVER w AS in_process_wip FROM summed
WINDOW w AS (PARTITION BY machine_id ORDER BY at_s ROWS UNBOUNDED PRECEDING)
"""


def _polars(data: FlowData) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = lambda table: nw.from_native(pl.from_arrow(table).lazy())  # noqa: E731
    intervals = state_intervals(frame(data.state_events), period_end=data.period_end)
    operations = operation_flow(frame(data.operation_events), intervals, frame(data.releases), frame(data.issues))
    facts = operations.to_native().collect()
    wip = wip_over_time(nw.from_native(facts.lazy())).to_native().collect()
    return facts, wip


def _duckdb(data: FlowData) -> tuple[pa.Table, pa.Table]:
    connection = duckdb.connect()
    connection.execute("SET threads TO 2")
    for name in ("operation_events", "state_events", "releases", "issues"):
        connection.register(name, getattr(data, name))
    facts = connection.sql(DUCKDB_SQL, params={"end_s": data.period_end.timestamp()}).to_arrow_table()
    connection.register("ops_facts", facts)
    wip = connection.sql(WIP_SQL).to_arrow_table()
    connection.close()
    return facts, wip


def _agree(ours: pl.DataFrame, peer: pa.Table) -> float:
    joined = ours.join(pl.from_arrow(peer), on=["work_order_id", "operation_seq"], suffix="_peer")
    if joined.height != ours.height or joined.height != peer.num_rows:
        raise AssertionError(f"row counts differ: plantlake {ours.height}, duckdb {peer.num_rows}")
    worst = max(float((joined[c] - joined[f"{c}_peer"]).abs().max()) for c in TIMES)
    if worst > 1e-5:  # epoch seconds in float64 carry about 2e-7 s
        raise AssertionError(f"plantlake and duckdb disagree by {worst} s")
    return worst


def run(machines: int = 200, days: int = 365, repeats: int = 3) -> dict[str, object]:
    started = time.perf_counter()
    data = generate(machines, days)
    generated_s = time.perf_counter() - started
    operations = data.operation_events.num_rows // 2
    ours_s, (facts, wip) = best_of(repeats, lambda: _polars(data))
    peer_s, (peer_facts, peer_wip) = best_of(repeats, lambda: _duckdb(data))
    worst = _agree(facts, peer_facts)
    if wip.height != peer_wip.num_rows:
        raise AssertionError(f"WIP steps differ: plantlake {wip.height}, duckdb {peer_wip.num_rows}")
    intervals = (state_intervals(nw.from_native(pl.from_arrow(data.state_events).lazy()), period_end=data.period_end)
                 .to_native().collect().select("machine_id", "reason_code", "start_s", "end_s"))
    shifts = _shifts(data, days)
    sweep_s, bottlenecks = best_of(1, lambda: bottleneck_by_line_shift(
        intervals, pl.from_arrow(data.machines), shifts, facts, wip))
    return {"ours": Measurement("flow facts", "plantlake (Narwhals on Polars)", ours_s, operations, "operations"),
            "peer": Measurement("flow facts", "hand-written DuckDB SQL", peer_s, operations, "operations"),
            "sweep": Measurement("bottleneck sweep", "plantlake (Polars + NumPy)", sweep_s,
                                 bottlenecks.select("line_id", "shift_date", "shift_id").unique().height, "line-shifts"),
            "machines": machines, "days": days, "state_events": data.state_events.num_rows,
            "operation_events": data.operation_events.num_rows, "max_difference_s": worst,
            "generate_s": generated_s, "peak_rss_mb": peak_rss_mb()}


def _shifts(data: FlowData, days: int) -> pl.DataFrame:
    """The simulator's calendar in UTC (06:00-14:00 and 14:00-22:00 Berlin in winter = 05-13, 13-21 UTC)."""
    from benchmarks.flow_data import START
    from datetime import timedelta
    rows = []
    for day in range(days):
        date = START + timedelta(days=day)
        if date.weekday() >= 5:
            continue
        for shift_id, hour in (("S1", 5), ("S2", 13)):
            start = date.timestamp() + hour * 3600
            rows.append((date.date(), shift_id, start, start + 8 * 3600, 2700.0))
    return pl.DataFrame(rows, schema={"shift_date": pl.Date, "shift_id": pl.String, "start_s": pl.Float64,
                                      "end_s": pl.Float64, "break_s": pl.Float64}, orient="row")


def format_table(result: dict[str, object]) -> str:
    ours, peer, sweep = result["ours"], result["peer"], result["sweep"]
    return "\n".join([
        f"Flow facts, {result['machines']} machines x {result['days']} days: {result['state_events']:,} state "
        f"events, {result['operation_events']:,} operation events (generated in {result['generate_s']:.0f} s); "
        f"results agree within {result['max_difference_s']:.1e} s",
        "", "| subject | seconds | operations/s | plantlake / peer (time) |", "|---|---|---|---|",
        f"| {ours.subject} | {ours.seconds:.2f} | {ours.rate:,.0f} | {ours.seconds / peer.seconds:.2f}x |",
        f"| {peer.subject} | {peer.seconds:.2f} | {peer.rate:,.0f} | 1.00x |",
        f"| {sweep.subject}: {int(sweep.work):,} line-shifts | {sweep.seconds:.2f} | {sweep.rate:,.0f} line-shifts/s | "
        f"(no peer) |", "", f"peak RSS {result['peak_rss_mb']:,.0f} MB"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(format_table(run(args.machines, args.days, args.repeats)))


if __name__ == "__main__":
    main()
