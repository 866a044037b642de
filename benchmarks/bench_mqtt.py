"""MQTT -> stock: how soon an event published to the broker is visible in `Lake.stock` (what `plantlake stock`
answers), at a steady publish rate, and the listener's landing throughput against a bare paho subscriber that
does nothing with what it receives (the peer: the broker and client cost alone).

    python -m benchmarks.bench_mqtt [--rate 1000] [--seconds 20] [--backlog 20000]

It starts a Mosquitto of its own (/usr/sbin/mosquitto, Debian's package) on a free loopback port.

Latency: WMS receipts (one new lot each, occurred_at = now) published at `rate`/s for `seconds`, QoS 1, to a
`plantlake listen --refresh` process; a poller reads `Lake.stock` every 0.25 s and notes when each lot appears.
Throughput: a backlog of N receipts waits in each subscriber's persistent session; the time from its start to
the last record landed (plantlake, no refresh) or received (bare paho).
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
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
PLANTLAKE = str(ROOT / ".venv" / "bin" / "plantlake") if (ROOT / ".venv/bin/plantlake").exists() else "plantlake"


def receipt(tag: str, number: int) -> bytes:
    return json.dumps({"transaction_id": f"{tag}{number:07d}", "transaction_type": "RECEIPT",
                       "occurred_at": datetime.now(timezone.utc).isoformat(), "material_code": "ALU-BILLET",
                       "lot_code": f"LOT-{tag}{number:07d}", "quantity": 1, "unit": "KG",
                       "to_location_code": "RCV-DOOR-01", "supplier_id": "SUP-01",
                       "supplier_lot_code": "S-1"}).encode()


def client(url: str, client_id: str, *, persistent: bool = True) -> mqtt.Client:
    parts = urlsplit(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent)
    c.max_queued_messages_set(0)
    c.max_inflight_messages_set(1000)
    c.connect(parts.hostname, parts.port)
    c.loop_start()
    return c


def prepare_lake(folder: Path) -> Path:
    """Master data of a small simulated plant (codes the receipts use), in a new lake."""
    plant, lake = folder / "plant", folder / "lake"
    subprocess.run([PLANTLAKE, "simulate", "--out", str(plant), "--days", "1", "--lines", "1",
                    "--machines-per-line", "1", "--no-faults", "--no-progress"], check=True, capture_output=True)
    from pipelines.run import run_everything

    assert run_everything(lake_root=lake, source_dir=plant, echo=lambda _: None,
                          job_name="refresh_master_data").success
    return lake


def start_listener(lake: Path, url: str, site: str, *extra: str) -> subprocess.Popen:
    process = subprocess.Popen([PLANTLAKE, "--lake", str(lake), "listen", "--broker", url, "--site", site,
                                "--client-id", f"bench-{site}", "--spool", str(lake.parent / "spool"), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = process.stdout.readline()
    if not line.startswith("listening on"):
        raise RuntimeError(f"listener did not start: {line}{process.stdout.read()}")
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # drain its output
    return process


def latency(url: str, lake: Path, rate: float, seconds: float) -> dict:
    from plantlake.lake import Lake

    site = f"lat{time.time_ns()}"
    listener = start_listener(lake, url, site, "--refresh", "--refresh-interval", "1", "--batch-interval", "0.5")
    published: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                lots = Lake(lake).stock(material="RM-1001")["lot_id"].to_list()
            except Exception:  # noqa: BLE001 - no ledger yet
                lots = []
            now = time.time()
            for lot in lots:
                seen.setdefault(lot, now)
            time.sleep(0.25)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    pub = client(url, f"bench-pub-{site}")
    count = int(rate * seconds)
    start = time.monotonic()
    for i in range(count):
        payload = receipt("L", i)
        published[f"LOT-L{i:07d}"] = time.time()
        pub.publish(f"plant/{site}/wms/RECEIPT", payload, qos=1)
        ahead = start + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    achieved = count / (time.monotonic() - start)
    deadline = time.monotonic() + 120
    while len(set(published) & set(seen)) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    done.set()
    poller.join(5)
    pub.disconnect()
    pub.loop_stop()

    def bronze_rows() -> int:
        return pl.scan_delta(str(lake / "bronze" / "wms_transactions")).filter(
            pl.col("transaction_id").str.starts_with("L")).select(pl.len()).collect().item()

    deadline = time.monotonic() + 300  # a listener that fell behind drains its session before loss is counted
    while bronze_rows() < count and time.monotonic() < deadline:
        time.sleep(1.0)
    listener.terminate()
    listener.wait(60)
    delays = pl.Series([seen[lot] - t for lot, t in published.items() if lot in seen])
    bronze = bronze_rows()
    return {"published": count, "publish_rate_per_s": achieved, "visible": len(delays),
            "not_visible_in_120s": count - len(delays), "lost": count - bronze, "bronze_rows": bronze,
            "p50_s": delays.quantile(0.5, "linear"), "p95_s": delays.quantile(0.95, "linear"),
            "max_s": delays.max()}


def backlog(url: str, site: str, count: int, tag: str) -> None:
    pub = client(url, f"bench-backlog-{site}")
    infos = [pub.publish(f"plant/{site}/wms/RECEIPT", receipt(tag, i), qos=1) for i in range(count)]
    for info in infos:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()


def bare_subscriber(url: str, count: int) -> float:
    """Seconds for a do-nothing paho subscriber (QoS 1, auto-ack) to receive a backlog of `count`."""
    site, received, finished = f"bare{time.time_ns()}", [0], threading.Event()

    def on_message(c, userdata, message) -> None:  # noqa: ANN001
        received[0] += 1
        if received[0] >= count:
            finished.set()

    sub = client(url, f"bench-bare-{site}")
    sub.subscribe(f"plant/{site}/wms/+", qos=1)
    time.sleep(0.5)
    sub.disconnect()
    sub.loop_stop()
    backlog(url, site, count, "B")
    parts = urlsplit(url)
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{site}", clean_session=False)
    sub.on_message = on_message
    start = time.perf_counter()
    sub.connect(parts.hostname, parts.port)
    sub.loop_start()
    finished.wait(120)
    elapsed = time.perf_counter() - start
    sub.disconnect()
    sub.loop_stop()
    return elapsed


def listener_throughput(url: str, lake: Path, count: int) -> float:
    """Seconds for `plantlake listen` (no refresh) to land a backlog of `count` in bronze, from its start."""
    site = f"thr{time.time_ns()}"
    first = start_listener(lake, url, site)  # the session: the broker keeps the backlog for it
    first.terminate()
    first.wait(60)
    backlog(url, site, count, "T")
    table = str(lake / "bronze" / "wms_transactions")
    start = time.perf_counter()
    process = start_listener(lake, url, site, "--batch-size", "5000", "--batch-interval", "0.5")
    listening = time.perf_counter()

    def landed_rows() -> int:  # a new scan each time: a scan reads the table version it was made on
        rows = pl.scan_delta(table).filter(pl.col("transaction_id").str.starts_with("T")).select(pl.len())
        return rows.collect().item()

    while landed_rows() < count:
        time.sleep(0.2)
    landed = time.perf_counter()
    process.terminate()
    process.wait(60)
    return landed - listening if landed > listening else landed - start


def own_broker(folder: Path) -> tuple[subprocess.Popen, str]:
    """A Mosquitto of the benchmark's own: no cap on the messages it queues for an offline session (the default
    1,000 would drop most of a backlog)."""
    import pwd
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = folder / "mosquitto.conf"
    config.write_text(f"user {pwd.getpwuid(os.getuid()).pw_name}\nallow_anonymous true\nmax_queued_messages 0\n"
                      f"persistence false\nlog_dest none\nlistener {port} 127.0.0.1\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(config)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return broker, f"mqtt://127.0.0.1:{port}"


def run(*, rate: float = 1000.0, seconds: float = 20.0, backlog_count: int = 20_000) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-mqtt-") as folder:
        broker, url = own_broker(Path(folder))
        try:
            return _run(url, Path(folder), rate, seconds, backlog_count)
        finally:
            broker.terminate()
            broker.wait(10)


def _run(url: str, folder: Path, rate: float, seconds: float, backlog_count: int) -> dict:
    lake = prepare_lake(folder)
    result = {"latency": latency(url, lake, rate, seconds)}
    ours = listener_throughput(url, lake, backlog_count)
    peer = bare_subscriber(url, backlog_count)
    result["throughput"] = {"events": backlog_count, "plantlake_s": ours, "bare_paho_s": peer,
                            "plantlake_per_s": backlog_count / ours, "bare_paho_per_s": backlog_count / peer,
                            "ratio_time": ours / peer}
    return result


def format_table(result: dict) -> str:
    lat, thr = result["latency"], result["throughput"]
    return "\n".join([
        "| MQTT -> stock | value |", "|---|---|",
        f"| published | {lat['published']:,} WMS receipts at {lat['publish_rate_per_s']:,.0f}/s |",
        f"| event -> visible in Lake.stock | p50 {lat['p50_s']:.1f} s, p95 {lat['p95_s']:.1f} s, "
        f"max {lat['max_s']:.1f} s |",
        f"| not in Lake.stock 120 s after the last publish | {lat['not_visible_in_120s']:,} |",
        f"| lost (published - landed in bronze, after draining) | {lat['lost']:,} (bronze rows "
        f"{lat['bronze_rows']:,}) |",
        f"| landing throughput (backlog of {thr['events']:,}) | plantlake listen {thr['plantlake_per_s']:,.0f}/s "
        f"({thr['plantlake_s']:.1f} s) vs bare paho subscriber {thr['bare_paho_per_s']:,.0f}/s "
        f"({thr['bare_paho_s']:.1f} s): plantlake / peer (time) {thr['ratio_time']:.1f}x |"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--backlog", type=int, default=20_000)
    args = parser.parse_args()
    print(format_table(run(rate=args.rate, seconds=args.seconds, backlog_count=args.backlog)))


if __name__ == "__main__":
    sys.exit(main())
