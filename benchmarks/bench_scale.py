"""How the whole pipeline's cost grows with a plant's size: `plantlake run` on simulated plants of 1x, 4x and 16x
the demo's machine-days (14 days x 8 machines; 4x = 28 days x 16 machines; 16x = 56 days x 32 machines), each in
a fresh process on a fresh lake. Per asset step and in total: wall time and peak RSS (the process's resident
memory sampled every 50 ms, attributed to the step running at that moment), and the growth factor per 4x of data
(4.0 is linear). Goals (issue 14): no asset grows faster than linearly; total peak RSS <= 4 GB at 16x.

    python -m benchmarks.bench_scale [--scales 1,4,16] [--seed 42]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHAPES = {1: (14, 2), 4: (28, 4), 16: (56, 8), 64: (112, 16)}  # scale -> (days, lines); 4 machines per line
SAMPLE_S = 0.05
LINEAR = 4.0
SHOWN_FROM_S = 0.5  # steps shorter than this at the largest scale are summed in one row
GROWTH_TOLERANCE = 1.15  # a 4x step may cost up to 4.6x before it is called faster than linear (timing noise)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(source: Path, lake: Path) -> dict[str, Any]:
    """Run the whole pipeline in this process, sampling RSS; per-step wall time and peak RSS from the run's
    events."""
    import dagster as dg

    from pipelines.run import dagster_instance, run_everything

    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), _rss_mb()))
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.time()
    sampler.start()
    outcome = run_everything(lake_root=lake, source_dir=source, echo=lambda _: None)
    done.set()
    sampler.join()
    total_s = time.time() - started
    instance = dagster_instance()
    spans: dict[str, list[float]] = {}
    for record in instance.all_logs(outcome.run_id, of_type={dg.DagsterEventType.STEP_START,
                                                               dg.DagsterEventType.STEP_SUCCESS,
                                                               dg.DagsterEventType.STEP_FAILURE}):
        step = record.step_key or "?"
        spans.setdefault(step, []).append(record.timestamp)
    steps = {}
    for step, times in spans.items():
        begin, end = min(times), max(times)
        inside = [rss for at, rss in samples if begin <= at <= end + SAMPLE_S]
        steps[step] = {"seconds": end - begin, "peak_rss_mb": max(inside, default=0.0)}
    return {"success": outcome.success, "failure": outcome.failure, "failed_checks": list(outcome.failed_checks),
            "total_s": total_s, "peak_rss_mb": max(r for _, r in samples),
            "steps": steps}


def measure(scale: int, seed: int, workdir: Path) -> dict[str, Any]:
    days, lines = SHAPES[scale]
    source, lake = workdir / f"plant_{scale}x", workdir / f"lake_{scale}x"
    env = {**os.environ, "DAGSTER_HOME": str(workdir / f"dagster_{scale}x")}
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "plantlake"), "simulate", "--days", str(days), "--lines", str(lines),
                    "--machines-per-line", "4", "--seed", str(seed), "--no-progress", "--out", str(source)],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    simulated_s = time.perf_counter() - began
    child = subprocess.run([sys.executable, "-m", "benchmarks.bench_scale", "--child", str(source), str(lake)],
                           cwd=REPO, env=env, check=True, capture_output=True, text=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(scale=scale, days=days, machines=lines * 4, machine_days=days * lines * 4, simulate_s=simulated_s)
    return result


def run(scales: list[int], seed: int = 42) -> list[dict[str, Any]]:
    """Measure each scale in turn (progress on standard error)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as folder:
        for scale in scales:
            results.append(measure(scale, seed, Path(folder)))
            print(f"[scale] {scale}x: {results[-1]['total_s']:.0f} s, peak {results[-1]['peak_rss_mb']:,.0f} MB",
                  file=sys.stderr, flush=True)
    return results


def growth(small: float, large: float) -> float | None:
    return large / small if small > 0.05 else None  # steps under 50 ms are noise, not a trend


def format_report(results: list[dict[str, Any]]) -> str:
    scales = [r["scale"] for r in results]
    lines = [f"Scale curve: `plantlake run` on the 14-day plant of 8 machines at {', '.join(f'{s}x' for s in scales)} machine-days "
             "(" + ", ".join(f"{r['days']} days x {r['machines']} machines" for r in results) + "), one process each",
             "", "| step | " + " | ".join(f"{s}x s" for s in scales) + " | " + " | ".join(f"{s}x peak MB" for s in scales)
             + " | growth per 4x (time) |", "|---|" + "---|" * (2 * len(scales) + 1)]
    steps = sorted({s for r in results for s in r["steps"]},
                   key=lambda s: -results[-1]["steps"].get(s, {"seconds": 0})["seconds"])
    shown_steps = [s for s in steps if results[-1]["steps"].get(s, {}).get("seconds", 0.0) >= SHOWN_FROM_S]
    faster_than_linear = []
    for step in steps:
        seconds = [r["steps"].get(step, {}).get("seconds", 0.0) for r in results]
        peaks = [r["steps"].get(step, {}).get("peak_rss_mb", 0.0) for r in results]
        factors = [growth(a, b) for a, b in zip(seconds, seconds[1:])]
        shown = ", ".join("-" if f is None else f"{f:.2f}x" for f in factors)
        if any(f is not None and f > LINEAR * GROWTH_TOLERANCE for f in factors):
            faster_than_linear.append(f"{step} ({shown})")
        if step not in shown_steps:
            continue
        lines.append(f"| {step} | " + " | ".join(f"{s:.1f}" for s in seconds) + " | "
                     + " | ".join(f"{p:,.0f}" for p in peaks) + f" | {shown} |")
    others = [sum(v["seconds"] for k, v in r["steps"].items() if k not in shown_steps) for r in results]
    lines.append(f"| {len(steps) - len(shown_steps)} other steps (checks, master data; each under "
                 f"{SHOWN_FROM_S:g} s at {results[-1]['scale']}x) | " + " | ".join(f"{o:.1f}" for o in others)
                 + " | " + " | ".join("" for _ in results) + " | |")
    totals = [r["total_s"] for r in results]
    peaks = [r["peak_rss_mb"] for r in results]
    lines.append("| **total** | " + " | ".join(f"**{t:.0f}**" for t in totals) + " | "
                 + " | ".join(f"**{p:,.0f}**" for p in peaks) + " | "
                 + ", ".join(f"{b / a:.2f}x" for a, b in zip(totals, totals[1:])) + " |")
    lines += ["", "simulation (not part of the run): " + ", ".join(f"{r['scale']}x {r['simulate_s']:.0f} s" for r in results)]
    for r in results:
        lines.append(f"run at {r['scale']}x: " + ("succeeded" if r["success"] else
                     f"FAILED ({r.get('failure') or ''}; failed checks: {', '.join(r.get('failed_checks') or []) or 'none'})"))
    largest = results[-1]
    lines.append(f"goal: no step grows faster than linearly: "
                 + ("met" if not faster_than_linear else "missed by " + "; ".join(faster_than_linear)))
    lines.append(f"goal: total peak RSS <= 4 GB at {largest['scale']}x: {largest['peak_rss_mb']:,.0f} MB, "
                 + ("met" if largest["peak_rss_mb"] <= 4096 else "missed"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(Path(args.child[0]), Path(args.child[1]))))
        return
    results = run([int(s) for s in args.scales.split(",")], args.seed)
    print(format_report(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
