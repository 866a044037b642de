"""Discrete-event core: an event heap, the plant state and helpers that emit what the
MES/WMS report and what physically happened (truth), collected per UTC day."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from .catalog import MATERIALS_BY_ID, unit_factor_to_base
from .config import PlantConfig
from .logistics import Logistics
from .machine_logic import close_segment, machine_event, start_fault_clock
from .material_flow import MaterialFlow
from .material_supply import MaterialSupply
from .planning import schedule_planning
from .risk_truth import follow_edge
from .master_data import MasterData, line_id, line_side_location
from .mes_events import build_event
from .plant_state import MachineState, WorkOrder
from .shift_calendar import DayCalendar
from .timeutil import SECONDS_PER_DAY, day_offset, iso_local_s, iso_utc_us, utc_day_start
from .warehouse import LineSide, Warehouse
from .wms_transactions import build_row, format_quantity


@dataclass
class DayRecords:
    day: date
    day_index: int
    mes_events: list[dict] = field(default_factory=list)
    wms_rows: dict[str, list[dict]] = field(default_factory=dict)
    b2mml: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, xml)
    movements: list[tuple] = field(default_factory=list)
    genealogy: list[tuple] = field(default_factory=list)
    intervals: list[list] = field(default_factory=list)
    breakdowns: list[tuple] = field(default_factory=list)
    counts: list[tuple] = field(default_factory=list)
    work_orders: list[tuple] = field(default_factory=list)  # truth rows of work orders completed this day
    shipments: list[tuple] = field(default_factory=list)  # truth rows of shipments shipped this day
    shortage_stops: list[tuple] = field(default_factory=list)  # truth rows of material-shortage stops ended this day
    faults: list[dict] = field(default_factory=list)
    protected_keys: set[str] = field(default_factory=set)  # records carrying a simulation-level fault
    segments: dict[str, list[tuple]] = field(default_factory=dict)
    shifts: list = field(default_factory=list)
    chunks: list[tuple] = field(default_factory=list)  # production chunks with their true defect probability
    offspec_lots: list[tuple] = field(default_factory=list)  # off-spec supplier lots received (risk_truth)
    last_interval: dict[str, list] = field(default_factory=dict)
    operations: list[tuple] = field(default_factory=list)  # truth rows of operations completed this day
    designed_by_line: dict[int, str] = field(default_factory=dict)  # designed bottleneck (flow_truth)


class PlantModel:
    """Holds all runtime state; `run_day` advances the simulation by one UTC day."""

    def __init__(self, cfg: PlantConfig, master: MasterData):
        self.cfg = cfg
        self.master = master
        self.tz = ZoneInfo(cfg.plant_timezone)
        self.now = utc_day_start(cfg.start_date)
        self._heap: list = []
        self._sequence = 0
        self._counters: dict[str, int] = {}
        self.rng_plan = np.random.default_rng([cfg.seed, 11])
        self.rng_logistics = np.random.default_rng([cfg.seed, 12])
        self.rng_faults = np.random.default_rng([cfg.seed, 13])
        self.rng_offspec = np.random.default_rng([cfg.seed, 41])  # defects added by off-spec lots (risk_truth)
        self.offspec_ancestry: dict[str, tuple] = {}  # lot -> off-spec supplier lots it was made from
        # sub-streams of planning and logistics for the promises (work order due dates, customer orders): own
        # streams, so adding them left every other draw - and so every existing scenario - as it was
        self.rng_plan_dates = np.random.default_rng([cfg.seed, 11, 1])
        self.rng_customer_orders = np.random.default_rng([cfg.seed, 12, 1])
        self.rng_supply = np.random.default_rng([cfg.seed, 12, 3])  # hot picks of the `forecast` supply policy
        self.warehouse = Warehouse()
        self.line_sides = [LineSide() for _ in range(cfg.lines)]
        self.work_orders: dict[str, WorkOrder] = {}
        self.semi_pipeline: dict[str, int] = {}
        self.staged: dict[tuple[str, str, str], int] = {}  # (material, lot, location) between movements
        self.machines: dict[str, MachineState] = {}
        for index, machine in enumerate(master.machine_ids):
            line, position = divmod(index, cfg.machines_per_line)
            state = MachineState(machine, line, position, np.random.default_rng([cfg.seed, 20, index]))
            state.seg_start = self.now
            state.wear = float(state.rng.uniform(0.0, 0.4))
            state.fault_rng = np.random.default_rng([cfg.seed, 21, index])  # the thermal fault (machine_logic)
            start_fault_clock(state)
            self.machines[machine] = state
        self.day: DayRecords | None = None
        self.calendar: DayCalendar | None = None
        self.dispatch_ranks: dict[str, int] = {}  # a schedule to follow instead of FIFO (simulator.dispatching)
        self.flow = MaterialFlow(self)
        self.supply = MaterialSupply(self)
        self.logistics = Logistics(self)
        self.day_hooks = [self.logistics.schedule_day, schedule_planning, self.supply.schedule_checks]
        for machine in self.machines.values():
            self.schedule(self.now, machine_event, self, machine, machine.token)

    # --- event loop -------------------------------------------------------------------
    def schedule(self, at: float, handler, *args) -> None:
        self._sequence += 1
        heapq.heappush(self._heap, (at, self._sequence, handler, args))

    def run_day(self, day_index: int) -> DayRecords:
        day = day_offset(self.cfg.start_date, day_index)
        self.calendar = DayCalendar(day, self.tz)
        self.day = DayRecords(day, day_index, shifts=self.calendar.shifts,
                              segments={m: [] for m in self.master.machine_ids})
        for hook in self.day_hooks:
            hook(self, day)
        day_end = self.calendar.day_end
        while self._heap and self._heap[0][0] < day_end:
            at, _, handler, args = heapq.heappop(self._heap)
            self.now = max(self.now, at)
            handler(*args)
        self.now = day_end
        for machine in self.machines.values():
            close_segment(self, machine, day_end)
        return self.day

    # --- identifiers ------------------------------------------------------------------
    def next_id(self, prefix: str, width: int = 7) -> str:
        value = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = value
        return f"{prefix}{value:0{width}d}"

    # --- emission helpers -------------------------------------------------------------
    def mes_quantity(self, material_id: str, base_quantity: int) -> int | float:
        spec = MATERIALS_BY_ID[material_id]
        value = base_quantity / unit_factor_to_base(spec, spec.mes_unit)
        return int(value) if float(value).is_integer() else round(value, 3)

    def wms_quantity(self, material_id: str, base_quantity: int) -> str:
        spec = MATERIALS_BY_ID[material_id]
        return format_quantity(base_quantity / unit_factor_to_base(spec, spec.wms_unit))

    def emit_mes(self, event_type: str, at: float, **fields) -> dict:
        event = build_event(self.next_id("EV", 9), event_type, iso_utc_us(at), **fields)
        self.day.mes_events.append(event)
        return event

    def emit_wms(self, transaction_type: str, at: float, material_id: str, **fields: str) -> dict:
        spec = MATERIALS_BY_ID[material_id]
        row = build_row(self.next_id("T", 9), transaction_type, iso_local_s(at, self.tz),
                        material_code=spec.wms_code, unit=spec.wms_unit, **fields)
        self.day.wms_rows.setdefault(transaction_type, []).append(row)
        return row

    def wms_location(self, location_id: str) -> str:
        return self.master.wms_location_code[location_id]

    def mes_location(self, line_index: int) -> str:
        return self.master.mes_location_code[line_side_location(line_index)]

    def record_movement(self, at: float, material_id: str, lot_id: str | None, from_location: str,
                        to_location: str, quantity: int, movement_type: str, source_id: str | None) -> None:
        self.day.movements.append((self.next_id("MV", 9), at, material_id, lot_id, from_location,
                                   to_location, float(quantity), movement_type, source_id))

    def record_edge(self, parent: str, child: str, edge_type: str, work_order_id: str | None,
                    machine_id: str | None, quantity: int, at: float) -> None:
        self.day.genealogy.append((parent, child, edge_type, work_order_id, machine_id, float(quantity), at))
        follow_edge(self, parent, child, at)

    def record_fault(self, fault_type: str, source_system: str, source_file: str, record_key: str,
                     description: str) -> None:
        self.day.faults.append({"fault_type": fault_type, "source_system": source_system,
                                "source_file": source_file, "record_key": record_key,
                                "description": description})
        self.day.protected_keys.add(record_key)

    def mes_file(self) -> str:
        return f"mes/events/{self.day.day.isoformat()}.ndjson"

    def wms_file(self, directory: str) -> str:
        return f"wms/{directory}/{self.day.day.isoformat()}.csv"

    def stage(self, material_id: str, lot_id: str, location_id: str, quantity: int) -> None:
        key = (material_id, lot_id, location_id)
        self.staged[key] = self.staged.get(key, 0) + quantity

    def unstage(self, material_id: str, lot_id: str, location_id: str, quantity: int) -> None:
        key = (material_id, lot_id, location_id)
        self.staged[key] -= quantity
        if self.staged[key] == 0:
            del self.staged[key]

    def physical_stock(self) -> list[tuple]:
        """True stock per material, lot and real location: (material, lot, location, qty, unit)."""
        totals: dict[tuple[str, str, str], int] = dict(self.staged)
        for lot in self.warehouse.lots.values():
            if lot.physical:
                key = (lot.material_id, lot.lot_id, lot.bin_id)
                totals[key] = totals.get(key, 0) + lot.physical
        for line_index, side in enumerate(self.line_sides):
            for material_id, lots in side.stock.items():
                for lot_id, quantity in lots.items():
                    key = (material_id, lot_id, line_side_location(line_index))
                    totals[key] = totals.get(key, 0) + quantity
        return [(m, lot, loc, float(q), MATERIALS_BY_ID[m].base_unit)
                for (m, lot, loc), q in sorted(totals.items()) if q != 0]

    def work_order_row(self, work_order: WorkOrder) -> tuple:
        """A `truth/work_orders` row (base units); outcome columns are null until completion."""
        done = work_order.completed_at is not None
        return (work_order.work_order_id, line_id(work_order.line_index), work_order.material_id,
                work_order.planned_quantity, work_order.released_at, work_order.started_at,
                work_order.completed_at, work_order.due_at, work_order.good_quantity if done else None,
                work_order.scrap_quantity if done else None, work_order.planned_start_at)

    def open_work_order_rows(self) -> list[tuple]:
        """Truth rows of work orders not completed by now (the end of the simulated period)."""
        return [self.work_order_row(w) for w in sorted(self.work_orders.values(), key=lambda w: w.work_order_id)]

    @property
    def day_end(self) -> float:
        return self.calendar.day_start + SECONDS_PER_DAY

