"""Machine behaviour: equipment states, production chunks, wear, process parameters.

Physics of one work cell:
- Wear grows with running time (about 1.0 per 45 running hours, faster at speed loss).
  Its breakdown hazard per running hour is 0.004 + 0.35 * wear^2; the repair after a wear
  breakdown (bearing failure or hydraulic leak) multiplies wear by 0.3 and planned
  maintenance (done at shift start when wear >= 0.55) resets it to 0. Vibration,
  temperature and motor current rise with wear (see `signals`).
- A second failure mode apart from wear: a thermal fault of the spindle or its drive
  (failing cooling, a degrading drive) starts at random, on average once per 20 running
  hours without a fault (exponential in running time, from the machine's own stream
  `fault_rng`, so a plant is the same as without the mode until its first fault). Its
  level grows from 0 by 1 per 20-40 running hours (drawn per fault) and adds
  0.6 * level^2 to the breakdown hazard (`risk_truth`): it breaks the machine after
  about 15 running hours (a day or two) in the median. Planned maintenance, a mechanical
  service triggered by wear, clears it only when it has grown to 0.5 (the machine visibly
  runs hot); the repair after the breakdown it causes (spindle overheat or drive fault)
  clears it and leaves wear as it is. About 40 % of the breakdowns are thermal. It heats
  the machine and raises the motor current but does not shake it: a vibration alarm
  does not see it (see `signals`).
- Each breakdown draw uses the total hazard; which mode broke the machine is drawn in
  proportion to the two terms.
- Process temperature deviation from setpoint follows a mean-reverting random walk and
  pressure has occasional excursions; the defect probability per unit is
  0.003 + 0.012 * deviation^2 + 0.1 * max(0, |pressure - 6 bar| - 0.3).
- Actual cycle time = ideal * (1.03 + 0.05 * wear), plus a 10-35 % speed loss in 8 % of
  production chunks (at most 15 minutes each).
"""

from __future__ import annotations

import math

from . import flow_truth
from .catalog import MATERIALS_BY_ID
from .dispatching import next_in_queue
from .plant_state import STATE_CODES, WAKEABLE_REASONS, MachineState, OperationResult
from .risk_truth import extra_defects, offspec_defect_probability, thermal_hazard_per_run_h

CHUNK_S = 900.0
MICRO_STOPS_PER_RUN_H = 0.5
WEAR_PER_RUN_H = 1.0 / 45.0
PM_WEAR_THRESHOLD = 0.55
FAILURE_MODES = ("bearing_failure", "spindle_overheat", "hydraulic_leak", "drive_fault")
WEAR_FAILURE_MODES = FAILURE_MODES[0::2]
THERMAL_FAILURE_MODES = FAILURE_MODES[1::2]
THERMAL_FAULTS_PER_RUN_H = 1.0 / 20.0
THERMAL_FAULT_DEVELOP_H = (20.0, 40.0)  # running hours for the level to grow by 1
THERMAL_FAULT_FOUND_AT = 0.5  # planned maintenance finds (and clears) a fault from this level on


def start_fault_clock(machine: MachineState) -> None:
    """No thermal fault; draw the running hours until the next one starts."""
    machine.thermal_fault = 0.0
    machine.thermal_growth_per_h = 0.0
    machine.thermal_onset_in_h = float(machine.fault_rng.exponential(1.0 / THERMAL_FAULTS_PER_RUN_H))


def _advance_thermal_fault(machine: MachineState, run_h: float) -> None:
    """Start or grow the thermal fault over `run_h` running hours."""
    if machine.thermal_growth_per_h == 0.0:
        machine.thermal_onset_in_h -= run_h
        if machine.thermal_onset_in_h >= 0.0:
            return
        machine.thermal_growth_per_h = 1.0 / float(machine.fault_rng.uniform(*THERMAL_FAULT_DEVELOP_H))
        run_h = -machine.thermal_onset_in_h
        machine.thermal_onset_in_h = 0.0
    machine.thermal_fault += run_h * machine.thermal_growth_per_h


def idle_attrs(machine: MachineState) -> tuple:
    return (0.0, 0, 0, machine.cum_good, machine.cum_bad, machine.wear, machine.wear, machine.drift, 0.0,
            machine.thermal_fault, machine.thermal_fault)


def close_segment(model, machine: MachineState, now: float) -> None:
    """Emit the open segment [seg_start, now) as signal segment and truth interval.

    A segment is (start, end, state code, speed/min, good, bad, good_start, bad_start, wear_start, wear_end,
    setpoint deviation, pressure, thermal_fault_start, thermal_fault_end) (`signals`, `risk_truth`)."""
    if now <= machine.seg_start:
        return
    (speed, good, bad, good_start, bad_start, wear_start, wear_end, deviation, pressure,
     fault_start, fault_end) = machine.seg_attrs
    model.day.segments[machine.machine_id].append(
        (machine.seg_start, now, STATE_CODES[machine.seg_state], speed, good, bad, good_start, bad_start,
         wear_start, wear_end, deviation, pressure, fault_start, fault_end))
    flow_truth.account_segment(machine, machine.seg_start, now)
    last = model.day.last_interval.get(machine.machine_id)
    if last is not None and last[1] == machine.seg_state and last[2] == machine.seg_reason and last[4] == machine.seg_start:
        last[4] = now
    else:
        interval = [machine.machine_id, machine.seg_state, machine.seg_reason, machine.seg_start, now]
        model.day.intervals.append(interval)
        model.day.last_interval[machine.machine_id] = interval
    machine.seg_start = now


def open_segment(model, machine: MachineState, now: float, state: str, reason: str, attrs: tuple) -> None:
    if (state, reason) != (machine.seg_state, machine.seg_reason):
        model.emit_mes("equipment_state_changed", now, machine_id=machine.machine_id, state=state,
                       reason_code=reason, previous_state=machine.seg_state,
                       previous_reason_code=machine.seg_reason)
    machine.seg_state, machine.seg_reason, machine.seg_attrs = state, reason, attrs


def wake(model, machine: MachineState) -> None:
    """Re-evaluate a machine that waits for work or material."""
    if machine.seg_reason in WAKEABLE_REASONS:
        machine.token += 1
        model.schedule(model.now, machine_event, model, machine, machine.token)


def machine_event(model, machine: MachineState, token: int) -> None:
    if token != machine.token:
        return
    now = model.now
    close_segment(model, machine, now)
    _handle_transitions(model, machine, now)
    state, reason, until, attrs = _decide(model, machine, now)
    open_segment(model, machine, now, state, reason, attrs)
    model.schedule(until, machine_event, model, machine, machine.token)


def _handle_transitions(model, machine: MachineState, now: float) -> None:
    if machine.pending_stop is not None:
        kind, duration = machine.pending_stop
        machine.pending_stop = None
        if kind == "breakdown":
            machine.repair_until = now + duration
            machine.breakdown_started_at = now
            modes = THERMAL_FAILURE_MODES if machine.breakdown_cause == "thermal" else WEAR_FAILURE_MODES
            machine.failure_mode = modes[int(machine.rng.integers(len(FAILURE_MODES))) // 2]
        else:
            machine.micro_until = now + duration
    if machine.repair_until is not None and now >= machine.repair_until:
        model.day.breakdowns.append((machine.machine_id, machine.breakdown_started_at, now, "breakdown",
                                     machine.failure_mode))
        machine.repair_until = None
        if machine.breakdown_cause == "thermal":
            start_fault_clock(machine)
        else:
            machine.wear *= 0.3
    if machine.current is not None and machine.op_completed >= machine.op_input:
        _complete_operation(model, machine, now)
    elif machine.inspection[0] >= 3600.0:
        _emit_inspection(model, machine, now)


def _decide(model, machine: MachineState, now: float) -> tuple[str, str, float, tuple]:
    period, boundary = model.calendar.period_at(now)
    if machine.repair_until is not None:
        return "unplanned_stop", "breakdown", min(machine.repair_until, boundary), idle_attrs(machine)
    if period != "shift":
        machine.micro_until = None
        if period == "off":
            return "idle", "not_scheduled", boundary, idle_attrs(machine)
        return "planned_stop", "break", boundary, idle_attrs(machine)
    if machine.micro_until is not None:
        if now < machine.micro_until:
            return "unplanned_stop", "micro_stop", min(machine.micro_until, boundary), idle_attrs(machine)
        machine.micro_until = None
    shift = model.calendar.shift_at(now)
    if shift is not None and shift.start_s != machine.pm_checked_shift_start:
        machine.pm_checked_shift_start = shift.start_s
        if machine.wear >= PM_WEAR_THRESHOLD:
            machine.pm_remaining_s = float(machine.rng.uniform(2700.0, 4500.0))
    if machine.pm_remaining_s > 0:
        duration = min(machine.pm_remaining_s, boundary - now)
        machine.pm_remaining_s = max(0.0, machine.pm_remaining_s - duration)
        attrs = idle_attrs(machine)
        if machine.pm_remaining_s == 0.0:
            machine.wear = 0.0
            if machine.thermal_fault >= THERMAL_FAULT_FOUND_AT:
                start_fault_clock(machine)
        return "planned_stop", "planned_maintenance", now + duration, attrs
    if machine.changeover_remaining_s > 0:
        duration = min(machine.changeover_remaining_s, boundary - now)
        machine.changeover_remaining_s = max(0.0, machine.changeover_remaining_s - duration)
        return "planned_stop", "changeover", now + duration, idle_attrs(machine)
    if machine.current is None:
        status = _start_next_operation(model, machine, now)
        if status != "started":
            state = "unplanned_stop" if status == "material_shortage" else "idle"
            return state, status, boundary, idle_attrs(machine)
        if machine.changeover_remaining_s > 0:
            return _decide(model, machine, now)
    return _run_chunk(model, machine, now, boundary)


def _start_next_operation(model, machine: MachineState, now: float) -> str:
    if not machine.queue:
        return "no_order"
    next_in_queue(model, machine)
    work_order, op_index = machine.queue[0]
    if op_index > 0 and work_order.operation_done_at[op_index - 1] is None:
        return "starved"
    if op_index == 0 and work_order.started_at is None:
        if not model.flow.materials_ready(work_order):
            return "material_shortage"
        model.flow.start_work_order(work_order, machine, now)
    machine.queue.popleft()
    machine.current = (work_order, op_index)
    machine.op_input = (work_order.planned_quantity if op_index == 0
                        else work_order.operation_results[op_index - 1].good_quantity)
    machine.op_progress, machine.op_completed, machine.op_good, machine.op_scrap = 0.0, 0, 0, 0
    machine.op_started_at = now
    operator_id = flow_truth.operation_started(model, machine, now)
    if machine.last_material_id and machine.last_material_id != work_order.material_id:
        machine.changeover_remaining_s = float(machine.rng.uniform(600.0, 1200.0))
    machine.last_material_id = work_order.material_id
    if not work_order.is_b2mml:
        model.emit_mes("operation_started", now, work_order_id=work_order.work_order_id,
                       operation_seq=(op_index + 1) * 10, machine_id=machine.machine_id, operator_id=operator_id)
    return "started"


def _run_chunk(model, machine: MachineState, now: float, boundary: float) -> tuple[str, str, float, tuple]:
    work_order, _ = machine.current
    rng = machine.rng
    ideal = model.master.ideal_cycle_time_s[(work_order.material_id, machine.machine_id)]
    speed_factor = 1.03 + 0.05 * machine.wear
    if rng.random() < 0.08:
        speed_factor += float(rng.uniform(0.10, 0.35))
    cycle_s = ideal * speed_factor * flow_truth.slowdown_factor(model, machine)
    t_finish = (machine.op_input - machine.op_progress) * cycle_s
    wear_hazard = 0.004 + 0.35 * machine.wear ** 2
    thermal_hazard = float(thermal_hazard_per_run_h(machine.thermal_fault))
    t_breakdown = float(rng.exponential(3600.0 / (wear_hazard + thermal_hazard)))
    t_micro = float(rng.exponential(3600.0 / MICRO_STOPS_PER_RUN_H))
    duration = min(boundary - now, CHUNK_S, t_finish, t_breakdown, t_micro)
    if duration == t_finish:
        machine.op_progress = float(machine.op_input)
        units = machine.op_input - machine.op_completed
    else:
        machine.op_progress += duration / cycle_s
        units = min(int(machine.op_progress + 1e-9), machine.op_input) - machine.op_completed
    deviation = machine.drift + float(rng.normal(0.0, 0.5))
    machine.drift = 0.97 * machine.drift + float(rng.normal(0.0, 0.2))
    pressure = 6.0 + float(rng.normal(0.0, 0.15))
    if rng.random() < 0.04:
        pressure += float(rng.normal(1.0, 0.3))
    dimension_risk = 0.012 * deviation ** 2
    porosity_risk = 0.1 * max(0.0, abs(pressure - 6.0) - 0.3)
    defect_probability = min(0.6, 0.003 + dimension_risk + porosity_risk)
    bad = int(rng.binomial(units, defect_probability)) if units > 0 else 0
    good = units - bad
    offspec_probability = offspec_defect_probability(model, work_order)
    offspec_bad = extra_defects(model, good, offspec_probability)
    bad, good = bad + offspec_bad, good - offspec_bad
    good_start, bad_start = machine.cum_good, machine.cum_bad
    machine.cum_good += good
    machine.cum_bad += bad
    machine.op_completed += units
    machine.op_good += good
    machine.op_scrap += bad
    wear_start, fault_start = machine.wear, machine.thermal_fault
    machine.wear += duration / 3600.0 * WEAR_PER_RUN_H * speed_factor
    _advance_thermal_fault(machine, duration / 3600.0)
    inspection = machine.inspection
    inspection[0] += duration
    inspection[1] += units
    inspection[2] += good
    inspection[3] += bad
    inspection[4] += deviation * duration
    inspection[5] += pressure * duration
    machine.defect_causes[0] += bad * dimension_risk / defect_probability
    machine.defect_causes[1] += bad * porosity_risk / defect_probability
    machine.defect_causes[2] += (bad - offspec_bad) * 0.003 / defect_probability + offspec_bad
    if units > 0:
        model.day.chunks.append((machine.machine_id, work_order.work_order_id, now, now + duration, units, bad,
                                 1.0 - (1.0 - defect_probability) * (1.0 - offspec_probability), offspec_probability))
        model.day.counts.append((machine.machine_id, work_order.material_id, now, units, good))
        model.emit_mes("production_counted", now, work_order_id=work_order.work_order_id,
                       machine_id=machine.machine_id, material_code=_mes_code(work_order.material_id),
                       quantity=units, good_quantity=good, unit=_mes_unit(work_order.material_id))
    if duration < t_finish:
        if duration == t_breakdown:
            machine.pending_stop = ("breakdown", float(rng.lognormal(math.log(2400.0), 0.5)))
            is_thermal = thermal_hazard > 0.0 and machine.fault_rng.random() * (wear_hazard + thermal_hazard) >= wear_hazard
            machine.breakdown_cause = "thermal" if is_thermal else "wear"
        elif duration == t_micro:
            machine.pending_stop = ("micro", float(rng.uniform(30.0, 240.0)))
    attrs = (60.0 / cycle_s, good, bad, good_start, bad_start, wear_start, machine.wear, deviation, pressure,
             fault_start, machine.thermal_fault)
    return "running", "producing", now + duration, attrs


DEFECT_CODES = ("D01-DIMENSION", "D02-POROSITY", "D03-SURFACE")


def _emit_inspection(model, machine: MachineState, now: float) -> None:
    run_s, units, good, bad, deviation_s, pressure_s = machine.inspection
    work_order, op_index = machine.current
    if units > 0:
        causes = machine.defect_causes
        model.emit_mes(
            "quality_inspection", now, inspection_id=model.next_id("QI", 8),
            work_order_id=work_order.work_order_id, operation_seq=(op_index + 1) * 10,
            machine_id=machine.machine_id, material_code=_mes_code(work_order.material_id),
            inspected_quantity=int(units), good_quantity=int(good), scrap_quantity=int(bad),
            defect_code=DEFECT_CODES[causes.index(max(causes))] if bad > 0 else None,
            setpoint_deviation_c=round(deviation_s / run_s, 3), pressure_bar=round(pressure_s / run_s, 3),
            unit=_mes_unit(work_order.material_id))
    machine.inspection = [0.0] * 6
    machine.defect_causes = [0.0, 0.0, 0.0]


def _complete_operation(model, machine: MachineState, now: float) -> None:
    work_order, op_index = machine.current
    _emit_inspection(model, machine, now)
    result = OperationResult((op_index + 1) * 10, machine.machine_id, machine.op_started_at, now,
                             machine.op_input, machine.op_good, machine.op_scrap)
    work_order.operation_results.append(result)
    work_order.operation_done_at[op_index] = now
    flow_truth.operation_completed(model, machine, work_order, op_index, now)
    machine.current = None
    if not work_order.is_b2mml:
        model.emit_mes("operation_completed", now, work_order_id=work_order.work_order_id,
                       operation_seq=result.operation_seq, machine_id=machine.machine_id,
                       quantity=result.quantity, good_quantity=result.good_quantity,
                       scrap_quantity=result.scrap_quantity, unit=_mes_unit(work_order.material_id))
    if result.scrap_quantity:
        model.record_movement(now, work_order.material_id, None, "V-PRODUCTION-OUTPUT", "V-SCRAP",
                              result.scrap_quantity, "scrap", None)
    if op_index + 1 < len(work_order.machine_ids):
        wake(model, model.machines[work_order.machine_ids[op_index + 1]])
    else:
        model.flow.complete_work_order(work_order, machine, now)


def _mes_code(material_id: str) -> str:
    return MATERIALS_BY_ID[material_id].mes_code


def _mes_unit(material_id: str) -> str:
    return MATERIALS_BY_ID[material_id].mes_unit
