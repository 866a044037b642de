"""Synthetic frames shaped like two public predictive-maintenance data sets (nothing is downloaded).

`ai4i_like(rows, seed)`: the AI4I 2020 Predictive Maintenance Dataset (UCI; Matzka 2020): one row per
produced part with UDI (row number), Product ID (type letter + serial), Type (L 50 %, M 30 %, H 20 %), Air
temperature [K] (random walk around 300 K, sd 2 K), Process temperature [K] (air + 10 K, sd 1 K), Rotational
speed [rpm] (around 1540 rpm, lower at higher torque), Torque [Nm] (around 40 Nm, sd 10, never negative), Tool wear [min]
(grows by 5/3/2 min per part for H/M/L, replaced after failures or 240 min) and the label `Machine failure`, the OR
of five failure modes as the data set defines them: TWF (tool wear failure, tool wear 200-240 min, 1 in 50),
HDF (heat dissipation: air-process difference < 8.6 K and speed < 1380 rpm), PWF (power = torque x speed in rad/s
outside 3500-9000 W), OSF (overstrain: tool wear x torque above 11000/12000/13000 minNm for L/M/H) and RNF
(random, 0.1 %).

`cmapss_fd001_like(units, seed)`: NASA's C-MAPSS turbofan run-to-failure set FD001 (Saxena et al. 2008): one row
per unit and cycle, each unit running from a random initial wear until failure (128-362 cycles), with
setting_1..3 (one operating condition: two near-zero settings and 100) and sensor_1..21, seven of which are
constant as in FD001 (1, 5, 6, 10, 16, 18, 19); the others drift with the health index h = (cycle / life)^2
(up or down, scaled per sensor) plus Gaussian noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

AI4I_FAILURE_MODES = ["TWF", "HDF", "PWF", "OSF", "RNF"]
CONSTANT_SENSORS = {1, 5, 6, 10, 16, 18, 19}


def ai4i_like(rows: int = 10_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    product_type = rng.choice(["L", "M", "H"], size=rows, p=[0.5, 0.3, 0.2])
    air = 300.0 + np.cumsum(rng.normal(0.0, 0.05, rows)).clip(-4, 4) + rng.normal(0.0, 0.3, rows)
    process = air + 10.0 + rng.normal(0.0, 1.0, rows)
    torque = np.clip(rng.normal(40.0, 10.0, rows), 3.0, None)
    speed = np.clip(1540.0 - 15.0 * (torque - 40.0) + rng.normal(0.0, 80.0, rows), 1150, 2900)
    wear_step = {"L": 2, "M": 3, "H": 5}
    tool_wear = np.zeros(rows)
    wear = 0.0
    twf = np.zeros(rows, dtype=int)
    for index in range(rows):
        wear += wear_step[product_type[index]]
        if wear > 240:
            wear = 0.0
        tool_wear[index] = wear
        if 200 <= wear <= 240 and rng.random() < 0.02:
            twf[index] = 1
            wear = 0.0
    hdf = ((process - air < 8.6) & (speed < 1380)).astype(int)
    power = torque * speed * 2 * np.pi / 60
    pwf = ((power < 3500) | (power > 9000)).astype(int)
    strain_limit = np.select([product_type == "L", product_type == "M"], [11000, 12000], 13000)
    osf = (tool_wear * torque > strain_limit).astype(int)
    rnf = (rng.random(rows) < 0.001).astype(int)
    failure = ((twf + hdf + pwf + osf + rnf) > 0).astype(int)
    serials = rng.permutation(np.arange(10_000, 10_000 + rows * 3))[:rows]
    return pd.DataFrame({
        "UDI": np.arange(1, rows + 1), "Product ID": [f"{t}{s}" for t, s in zip(product_type, serials)],
        "Type": product_type, "Air temperature [K]": air.round(1), "Process temperature [K]": process.round(1),
        "Rotational speed [rpm]": speed.round(0).astype(int), "Torque [Nm]": torque.round(1),
        "Tool wear [min]": tool_wear.astype(int), "Machine failure": failure,
        "TWF": twf, "HDF": hdf, "PWF": pwf, "OSF": osf, "RNF": rnf})


def cmapss_fd001_like(units: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    drifting = [s for s in range(1, 22) if s not in CONSTANT_SENSORS]
    base = {s: rng.uniform(5.0, 2000.0) for s in range(1, 22)}
    direction = {s: rng.choice([-1.0, 1.0]) * rng.uniform(0.002, 0.01) for s in drifting}
    frames = []
    for unit in range(1, units + 1):
        life = int(rng.integers(128, 363))
        cycle = np.arange(1, life + 1)
        initial = rng.uniform(0.0, 0.15)
        health = initial + (1 - initial) * (cycle / life) ** 2
        columns = {"unit": np.full(life, unit), "cycle": cycle,
                   "setting_1": rng.normal(0.0, 0.002, life).round(4), "setting_2": rng.normal(0.0, 0.0003, life).round(4),
                   "setting_3": np.full(life, 100.0)}
        for sensor in range(1, 22):
            level = np.full(life, base[sensor])
            if sensor in drifting:
                level = level * (1 + direction[sensor] * 4 * health) + rng.normal(0.0, abs(direction[sensor])
                                                                                   * base[sensor] * 0.6, life)
            columns[f"sensor_{sensor}"] = level.round(3)
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)
