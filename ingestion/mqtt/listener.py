"""`MqttListener`: MES and WMS records from an MQTT broker into bronze, in micro-batches, exactly once.

Delivery: MQTT v5, QoS 1, a persistent session (fixed client id, clean_start=False, a session expiry) and manual
acknowledgement. A message is acknowledged (PUBACK) only after the micro-batch holding it is committed: bronze,
quarantine and the ingest log written (`ingestion.messages.land_messages`). A crash (`kill -9`) or a broker
restart before that leaves the message unacknowledged in the session, so the broker sends it again; the business
key then finds it landed, and it counts as a duplicate. At-least-once from the broker, exactly once in bronze.

The paho network thread only appends to a queue (as the OPC UA collector's handler only enqueues); landing runs
in the caller's thread.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingestion.landing import Lander
from ingestion.messages import KINDS, BatchOutcome, Message, kind_of, land_messages, land_spooled
from ingestion.mqtt.settings import BrokerSettings
from lakehouse.delta_io import DeltaLake

log = logging.getLogger(__name__)
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps unacknowledged messages this long while we are away
RECEIVE_MAXIMUM = 65535  # messages in flight to us before their PUBACK (the micro-batch holds them)


@dataclass(frozen=True)
class Received:
    mid: int
    topic: str
    payload: bytes
    received_at: float


@dataclass
class ListenStats:
    received: int = 0
    batches: int = 0
    landed: int = 0
    quarantined: int = 0
    duplicate: int = 0
    unroutable: int = 0
    reconnects: int = 0
    last_batch: list[BatchOutcome] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.received:,} messages received, {self.batches} batches: {self.landed:,} landed, "
                f"{self.quarantined:,} quarantined, {self.duplicate:,} duplicate, {self.reconnects} reconnects")


class MqttListener:
    """Subscribes `topics` on the broker and lands what arrives into the lake at `lake_root`."""

    def __init__(self, settings: BrokerSettings, topics: list[str], lake: DeltaLake, spool_root, *,
                 client_id: str, batch_size: int = 2000, batch_interval_s: float = 1.0) -> None:
        self.settings, self.topics, self.lake = settings, topics, lake
        self.spool_root = spool_root
        self.batch_size, self.batch_interval_s = batch_size, batch_interval_s
        self.stats = ListenStats()
        self._queue: deque[Received] = deque()
        self._arrived = threading.Condition()
        self._connected = threading.Event()
        self._connections = 0
        self.client_id = client_id
        self.client = self._client(client_id)

    # ---- the network thread ----------------------------------------------------------------------
    def _client(self, client_id: str) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                             manual_ack=True)
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls:
            client.tls_set(ca_certs=self.settings.ca_file, certfile=self.settings.cert_file,
                           keyfile=self.settings.key_file, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            log.warning("broker %s refused the connection: %s", self.settings.describe(), reason_code)
            return
        self._connections += 1
        if self._connections > 1:
            self.stats.reconnects += 1
        client.subscribe([(topic, 1) for topic in self.topics])
        self._connected.set()
        log.info("connected to %s (session present: %s)", self.settings.describe(), flags.session_present)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self._connected.clear()
        if reason_code.is_failure:  # not our own disconnect(): paho's loop reconnects
            log.warning("disconnected from %s: %s; reconnecting", self.settings.describe(), reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:  # noqa: ANN001
        with self._arrived:
            self._queue.append(Received(message.mid, message.topic, message.payload, time.time()))
            if len(self._queue) >= self.batch_size:
                self._arrived.notify()

    # ---- the landing thread ----------------------------------------------------------------------
    def start(self, connect_timeout_s: float = 10.0) -> None:
        """Land spool files a crash left, connect, subscribe; raises ConnectionError if the broker is not there
        or its TLS certificate does not verify."""
        land_spooled(Lander(self.lake, self.spool_root))
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        try:
            self.client.connect(self.settings.host, self.settings.port, keepalive=30, clean_start=False,
                                properties=properties)
        except ssl.SSLCertVerificationError as exc:  # reached, but not trusted: no retry would change that
            trusted = self.settings.ca_file or "the system's CA certificates (PLANTLAKE_MQTT_CA_FILE is not set)"
            raise ConnectionError(f"the broker at {self.settings.describe()} presented a TLS certificate that does "
                                  f"not verify against {trusted}: {exc.verify_message}; set "
                                  "PLANTLAKE_MQTT_CA_FILE to the CA that signed it") from None
        except OSError as exc:
            raise ConnectionError(f"cannot reach the broker at {self.settings.describe()}: {exc}") from None
        self.client.loop_start()
        if not self._connected.wait(connect_timeout_s):
            self.client.loop_stop()
            raise ConnectionError(f"the broker at {self.settings.describe()} did not accept the connection "
                                  f"within {connect_timeout_s:.0f} s (credentials? TLS?)")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def next_batch(self, stop: threading.Event) -> list[Received]:
        """Wait until a batch is full or the oldest waiting message is batch_interval_s old."""
        with self._arrived:
            while not stop.is_set():
                if len(self._queue) >= self.batch_size:
                    break
                if self._queue and time.time() - self._queue[0].received_at >= self.batch_interval_s:
                    break
                wait = self.batch_interval_s if not self._queue else max(
                    0.01, self.batch_interval_s - (time.time() - self._queue[0].received_at))
                self._arrived.wait(min(wait, 0.25))
            return [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]

    def land(self, batch: list[Received], run_id: str) -> list[BatchOutcome]:
        """Land a batch (one delivery per kind), then acknowledge every message of it."""
        lander = Lander(self.lake, self.spool_root, run_id=run_id)  # a new one: `now` and master data current
        outcomes = []
        for kind in KINDS:
            messages = [Message(r.topic, r.payload) for r in batch if kind_of(r.topic) == kind]
            if messages:
                outcomes.append(land_messages(lander, kind, messages, verdicts=False))
        unroutable = [r for r in batch if kind_of(r.topic) is None]
        for r in unroutable:
            log.error("message on %s is neither MES nor WMS; acknowledged without landing", r.topic)
        for received in batch:
            self.client.ack(received.mid, 1)
        self.stats.received += len(batch)
        self.stats.batches += 1
        self.stats.unroutable += len(unroutable)
        for o in outcomes:
            self.stats.landed += o.outcome.rows_landed
            self.stats.quarantined += o.outcome.rows_quarantined
            self.stats.duplicate += o.outcome.rows_duplicate
        self.stats.last_batch = outcomes
        return outcomes

    def run(self, stop: threading.Event, *, after_batch: Callable[[list[BatchOutcome]], None] | None = None,
            idle: Callable[[], None] | None = None) -> ListenStats:
        """Land batches until `stop` is set; `after_batch` runs after each committed batch, `idle` when a wait
        ended without messages."""
        sequence = 0
        while not stop.is_set():
            batch = self.next_batch(stop)
            if not batch:
                if idle:
                    idle()
                continue
            sequence += 1
            outcomes = self.land(batch, run_id=f"listen-{self.client_id}-{int(time.time())}-{sequence}")
            if after_batch:
                after_batch(outcomes)
        return self.stats
