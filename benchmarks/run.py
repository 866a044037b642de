"""Run the benchmarks and print a Markdown table (the README's performance table is this output).

    python -m benchmarks.run [--only delta_write simulator ingest opcua] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import (bench_delta_write, bench_genealogy, bench_incremental, bench_ingest, bench_ledger, bench_oee,
                        bench_opcua, bench_simulator)
from benchmarks import bench_flow
from benchmarks import bench_mqtt
from benchmarks import bench_spark_delta
from benchmarks import bench_scale
from benchmarks.harness import ratio_table

RESULTS = Path(__file__).parent / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
BENCHMARKS = ["delta_write", "ingest", "simulator", "opcua", "ledger", "incremental", "genealogy", "oee", "flow",
              "mqtt", "spark_delta", "scale"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, default=None)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    chosen = set(args.only or BENCHMARKS)
    report = [f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
              f"run at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", ""]
    pairs, singles, splits = [], [], []
    if "delta_write" in chosen:
        ours, peer = bench_delta_write.run(rows=200_000 if args.quick else 2_000_000,
                                           repeats=1 if args.quick else 3)
        pairs.append((f"write {int(ours.work):,} signal rows", ours, peer))
    if "ingest" in chosen:
        ours, peer = bench_ingest.run(events=50_000 if args.quick else 1_000_000)
        pairs.append((f"land {int(ours.work):,} MES NDJSON events", ours, peer))
        splits.append(bench_ingest.split_line(ours))
    if "simulator" in chosen:
        sim = (bench_simulator.run(days=2, lines=1, machines_per_line=2) if args.quick
               else bench_simulator.run())
        singles.append(sim)
        big = None if args.quick else bench_simulator.run(days=28, lines=4, machines_per_line=5,
                                                          signal_interval_s=10)
        if big:
            singles.append(big)
    if pairs:
        report += [ratio_table(pairs), "", *splits, ""] if splits else [ratio_table(pairs), ""]
    if "ledger" in chosen:
        report += [bench_ledger.format_table(bench_ledger.run(200_000 if args.quick else 10_000_000)), ""]
    if "incremental" in chosen:
        report += [bench_incremental.format_table(bench_incremental.run(days=20 if args.quick else 100)), ""]
        for shape in bench_incremental.KEY_SHAPES:  # the size: 10M movements, 1% new, 5% of them late
            report += [bench_incremental.format_scale_table(bench_incremental.run_at_scale(
                100_000 if args.quick else 10_000_000, keys=shape)), ""]
    if "oee" in chosen:
        report += [bench_oee.format_table(bench_oee.run(machines=10 if args.quick else 200,
                                                        days=30 if args.quick else 365)), ""]
    if "flow" in chosen:  # --quick: 20 machines x 60 days; the full size is 200 machines x 1 year
        report += [bench_flow.format_table(bench_flow.run(machines=20 if args.quick else 200,
                                                          days=60 if args.quick else 365,
                                                          repeats=1 if args.quick else 3)), ""]
    if "genealogy" in chosen:
        report += [bench_genealogy.report(bench_genealogy.run(edges=200_000 if args.quick else 4_000_000)), ""]
    if "opcua" in chosen:
        quick = dict(rate_per_s=500, servers=1, duration_s=4.0) if args.quick else {}
        report += [bench_opcua.format_table(bench_opcua.run(**quick)), ""]
    if "mqtt" in chosen:
        quick = dict(rate=1000.0, seconds=3.0, backlog_count=3000) if args.quick else {}
        report += [bench_mqtt.format_table(bench_mqtt.run(**quick)), ""]
    if "spark_delta" in chosen:  # ledger and OEE, Delta in and out: Polars, DuckDB, Spark from Arrow, Spark on Delta
        sizes = dict(movements=100_000, machines=5, days=30) if args.quick else {}
        report += [bench_spark_delta.format_table(bench_spark_delta.run(**sizes)), ""]
    if "scale" in chosen:  # the whole pipeline at 1x, 4x and 16x the demo plant's machine-days
        report += [bench_scale.format_report(bench_scale.run([1, 4] if args.quick else [1, 4, 16])), ""]
    if singles:
        report += ["| benchmark | subject | seconds | throughput | notes |", "|---|---|---|---|---|"]
        report += [f"| {m.benchmark} | {m.subject} | {m.seconds:.1f} | {m.rate:,.0f} {m.unit}/s "
                   f"({m.work:,.0f} {m.unit}) | {json.dumps(m.notes)} |" for m in singles]
    text = "\n".join(report)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(text + "\n")
    if args.update_readme:
        update_readme(text)


def update_readme(table: str, readme: Path = Path(__file__).parents[1] / "README.md") -> None:
    """Replace what stands between the README's bench markers with `table`."""
    content = readme.read_text()
    start, end = content.index(START) + len(START), content.index(END)
    readme.write_text(content[:start] + "\n" + table + "\n" + content[end:])


if __name__ == "__main__":
    main()
