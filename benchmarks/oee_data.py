"""Synthetic equipment data for the OEE benchmark: MES state events, production counts and the shift calendar
of N machines over D days, in the shapes of `pipelines.kpi.inputs.EquipmentInputs` (numpy, seeded).

The calendar is the simulator's (two shifts Mon-Fri, 06:00-14:00 and 14:00-22:00 plant local time, two breaks
each, Europe/Berlin), built as dim_shift / dim_shift_break tables and cut by `transforms.shift_calendar`.

Per machine and working day the MES reports a sequence that alternates running/producing with stops
(27-55 stops a day, about 60-120 state changes including breaks and the end of the day):
micro_stop 30-240 s, starved 1-10 min, material_shortage 2-10 min, no_order 5-20 min, changeover 15-45 min,
breakdown 10-60 min, planned_maintenance 30-60 min; planned_stop/break at each break start and the interrupted
state again at its end; idle/not_scheduled at 22:00. The day starts running 0-120 s after 06:00 (the rest of
the night's not_scheduled state reaches into the shift) and about 5% of the machines report their first state
up to two hours into the first shift (unknown time before it). Running time is counted at its start and every
15 minutes (3-5 materials per machine, a changeover moves to the next one; 85-98% of ideal speed, ~2% scrap).
No OPC UA state samples and no collector gaps: the MES is the only state source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from pipelines.kpi.inputs import EquipmentInputs
from transforms.equipment_time import OPCUA_STATE_CODES
from transforms.shift_calendar import calendar_boundaries, shift_instances, shift_utc_days

FIRST_DAY = date(2026, 1, 5)
TIMEZONE = "Europe/Berlin"
US = 1_000_000
DAY_SPAN_S = 16 * 3600  # 06:00-22:00 local
# breaks as (start, end) seconds after 06:00 local; the working axis leaves them out
BREAKS_S = ((3 * 3600, 3 * 3600 + 900), (5 * 3600 + 2700, 6 * 3600 + 900),
            (11 * 3600, 11 * 3600 + 900), (13 * 3600 + 900, 13 * 3600 + 2700))
WORK_SPAN_S = DAY_SPAN_S - sum(e - s for s, e in BREAKS_S)
# stop kinds: state, reason, probability, min and max seconds
STOPS = (("unplanned_stop", "micro_stop", 0.66, 30, 240), ("idle", "starved", 0.12, 60, 600),
         ("unplanned_stop", "material_shortage", 0.05, 120, 600), ("idle", "no_order", 0.04, 300, 1200),
         ("planned_stop", "changeover", 0.07, 900, 2700), ("unplanned_stop", "breakdown", 0.05, 600, 3600),
         ("planned_stop", "planned_maintenance", 0.01, 1800, 3600))
STATES = np.array(["running", *[s[0] for s in STOPS], "planned_stop", "idle"])
REASONS = np.array(["producing", *[s[1] for s in STOPS], "break", "not_scheduled"])
RUN, BREAK, OFF, CHANGEOVER = 0, len(STOPS) + 1, len(STOPS) + 2, 5
COUNT_EVERY_S = 900


def dim_shift() -> tuple[pa.Table, pa.Table]:
    """The simulator's shift patterns as dim_shift and dim_shift_break rows."""
    shifts = pa.table({"shift_id": ["S1", "S2"], "shift_name": ["Early shift", "Late shift"],
                       "start_local_time": ["06:00:00", "14:00:00"], "end_local_time": ["14:00:00", "22:00:00"],
                       "scheduled_weekdays": ["Mon,Tue,Wed,Thu,Fri"] * 2})
    breaks = pa.table({"shift_id": ["S1", "S1", "S2", "S2"], "break_seq": [1, 2, 1, 2],
                       "break_start_local_time": ["09:00:00", "11:45:00", "17:00:00", "19:15:00"],
                       "break_end_local_time": ["09:15:00", "12:15:00", "17:15:00", "19:45:00"]})
    return shifts, breaks


def _break_starts_on_work_axis() -> np.ndarray:
    starts, paused = [], 0
    for start, end in BREAKS_S:
        starts.append(start - paused)
        paused += end - start
    return np.array(starts, dtype=np.float64)


def _wall(work_s: np.ndarray) -> np.ndarray:
    """Seconds after 06:00 on the working axis -> seconds after 06:00 on the clock (jumping over the breaks)."""
    wall = work_s.copy()
    for (start, end), work_at in zip(BREAKS_S, _break_starts_on_work_axis(), strict=True):
        wall += np.where(work_s >= work_at, end - start, 0)
    return wall


@dataclass(frozen=True)
class OeeData:
    inputs: EquipmentInputs
    rows_in: int

    def row_counts(self) -> dict[str, int]:
        i = self.inputs
        return {"mes_state_events": i.mes.num_rows, "production_counts": i.counts.num_rows,
                "opcua_state_samples": i.opcua.num_rows, "signal_gaps": i.gaps.num_rows,
                "calendar_boundaries": i.calendar.num_rows, "shifts": i.shifts.num_rows,
                "machines": i.machines.num_rows, "ideal_cycle_times": i.ideal.num_rows}


def generate(machines: int = 200, days: int = 365, seed: int = 11) -> OeeData:
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(TIMEZONE)
    last_day = FIRST_DAY + timedelta(days=days - 1)
    working = [FIRST_DAY + timedelta(days=d) for d in range(days) if (FIRST_DAY + timedelta(days=d)).weekday() < 5]
    day_start_us = np.array([int(datetime.combine(d, time(6), zone).timestamp()) * US for d in working], np.int64)
    n_days = len(working)
    machine_ids = np.array([f"M-{m:03d}" for m in range(machines)])

    # segments per machine-day: run, stop, run, stop, ..., run (on the working axis)
    md = machines * n_days
    stops = rng.integers(27, 56, md)
    segments = 2 * stops + 1
    seg_md = np.repeat(np.arange(md), segments)
    first_seg = np.concatenate([[0], np.cumsum(segments)[:-1]])
    pos = np.arange(seg_md.size) - first_seg[seg_md]
    is_stop = pos % 2 == 1
    kind = np.zeros(seg_md.size, np.int64)
    n_stops = int(is_stop.sum())
    probabilities = np.array([s[2] for s in STOPS])
    stop_kind = rng.choice(len(STOPS), n_stops, p=probabilities / probabilities.sum())
    low, high = np.array([s[3] for s in STOPS], float), np.array([s[4] for s in STOPS], float)
    kind[is_stop] = stop_kind + 1
    length = np.zeros(seg_md.size)
    length[is_stop] = rng.uniform(low[stop_kind], high[stop_kind])
    stop_total = np.bincount(seg_md, weights=length, minlength=md)
    start_delay = rng.uniform(0, 120, md)
    budget = WORK_SPAN_S - start_delay
    over = stop_total > 0.7 * budget  # rare: too many long stops for one day, shorten them
    scale = np.where(over, 0.7 * budget / np.maximum(stop_total, 1), 1.0)
    length[is_stop] *= scale[seg_md[is_stop]]
    stop_total *= scale
    weights = np.where(is_stop, 0.0, rng.gamma(2.0, 1.0, seg_md.size))
    weight_total = np.bincount(seg_md, weights=weights, minlength=md)
    runs = segments - stops
    run_budget = budget - stop_total - 5.0 * runs
    length[~is_stop] = 5.0 + weights[~is_stop] / weight_total[seg_md[~is_stop]] * run_budget[seg_md[~is_stop]]
    ends = np.cumsum(length)
    day_base = np.concatenate([[0.0], ends[np.cumsum(segments)[:-1] - 1]]) - start_delay
    seg_start = ends - length - day_base[seg_md]  # seconds on the working axis after 06:00
    seg_end = seg_start + length

    machine_of_md = np.arange(md) // n_days
    day_of_md = np.arange(md) % n_days
    # materials: 3-5 per machine, a changeover moves to the next
    n_materials = rng.integers(3, 6, machines)
    cycle_times = rng.uniform(2.0, 30.0, (machines, 5)).round(2)
    changeovers = np.zeros(seg_md.size, np.int64)
    changeovers[kind == CHANGEOVER] = 1
    cumulative = np.cumsum(changeovers)  # segments are ordered by machine, day, position
    machine_of_seg = machine_of_md[seg_md]
    last_of_machine = np.cumsum(np.bincount(machine_of_seg, minlength=machines)) - 1
    before_machine = np.concatenate([[0], cumulative[last_of_machine[:-1]]])
    material_index = (cumulative - before_machine[machine_of_seg]) % n_materials[machine_of_seg]

    # MES events: segment starts, breaks (break start, the interrupted state again at its end), end of day
    seg_wall = _wall(seg_start)
    at_s = [seg_wall]
    ev_md = [seg_md]
    ev_kind = [kind]
    key = seg_md * (2.0 * DAY_SPAN_S) + seg_start
    for b, work_at in enumerate(_break_starts_on_work_axis()):
        inside = np.searchsorted(key, np.arange(md) * (2.0 * DAY_SPAN_S) + work_at, side="right") - 1
        at_s += [np.full(md, float(BREAKS_S[b][0])), np.full(md, float(BREAKS_S[b][1]))]
        ev_md += [np.arange(md), np.arange(md)]
        ev_kind += [np.full(md, BREAK), kind[inside]]
    at_s.append(np.full(md, float(DAY_SPAN_S)))
    ev_md.append(np.arange(md))
    ev_kind.append(np.full(md, OFF))
    at_s_all, ev_md_all, ev_kind_all = np.concatenate(at_s), np.concatenate(ev_md), np.concatenate(ev_kind)
    at_us = day_start_us[day_of_md[ev_md_all]] + np.round(at_s_all * US).astype(np.int64)
    ev_machine = machine_of_md[ev_md_all]
    late = rng.random(machines) < 0.05  # machines whose first MES state comes up to 2 h into the first shift
    first_us = day_start_us[0] + np.where(late, rng.uniform(0, 7200, machines) * US, 0).astype(np.int64)
    keep = at_us >= first_us[ev_machine]
    at_us, ev_machine, ev_kind_all = at_us[keep], ev_machine[keep], ev_kind_all[keep]
    order = np.lexsort((at_us, ev_machine))
    at_us, ev_machine, ev_kind_all = at_us[order], ev_machine[order], ev_kind_all[order]
    # of equal instants keep the last (the state that holds)
    unique = np.concatenate([(np.diff(at_us) != 0) | (np.diff(ev_machine) != 0), [True]])
    at_us, ev_machine, ev_kind_all = at_us[unique], ev_machine[unique], ev_kind_all[unique]
    mes = pa.table({"machine_id": pa.array(machine_ids[ev_machine]), "at_us": pa.array(at_us, pa.int64()),
                    "state": pa.array(STATES[ev_kind_all]), "reason_code": pa.array(REASONS[ev_kind_all])})

    # counts: each running segment at its start and every 15 minutes of running after it
    running = np.flatnonzero(kind == RUN)
    n_counts = np.ceil(length[running] / COUNT_EVERY_S).astype(np.int64)
    count_seg = np.repeat(running, n_counts)
    k = np.arange(count_seg.size) - np.repeat(np.cumsum(n_counts) - n_counts, n_counts)
    c_start = seg_start[count_seg] + k * COUNT_EVERY_S
    period = np.minimum(COUNT_EVERY_S, seg_end[count_seg] - c_start)
    c_machine = machine_of_seg[count_seg]
    c_material = material_index[count_seg]
    speed = rng.uniform(0.85, 0.98, machines)
    total = np.floor(period / cycle_times[c_machine, c_material] * speed[c_machine]).astype(np.int64)
    good = total - rng.binomial(total, 0.02)
    counted_at = day_start_us[day_of_md[seg_md[count_seg]]] + np.round(_wall(c_start) * US).astype(np.int64)
    kept = counted_at >= first_us[c_machine]
    material_ids = np.array([f"MAT-{m:05d}" for m in range(machines * 5)])
    counts = pa.table({"machine_id": pa.array(machine_ids[c_machine[kept]]),
                       "material_id": pa.array(material_ids[c_machine[kept] * 5 + c_material[kept]]),
                       "counted_at_us": pa.array(counted_at[kept], pa.int64()),
                       "total_count": pa.array(total[kept], pa.int64()),
                       "good_count": pa.array(good[kept], pa.int64())})
    ideal_m, ideal_k = np.nonzero(np.arange(5)[None, :] < n_materials[:, None])
    ideal = pa.table({"machine_id": pa.array(machine_ids[ideal_m]),
                      "material_id": pa.array(material_ids[ideal_m * 5 + ideal_k]),
                      "ideal_cycle_time_s": pa.array(cycle_times[ideal_m, ideal_k])})

    shifts_table, breaks = dim_shift()
    shifts = shift_instances(shifts_table, breaks, TIMEZONE, FIRST_DAY, last_day)
    end_us = int(datetime.combine(last_day + timedelta(days=1), time(), timezone.utc).timestamp()) * US
    opcua = pa.schema([("machine_id", pa.string()), ("at_us", pa.int64()), ("value", pa.float64()),
                       ("status_code", pa.int64())]).empty_table()
    gaps = pa.schema([("machine_id", pa.string()), ("started_at_us", pa.int64()),
                      ("ended_at_us", pa.int64())]).empty_table()
    codes = pa.table({"value": list(OPCUA_STATE_CODES), "state": list(OPCUA_STATE_CODES.values())})
    inputs = EquipmentInputs(
        mes=mes, opcua=opcua, opcua_codes=codes, gaps=gaps,
        calendar=calendar_boundaries(shifts_table, breaks, TIMEZONE, FIRST_DAY, last_day),
        machines=pa.table({"machine_id": pa.array(machine_ids)}), shifts=shifts, shift_days=shift_utc_days(shifts),
        counts=counts, ideal=ideal, end_us=end_us)
    return OeeData(inputs, rows_in=mes.num_rows + counts.num_rows)
