"""When the WMS issues a work order's components to the line, and the truth of the stops that follow when
they come late.

Supply policies (`PlantConfig.material_supply`):
- `at_release` (the default, the plant as it always was): every component is requested when the order is
  released (04:00 local), up to a day before it starts.
- `call_off`: lean pull. The line calls an order's material when the order becomes next on the line's first
  machine (the order before it starts there), or at release when the line has nothing else queued. A pick
  takes 30 min + Exp(25 min) and 4 % take 2-5 h more (the same draws as at release), so short orders and
  slow picks stop the line.
- `forecast`: the WMS follows the pick suggestions. Every `CHECK_S` (and whenever an order is released or
  starts) it estimates each queued order's start on the first machine from the machine's remaining work
  (planned quantity x ideal cycle x `RATE_FACTOR`, in shift working time) and picks an order's material once
  its start is less than `PICK_WINDOW_S` away; a pick still not at the line `REPICK_AFTER_S` after it was
  requested, for an order starting within `REPICK_WINDOW_S`, is picked again from stock (hot pick; the late
  one arrives later and goes back at the end-of-day return).

Shortage-stop truth (`truth/shortage_stops`): an order at the head of its first machine during a shift whose
components are not all at the line side stops the line (machine reason `material_shortage`) from that moment
until the order starts; one row per missing component: line, material, work order, started_at, ended_at.
The policy's own draws (hot picks) come from their own stream, so `at_release` output is unchanged.
"""

from __future__ import annotations

from .config import MATERIAL_SUPPLY_POLICIES as SUPPLY_POLICIES  # noqa: F401 (re-exported)
from .master_data import line_id
from .shift_calendar import working_time_end

CHECK_S = 900.0
PICK_WINDOW_S = 3.0 * 3600.0
REPICK_AFTER_S = 1.5 * 3600.0
REPICK_WINDOW_S = 1.5 * 3600.0
RATE_FACTOR = 1.25  # ideal cycle -> effective (speed losses, micro stops, changeovers)


class MaterialSupply:
    """Decides when `MaterialFlow` requests an order's components and records shortage stops."""

    def __init__(self, model):
        self.model = model
        self.policy = model.cfg.material_supply
        self.requested: dict[str, float] = {}  # work order -> when its material was picked (call_off/forecast)
        self.reserved: dict[str, list] = {}  # work order -> reservations made at release, not picked yet
        self.pending: dict[str, dict[str, float]] = {}  # work order -> component -> latest request not arrived
        self.open_stops: dict[str, tuple[float, tuple[str, ...]]] = {}  # work order -> (since, missing)

    # --- policy hooks -------------------------------------------------------------------
    def on_release(self, work_order) -> None:
        if self.policy == "at_release":
            self.model.flow.request_material(work_order)
        else:
            self.reserved[work_order.work_order_id] = self.model.flow.request_material(work_order, dispatch=False)
            self.review_line(work_order.line_index)

    def on_start(self, work_order) -> None:
        if self.policy != "at_release":
            self.review_line(work_order.line_index)

    def schedule_checks(self, model, day) -> None:
        """Day hook: the forecast policy reviews every line every CHECK_S seconds of the UTC day."""
        if self.policy != "forecast":
            return
        at = model.calendar.day_start
        while at < model.day_end:
            model.schedule(at, self.review_all)
            at += CHECK_S

    def review_all(self) -> None:
        for line_index in range(self.model.cfg.lines):
            self.review_line(line_index)

    def review_line(self, line_index: int) -> None:
        waiting = self._waiting_orders(line_index)
        if self.policy == "call_off":
            if waiting and waiting[0].work_order_id not in self.requested:
                self._request(waiting[0])
            return
        now = self.model.now
        for work_order, starts_at in self._estimated_starts(line_index, waiting):
            if work_order.work_order_id not in self.requested:
                if starts_at - now <= PICK_WINDOW_S or work_order is waiting[0]:
                    self._request(work_order)
                continue
            if starts_at - now > REPICK_WINDOW_S:
                continue
            for component, requested_at in list(self.pending.get(work_order.work_order_id, {}).items()):
                if now - requested_at >= REPICK_AFTER_S:
                    self.model.flow.hot_pick(work_order, component)

    def _request(self, work_order) -> None:
        self.requested[work_order.work_order_id] = self.model.now
        self.model.flow.dispatch_material(work_order, self.reserved.pop(work_order.work_order_id, []))

    def _waiting_orders(self, line_index: int) -> list:
        first = self.model.machines[self.model.master.machines_by_line[line_index][0]]
        return [w for w, op in first.queue if op == 0 and w.started_at is None]

    def _estimated_starts(self, line_index: int, waiting: list) -> list[tuple[object, float]]:
        model = self.model
        first = model.machines[model.master.machines_by_line[line_index][0]]
        ahead_s = 0.0
        if first.current is not None:
            running, _ = first.current
            cycle = model.master.ideal_cycle_time_s[(running.material_id, first.machine_id)]
            ahead_s = max(0.0, first.op_input - first.op_progress) * cycle * RATE_FACTOR
        starts = []
        for work_order in waiting:
            starts.append((work_order, working_time_end(model.now, ahead_s, model.tz)))
            cycle = model.master.ideal_cycle_time_s[(work_order.material_id, first.machine_id)]
            ahead_s += work_order.planned_quantity * cycle * RATE_FACTOR
        return starts

    # --- pending picks ------------------------------------------------------------------
    def picked(self, work_order, component: str) -> None:
        self.pending.setdefault(work_order.work_order_id, {})[component] = self.model.now

    def arrived(self, work_order, component: str) -> None:
        pending = self.pending.get(work_order.work_order_id, {})
        pending.pop(component, None)
        if not pending:
            self.pending.pop(work_order.work_order_id, None)

    # --- shortage-stop truth ------------------------------------------------------------
    def line_short(self, work_order, missing: list[str]) -> None:
        if work_order.work_order_id not in self.open_stops:
            self.open_stops[work_order.work_order_id] = (self.model.now, tuple(sorted(missing)))

    def order_started(self, work_order) -> None:
        self.requested.pop(work_order.work_order_id, None)
        self.pending.pop(work_order.work_order_id, None)
        stop = self.open_stops.pop(work_order.work_order_id, None)
        if stop is None:
            return
        since, missing = stop
        for material_id in missing:
            self.model.day.shortage_stops.append((line_id(work_order.line_index), material_id,
                                                  work_order.work_order_id, since, self.model.now))
