"""Production-flow truth: what each routing operation waited for and spent, who ran it, and which machine
constrained each line in each shift.

Per operation (`truth/operations`):
- `ready_at`: when the operation could start. Operation 20, 30, ...: the previous operation's completion.
  Operation 10: the release, or the arrival line-side of the order's last WMS issue before its start if
  later (material line-side).
- `queue_s` = started_at - ready_at (the work waits; never negative: a machine starts an operation only
  when it is ready).
- During the operation (started_at .. ended_at) the machine's time splits into `setup_s` (changeover),
  `processing_s` (running) and `stopped_s` (breakdowns, micro stops, planned maintenance, breaks, time off
  shift), which add up to the operation's span.
- `starved_s`: the time the machine stood waiting for this operation before starting it (reason `starved`
  - the previous operation not done - or `material_shortage`), counted since the machine's previous
  operation. `blocked_s`: the time a finished operation could not leave the machine; buffers between
  machines are unlimited in this plant, so it is always 0.
- `operator_id`: the operator assigned to the machine in the shift in which the operation started.

Operators: each line has one crew per shift pattern (`S1` crew A, `S2` crew B) of one operator per
machine; at every shift start the crew is shuffled across the line's machines (a stateless draw from
[seed, 60, shift start, line], so no existing random stream moves).

Bottlenecks (`truth/bottlenecks`): per line and shift, the machine that constrained the line, by design:
the line's designed bottleneck - the machine with the longest effective cycle for the line's product mix,
the largest ideal work content (planned quantity x ideal cycle time) over the orders released to the line
so far (before any order: the largest sum of ideal cycle times over the product range) - unless it waited
for work (starved, no order, material shortage) for at least `DESIGNED_WAIT_SHARE` of the shift's working
time: then the machine before it with the largest active share constrained the line (`cause` `slowdown` when
it is that day's slowed machine, `breakdown` when it lost at least `BREAKDOWN_STREAK_SHARE` of the shift to
breakdowns, else `starved`, e.g. the first shifts, when the line fills). Only machines before it: buffers are
unlimited and every released order queues at the first machine, so nothing ever blocks a machine, and a
machine after the bottleneck cannot take the constraint from it. `active_share` is the named machine's share
of the shift's working time not spent waiting for work.

Slowdown days: with `slowdown_day_share` > 0, on that share of working days one machine of a line before
its designed bottleneck (static rule) runs `SLOWDOWN_FACTOR` times slower all day (drawn from [seed, 61, day, line];
no existing stream moves; with the default 0 nothing changes)."""

from __future__ import annotations

import numpy as np

from .catalog import produced_materials
from .master_data import line_id

SLOWDOWN_FACTOR = 2.2
WAITING_REASONS = frozenset({"no_order", "starved", "material_shortage"})
STARVED_REASONS = frozenset({"starved", "material_shortage"})
CREWS = {"S1": "A", "S2": "B"}


# --- operators ----------------------------------------------------------------------------------
def operator_on_shift(model, machine, at: float) -> str | None:
    shift = model.calendar.shift_at(at)
    if shift is None:
        return None
    machines = model.master.machines_by_line[machine.line_index]
    order = np.random.default_rng([model.cfg.seed, 60, int(shift.start_s), machine.line_index]).permutation(
        len(machines))
    crew = CREWS.get(shift.shift_id, shift.shift_id)
    return f"OP-{machine.line_index + 1:02d}{crew}{int(order[machine.position]) + 1:02d}"


# --- designed bottleneck and slowdowns ----------------------------------------------------------
def effective_cycle_s(master, machine_id: str) -> float:
    return sum(master.ideal_cycle_time_s.get((m.material_id, machine_id), 0.0) for m in produced_materials())


def designed_bottleneck(master, line_index: int) -> str:
    """Before any order: the machine with the longest effective cycle over the product range."""
    return max(master.machines_by_line[line_index], key=lambda m: (effective_cycle_s(master, m), m))


def mix_bottleneck(model, line_index: int) -> str:
    """The machine with the longest effective cycle for the line's product mix: the largest ideal work
    content (quantity x ideal cycle time) over every order released to the line so far."""
    machines = model.master.machines_by_line[line_index]
    if not any(model.machines[m].ideal_load_s for m in machines):
        return designed_bottleneck(model.master, line_index)
    return max(machines, key=lambda m: (model.machines[m].ideal_load_s, m))


def order_released(model, work_order) -> None:
    for machine_id in work_order.machine_ids:
        model.machines[machine_id].ideal_load_s += (
            work_order.planned_quantity * model.master.ideal_cycle_time_s[(work_order.material_id, machine_id)])
    model.day.designed_by_line[work_order.line_index] = mix_bottleneck(model, work_order.line_index)


def slowed_machine(cfg, master, day_index: int, line_index: int) -> str | None:
    """The machine of the line slowed down on day `day_index`, if any."""
    if cfg.slowdown_day_share <= 0.0:
        return None
    rng = np.random.default_rng([cfg.seed, 61, day_index, line_index])
    if rng.random() >= cfg.slowdown_day_share:
        return None
    machines = master.machines_by_line[line_index]
    # only a machine before the designed bottleneck can take its place: buffers are unlimited and every
    # released order queues at the first machine, so machines upstream of a slowed one never stop (nothing
    # blocks them) and the slowed one would merely share the constraint
    others = list(machines[:machines.index(designed_bottleneck(master, line_index))])
    return others[int(rng.integers(len(others)))] if others else None


def slowdown_factor(model, machine) -> float:
    if model.cfg.slowdown_day_share <= 0.0:
        return 1.0
    slowed = slowed_machine(model.cfg, model.master, model.day.day_index, machine.line_index)
    return SLOWDOWN_FACTOR if slowed == machine.machine_id else 1.0


# --- hooks from machine_logic / material_flow ---------------------------------------------------
def account_segment(machine, start: float, end: float) -> None:
    """Called for every closed state segment: book it to the running operation or to the wait before one."""
    duration = end - start
    if machine.current is not None:
        machine.op_reason_s[machine.seg_reason] = machine.op_reason_s.get(machine.seg_reason, 0.0) + duration
    elif machine.seg_reason in STARVED_REASONS and machine.queue:
        machine.wait_before_op_s += duration


def operation_started(model, machine, now: float) -> str | None:
    machine.op_reason_s = {}
    machine.op_starved_s, machine.wait_before_op_s = machine.wait_before_op_s, 0.0
    machine.op_operator_id = operator_on_shift(model, machine, now) or ""
    if machine.line_index not in model.day.designed_by_line:
        model.day.designed_by_line[machine.line_index] = mix_bottleneck(model, machine.line_index)
    return machine.op_operator_id or None


def material_arrived(work_order, now: float) -> None:
    if work_order.started_at is None:  # an issue after the start (the order ran on line-side stock) gated nothing
        work_order.material_ready_at = max(work_order.material_ready_at or 0.0, now)


def operation_completed(model, machine, work_order, op_index: int, now: float) -> None:
    if op_index > 0:
        ready = work_order.operation_done_at[op_index - 1]
    else:
        ready = max(work_order.released_at, work_order.material_ready_at or 0.0)
    reasons = machine.op_reason_s
    setup = reasons.get("changeover", 0.0)
    processing = reasons.get("producing", 0.0)
    stopped = sum(reasons.values()) - setup - processing
    result = work_order.operation_results[-1]
    model.day.operations.append((
        work_order.work_order_id, (op_index + 1) * 10, line_id(work_order.line_index), machine.machine_id,
        machine.op_operator_id or None, ready,
        machine.op_started_at, now, machine.op_started_at - ready, setup, processing, stopped,
        machine.op_starved_s, 0.0, result.quantity, result.good_quantity))
    machine.op_reason_s = {}


# --- per line-shift bottleneck truth --------------------------------------------------------------
BREAKDOWN_STREAK_SHARE = 0.4
DESIGNED_WAIT_SHARE = 0.2


def _working_periods(shift) -> list[tuple[float, float]]:
    periods, cursor = [], shift.start_s
    for b_start, b_end in shift.breaks:
        periods.append((cursor, b_start))
        cursor = b_end
    periods.append((cursor, shift.end_s))
    return periods


def bottleneck_rows(master, cfg, records) -> list[tuple]:
    """Truth rows of the shifts starting in `records`' UTC day: the designed bottleneck, unless another
    machine of the line is slowed down that day (it then has the longest effective cycle) or lost at least
    `BREAKDOWN_STREAK_SHARE` of the shift's working time to breakdowns (the most broken one wins)."""
    by_machine: dict[str, list] = {}
    for machine_id, state, reason, start, end in records.intervals:
        by_machine.setdefault(machine_id, []).append((reason, start, end))
    rows = []
    for line_index, machines in enumerate(master.machines_by_line):
        designed = records.designed_by_line.get(line_index) or designed_bottleneck(master, line_index)
        slowed = slowed_machine(cfg, master, records.day_index, line_index)
        for shift in records.shifts:
            working = _working_periods(shift)
            working_s = sum(end - start for start, end in working)
            active, broken = {}, {}
            for machine_id in machines:
                active[machine_id] = broken[machine_id] = 0.0
                for reason, start, end in by_machine.get(machine_id, []):
                    for w_start, w_end in working:
                        overlap = min(end, w_end) - max(start, w_start)
                        if overlap > 0:
                            active[machine_id] += overlap if reason not in WAITING_REASONS else 0.0
                            broken[machine_id] += overlap if reason == "breakdown" else 0.0
            upstream = machines[:machines.index(designed)]  # see slowed_machine: only these can take over
            waited = working_s - active[designed]
            if upstream and waited >= DESIGNED_WAIT_SHARE * working_s:
                top = max(upstream, key=lambda m: (active[m], m))
                cause = ("slowdown" if top == slowed else
                         "breakdown" if broken[top] >= BREAKDOWN_STREAK_SHARE * working_s else "starved")
            else:
                top, cause = designed, "designed"
            rows.append((line_id(line_index), shift.shift_date, shift.shift_id, shift.start_s, shift.end_s, top,
                         designed, slowed, cause, active[top] / working_s if working_s else 0.0))
    return rows
