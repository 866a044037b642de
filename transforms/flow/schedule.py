"""Schedule suggestions: a sequence per machine for a line's open work orders that lowers total tardiness and,
second, the makespan, found by OR-Tools CP-SAT within a time limit, next to what the plant's own rule (first
in, first out) would do with the same orders.

The problem (`ScheduleProblem`) is stated on a *working-time axis*: seconds of scheduled shift time (breaks
and unscheduled time left out) from `now`, so machines are simply available all along it and a due date is
the working time left until it (negative when already late). Each remaining operation lasts its quantity x
the routing's ideal cycle time x `EXPECTED_RATE` (the speed and availability losses a machine typically has),
stretched by `1 + risk` for a machine the maintenance model rates risky (`expected_durations`); an operation
already running keeps its machine from now until its expected end. The FIFO plan shown next to the suggestion
(and given to CP-SAT as its starting hint) is computed with the same stretched durations, so the two compare the
same model of the plant. Operations of an order run one after the other in routing order; a machine runs one
operation at a time. Times are solved in whole minutes.

Real event streams are not that tidy, and the problem takes them as they are rather than failing: an operation
that has started while an earlier one of its order is still open (overlapping operations, or a completion
event that never arrived) is running, so it waits for nothing; when a machine reports several running
operations, the first in release order holds the machine from now and the others queue behind it.

Objective: total tardiness (order completion past its due date, in minutes), then makespan: minimize
tardiness x (horizon + 1) + makespan, which orders them lexicographically.

Solve effort (`solve_budget`): CP-SAT gets a deterministic time limit of `SECONDS_PER_OPERATION` per operation to
schedule, at least `MIN_SOLVE_S` and at most the caller's `time_limit_s`, so a line's cost grows at most linearly
with its operations and a plant's with its total open operations. A fixed limit per line did not: on the 16x
scale plant (56 days, 8 lines) seven lines of 9-26 operations were proven optimal in at most 0.03 s, but one (11
orders, 21 operations on 3 machines) could not be proven optimal - total tardiness has a weak lower bound - and
the solver spent its whole 20 s limit (14 s of wall time) after finding, within 0.1 deterministic seconds, the
plan it returned. The optimal solves measured (13 of the scale plants' 14 lines at 1x, 4x and 16x, and
schedule_check seeds 1-5; 9-26 operations per line) used at most 0.28 deterministic seconds (16 operations, on
the 4x plant), under 0.02 per operation: 0.05 per operation with a floor of 1 leaves them a margin of about 3x,
and every one of these lines, the hard one too, got the same plan as under the fixed limit. No rolling window
(CP-SAT on the first N operations, FIFO for the rest): lines hold tens of open operations, and beyond 400 the
`time_limit_s` cap bounds each line's search. When the budget stops the search before optimality is proven
the status says FEASIBLE (the best plan found), or UNKNOWN_FIFO_KEPT when no plan was found at all."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import polars as pl

EXPECTED_RATE = 1.15
MINUTE = 60.0
SECONDS_PER_OPERATION = 0.05  # CP-SAT deterministic seconds per operation to schedule (see the module docstring)
MIN_SOLVE_S = 1.0  # the budget's floor: small lines are cheap anyway, and a hard small one keeps room to improve

OPERATION_SCHEMA = {"work_order_id": pl.String, "operation_seq": pl.Int64, "machine_id": pl.String,
                    "duration_s": pl.Float64, "due_s": pl.Float64, "release_rank": pl.Int64,
                    "is_running": pl.Boolean}


@dataclass(frozen=True)
class WorkingCalendar:
    """Working periods [start, end) in epoch seconds, sorted, from `now` on."""
    periods: np.ndarray  # shape (n, 2)

    def offset(self, moment: float, now: float) -> float:
        """Working seconds from `now` to `moment` (negative before now)."""
        starts, ends = self.periods[:, 0], self.periods[:, 1]
        def cumulative(t: float) -> float:
            return float(np.clip(np.minimum(ends, t) - starts, 0.0, None).sum())
        return cumulative(moment) - cumulative(now)

    def moment(self, offset_s: float, now: float) -> float:
        """The clock time `offset_s` working seconds after `now`."""
        remaining = offset_s
        for start, end in self.periods:
            start = max(start, now)
            if end <= start:
                continue
            if end - start >= remaining:
                return start + remaining
            remaining -= end - start
        return float(self.periods[-1, 1]) + remaining


@dataclass(frozen=True)
class ScheduleProblem:
    line_id: str
    now: datetime
    operations: pl.DataFrame  # OPERATION_SCHEMA: remaining operations, in routing order per order
    calendar: WorkingCalendar
    risk: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleSuggestion:
    line_id: str
    now: datetime
    plan: pl.DataFrame  # per operation: machine rank, planned start/end (suggested and FIFO, same durations)
    orders: pl.DataFrame  # per order: due, completion and tardiness (suggested and FIFO)
    status: str
    solve_s: float
    deterministic_limit_s: float = 0.0  # the budget CP-SAT was given (`solve_budget`)
    deterministic_s: float = 0.0  # the deterministic time it used

    @property
    def ranks(self) -> dict[str, int]:
        """Work order -> rank (by suggested completion), what the simulator's dispatching follows."""
        ordered = self.orders.sort("suggested_end_at", "work_order_id")["work_order_id"].to_list()
        return {work_order_id: rank for rank, work_order_id in enumerate(ordered)}

    def summary(self) -> dict[str, float]:
        o = self.orders
        return {"orders": o.height,
                "suggested_tardiness_h": float(o["suggested_tardiness_s"].sum()) / 3600,
                "fifo_tardiness_h": float(o["fifo_tardiness_s"].sum()) / 3600,
                "suggested_makespan_h": float(o["suggested_end_s"].max() or 0) / 3600,
                "fifo_makespan_h": float(o["fifo_end_s"].max() or 0) / 3600}


def _minutes(seconds: float) -> int:
    return max(1, int(math.ceil(seconds / MINUTE)))


def expected_durations(operations: pl.DataFrame, risk: dict[str, float]) -> pl.DataFrame:
    """`operations` with each `duration_s` stretched by `1 + risk` of its machine (0 for a machine not rated):
    the durations both CP-SAT and the FIFO comparison plan with. No risk: `operations` unchanged."""
    if not risk:
        return operations
    factor = 1.0 + pl.col("machine_id").replace_strict(risk, default=0.0, return_dtype=pl.Float64)
    return operations.with_columns(pl.col("duration_s") * factor)


def fifo_schedule(operations: pl.DataFrame) -> dict[tuple[str, int], tuple[float, float]]:
    """The plant's rule on the working axis: each machine takes its operations in release order (a running one
    first) and waits for the head one to be ready, with the durations as given (`suggest_schedule` passes the
    risk-stretched ones, `expected_durations`). (work order, seq) -> (start_s, end_s)."""
    by_machine: dict[str, list] = {}
    ordered = operations.sort("is_running", "release_rank", "operation_seq", descending=[True, False, False])
    for row in ordered.iter_rows(named=True):
        by_machine.setdefault(row["machine_id"], []).append(row)
    seqs = {}
    for row in operations.iter_rows(named=True):
        seqs.setdefault(row["work_order_id"], []).append(row["operation_seq"])
    result: dict[tuple[str, int], tuple[float, float]] = {}
    free = {machine: 0.0 for machine in by_machine}
    position = {machine: 0 for machine in by_machine}
    pending = sum(len(v) for v in by_machine.values())
    while pending:
        progressed = False
        for machine, queue in by_machine.items():
            while position[machine] < len(queue):
                row = queue[position[machine]]
                order_seqs = sorted(seqs[row["work_order_id"]])
                index = order_seqs.index(row["operation_seq"])
                ready = 0.0
                if index > 0 and not row["is_running"]:  # a running operation waits for nothing
                    key = (row["work_order_id"], order_seqs[index - 1])
                    if key not in result:
                        break
                    ready = result[key][1]
                start = max(free[machine], ready)
                end = start + row["duration_s"]
                result[(row["work_order_id"], row["operation_seq"])] = (start, end)
                free[machine] = end
                position[machine] += 1
                pending -= 1
                progressed = True
        if not progressed:
            raise ValueError("the FIFO queues deadlock: an operation waits for one queued behind it")
    return result


def pinned_running(operations: pl.DataFrame) -> list[int]:
    """Row indexes (of `operations` as given) of the running operations that hold their machine from now: per
    machine the first running one in release order (then order id and sequence), as the FIFO rule takes them."""
    running = (operations.with_row_index("row").filter(pl.col("is_running"))
               .sort("release_rank", "work_order_id", "operation_seq")
               .unique("machine_id", keep="first", maintain_order=True))
    return sorted(running["row"].to_list())


def solve_budget(n_operations: int, time_limit_s: float) -> float:
    """CP-SAT's deterministic time limit for a problem of `n_operations`: `SECONDS_PER_OPERATION` each, at least
    `MIN_SOLVE_S`, never more than `time_limit_s` (the caller's upper bound, e.g. `--time-limit`)."""
    return min(time_limit_s, max(MIN_SOLVE_S, SECONDS_PER_OPERATION * n_operations))


def suggest_schedule(problem: ScheduleProblem, *, time_limit_s: float = 20.0) -> ScheduleSuggestion:
    """Solve the problem with CP-SAT (see the module docstring) and compare with FIFO.

    One search worker, a fixed seed and a deterministic time limit (`solve_budget`: proportional to the number of
    operations, at most `time_limit_s`): the same problem gives the same plan on every run and engine (parallel
    workers return whichever of several equally good plans they reach first; a wall-clock limit would stop at a
    different point on a busy machine)."""
    from ortools.sat.python import cp_model

    # the expected durations (risk-stretched) for the model, its FIFO hint and the FIFO comparison alike
    ops = expected_durations(problem.operations, problem.risk).sort("work_order_id", "operation_seq")
    if ops.is_empty():
        empty = pl.DataFrame()
        return ScheduleSuggestion(problem.line_id, problem.now, empty, empty, "NO_WORK", 0.0)
    rows = list(ops.iter_rows(named=True))
    durations = [_minutes(r["duration_s"]) for r in rows]
    horizon = sum(durations) + 1
    model = cp_model.CpModel()
    starts, ends, intervals = [], [], []
    for index, (row, duration) in enumerate(zip(rows, durations)):
        start = model.new_int_var(0, horizon, f"s{index}")
        end = model.new_int_var(0, horizon, f"e{index}")
        intervals.append(model.new_interval_var(start, duration, end, f"i{index}"))
        starts.append(start)
        ends.append(end)
    for index in pinned_running(ops):
        model.add(starts[index] == 0)
    by_machine: dict[str, list[int]] = {}
    by_order: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_machine.setdefault(row["machine_id"], []).append(index)
        by_order.setdefault(row["work_order_id"], []).append(index)
    for members in by_machine.values():
        model.add_no_overlap([intervals[i] for i in members])
    tardiness = []
    makespan = model.new_int_var(0, horizon, "makespan")
    for order, members in by_order.items():
        for earlier, later in zip(members, members[1:]):
            if not rows[later]["is_running"]:  # a running operation has started whatever came before it
                model.add(starts[later] >= ends[earlier])
        last = members[-1]
        model.add(makespan >= ends[last])
        due = int(math.floor(rows[last]["due_s"] / MINUTE))
        late = model.new_int_var(0, horizon + abs(due), f"t_{order}")
        model.add(late >= ends[last] - due)
        tardiness.append(late)
    # hint: the FIFO schedule on the same durations, so the solver starts from the plant's own plan
    fifo = fifo_schedule(ops)
    for index, row in enumerate(rows):
        fifo_start = fifo[(row["work_order_id"], row["operation_seq"])][0]
        model.add_hint(starts[index], min(horizon, int(fifo_start // MINUTE)))
    model.minimize(sum(tardiness) * (horizon + 1) + makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    budget = solve_budget(len(rows), time_limit_s)
    solver.parameters.max_deterministic_time = budget
    solver.parameters.max_time_in_seconds = 3 * time_limit_s  # a guard only; the deterministic limit decides
    status = solver.solve(model)
    if status == cp_model.UNKNOWN:  # no plan within the limit (a very large line): the plant's own plan stands
        status_name = "UNKNOWN_FIFO_KEPT"
        planned = {index: (fifo_start, fifo_end) for index, (fifo_start, fifo_end) in
                   enumerate(fifo[(row["work_order_id"], row["operation_seq"])] for row in rows)}
    elif status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status_name = solver.status_name(status)
        planned = {index: (solver.value(starts[index]) * MINUTE, solver.value(ends[index]) * MINUTE)
                   for index in range(len(rows))}
    else:  # the FIFO plan satisfies every constraint, so this is a modelling error, not the data's
        raise RuntimeError(f"CP-SAT found no schedule ({solver.status_name(status)}) within {budget} s")
    now_s = problem.now.timestamp()
    clock = lambda offset: datetime.fromtimestamp(problem.calendar.moment(offset, now_s), timezone.utc)  # noqa: E731
    plan_rows = []
    for index, row in enumerate(rows):
        start_s, end_s = planned[index]
        fifo_start, fifo_end = fifo[(row["work_order_id"], row["operation_seq"])]
        plan_rows.append((problem.line_id, row["machine_id"], row["work_order_id"], row["operation_seq"], start_s,
                          end_s, clock(start_s), clock(end_s), fifo_start, fifo_end, row["is_running"]))
    plan = pl.DataFrame(plan_rows, orient="row", schema={
        "line_id": pl.String, "machine_id": pl.String, "work_order_id": pl.String, "operation_seq": pl.Int64,
        "suggested_start_s": pl.Float64, "suggested_end_s": pl.Float64, "suggested_start_at": pl.Datetime("us", "UTC"),
        "suggested_end_at": pl.Datetime("us", "UTC"), "fifo_start_s": pl.Float64, "fifo_end_s": pl.Float64,
        "is_running": pl.Boolean}).with_columns(
        pl.col("suggested_start_s").rank("ordinal").over("machine_id").cast(pl.Int64).alias("machine_rank"))
    due = ops.group_by("work_order_id").agg(pl.col("due_s").first())
    orders = (plan.group_by("work_order_id").agg(pl.col("suggested_end_s").max(), pl.col("fifo_end_s").max(),
                                                 pl.col("suggested_end_at").max())
              .join(due, on="work_order_id")
              .with_columns((pl.col("suggested_end_s") - pl.col("due_s")).clip(lower_bound=0)
                            .alias("suggested_tardiness_s"),
                            (pl.col("fifo_end_s") - pl.col("due_s")).clip(lower_bound=0).alias("fifo_tardiness_s"))
              .sort("work_order_id"))
    return ScheduleSuggestion(problem.line_id, problem.now, plan.sort("machine_id", "machine_rank"), orders,
                              status_name, solver.wall_time, budget, solver.deterministic_time)


def schedule_problem(*, line_id: str, now: datetime, released: pl.DataFrame, operation_events: pl.DataFrame,
                     routings: pl.DataFrame, calendar: WorkingCalendar, risk: dict[str, float] | None = None
                     ) -> ScheduleProblem:
    """The open work orders of `line_id` at `now` as a problem.

    `released` (work_order_id, line_id, material_id, planned_quantity, released_at, due_at, completed_at null
    while open); `operation_events` (event_type, occurred_at, work_order_id, operation_seq, machine_id);
    `routings` (material_id, line_id, operation_seq, machine_id, ideal_cycle_time_s)."""
    now_s = now.timestamp()
    open_orders = released.filter((pl.col("line_id") == line_id) & (pl.col("released_at") <= now)
                                  & (pl.col("completed_at").is_null() | (pl.col("completed_at") > now)))
    events = operation_events.filter(pl.col("occurred_at") <= now)
    done = (events.filter(pl.col("event_type") == "operation_completed")
            .select("work_order_id", "operation_seq").unique())
    started = (events.filter(pl.col("event_type") == "operation_started").group_by("work_order_id", "operation_seq")
               .agg(pl.col("occurred_at").min().alias("started_at")))
    # release order, ties (orders released together) by id: the same rank whatever order the rows were read in
    steps = (open_orders.sort("released_at", "work_order_id")
             .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("release_rank"))
             .join(routings.filter(pl.col("line_id") == line_id).drop("line_id"), on="material_id")
             .join(done, on=["work_order_id", "operation_seq"], how="anti")
             .join(started, on=["work_order_id", "operation_seq"], how="left"))
    rows = []
    for row in steps.iter_rows(named=True):
        duration = row["planned_quantity"] * row["ideal_cycle_time_s"] * EXPECTED_RATE
        running = row["started_at"] is not None
        if running:
            duration = max(MINUTE, duration - calendar.offset(now_s, row["started_at"].timestamp()))
        rows.append((row["work_order_id"], row["operation_seq"], row["machine_id"], duration,
                     calendar.offset(row["due_at"].timestamp(), now_s), row["release_rank"], running))
    operations = pl.DataFrame(rows, schema=OPERATION_SCHEMA, orient="row").sort("work_order_id", "operation_seq")
    return ScheduleProblem(line_id, now, operations, calendar, dict(risk or {}))


def working_calendar(shift_rows: pl.DataFrame, break_rows: pl.DataFrame) -> WorkingCalendar:
    """From shift instances (start_s, end_s) and break instances (start_s, end_s), epoch seconds."""
    periods = []
    breaks = sorted(break_rows.select("start_s", "end_s").rows())
    for start, end in sorted(shift_rows.select("start_s", "end_s").rows()):
        cursor = start
        for b_start, b_end in breaks:
            if start <= b_start < end:
                periods.append((cursor, b_start))
                cursor = b_end
        periods.append((cursor, end))
    return WorkingCalendar(np.array(periods, dtype=float).reshape(-1, 2))
