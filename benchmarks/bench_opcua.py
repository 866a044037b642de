"""OPC UA collector cost and completeness against a bare asyncua client, on the same demo servers.

Each measurement starts fresh demo server processes (127.0.0.1 only) that publish `rate_per_s` value changes per
second in total for `duration_s`, and one client process: (a) the plantlake collector (buffering + Delta flush;
one collector per server, sharing one writer, as `plantlake collect` runs several configs), (b) a bare asyncua
client whose handler only counts. Both use the same subscription parameters, and both freeze the objects their
imports created before the clock starts, as `plantlake collect` does. Reported per
client: CPU seconds per notification (the client process's own user+system time, imports excluded), changes
received vs published, and for the collector the time from a server write to the row being readable through
`lake.scan` (probes written by this process while the load runs).

    python -m benchmarks.bench_opcua [--rate 5000] [--servers 3] [--duration-s 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PUBLISH_INTERVAL_MS = 100.0
QUEUE_SIZE = 1000
TAG = "temperature_c"


def run(rate_per_s: float = 5000, servers: int = 3, machines_per_server: int = 20, duration_s: float = 10.0,
        warmup_s: float = 5.0, flush_interval_s: float = 2.0, probes: int = 5) -> dict[str, Any]:
    """Measure (a) the collector and (b) the bare client; returns per-client numbers and the ratios."""
    results = {}
    for kind in ("collector", "bare"):
        results[kind] = _measure(kind, rate_per_s, servers, machines_per_server, duration_s, warmup_s,
                                 flush_interval_s, probes if kind == "collector" else 0)
    collector, bare = results["collector"], results["bare"]
    results["cpu_ratio"] = collector["cpu_s_per_notification"] / bare["cpu_s_per_notification"]
    results["settings"] = {"rate_per_s": rate_per_s, "servers": servers, "nodes": servers * machines_per_server,
                           "duration_s": duration_s, "publish_interval_ms": PUBLISH_INTERVAL_MS,
                           "flush_interval_s": flush_interval_s, "cpus": os.cpu_count()}
    return results


def _measure(kind: str, rate_per_s: float, servers: int, machines: int, duration_s: float, warmup_s: float,
             flush_interval_s: float, probes: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench_opcua_{kind}_"))
    server_procs: list[subprocess.Popen[str]] = []
    client: subprocess.Popen[str] | None = None
    try:
        ports = [_free_port() for _ in range(servers)]
        for i, port in enumerate(ports):
            server_procs.append(subprocess.Popen(
                [sys.executable, "-m", "ingestion.opcua.demo_server", "--port", str(port), "--machines", str(machines),
                 "--first-machine", str(i * machines), "--rate", str(rate_per_s / servers), "--duration-s",
                 str(duration_s), "--warmup-s", str(warmup_s), "--linger-s", "8"],
                cwd=REPO, stdout=subprocess.PIPE, text=True))
        for proc in server_procs:
            _read_json_line(proc, timeout_s=30)  # {"ready": endpoint}
        client_run_s = warmup_s + duration_s + 2.0
        client = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_opcua", "--client", kind, "--ports", ",".join(map(str, ports)),
             "--machines", str(machines), "--client-run-s", str(client_run_s), "--lake", str(workdir / "lake"),
             "--flush-interval-s", str(flush_interval_s)], cwd=REPO, stdout=subprocess.PIPE, text=True)
        latencies = (asyncio.run(_probe_latency(ports[0], workdir / "lake", warmup_s, warmup_s + duration_s, probes))
                     if probes else [])
        outcome = _read_json_line(client, timeout_s=client_run_s + 30)
        published = sum(_read_json_line(proc, timeout_s=duration_s + warmup_s + 30)["published"]
                        for proc in server_procs)
    finally:
        for proc in [*server_procs, *([client] if client else [])]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    initial = servers * machines  # each monitored item first reports the node's current value
    changes = outcome["received"] - initial - len(latencies)
    result = {"published": published, "received_changes": changes, "lost": published - changes,
              "cpu_s": outcome["cpu_s"], "cpu_s_per_notification": outcome["cpu_s"] / max(outcome["received"], 1),
              **{k: v for k, v in outcome.items() if k not in ("cpu_s", "received")}}
    if latencies:
        result["latency_s"] = {"max": max(latencies), "mean": sum(latencies) / len(latencies), "samples": latencies}
    return result


async def _probe_latency(port: int, lake_root: Path, warmup_s: float, load_ends_s: float, probes: int) -> list[float]:
    """Write marker values through OPC UA while the load runs; time until each is readable in Delta.

    Only while the load runs: the client process runs at least until load_ends_s + 2 s after it was started,
    so a probe written later (when slow probes pile up on a busy machine) could find no collector to receive
    it; then fewer than `probes` are taken."""
    started = time.monotonic()
    import polars as pl
    from asyncua import Client, ua

    from lakehouse.delta_io import DeltaLake

    lake = DeltaLake(lake_root)
    await asyncio.sleep(warmup_s + 1.0)
    latencies = []
    async with Client(f"opc.tcp://127.0.0.1:{port}", timeout=4) as client:
        node = client.get_node(f"ns=2;s=M1.{TAG}")
        for i in range(probes):
            if time.monotonic() - started > load_ends_s:
                break
            marker = -1000.0 - i
            written_at = time.monotonic()
            await node.write_value(ua.DataValue(ua.Variant(marker, ua.VariantType.Double),
                                                SourceTimestamp=datetime.now(UTC)))
            deadline = written_at + 20
            while time.monotonic() < deadline:
                try:
                    if lake.scan("machine_signals").filter(pl.col("value") == marker).select(pl.len()).collect().item():
                        break
                except FileNotFoundError:
                    pass
                await asyncio.sleep(0.05)
            latencies.append(round(time.monotonic() - written_at, 3))
            await asyncio.sleep(0.5)
    return latencies


# ---- the client processes ----------------------------------------------------------------------


async def _bare_client(ports: list[int], machines: int, run_s: float) -> dict[str, Any]:
    from asyncua import Client, ua

    class CountingHandler:
        count = 0

        def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
            self.count += 1

    handler = CountingHandler()
    async with contextlib.AsyncExitStack() as stack:
        for i, port in enumerate(ports):
            client = await stack.enter_async_context(Client(f"opc.tcp://127.0.0.1:{port}"))
            params = ua.CreateSubscriptionParameters(RequestedPublishingInterval=PUBLISH_INTERVAL_MS,
                                                     RequestedMaxKeepAliveCount=10, RequestedLifetimeCount=600,
                                                     MaxNotificationsPerPublish=0, PublishingEnabled=True)
            subscription = await client.create_subscription(params, handler)
            nodes = [client.get_node(f"ns=2;s=M{i * machines + m + 1}.{TAG}") for m in range(machines)]
            await subscription._subscribe(nodes, queuesize=QUEUE_SIZE, sampling_interval=0.0)
        await asyncio.sleep(run_s)
    return {"received": handler.count}


async def _collector_client(ports: list[int], machines: int, run_s: float, lake_root: Path,
                            flush_interval_s: float) -> dict[str, Any]:
    from ingestion.opcua import CollectorConfig, run_collectors
    from lakehouse.delta_io import DeltaLake

    lake = DeltaLake(lake_root)
    configs = [CollectorConfig.from_dict({
        "endpoint": f"opc.tcp://127.0.0.1:{port}", "collector_id": f"bench{i}", "sampling_interval_ms": 0,
        "publishing_interval_ms": PUBLISH_INTERVAL_MS, "queue_size": QUEUE_SIZE, "flush_interval_s": flush_interval_s,
        "flush_max_values": 50_000,
        "nodes": [{"node_id": f"ns=2;s=M{i * machines + m + 1}.{TAG}", "machine_id": f"M{i * machines + m + 1}",
                   "tag": TAG} for m in range(machines)]}) for i, port in enumerate(ports)]
    reports = await run_collectors(configs, lake, duration_s=run_s)  # one shared writer, as `plantlake collect`
    return {"received": sum(r.received for r in reports), "rows_landed": sum(r.written for r in reports),
            "duplicates_skipped": sum(r.duplicates_skipped for r in reports),
            "gaps": sum(len(r.gaps) for r in reports)}


def _client_main(args: argparse.Namespace) -> None:
    import resource

    ports = [int(p) for p in args.ports.split(",")]
    import asyncua  # noqa: F401 - imports happen before the CPU clock starts, for both clients

    if args.client == "collector":
        import ingestion.opcua  # noqa: F401
        import lakehouse.delta_io  # noqa: F401
    # Both clients, like `plantlake collect`, freeze what their imports built (gc.freeze) before the clock starts,
    # so the garbage collector's full passes do not re-walk it (see ingestion.opcua.cli.imports_frozen).
    gc.collect()
    gc.freeze()
    start = resource.getrusage(resource.RUSAGE_SELF)
    if args.client == "bare":
        outcome = asyncio.run(_bare_client(ports, args.machines, args.client_run_s))
    else:
        outcome = asyncio.run(_collector_client(ports, args.machines, args.client_run_s, Path(args.lake),
                                                args.flush_interval_s))
    end = resource.getrusage(resource.RUSAGE_SELF)
    gc.unfreeze()  # released normally at exit
    # CPU of every thread of this process (the collector writes Delta from a worker thread), imports excluded.
    outcome["cpu_s"] = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
    print(json.dumps(outcome), flush=True)


# ---- helpers -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_json_line(proc: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("{"):
            return json.loads(line)
        if not line and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode} without a result")
    raise TimeoutError(f"{proc.args[:4]} gave no result within {timeout_s} s")


def format_table(results: dict[str, Any]) -> str:
    c, b, s = results["collector"], results["bare"], results["settings"]
    lines = [f"OPC UA: {s['rate_per_s']:,.0f} changes/s goal over {s['nodes']} nodes on {s['servers']} server "
             f"processes, {s['duration_s']:g} s, publish {s['publish_interval_ms']:g} ms, {s['cpus']} CPUs",
             "| client | published | received | lost | CPU s | CPU µs / notification |", "|---|---|---|---|---|---|"]
    for name, r in (("plantlake collector (Delta flush)", c), ("bare asyncua, no-op handler", b)):
        lines.append(f"| {name} | {r['published']:,} | {r['received_changes']:,} | {r['lost']:,} | {r['cpu_s']:.2f} "
                     f"| {r['cpu_s_per_notification'] * 1e6:.1f} |")
    achieved = c["published"] / s["duration_s"]
    lines += ["", f"CPU per notification, collector / bare: {results['cpu_ratio']:.2f}x (goal <= 1.5x)",
              f"published rate achieved by the servers: {achieved:,.0f}/s (goal 5,000/s)"]
    if "latency_s" in c:
        lat = c["latency_s"]
        lines.append(f"write -> queryable in Delta: max {lat['max']:.2f} s, mean {lat['mean']:.2f} s over "
                     f"{len(lat['samples'])} probes (goal <= 5 s)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--machines", type=int, default=20, help="nodes per server")
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="500 changes/s for 4 s, to check it runs")
    parser.add_argument("--client", choices=["collector", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--client-run-s", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--lake", help=argparse.SUPPRESS)
    parser.add_argument("--flush-interval-s", type=float, default=2.0, help="the collector default")
    args = parser.parse_args()
    if args.client:
        _client_main(args)
        return
    if args.quick:
        args.rate, args.duration_s, args.servers = 500, 4.0, 1
    results = run(args.rate, args.servers, args.machines, args.duration_s, flush_interval_s=args.flush_interval_s)
    print(format_table(results))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
