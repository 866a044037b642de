"""The plant's true risk, written to `truth/` as the oracle models are measured against (never a feature).

- `machine_hours`: per machine and UTC hour, running seconds, the wear at the end of the hour, the
  time-weighted true breakdown hazard per running hour (the wear term 0.004 + 0.35 * wear^2 plus the thermal
  fault's term 0.6 * fault^2, see `machine_logic`), the expected number of breakdown starts in the hour (the
  hazard integrated over the running time) and the thermal fault's level at the end of the hour.
- `production_chunks`: per production chunk, the true defect probability of its units, including the part
  added by off-spec supplier lots (`offspec_defect_probability`).
- `offspec_lots`: supplier lots that are off-spec. A small share (`OFFSPEC_LOT_SHARE`, 6 %) of supplier lots,
  decided by a hash of the seed and the supplier lot code (no random stream is consumed, so every other
  output of a seed stays as it was until the first off-spec defect). Every operation of a work order that
  consumed such a lot, directly or inside a subassembly (lineage followed along the genealogy edges), gets
  `OFFSPEC_DEFECT_PROBABILITY` more defect probability. No single MES or WMS record shows it; only the
  genealogy (which orders consumed the same supplier lots) reveals it. A replenishment delivery arrives as up
  to four supplier batches, each its own lot (`logistics.SUPPLIER_LOTS_PER_DELIVERY`): a 60-day plant of 8
  machines receives about 160 supplier lots, 7-11 of them off-spec, and 17-23 % of its work orders consume one
  (seeds 42, 43). With one lot per delivery (about 42) whether a model's test weeks held an off-spec lot was
  luck.
"""

from __future__ import annotations

import hashlib

import numpy as np

OFFSPEC_LOT_SHARE = 0.06
OFFSPEC_DEFECT_PROBABILITY = 0.05
HAZARD_BASE_PER_H = 0.004
HAZARD_WEAR_COEFFICIENT = 0.35
HAZARD_THERMAL_COEFFICIENT = 0.6


def is_offspec(seed: int, supplier_lot_code: str) -> bool:
    digest = hashlib.sha256(f"{seed}:offspec:{supplier_lot_code}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < OFFSPEC_LOT_SHARE


def follow_edge(model, parent: str, child: str, at: float) -> None:
    """Carry off-spec supplier lots from `parent` to `child` (called for every genealogy edge)."""
    ancestry: dict[str, tuple] = model.offspec_ancestry
    if parent.startswith("SUP:"):
        supplier_lot = parent[4:]
        if is_offspec(model.cfg.seed, supplier_lot):
            ancestry[child] = (supplier_lot,)
            model.day.offspec_lots.append((supplier_lot, child, at, OFFSPEC_DEFECT_PROBABILITY))
        return
    inherited = ancestry.get(parent)
    if inherited:
        ancestry[child] = tuple(sorted(set(ancestry.get(child, ())) | set(inherited)))


def offspec_defect_probability(model, work_order) -> float:
    """The defect probability a work order's off-spec input lots add (0 for sound inputs)."""
    ancestry = model.offspec_ancestry
    return OFFSPEC_DEFECT_PROBABILITY if any(lot in ancestry for lot, *_ in work_order.consumed) else 0.0


def extra_defects(model, good: int, probability: float) -> int:
    """Defects the off-spec material adds among the `good` units, from the model's own stream."""
    if probability <= 0.0 or good <= 0:
        return 0
    return int(model.rng_offspec.binomial(good, probability))


def hazard_per_run_h(wear: np.ndarray | float) -> np.ndarray | float:
    """The wear-driven breakdown hazard per running hour."""
    return HAZARD_BASE_PER_H + HAZARD_WEAR_COEFFICIENT * np.square(wear)


def thermal_hazard_per_run_h(fault: np.ndarray | float) -> np.ndarray | float:
    """The breakdown hazard per running hour the thermal fault adds (0 without a fault)."""
    return HAZARD_THERMAL_COEFFICIENT * np.square(fault)


def _mean_square(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of x^2 along the straight path from a to b (exact)."""
    return (a ** 2 + a * b + b ** 2) / 3.0


def machine_hour_rows(segments: dict[str, list[tuple]], day_start: float) -> list[tuple]:
    """Per machine and hour of the day: (machine_id, hour_start, run_s, wear_end, hazard_per_run_h,
    expected_breakdowns, thermal_fault). Segments are (start, end, state_code, ..., wear_start (8),
    wear_end (9), ..., thermal_fault_start (12), thermal_fault_end (13))."""
    rows = []
    hours = day_start + 3600.0 * np.arange(25)
    for machine_id, machine_segments in segments.items():
        if not machine_segments:
            continue
        seg = np.asarray(machine_segments, dtype=np.float64)
        start, end, state, wear0, wear1 = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 8], seg[:, 9]
        fault0, fault1 = seg[:, 12], seg[:, 13]
        for hour in range(24):
            lo, hi = hours[hour], hours[hour + 1]
            a, b = np.maximum(start, lo), np.minimum(end, hi)
            inside = b > a
            if not inside.any():
                continue
            length = np.maximum(end - start, 1e-9)
            wear_a = wear0 + (wear1 - wear0) * (a - start) / length
            wear_b = wear0 + (wear1 - wear0) * (b - start) / length
            fault_a = fault0 + (fault1 - fault0) * (a - start) / length
            fault_b = fault0 + (fault1 - fault0) * (b - start) / length
            running = inside & (state == 1)
            run_s = float(np.sum((b - a)[running]))
            # both terms are quadratic in a level that moves linearly within a segment: exact with the mean square
            hazard_path = (hazard_per_run_h(np.sqrt(_mean_square(wear_a, wear_b)))
                           + thermal_hazard_per_run_h(np.sqrt(_mean_square(fault_a, fault_b))))
            integral_h = float(np.sum(((b - a) / 3600.0 * hazard_path)[running]))
            last = np.flatnonzero(inside)[-1]
            hazard = integral_h / (run_s / 3600.0) if run_s > 0 else float(
                hazard_per_run_h(wear_b[last]) + thermal_hazard_per_run_h(fault_b[last]))
            rows.append((machine_id, float(lo), run_s, float(wear_b[last]), float(hazard), integral_h,
                         float(fault_b[last])))
    return rows
