"""The demo's live MQTT part: the simulator runs one more day and publishes its MES and WMS events to a broker,
time-scaled; `MqttListener` lands them and the real-time refresh moves stock, printed as it changes.

The broker is a Mosquitto of the demo's own on a free loopback port (Debian's package, /usr/sbin/mosquitto), or
PLANTLAKE_MQTT_URL when set; without either the part is skipped with a note."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

MOSQUITTO = "/usr/sbin/mosquitto"


@contextmanager
def demo_broker() -> Iterator[str | None]:
    if os.environ.get("PLANTLAKE_MQTT_URL"):
        yield os.environ["PLANTLAKE_MQTT_URL"]
        return
    binary = shutil.which("mosquitto") or (MOSQUITTO if Path(MOSQUITTO).exists() else None)
    if binary is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="plantlake-demo-mqtt-") as folder, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        config = Path(folder) / "mosquitto.conf"
        config.write_text(f"allow_anonymous true\nmax_queued_messages 0\npersistence false\nlog_dest none\n"
                          f"listener {port} 127.0.0.1\n")
        broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"mqtt://127.0.0.1:{port}"
        finally:
            broker.terminate()
            broker.wait(10)


def stock_totals(lake_root: Path) -> tuple[int, float]:
    from plantlake.lake import Lake

    stock = Lake(lake_root).stock()
    return stock.height, float(stock["quantity"].sum())


def show_live_stock(source_dir: Path, lake_root: Path, seconds: float, echo: Callable[[str], None]) -> None:
    """Publish the next simulated hours for about `seconds`, landing and refreshing as they come."""
    from ingestion.mqtt.listener import MqttListener
    from ingestion.mqtt.settings import broker_settings, topics_for
    from lakehouse.delta_io import DeltaLake
    from pipelines.realtime import InventoryRefresher
    from simulator.mqtt_publisher import publish_live, recorded_records, simulated_dates
    from simulator.simulation import continue_simulation

    with demo_broker() as url:
        if url is None:
            echo("skipped: no MQTT broker (install Debian's mosquitto, or set PLANTLAKE_MQTT_URL)")
            return
        spool = lake_root.parent / f".{lake_root.name}-spool"
        before = simulated_dates(source_dir)
        continue_simulation(source_dir, 1)
        records = recorded_records(source_dir, simulated_dates(source_dir) - before, "demo")
        hours = 8.0
        records = [r for r in records if r.occurred_at.timestamp() <= records[0].occurred_at.timestamp() + hours * 3600]
        listener = MqttListener(broker_settings(url), topics_for("demo"), DeltaLake(lake_root), spool,
                                client_id="plantlake-demo", batch_size=2000, batch_interval_s=0.5)
        refresher = InventoryRefresher(lake_root, spool)
        balances, quantity = stock_totals(lake_root)
        echo(f"broker {url}; stock before: {balances:,} balances, {quantity:,.0f} in base units; publishing "
             f"{len(records):,} MES/WMS records of the next {hours:.0f} simulated hours")
        stop = threading.Event()
        state = {"landed": 0}

        def after_batch(outcomes) -> None:  # noqa: ANN001
            state["landed"] += sum(o.outcome.rows_landed for o in outcomes)
            outcome = refresher.refresh()
            now_balances, now_quantity = stock_totals(lake_root)
            echo(f"  +{time.monotonic() - started:4.1f} s  {state['landed']:>5,} records landed; stock "
                 f"{now_balances:,} balances, {now_quantity - quantity:+,.0f} since the start "
                 f"(refresh {outcome.seconds:.1f} s)")

        listener.start()
        worker = threading.Thread(target=listener.run, args=(stop,), kwargs={"after_batch": after_batch}, daemon=True)
        started = time.monotonic()
        worker.start()
        report = publish_live(records, url, time_scale=hours * 3600 / max(seconds - 8, 4), client_id="demo-publisher")
        deadline = time.monotonic() + 15
        while listener.stats.received < report.published and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        worker.join(60)
        listener.stop()
        log = (DeltaLake(lake_root).scan("ingest_log")
               .filter(pl.col("ingest_run_id").str.starts_with("listen-plantlake-demo-")).collect())
        echo(f"published {report.published:,}, received {listener.stats.received:,}; bronze: "
             f"{log['rows_landed'].sum():,} landed, {log['rows_quarantined'].sum():,} quarantined, "
             f"{log['rows_duplicate'].sum():,} duplicate (the simulator's injected faults included)")
