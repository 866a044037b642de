"""Live view of the simulated plant for the OPC UA server: runs the same discrete-event
model one UTC day ahead (outputs discarded) and samples signal values at any simulated
time with the same physics as the historical Parquet signals."""

from __future__ import annotations

import math

import numpy as np

from .config import PlantConfig
from .master_data import build_master_data
from .plant_model import PlantModel
from .shift_calendar import shifts_on_local_date
from .signal_anomalies import LiveAnomalies
from .signals import TAGS, sample_machine
from .timeutil import SECONDS_PER_DAY, day_offset, utc_day_start

LIVE_START_AFTER_SHIFT_START_S = 3600.0


class LivePlant:
    def __init__(self, cfg: PlantConfig):
        self.cfg = cfg
        self.master = build_master_data(cfg)
        self._model = PlantModel(cfg, self.master)
        self._day0 = utc_day_start(cfg.start_date)
        self._loaded_day = -1
        self._segments: dict[str, np.ndarray] = {}
        self._rng = np.random.default_rng([cfg.seed, 50])
        self.start_time = self._first_shift_start() + LIVE_START_AFTER_SHIFT_START_S
        self._anomalies = LiveAnomalies(list(self.master.machine_ids), cfg.signal_interval_s, cfg.seed,
                                        cfg.fault_rates.signal_anomaly, self._day0)

    def _first_shift_start(self) -> float:
        for offset in range(7):
            shifts = shifts_on_local_date(day_offset(self.cfg.start_date, offset), self._model.tz)
            if shifts:
                return shifts[0].start_s
        raise ValueError("shift calendar has no working day")

    def _ensure_day(self, day_index: int) -> None:
        while self._loaded_day < day_index:
            self._loaded_day += 1
            records = self._model.run_day(self._loaded_day)
            self._segments = {m: np.asarray(s, dtype=np.float64) for m, s in records.segments.items()}

    def sample(self, sim_time: float) -> dict[str, dict[str, tuple[float, int]]]:
        """Tag values and status codes per machine at a simulated epoch time."""
        day_index = int(math.floor((sim_time - self._day0) / SECONDS_PER_DAY))
        if day_index < self._loaded_day:
            raise ValueError("live plant cannot go back in time")
        self._ensure_day(day_index)
        times = np.array([sim_time])
        values = {}
        for machine_id in self.master.machine_ids:
            tag_values, status = sample_machine(self._segments[machine_id], times, self._rng)
            values[machine_id] = {tag: (float(tag_values[i, 0]), int(status[i, 0])) for i, tag in enumerate(TAGS)}
        self._anomalies.apply(sim_time, values)
        return values
