"""Simulator throughput: transactions (WMS rows + MES events + signal rows) per second, files written."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Measurement


def run(days: int = 14, lines: int = 2, machines_per_line: int = 4, signal_interval_s: int = 60) -> Measurement:
    from simulator import FaultRates, PlantConfig, simulate

    out = Path(tempfile.mkdtemp(prefix="bench_sim_"))
    try:
        config = PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=1,
                             fault_rates=FaultRates.default(), signal_interval_s=signal_interval_s)
        start = time.perf_counter()
        result = simulate(config, out)
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return Measurement("simulator", f"simulate {lines}x{machines_per_line} machines x {days} days "
                       f"(signals every {signal_interval_s} s)", seconds, result.counts["transactions"],
                       "transactions")
