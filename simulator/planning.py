"""Daily production planning: at 04:00 local on working days each line gets work orders
until its outstanding load covers about one day. Finished goods are planned when the
warehouse holds enough semi-finished components, otherwise the scarcest semi-finished
material is produced."""

from __future__ import annotations

from datetime import date, time

from .catalog import BOM, MATERIALS_BY_ID, produced_materials
from .logistics import local_times_in_utc_day

TARGET_LOAD_S = 70000.0
MIN_FINISHED_QUANTITY = 100


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
