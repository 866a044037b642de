"""Daily production planning: at 04:00 local on working days each line gets work orders
until its outstanding load covers about one day. Finished goods are planned when the
warehouse holds enough semi-finished components, otherwise the scarcest semi-finished
material is produced.

Planned dates, fixed at release: the planner books the line's outstanding load (ahead of
the order) and then the order's routing load (planned quantity x the sum of the ideal cycle
times of its operations, which run one after the other) on the shift calendar, in working
time (breaks and unscheduled time excluded), stretched by a planning factor drawn from the
planning's own sub-stream `rng_plan_dates`: 1.5-2.0 for most orders, 0.9-1.2 for
`TIGHT_PLAN_SHARE` of them (a tight promise).
`planned_start_at` is where the outstanding load ends and `due_at` where the routing load
ends. Most orders complete on time; the tight ones and some unlucky others finish late."""

from __future__ import annotations

from datetime import date, time

from .catalog import BOM, MATERIALS_BY_ID, produced_materials
from .logistics import local_times_in_utc_day
from .shift_calendar import working_time_end

TARGET_LOAD_S = 70000.0
MIN_FINISHED_QUANTITY = 100
TIGHT_PLAN_SHARE = 0.15


def bottleneck_cycle_s(model, material_id: str, line_index: int) -> float:
    machines = model.master.machines_by_line[line_index]
    return max(model.master.ideal_cycle_time_s[(material_id, m)] for m in machines
               if (material_id, m) in model.master.ideal_cycle_time_s)


def outstanding_load_s(model, line_index: int) -> float:
    load = 0.0
    for work_order in model.work_orders.values():
        if work_order.line_index != line_index:
            continue
        share = 1.0 if work_order.started_at is None else 0.5
        load += share * work_order.planned_quantity * bottleneck_cycle_s(model, work_order.material_id, line_index)
    return load


def planned_dates(model, line_index: int, material_id: str, quantity: int,
                  machines: list[str] | tuple[str, ...]) -> tuple[float, float]:
    """(planned_start_at, due_at) of an order released now; draws two numbers from the plan-dates RNG."""
    tight_draw, spread = model.rng_plan_dates.random(2)
    factor = 0.9 + 0.3 * float(spread) if tight_draw < TIGHT_PLAN_SHARE else 1.5 + 0.5 * float(spread)
    ahead = outstanding_load_s(model, line_index)
    routing = quantity * sum(model.master.ideal_cycle_time_s[(material_id, m)] for m in machines)
    return (working_time_end(model.now, ahead * factor, model.tz),
            working_time_end(model.now, (ahead + routing) * factor, model.tz))


def choose_order(model, line_index: int) -> tuple[str, int]:
    rng = model.rng_plan
    quantity = int(rng.integers(12, 37)) * 10
    finished = [m.material_id for m in produced_materials() if m.material_type == "finished"]
    offset = int(rng.integers(len(finished)))
    for material_id in finished[offset:] + finished[:offset]:
        feasible = min(model.warehouse.available_quantity(component) // per_parent
                       for component, per_parent in BOM[material_id]
                       if MATERIALS_BY_ID[component].material_type == "semi_finished")
        feasible = min(quantity, feasible // 10 * 10)
        if feasible >= MIN_FINISHED_QUANTITY:
            return material_id, feasible
    semis = [m.material_id for m in produced_materials() if m.material_type == "semi_finished"]
    scarcest = min(semis, key=lambda m: (model.warehouse.available_quantity(m) + model.semi_pipeline.get(m, 0), m))
    return scarcest, int(rng.integers(20, 51)) * 10


def plan_day(model) -> None:
    for line_index in range(model.cfg.lines):
        load = outstanding_load_s(model, line_index)
        while load < TARGET_LOAD_S:
            material_id, quantity = choose_order(model, line_index)
            model.flow.release_work_order(line_index, material_id, quantity)
            load += quantity * bottleneck_cycle_s(model, material_id, line_index)


def schedule_planning(model, day: date) -> None:
    for at in local_times_in_utc_day(model, day, time(4, 0), True):
        model.schedule(at, plan_day, model)
