"""Machine signals sampled from the equipment state segments (vectorised with numpy).

Long format, one row per machine, tag and sample time: `signals/<YYYY-MM-DD>.parquet`
with machine_id, tag, source_at (UTC, microseconds), value (float64), status_code
(uint32 OPC UA StatusCode, 0 = Good). Tags:

- state: 0 idle, 1 running, 2 planned stop, 3 unplanned stop
- good_count / bad_count: cumulative counters since simulation start
- speed_per_min: actual units per minute while running, else 0
- temperature_c, vibration_mm_s, motor_current_a: rise with running and with wear; the thermal
  (spindle / drive) fault of `machine_logic` raises temperature (+18 C per unit of fault level)
  and motor current (+3.5 A per unit) while running, not vibration
- setpoint_deviation_c, pressure_bar: process parameters that drive the defect rate

About 0.02 % of temperature and vibration samples are sensor dropouts with status
Bad (0x80000000) and value NaN. Sensor anomalies (drift, spikes, stuck values, dropout windows) are laid
over the analog tags by `signal_anomalies` when `FaultRates.signal_anomaly` > 0.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .signal_anomalies import AnomalyWindow, apply_windows

TAGS: tuple[str, ...] = ("state", "good_count", "bad_count", "speed_per_min", "temperature_c",
                         "vibration_mm_s", "motor_current_a", "setpoint_deviation_c", "pressure_bar")
STATUS_GOOD = 0
STATUS_BAD = 0x80000000
DROPOUT_PROBABILITY = 0.0002
THERMAL_TEMPERATURE_C = 18.0  # per unit of thermal fault level, while running
THERMAL_CURRENT_A = 3.5

SIGNAL_SCHEMA = pa.schema([
    ("machine_id", pa.dictionary(pa.int32(), pa.string())),
    ("tag", pa.dictionary(pa.int32(), pa.string())),
    ("source_at", pa.timestamp("us", tz="UTC")),
    ("value", pa.float64()),
    ("status_code", pa.uint32()),
])


def sample_machine(segments: np.ndarray, times: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Tag values (len(TAGS) x len(times)) and status codes for one machine.

    segments: float array (n, 14) of (start, end, state_code, speed_per_min, good, bad,
    good_start, bad_start, wear_start, wear_end, setpoint_deviation, pressure,
    thermal_fault_start, thermal_fault_end), sorted by start and covering the sampled times.
    """
    index = np.clip(np.searchsorted(segments[:, 0], times, side="right") - 1, 0, len(segments) - 1)
    seg = segments[index]
    length = np.maximum(seg[:, 1] - seg[:, 0], 1e-9)
    fraction = np.clip((times - seg[:, 0]) / length, 0.0, 1.0)
    state = seg[:, 2]
    running = (state == 1).astype(np.float64)
    stopped_unplanned = (state == 3).astype(np.float64)
    wear = seg[:, 8] + (seg[:, 9] - seg[:, 8]) * fraction
    fault = seg[:, 12] + (seg[:, 13] - seg[:, 12]) * fraction
    n = len(times)
    speed = seg[:, 3] * (1.0 + rng.normal(0.0, 0.01, n)) * running
    values = np.empty((len(TAGS), n))
    values[0] = state
    values[1] = seg[:, 6] + np.floor(seg[:, 4] * fraction)
    values[2] = seg[:, 7] + np.floor(seg[:, 5] * fraction)
    values[3] = np.round(speed, 3)
    values[4] = np.round(24.0 + running * (14.0 + 12.0 * wear + THERMAL_TEMPERATURE_C * fault) + stopped_unplanned * 5.0
                         + rng.normal(0.0, 0.3, n), 3)
    values[5] = np.round(0.3 + running * (1.5 + 7.0 * wear ** 2) + np.abs(rng.normal(0.0, 0.08, n)), 4)
    values[6] = np.round(0.6 + running * (5.0 + 0.05 * speed + 3.0 * wear + THERMAL_CURRENT_A * fault) + rng.normal(0.0, 0.12, n), 3)
    values[7] = np.round(seg[:, 10] + rng.normal(0.0, 0.08, n), 3)
    values[8] = np.round(np.where(running > 0, seg[:, 11] + rng.normal(0.0, 0.03, n), 0.2 + rng.normal(0.0, 0.02, n)), 3)
    status = np.zeros((len(TAGS), n), dtype=np.uint32)
    for tag_index in (TAGS.index("temperature_c"), TAGS.index("vibration_mm_s")):
        dropout = rng.random(n) < DROPOUT_PROBABILITY
        status[tag_index, dropout] = STATUS_BAD
        values[tag_index, dropout] = np.nan
    return values, status


def signals_table(machine_ids: list[str], per_machine: list[tuple[np.ndarray, np.ndarray]],
                  times_us: np.ndarray) -> pa.Table:
    """Long-format table sorted by machine_id, tag, source_at."""
    n = len(times_us)
    machine_count, tag_count = len(machine_ids), len(TAGS)
    machine_index = np.repeat(np.arange(machine_count, dtype=np.int32), tag_count * n)
    tag_index = np.tile(np.repeat(np.arange(tag_count, dtype=np.int32), n), machine_count)
    values = np.concatenate([v.ravel() for v, _ in per_machine]) if per_machine else np.empty(0)
    status = np.concatenate([s.ravel() for _, s in per_machine]) if per_machine else np.empty(0, np.uint32)
    return pa.Table.from_arrays([
        pa.DictionaryArray.from_arrays(pa.array(machine_index), pa.array(machine_ids, pa.string())),
        pa.DictionaryArray.from_arrays(pa.array(tag_index), pa.array(list(TAGS), pa.string())),
        pa.array(np.tile(times_us, machine_count * tag_count), pa.timestamp("us", tz="UTC")),
        pa.array(values, pa.float64()),
        pa.array(status, pa.uint32()),
    ], schema=SIGNAL_SCHEMA)


def day_signals(machine_ids: list[str], segments_by_machine: dict[str, list[tuple]], day_start: float,
                interval_s: int, seed: int, day_index: int, anomalies: list[AnomalyWindow] = ()) -> pa.Table:
    """One UTC day of every machine's tags; `anomalies` (`signal_anomalies.plan_day`) are sensor faults laid over
    the sampled physics."""
    times = day_start + np.arange(0, 86400, interval_s, dtype=np.float64)
    per_machine = []
    for machine_index, machine_id in enumerate(machine_ids):
        rng = np.random.default_rng([seed, 30, day_index, machine_index])
        segments = np.asarray(segments_by_machine[machine_id], dtype=np.float64)
        values, status = sample_machine(segments, times, rng)
        apply_windows(values, status, TAGS, [w for w in anomalies if w.machine_id == machine_id])
        per_machine.append((values, status))
    times_us = np.round(times * 1_000_000).astype(np.int64)
    return signals_table(machine_ids, per_machine, times_us)
