"""Sensor anomalies on the analog signal tags, apart from wear: what a faulty sensor reports, not what the
machine does (the physics, the breakdown hazard and the defect probability never see them).

Per machine, condition-monitoring tag (temperature, vibration, motor current) and UTC day, with probability
`FaultRates.signal_anomaly`, one window of one kind (equally likely) starts at a uniformly drawn sample and stays
inside the day:

- `spike`: one sample off by `size` (4-30 noise standard deviations of the tag; upward for vibration, either
  sign otherwise).
- `drift`: 1-4 h of a linear ramp from 0 to `size` (5-80 noise standard deviations, either sign) that ends
  when the window ends (the sensor is recalibrated).
- `stuck`: 0.5-3 h in which the sensor repeats its last reading before the window with status Good.
- `dropout`: 10 min - 2 h of status Bad (0x80000000) and value NaN.

`truth/signal_anomalies.parquet` lists every window: anomaly_id, machine_id, tag, kind, started_at and
ended_at (the first and the last affected sample, inclusive), samples, size (the deviation in the tag's
unit: a spike's, a drift's at its end; null for stuck and dropout, whose size is their length) and
size_in_noise_sd (size over `NOISE_SD` of the tag).

The draws come from their own generator per machine, tag and day (`[seed, SALT, day, machine, tag]`), so the
plant's other outputs are the same with or without anomalies, and a continued simulation draws the same
windows as one long run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# the condition-monitoring sensors; the process parameters (pressure, setpoint deviation) are left alone
ANOMALY_TAGS: tuple[str, ...] = ("temperature_c", "vibration_mm_s", "motor_current_a")
KINDS: tuple[str, ...] = ("spike", "drift", "stuck", "dropout")
# the sample-to-sample noise of each tag in `signals.sample_machine` (vibration: |N(0, 0.08)| has sd 0.048)
NOISE_SD: dict[str, float] = {"temperature_c": 0.3, "vibration_mm_s": 0.05, "motor_current_a": 0.12}
SALT = 61
STATUS_BAD = 0x80000000
SPIKE_SIZE_SD = (4.0, 30.0)
DRIFT_SIZE_SD = (5.0, 80.0)
DRIFT_HOURS = (1.0, 4.0)
STUCK_HOURS = (0.5, 3.0)
DROPOUT_HOURS = (1.0 / 6.0, 2.0)
MIN_SAMPLES = {"spike": 1, "drift": 6, "stuck": 5, "dropout": 3}


@dataclass(frozen=True)
class AnomalyWindow:
    machine_id: str
    tag: str
    kind: str
    first: int  # index of the first affected sample of the day
    last: int  # index of the last affected sample (inclusive)
    size: float | None

    @property
    def samples(self) -> int:
        return self.last - self.first + 1

    def offsets(self) -> np.ndarray:
        """What a spike or drift adds to each sample of the window."""
        if self.kind == "spike":
            return np.full(self.samples, float(self.size))
        return float(self.size) * np.arange(1, self.samples + 1) / self.samples


def _window_samples(kind: str, rng: np.random.Generator, interval_s: float, day_samples: int) -> int:
    hours = {"drift": DRIFT_HOURS, "stuck": STUCK_HOURS, "dropout": DROPOUT_HOURS}.get(kind)
    wanted = 1 if hours is None else int(round(rng.uniform(*hours) * 3600.0 / interval_s))
    return int(min(max(wanted, MIN_SAMPLES[kind]), day_samples))


def _size(kind: str, tag: str, rng: np.random.Generator) -> float | None:
    if kind not in ("spike", "drift"):
        return None
    low, high = SPIKE_SIZE_SD if kind == "spike" else DRIFT_SIZE_SD
    sign = 1.0 if (kind == "spike" and tag == "vibration_mm_s") or rng.random() < 0.5 else -1.0
    return round(sign * rng.uniform(low, high) * NOISE_SD[tag], 4)


def plan_day(machine_ids: list[str], day_samples: int, interval_s: float, seed: int, day_index: int,
             rate: float) -> list[AnomalyWindow]:
    """The anomaly windows of one day (indices into the day's sample grid)."""
    windows = []
    if rate <= 0.0:
        return windows
    for machine_index, machine_id in enumerate(machine_ids):
        for tag_index, tag in enumerate(ANOMALY_TAGS):
            rng = np.random.default_rng([seed, SALT, day_index, machine_index, tag_index])
            if rng.random() >= rate:
                continue
            kind = KINDS[int(rng.integers(len(KINDS)))]
            samples = _window_samples(kind, rng, interval_s, day_samples)
            first = int(rng.integers(day_samples - samples + 1))
            windows.append(AnomalyWindow(machine_id, tag, kind, first, first + samples - 1, _size(kind, tag, rng)))
    return windows


def apply_windows(values: np.ndarray, status: np.ndarray, tags: tuple[str, ...],
                  windows: list[AnomalyWindow]) -> None:
    """Change one machine's sampled day (tags x samples, as `signals.sample_machine` returns) in place."""
    for window in windows:
        row = tags.index(window.tag)
        span = slice(window.first, window.last + 1)
        if window.kind in ("spike", "drift"):
            values[row, span] = np.round(values[row, span] + window.offsets(), 4)
        elif window.kind == "stuck":
            before = values[row, window.first - 1] if window.first > 0 else np.nan
            held = before if np.isfinite(before) else np.nanmedian(values[row, span])
            values[row, span] = held
            status[row, span] = 0
        else:
            values[row, span] = np.nan
            status[row, span] = STATUS_BAD


def truth_rows(windows: list[AnomalyWindow], times: np.ndarray, day_index: int) -> list[tuple]:
    """Rows of `truth/signal_anomalies` (timestamps as epoch seconds)."""
    rows = []
    for number, window in enumerate(sorted(windows, key=lambda w: (w.machine_id, w.tag))):
        size_sd = None if window.size is None else round(abs(window.size) / NOISE_SD[window.tag], 3)
        rows.append((f"SA-{day_index:05d}-{number:04d}", window.machine_id, window.tag, window.kind,
                     float(times[window.first]), float(times[window.last]), window.samples, window.size, size_sd))
    return rows


class LiveAnomalies:
    """The same windows laid over the live OPC UA values (`live_plant.LivePlant`): a sample at any simulated time
    falls on the historical sample grid of its day; a stuck sensor repeats the last value it published."""

    def __init__(self, machine_ids: list[str], interval_s: int, seed: int, rate: float, day0: float):
        self.machine_ids, self.interval_s, self.seed, self.rate, self.day0 = machine_ids, interval_s, seed, rate, day0
        self._day = -1
        self._windows: dict[tuple[str, str], AnomalyWindow] = {}
        self._published: dict[tuple[str, str], float] = {}

    def apply(self, sim_time: float, values: dict[str, dict[str, tuple[float, int]]]) -> None:
        if self.rate <= 0.0:
            return
        day = int((sim_time - self.day0) // 86400)
        if day != self._day:
            self._day = day
            windows = plan_day(self.machine_ids, 86400 // self.interval_s, self.interval_s, self.seed, day, self.rate)
            self._windows = {(w.machine_id, w.tag): w for w in windows}
        index = int((sim_time - self.day0 - day * 86400) // self.interval_s)
        for machine_id, tags in values.items():
            for tag in ANOMALY_TAGS:
                key = (machine_id, tag)
                window = self._windows.get(key)
                if window is not None and window.first <= index <= window.last:
                    value, status = tags[tag]
                    if window.kind in ("spike", "drift"):
                        tags[tag] = (round(value + float(window.offsets()[index - window.first]), 4), status)
                    elif window.kind == "stuck":
                        tags[tag] = (self._published.get(key, value), 0)
                    else:
                        tags[tag] = (float("nan"), STATUS_BAD)
                if np.isfinite(tags[tag][0]):
                    self._published[key] = tags[tag][0]
