"""Production material flow: work order release with WMS issues, consumption at the
first operation, output lots (with splits and merges) and their putaway.

Simulation-level faults (`unreported_consumption`, `wrong_lot`, `over_issue`) are
decided here because they need knowledge of the physical flow; the truth always
records what physically happened.

Issue policy: the WMS issues whole handling units covering the requirement not already
at line side, plus one spare unit when less than 10 % of a unit would be left over;
whole units no released order needs are returned at 22:15 local."""

from __future__ import annotations

import math

from .b2mml import NAMESPACES, production_performance_start, production_schedule
from .catalog import BOM, MATERIALS_BY_ID, operation_count
from .flow_truth import material_arrived, order_released
from .machine_logic import wake
from .master_data import line_id, line_side_location
from .planning import planned_dates
from .plant_state import WorkOrder
from .production_output import complete_work_order
from .timeutil import iso_local_s, iso_local_us, iso_utc_us

LINE_SIDE_BUFFER = 0.1  # share of a handling unit kept spare at line side


class MaterialFlow:
    def __init__(self, model):
        self.model = model
        self.b2mml_count = 0

    # --- release ----------------------------------------------------------------------
    def release_work_order(self, line_index: int, material_id: str, quantity: int) -> WorkOrder:
        model, cfg = self.model, self.model.cfg
        spec = MATERIALS_BY_ID[material_id]
        machines = model.master.machines_by_line[line_index][:operation_count(material_id, cfg.machines_per_line)]
        is_b2mml = bool(model.rng_plan.random() < cfg.b2mml_share)
        planned_start_at, due_at = planned_dates(model, line_index, material_id, quantity, machines)
        work_order = WorkOrder(model.next_id("WO-", 6), material_id, line_index, quantity, model.now,
                               tuple(machines), {c: q * quantity for c, q in BOM[material_id]}, is_b2mml,
                               planned_start_at=planned_start_at, due_at=due_at)
        if is_b2mml:
            work_order.b2mml_namespace = NAMESPACES[self.b2mml_count % 2]
            self.b2mml_count += 1
            components = [(MATERIALS_BY_ID[c].mes_code, model.mes_quantity(c, q), MATERIALS_BY_ID[c].mes_unit)
                          for c, q in work_order.requirements.items()]
            xml = production_schedule(work_order.b2mml_namespace, work_order.work_order_id,
                                      iso_local_us(model.now, model.tz), spec.mes_code, quantity, spec.mes_unit,
                                      [((k + 1) * 10, m) for k, m in enumerate(machines)], components,
                                      iso_local_us(planned_start_at, model.tz), iso_local_us(due_at, model.tz))
            model.day.b2mml.append((f"ProductionSchedule_{work_order.work_order_id}.xml", xml))
        else:
            model.emit_mes("work_order_released", model.now, work_order_id=work_order.work_order_id,
                           line_id=line_id(line_index), material_code=spec.mes_code,
                           planned_quantity=quantity, unit=spec.mes_unit,
                           planned_start_at=iso_utc_us(planned_start_at), due_at=iso_utc_us(due_at))
        model.work_orders[work_order.work_order_id] = work_order
        order_released(model, work_order)
        for op_index, machine in enumerate(machines):
            model.machines[machine].queue.append((work_order, op_index))
        if spec.material_type == "semi_finished":
            model.semi_pipeline[material_id] = model.semi_pipeline.get(material_id, 0) + quantity
        model.supply.on_release(work_order)
        wake(model, model.machines[machines[0]])
        return work_order

    def request_material(self, work_order: WorkOrder, *, dispatch: bool = True) -> list[tuple]:
        """Reserve every component of the order not already free at the line side and, with `dispatch`, pick
        it now; without, return the reservations (component, allocations, extra) for `dispatch_material`
        later (the supply policies other than `at_release`: reserved at release, picked on call-off)."""
        model = self.model
        reserved = []
        side = model.line_sides[work_order.line_index]
        for component, required in work_order.requirements.items():
            spec = MATERIALS_BY_ID[component]
            pack = spec.wms_pack_base
            free = side.free.get(component, 0)
            issue = math.ceil(max(0, required - free) / pack) * pack
            if spec.material_type in ("raw", "packaging") and free + issue - required < LINE_SIDE_BUFFER * pack:
                issue += pack
            over_issue_draw = model.rng_faults.random()
            extra = 0
            if issue > 0 and spec.material_type in ("raw", "packaging") and over_issue_draw < model.cfg.fault_rates.over_issue:
                extra = pack * int(model.rng_faults.integers(1, 3))
            issue += extra
            side.free[component] = free + issue - required
            if issue == 0:
                continue
            shortfall = issue - model.warehouse.available_quantity(component)
            if shortfall > 0:
                model.logistics.receive_lot(component, model.logistics.receipt_quantity(component, shortfall),
                                            expedited=True)
            allocations = model.warehouse.allocate(component, issue)
            if dispatch:
                self.dispatch_material(work_order, [(component, allocations, extra)])
            else:
                reserved.append((component, allocations, extra))
        return reserved

    def dispatch_material(self, work_order: WorkOrder, reserved: list[tuple]) -> None:
        """Pick reserved components; each arrives after 30 min + Exp(25 min), 4 % of them 2-5 h later still."""
        model, rng = self.model, self.model.rng_logistics
        for component, allocations, extra in reserved:
            lead_s = 1800.0 + float(rng.exponential(1500.0))
            if rng.random() < 0.04:
                lead_s += float(rng.uniform(7200.0, 18000.0))
            model.schedule(model.now + lead_s, self.issue_arrival, work_order, component, allocations,
                           model.now, extra)
            model.supply.picked(work_order, component)

    def hot_pick(self, work_order: WorkOrder, component: str) -> None:
        """Pick the component's requirement again (what the warehouse holds of it), expedited (30 min +
        Exp(25 min)), because the first pick is late; the surplus goes back with the end-of-day return."""
        model = self.model
        pack = MATERIALS_BY_ID[component].wms_pack_base
        needed = math.ceil(work_order.requirements[component] / pack) * pack
        issue = min(needed, model.warehouse.available_quantity(component) // pack * pack)  # no receipt is forced
        if issue == 0:
            return
        side = model.line_sides[work_order.line_index]
        side.free[component] = side.free.get(component, 0) + issue
        allocations = model.warehouse.allocate(component, issue)
        lead_s = 1800.0 + float(model.rng_supply.exponential(1500.0))
        model.schedule(model.now + lead_s, self.issue_arrival, work_order, component, allocations, model.now, 0)
        model.supply.picked(work_order, component)

    def issue_arrival(self, work_order: WorkOrder, material_id: str, allocations: list[tuple[str, int]],
                      requested_at: float, extra: int) -> None:
        model = self.model
        line_side = line_side_location(work_order.line_index)
        first_row = None
        model.supply.arrived(work_order, material_id)
        for lot_id, quantity in allocations:
            bin_id = model.warehouse.take(lot_id, quantity)
            row = model.emit_wms("ISSUE", model.now, material_id, lot_code=lot_id,
                                 quantity=model.wms_quantity(material_id, quantity),
                                 from_location_code=model.wms_location(bin_id),
                                 to_location_code=model.wms_location(line_side),
                                 work_order_id=work_order.work_order_id,
                                 requested_at=iso_local_s(requested_at, model.tz))
            first_row = first_row or row
            model.record_movement(model.now, material_id, lot_id, bin_id, line_side, quantity, "issue",
                                  row["transaction_id"])
            model.line_sides[work_order.line_index].add(material_id, lot_id, quantity)
        if extra:
            model.record_fault("over_issue", "WMS", model.wms_file("issues"), first_row["transaction_id"],
                               f"issue for {work_order.work_order_id} includes {extra} {MATERIALS_BY_ID[material_id].base_unit}"
                               f" of {material_id} beyond the requirement; surplus stays line-side")
        material_arrived(work_order, model.now)
        wake(model, model.machines[work_order.machine_ids[0]])

    # --- consumption ------------------------------------------------------------------
    def materials_ready(self, work_order: WorkOrder) -> bool:
        side = self.model.line_sides[work_order.line_index]
        missing = [c for c, q in work_order.requirements.items() if side.quantity(c) < q]
        if missing:
            self.model.supply.line_short(work_order, missing)
        return not missing

    def start_work_order(self, work_order: WorkOrder, machine, now: float) -> None:
        model = self.model
        work_order.started_at = now
        model.supply.order_started(work_order)
        if not work_order.is_b2mml:
            model.emit_mes("work_order_started", now, work_order_id=work_order.work_order_id,
                           line_id=line_id(work_order.line_index))
        side = model.line_sides[work_order.line_index]
        for component, required in work_order.requirements.items():
            for lot_id, quantity in side.take_fifo(component, required):
                source_id = None if work_order.is_b2mml else self._report_consumption(
                    work_order, machine.machine_id, component, lot_id, quantity, now)
                model.record_movement(now, component, lot_id, line_side_location(work_order.line_index),
                                      "V-PRODUCTION-CONSUMPTION", quantity, "consumption", source_id)
                work_order.consumed.append((lot_id, component, quantity, now))
        if work_order.is_b2mml:
            self._report_b2mml_start(work_order, machine.machine_id, now)
        model.supply.on_start(work_order)

    def _report_b2mml_start(self, work_order: WorkOrder, machine_id: str, now: float) -> None:
        model = self.model
        stamp = iso_local_us(now, model.tz)
        consumed = [(MATERIALS_BY_ID[m].mes_code, lot, model.mes_quantity(m, q), MATERIALS_BY_ID[m].mes_unit)
                    for lot, m, q, _ in work_order.consumed]
        xml = production_performance_start(work_order.b2mml_namespace, work_order.work_order_id, stamp, stamp,
                                           10, machine_id, consumed)
        model.day.b2mml.append((f"ProductionPerformance_{work_order.work_order_id}_start.xml", xml))

    def _report_consumption(self, work_order, machine_id, component, lot_id, quantity, now) -> str | None:
        model, rates = self.model, self.model.cfg.fault_rates
        unreported_draw, wrong_lot_draw = model.rng_faults.random(), model.rng_faults.random()
        if unreported_draw < rates.unreported_consumption:
            missing_id = model.next_id("EV", 9)
            model.record_fault("unreported_consumption", "MES", model.mes_file(), missing_id,
                               f"{work_order.work_order_id} physically consumed {quantity} of {component} "
                               f"from lot {lot_id}; the material_consumed event was never sent")
            return None
        reported_lot = lot_id
        if wrong_lot_draw < rates.wrong_lot:
            others = [other for other in model.warehouse.lot_ids_of(component) if other != lot_id]
            if others:
                reported_lot = others[int(model.rng_faults.integers(len(others)))]
        spec = MATERIALS_BY_ID[component]
        event = model.emit_mes("material_consumed", now, work_order_id=work_order.work_order_id,
                               machine_id=machine_id, material_code=spec.mes_code, consumed_lot_code=reported_lot,
                               quantity=model.mes_quantity(component, quantity), unit=spec.mes_unit,
                               location_code=model.mes_location(work_order.line_index))
        if reported_lot != lot_id:
            model.record_fault("wrong_lot", "MES", model.mes_file(), event["event_id"],
                               f"MES reports lot {reported_lot} consumed but lot {lot_id} was physically "
                               f"consumed by {work_order.work_order_id}")
        return event["event_id"]

    # --- output -----------------------------------------------------------------------
    def complete_work_order(self, work_order: WorkOrder, machine, now: float) -> None:
        complete_work_order(self.model, work_order, machine, now)
