"""Mutable runtime state of the simulated plant: work orders, machines, lots."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

STATE_CODES: dict[str, int] = {"idle": 0, "running": 1, "planned_stop": 2, "unplanned_stop": 3}
WAKEABLE_REASONS = frozenset({"no_order", "starved", "material_shortage"})


@dataclass
class OperationResult:
    operation_seq: int
    machine_id: str
    started_at: float
    ended_at: float
    quantity: int
    good_quantity: int
    scrap_quantity: int


@dataclass
class WorkOrder:
    work_order_id: str
    material_id: str
    line_index: int
    planned_quantity: int
    released_at: float
    machine_ids: tuple[str, ...]
    requirements: dict[str, int]  # component material_id -> base quantity
    is_b2mml: bool = False
    b2mml_namespace: str = ""
    planned_start_at: float | None = None
    due_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    operation_done_at: list[float | None] = field(default_factory=list)
    operation_results: list[OperationResult] = field(default_factory=list)
    consumed: list[tuple[str, str, int, float]] = field(default_factory=list)  # lot, material, qty, at
    produced_lots: list[tuple[str, int]] = field(default_factory=list)
    final_lots: list[tuple[str, int]] = field(default_factory=list)
    good_quantity: int = 0
    scrap_quantity: int = 0
    material_ready_at: float | None = None  # last WMS issue line-side (simulator.flow_truth)

    def __post_init__(self) -> None:
        if not self.operation_done_at:
            self.operation_done_at = [None] * len(self.machine_ids)

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


@dataclass
class MachineState:
    machine_id: str
    line_index: int
    position: int
    rng: np.random.Generator
    queue: deque = field(default_factory=deque)  # (WorkOrder, operation index)
    token: int = 0
    seg_start: float = 0.0
    seg_state: str = "idle"
    seg_reason: str = "not_scheduled"
    seg_attrs: tuple = (0.0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # machine_logic.close_segment
    seg_counts_start: tuple[int, int] = (0, 0)
    seg_wear_start: float = 0.0
    wear: float = 0.0
    drift: float = 0.0
    repair_until: float | None = None
    breakdown_started_at: float = 0.0
    failure_mode: str = ""
    breakdown_cause: str = ""  # "wear" or "thermal": what caused the pending or running breakdown
    # the thermal (spindle overheat / drive) fault, apart from wear (machine_logic): its own random stream,
    # its level (0 = none), how fast it grows per running hour (0 = no fault) and the running hours until the
    # next one starts
    fault_rng: np.random.Generator | None = None
    thermal_fault: float = 0.0
    thermal_growth_per_h: float = 0.0
    thermal_onset_in_h: float = 0.0
    pending_stop: tuple[str, float] | None = None
    micro_until: float | None = None
    pm_remaining_s: float = 0.0
    pm_checked_shift_start: float = -1.0
    changeover_remaining_s: float = 0.0
    last_material_id: str = ""
    current: tuple[WorkOrder, int] | None = None
    op_input: int = 0
    op_progress: float = 0.0
    op_completed: int = 0
    op_good: int = 0
    op_scrap: int = 0
    op_started_at: float = 0.0
    cum_good: int = 0
    cum_bad: int = 0
    inspection: list[float] = field(default_factory=lambda: [0.0] * 6)  # run_s, units, good, bad, dev*s, p*s
    defect_causes: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # dimension, porosity, surface
    # production-flow truth (simulator.flow_truth): time per reason in the running operation, waiting before it
    op_reason_s: dict = field(default_factory=dict)
    wait_before_op_s: float = 0.0
    op_starved_s: float = 0.0
    op_operator_id: str = ""
    ideal_load_s: float = 0.0  # ideal work content of every order released to this machine so far


@dataclass
class LotState:
    lot_id: str
    material_id: str
    created_seq: int
    bin_id: str = ""
    physical: int = 0  # base units in the warehouse bin
    available: int = 0  # physical minus quantity allocated to pending issues/picks
    book: int = 0  # what the WMS believes is in the bin
