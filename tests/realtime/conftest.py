"""Fixtures for the real-time tests: a lake with a little master data, a Mosquitto of the test's own (for
restarts, credentials and TLS), a publisher, and MES events to send."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest

from lakehouse.delta_io import DeltaLake
from tests.ingestion.landing_files import mes_event, write_master_data
from tests.services import missing

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class Mosquitto:
    """A Mosquitto of the test's own, persistent, that can be stopped and started again on the same port."""

    def __init__(self, folder: Path, extra: str = "", port: int | None = None) -> None:
        self.folder, self.port = folder, port or free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        user = pwd.getpwuid(os.getuid()).pw_name  # not mosquitto's own user: the test's tmp folder is private
        self.config.write_text(f"user {user}\nper_listener_settings false\npersistence true\n"
                               f"persistence_location {folder}/\nmax_queued_messages 0\n"
                               f"log_dest file {folder}/mosquitto.log\n"
                               f"{extra or 'allow_anonymous true'}\nlistener {self.port} 127.0.0.1\n")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)])
        wait_for_port(self.port)

    def stop(self) -> None:
        """A clean stop (SIGTERM): Mosquitto writes its persistence file, sessions and queued messages included."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Path(MOSQUITTO).exists():
        missing(f"{MOSQUITTO} is not installed (Debian package mosquitto; .ci/services installs it)")
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def master_lake(tmp_path: Path) -> DeltaLake:
    return write_master_data(DeltaLake(tmp_path / "lake"))


def events(count: int, prefix: str = "E") -> list[dict[str, object]]:
    """Distinct valid MES equipment-state events (one machine of the master data)."""
    return [mes_event(f"{prefix}{i:06d}", occurred_at=f"2026-01-05T06:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}."
                      f"{i % 1000:03d}000+00:00") for i in range(count)]


@contextmanager
def publisher(url: str, client_id: str = "test-publisher", **tls) -> Iterator[mqtt.Client]:
    """A QoS 1 publisher with a persistent session: what it publishes while the broker is away is sent on
    reconnect."""
    parts = urlsplit(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    client.reconnect_delay_set(min_delay=0.2, max_delay=1)
    if tls.get("username"):
        client.username_pw_set(tls["username"], tls.get("password"))
    if tls.get("ca_file"):
        client.tls_set(ca_certs=tls["ca_file"])
    client.connect(parts.hostname, parts.port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def publish(client: mqtt.Client, records: list[dict[str, object]], *, site: str = "s1", kind: str = "mes",
            rate_per_s: float | None = None) -> list[mqtt.MQTTMessageInfo]:
    deadline = time.monotonic() + 15
    while not client.is_connected():  # after a broker restart: wait for the publisher's reconnect
        if time.monotonic() > deadline:
            raise TimeoutError("the publisher could not reconnect")
        time.sleep(0.05)
    infos, start = [], time.monotonic()
    for i, record in enumerate(records):
        record_type = record.get("event_type" if kind == "mes" else "transaction_type")
        infos.append(client.publish(f"plant/{site}/{kind}/{record_type}", json.dumps(record), qos=1))
        if rate_per_s:
            ahead = start + (i + 1) / rate_per_s - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return infos


def wait_published(infos: list[mqtt.MQTTMessageInfo], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    for info in infos:
        while not info.is_published():
            if time.monotonic() > deadline:
                raise TimeoutError("the broker did not acknowledge every message")
            time.sleep(0.01)


def bronze_event_ids(lake: DeltaLake, table: str = "mes_equipment_states") -> list[str]:
    if not lake.exists(table):
        return []
    return lake.scan(table).select("event_id").collect()["event_id"].to_list()


def wait_for_rows(lake: DeltaLake, expected: int, table: str = "mes_equipment_states",
                  timeout_s: float = 120.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    ids = bronze_event_ids(lake, table)
    while len(ids) < expected and time.monotonic() < deadline:
        time.sleep(0.3)
        ids = bronze_event_ids(lake, table)
    return ids


API_KEY = "test-key-6f1c2a"


@dataclass
class RunningApi:
    url: str
    lake: DeltaLake
    headers: dict[str, str]


@contextmanager
def running_api(lake: DeltaLake, folder: Path, *, rate_per_minute: int = 6000) -> Iterator[RunningApi]:
    """The API app on a real uvicorn server, on a free loopback port, in a thread."""
    import uvicorn

    from plantlake.api_server import ApiSettings, create_app, hash_key

    secrets = folder / "api_keys"
    secrets.write_text(f"# client:sha256 of its key\ntester:{hash_key(API_KEY)}\n")
    secrets.chmod(0o600)
    app = create_app(ApiSettings(lake_root=Path(lake.root), spool_root=folder / "spool", secrets_file=secrets,
                                 rate_per_minute=rate_per_minute))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise TimeoutError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield RunningApi(f"http://127.0.0.1:{port}", lake, {"X-API-Key": API_KEY})
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def api(master_lake: DeltaLake, tmp_path: Path) -> Iterator[RunningApi]:
    with running_api(master_lake, tmp_path) as running:
        yield running
