"""Timing helpers shared by the benchmarks: best-of-N wall time and peak RSS of a call."""

from __future__ import annotations

import gc
import resource
from pathlib import Path
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measurement:
    benchmark: str
    subject: str
    seconds: float
    work: float
    unit: str
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.work / self.seconds if self.seconds else float("inf")


def best_of(repeats: int, fn: Callable[[], Any], setup: Callable[[], Any] | None = None) -> tuple[float, Any]:
    """Fastest wall time of `repeats` calls (setup runs untimed before each)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        if setup:
            setup()
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_peak_rss_mb() -> float:
    """This process's own peak RSS (Linux VmHWM). `ru_maxrss` is not that in a child process: Linux keeps the
    high-water mark across fork and execve, so a child started by a 2 GB parent reports at least 2 GB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def ratio_table(rows: list[tuple[str, Measurement, Measurement]]) -> str:
    """Markdown: project vs peer, with the project's time as a multiple of the peer's."""
    lines = ["| benchmark | plantlake | peer | plantlake / peer (time) |", "|---|---|---|---|"]
    for name, ours, peer in rows:
        lines.append(f"| {name} | {ours.subject}: {ours.seconds:.3f} s ({ours.rate:,.0f} {ours.unit}/s) "
                     f"| {peer.subject}: {peer.seconds:.3f} s ({peer.rate:,.0f} {peer.unit}/s) "
                     f"| {ours.seconds / peer.seconds:.2f}x |")
    return "\n".join(lines)
