"""`MqttListener` against a real Mosquitto: records land once in bronze through the file contracts, across a
broker restart, a redelivery and a listener killed with SIGKILL mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import polars as pl

from ingestion.mqtt.listener import MqttListener
from ingestion.mqtt.settings import broker_settings, topics_for
from lakehouse.delta_io import DeltaLake
from tests.realtime.conftest import (Mosquitto, bronze_event_ids, events, publish, publisher, wait_for_rows,
                                     wait_published)

ROOT = Path(__file__).resolve().parents[2]


def run_listener(listener: MqttListener) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    listener.start()
    thread.start()
    return stop, thread


def test_events_land_once_and_the_ingest_log_counts_them(mqtt_url: str, master_lake: DeltaLake,
                                                         tmp_path: Path) -> None:
    site = f"t{time.time_ns()}"  # the shared broker: a site of this test's own
    listener = MqttListener(broker_settings(mqtt_url), topics_for(site), master_lake, tmp_path / "spool",
                            client_id=f"listen-{site}", batch_size=500, batch_interval_s=0.3)
    stop, thread = run_listener(listener)
    records = events(1200)
    with publisher(mqtt_url, client_id=f"pub-{site}") as client:
        wait_published(publish(client, records + records[:100], site=site))  # 100 sent twice
    ids = wait_for_rows(master_lake, 1200)
    time.sleep(1.0)  # the redelivered 100 land (as duplicates) after the first copies
    stop.set()
    thread.join(10)
    listener.stop()
    ids = bronze_event_ids(master_lake)
    assert len(ids) == 1200 and set(ids) == {r["event_id"] for r in records}
    log = master_lake.scan("ingest_log").filter(pl.col("source") == "messages_mes").collect()
    assert log["rows_read"].sum() == 1300
    assert log["rows_landed"].sum() == 1200 and log["rows_duplicate"].sum() == 100
    assert log["rows_quarantined"].sum() == 0
    assert listener.stats.received == 1300
    assert not list((tmp_path / "spool").rglob("*.msgs"))  # spool files are removed once landed


def test_a_broker_restart_mid_stream_loses_and_doubles_nothing(own_broker: Mosquitto, master_lake: DeltaLake,
                                                              tmp_path: Path) -> None:
    listener = MqttListener(broker_settings(own_broker.url), topics_for("s1"), master_lake, tmp_path / "spool",
                            client_id="listen-restart", batch_size=5000, batch_interval_s=2.0)
    stop, thread = run_listener(listener)
    records = events(2000)
    with publisher(own_broker.url) as client:
        wait_published(publish(client, records[:1000]))
        time.sleep(0.3)  # the listener holds them, unacknowledged, waiting for its batch interval
        own_broker.stop()
        own_broker.start()
        infos = publish(client, records[1000:])  # queued by the publisher until it has reconnected
        wait_published(infos)
    ids = wait_for_rows(master_lake, 2000)
    time.sleep(2.5)  # anything redelivered after the restart lands as a duplicate
    stop.set()
    thread.join(10)
    listener.stop()
    ids = bronze_event_ids(master_lake)
    assert len(ids) == 2000 and Counter(ids).most_common(1)[0][1] == 1
    assert listener.stats.reconnects >= 1
    log = master_lake.scan("ingest_log").collect()
    assert log["rows_landed"].sum() == 2000
    assert log["rows_read"].sum() == log["rows_landed"].sum() + log["rows_duplicate"].sum()


def test_a_listener_killed_mid_stream_resumes_without_loss_or_doubles(own_broker: Mosquitto,
                                                                     master_lake: DeltaLake, tmp_path: Path) -> None:
    command = [str(ROOT / ".venv/bin/plantlake") if (ROOT / ".venv/bin/plantlake").exists() else "plantlake",
               "--lake", str(master_lake.root), "listen", "--broker", own_broker.url, "--site", "s1",
               "--client-id", "listen-kill", "--batch-size", "300", "--batch-interval", "0.3",
               "--spool", str(tmp_path / "spool")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert "listening on" in first.stdout.readline()
    records = events(3000)
    with publisher(own_broker.url, client_id="pub-kill") as client:
        infos = publish(client, records[:1500], rate_per_s=1500)
        while not first.stdout.readline().startswith("batch"):  # it is committing batches: kill it mid-stream
            pass
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        landed_before = len(bronze_event_ids(master_lake))
        wait_published(infos + publish(client, records[1500:]))
    assert 0 < landed_before < 3000
    second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        ids = wait_for_rows(master_lake, 3000)
        time.sleep(1.0)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    ids = bronze_event_ids(master_lake)
    assert len(ids) == 3000 and set(ids) == {r["event_id"] for r in records}
    log = master_lake.scan("ingest_log").collect()
    assert log["rows_landed"].sum() == 3000
    assert second.returncode == 0
