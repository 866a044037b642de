"""The OPC UA collector: one subscription with every node as a monitored item, reconnecting with backoff.

Outages are booked in `machine_signal_gaps`: a lost connection from the last value delivered over it (the newest
source_at, i.e. SourceTimestamp or else ServerTimestamp, of the notifications that connection brought; if it
brought nothing newer than the moment it was established, e.g. only the repeats of a re-subscribe, from that
moment, where the previous gap ended) to the moment the subscription is live again; a start that needed retries
as `server_unreachable`; a crash of the previous run as `collector_restart`. Reconnect attempts back off
exponentially up to `reconnect.max_s`, so a server that is back is reconnected within about that long.
After a re-subscribe the server repeats each node's current value with its original SourceTimestamp; those rows
are dropped by insert_new's (machine_id, tag, source_at) key, so they never duplicate. Every `compact_every_s`
the writer compacts the partitions it wrote (see writer.py); the report counts those compactions.
`run_collectors` collects several endpoints in one process through one shared writer: one commit per flush
interval for all of them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncua import Client, ua
from asyncua.common.subscription import DataChangeNotif, Subscription

from ingestion.opcua.config import CollectorConfig
from ingestion.opcua.errors import CollectorError
from ingestion.opcua.nodes import resolve_targets
from ingestion.opcua.redact import redacting
from ingestion.opcua.samples import Gap, Target
from ingestion.opcua.security import apply_security
from ingestion.opcua.sink import SignalSink, now_utc
from ingestion.opcua.state import CollectorState, crash_gap_start, read_state, state_path, write_state
from ingestion.opcua.writer import SignalWriter
from lakehouse.delta_io import DeltaLake

log = logging.getLogger(__name__)

# Status codes that retrying cannot fix: fail the start at once instead of backing off.
REJECTIONS = {"BadUserAccessDenied", "BadIdentityTokenInvalid", "BadIdentityTokenRejected",
              "BadSecurityPolicyRejected", "BadSecurityChecksFailed", "BadCertificateInvalid",
              "BadCertificateUntrusted", "BadCertificateUriInvalid", "BadSecurityModeRejected"}


@dataclass
class CollectorReport:
    run_id: str
    targets: int = 0
    received: int = 0
    written: int = 0
    duplicates_skipped: int = 0
    reconnects: int = 0
    gaps: list[Gap] = field(default_factory=list)
    compactions: int = 0
    files_compacted: int = 0


class _ConnectionLost(Exception):
    def __init__(self, gap_from: datetime) -> None:
        super().__init__(f"connection lost; last value delivered at {gap_from.isoformat()}")
        self.gap_from = gap_from


class _EnqueueHandler:
    """asyncua subscription handler: appends to the sink, nothing else, so the publish loop never waits (the
    newest value time of the connection, where a lost connection's gap starts, is the sink's to tell)."""

    def __init__(self, sink: SignalSink, lost: asyncio.Event) -> None:
        self._enqueue, self._lost = sink.enqueue, lost

    def datachange_notification(self, node: Any, val: Any, data: DataChangeNotif) -> None:
        item = data.monitored_item
        self._enqueue(item.ClientHandle, item.Value)

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        if not status.Status.is_good():
            self._lost.set()


class Collector:
    """Collects one endpoint. `writer`: the SignalWriter shared by the collectors of this process (see
    `run_collectors`); by default the collector has a writer of its own."""

    def __init__(self, config: CollectorConfig, lake: DeltaLake, *, writer: SignalWriter | None = None) -> None:
        self.config, self.lake = config, lake
        self.writer = writer or SignalWriter(lake, flush_interval_s=config.flush_interval_s,
                                             compact_every_s=config.compact_every_s)
        self.run_id = f"opcua-{config.collector_id}-{uuid.uuid4().hex[:12]}"
        self.report = CollectorReport(self.run_id)
        self.state_file = state_path(lake.root, config.collector_id)
        self._targets: list[Target] | None = None
        self._outage: tuple[datetime, str] | None = None
        self._restart_from: datetime | None = None
        self._sink: SignalSink | None = None

    async def run(self, stop: asyncio.Event | None = None, duration_s: float | None = None) -> CollectorReport:
        """Collect until `stop` is set or `duration_s` passed; flushes everything before returning. Meanwhile the
        password is redacted from every log line, asyncua's debug output of the login included (redact.py)."""
        with redacting(self.config.password):
            _warn_if_password_in_clear(self.config)
            return await self._run(stop, duration_s)

    async def _run(self, stop: asyncio.Event | None, duration_s: float | None) -> CollectorReport:
        stop = stop or asyncio.Event()
        timer = asyncio.get_running_loop().call_later(duration_s, stop.set) if duration_s is not None else None
        started_at = now_utc()
        self._restart_from = crash_gap_start(read_state(self.state_file))
        sink = self._sink = SignalSink(
            endpoint=self.config.endpoint, run_id=self.run_id, state_file=self.state_file,
            state=CollectorState(self.config.collector_id, self.run_id, True, started_at),
            flush_max_values=self.config.flush_max_values, node_gap_min_s=self.config.node_gap_min_s)
        collecting = asyncio.create_task(self._collect(stop, started_at))
        flushing = self.writer.attach(sink)
        try:
            await asyncio.wait({collecting, flushing}, return_when=asyncio.FIRST_COMPLETED)
            if flushing.done():  # only ends early when the lake refuses writes
                stop.set()
                await asyncio.wait({collecting}, timeout=self.config.connect_timeout_s + 5)
                flushing.result()
            collecting.result()
        finally:
            if timer is not None:
                timer.cancel()
            try:
                if self._targets is not None:
                    await self._finish(sink)
            finally:
                await self.writer.detach(sink)
        return self._final_report(sink)

    async def _finish(self, sink: SignalSink) -> None:
        stopped_at = now_utc()
        if self._outage is not None:
            sink.book(Gap("connection", self.config.endpoint, self._outage[0], stopped_at, self._outage[1]))
        sink.close_node_gaps(stopped_at)
        await asyncio.sleep(0)  # let asyncua's already-scheduled handler tasks enqueue their notifications
        await self.writer.flush([sink])
        sink.state = CollectorState(self.config.collector_id, self.run_id, False, sink.state.started_at,
                                    sink.state.last_flush_at, stopped_at)
        write_state(self.state_file, sink.state)

    def _final_report(self, sink: SignalSink) -> CollectorReport:
        report = self.report
        report.targets = len(self._targets or ())
        report.received, report.written = sink.counts.received, sink.counts.written
        report.duplicates_skipped, report.gaps = sink.counts.duplicates_skipped, list(sink.counts.gaps)
        report.compactions, report.files_compacted = self.writer.compactions, self.writer.files_compacted
        return report

    async def _collect(self, stop: asyncio.Event, started_at: datetime) -> None:
        reconnect = self.config.reconnect
        delay, attempts = reconnect.initial_s, 0
        while not stop.is_set():
            try:
                await self._session(stop)
                return
            except _ConnectionLost as lost:
                log.warning("lost connection to %s; reconnecting", self.config.endpoint)
                self._outage = self._outage or (lost.gap_from, "connection_lost")
                self.report.reconnects += 1
                delay = reconnect.initial_s
            except CollectorError:
                raise
            except Exception as exc:  # asyncua raises OSError, TimeoutError, UaError and ConnectionError here
                if self._targets is None:
                    attempts += 1
                    if _status_name(exc) in REJECTIONS or attempts >= self.config.start_attempts:
                        raise CollectorError(_describe_start_failure(self.config.endpoint, exc)) from exc
                    self._outage = self._outage or (started_at, "server_unreachable")
                log.info("connecting to %s failed (%s); retrying in %.1f s", self.config.endpoint,
                         _status_name(exc) or exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * reconnect.factor, reconnect.max_s)

    async def _session(self, stop: asyncio.Event) -> None:
        config, sink = self.config, self._sink
        assert sink is not None
        client = Client(config.endpoint, timeout=config.request_timeout_s, watchdog_intervall=config.watchdog_interval_s)
        if config.username is not None:
            client.set_user(config.username)
            client.set_password(config.password or "")
        lost = asyncio.Event()

        async def on_connection_lost(exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_connection_lost
        stack = contextlib.AsyncExitStack()
        try:
            async with asyncio.timeout(config.connect_timeout_s + config.request_timeout_s):
                await apply_security(client, config.security)
                await stack.enter_async_context(client)
                if self._targets is None:
                    sink.targets = await resolve_targets(client, config)
                    self._targets = list(sink.targets)
                sink.resubscribed()
                handler = _EnqueueHandler(sink, lost)
                await self._subscribe(client, handler)
            connected_at = now_utc()
            self._book_recovered(sink, connected_at)
            await _first_of(stop.wait(), lost.wait())
            if lost.is_set() and not stop.is_set():
                raise _ConnectionLost(_gap_start(sink.newest_delivered(), connected_at))
        finally:
            await _quiet_exit(stack, config.request_timeout_s)

    def _book_recovered(self, sink: SignalSink, connected_at: datetime) -> None:
        if self._outage is not None:
            sink.book(Gap("connection", self.config.endpoint, self._outage[0], connected_at, self._outage[1]))
            self._outage = None
        if self._restart_from is not None:
            sink.book(Gap("connection", self.config.endpoint, self._restart_from, connected_at, "collector_restart"))
            self._restart_from = None
        # From here on this run owns the data: a crash loses at most what came after this moment or the next flush.
        sink.state = CollectorState(self.config.collector_id, self.run_id, True, sink.state.started_at,
                                    sink.state.last_flush_at or connected_at)
        write_state(self.state_file, sink.state)

    async def _subscribe(self, client: Client, handler: _EnqueueHandler) -> Subscription:
        config = self.config
        assert self._targets is not None
        interval = config.publish_interval_ms
        keepalive = max(1, math.ceil(1000 / interval))  # a keep-alive about every second bounds gap detection
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=interval, RequestedMaxKeepAliveCount=keepalive,
            RequestedLifetimeCount=max(3 * keepalive, math.ceil(60_000 / interval)),
            MaxNotificationsPerPublish=0, PublishingEnabled=True, Priority=0)
        subscription = await client.create_subscription(params, handler)
        handles = list(range(len(self._targets)))
        results = await subscription.create_monitored_items(self._item_requests(handles, deadband=True))
        failed = [h for h, r in zip(handles, results) if isinstance(r, ua.StatusCode)]
        if failed and config.deadband_abs is not None:
            # A deadband only applies to numeric variables; the others are monitored without it.
            retried = await subscription.create_monitored_items(self._item_requests(failed, deadband=False))
            failed = [h for h, r in zip(failed, retried) if isinstance(r, ua.StatusCode)]
        if failed:
            names = ", ".join(self._targets[h].node_id for h in failed[:5])
            message = f"{len(failed)} node(s) cannot be monitored on {config.endpoint}: {names}"
            if self.report.reconnects == 0:
                raise CollectorError(message)
            log.warning(message)
        return subscription

    def _item_requests(self, handles: list[int], *, deadband: bool) -> list[ua.MonitoredItemCreateRequest]:
        assert self._targets is not None
        config = self.config
        requests = []
        for handle in handles:
            parameters = ua.MonitoringParameters(ClientHandle=handle, SamplingInterval=config.sampling_interval_ms,
                                                 QueueSize=config.queue_size, DiscardOldest=True)
            if deadband and config.deadband_abs is not None:
                parameters.Filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValue,
                                                        DeadbandType=ua.DeadbandType.Absolute,
                                                        DeadbandValue=config.deadband_abs)
            requests.append(ua.MonitoredItemCreateRequest(
                ItemToMonitor=ua.ReadValueId(NodeId=ua.NodeId.from_string(self._targets[handle].node_id),
                                             AttributeId=ua.AttributeIds.Value),
                MonitoringMode=ua.MonitoringMode.Reporting, RequestedParameters=parameters))
        return requests


async def run_collectors(configs: Sequence[CollectorConfig], lake: DeltaLake, stop: asyncio.Event | None = None,
                         duration_s: float | None = None) -> list[CollectorReport]:
    """Collect every endpoint until `stop` is set or `duration_s` passed, all flushed by one SignalWriter:
    at the shortest flush interval configured, compacting at the shortest compact_every_s (0 everywhere: never).
    The reports count the shared writer's compactions in each. When one collector fails the others stop, and
    the first failure is raised once they have."""
    compact_every = [c.compact_every_s for c in configs if c.compact_every_s > 0]
    writer = SignalWriter(lake, flush_interval_s=min(c.flush_interval_s for c in configs),
                          compact_every_s=min(compact_every, default=0.0))
    stop = stop or asyncio.Event()
    runs = [asyncio.ensure_future(Collector(c, lake, writer=writer).run(stop, duration_s)) for c in configs]
    await asyncio.wait(runs, return_when=asyncio.FIRST_EXCEPTION)
    stop.set()  # all done, or one failed: the others stop (and flush) too
    await asyncio.wait(runs)
    return [run.result() for run in runs]


def _warn_if_password_in_clear(config: CollectorConfig) -> None:
    """Once per run, not per reconnect: the config allowed a password over policy None, which sends it unencrypted."""
    if config.sends_password_in_clear:
        log.warning("user %s logs in to %s with a password over security policy None: the password crosses the "
                    "network in clear text (allowed by auth.allow_password_without_encryption)", config.username,
                    config.endpoint)


def _gap_start(newest_delivered: datetime | None, connected_at: datetime) -> datetime:
    """Where a lost connection's gap starts: its last value delivered, never before the connection began (what
    came before is covered by the previous gap or, at the first connection, was current when it began)."""
    if newest_delivered is None:
        return connected_at
    return max(newest_delivered, connected_at)


async def _first_of(*awaitables: Any) -> None:
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _quiet_exit(stack: contextlib.AsyncExitStack, timeout_s: float) -> None:
    """Leave the client context within a bound: after a lost connection closing the session cannot succeed."""
    try:
        await asyncio.wait_for(stack.aclose(), timeout=timeout_s)
    except Exception as exc:
        log.debug("closing the OPC UA session failed: %r", exc)


def _status_name(exc: BaseException) -> str | None:
    for candidate in (exc, exc.__cause__, exc.__context__):
        if isinstance(candidate, ua.UaStatusCodeError):
            return type(candidate).__name__
    return None


def _describe_start_failure(endpoint: str, exc: BaseException) -> str:
    name = _status_name(exc)
    if name in {"BadUserAccessDenied", "BadIdentityTokenInvalid", "BadIdentityTokenRejected"}:
        return f"login rejected by {endpoint}: {name}"
    if name in REJECTIONS:
        return f"security rejected by {endpoint}: {name}"
    if isinstance(exc, TimeoutError):
        return f"{endpoint} did not answer in time (timeout connecting)"
    if isinstance(exc, OSError):
        return f"{endpoint} is unreachable: {exc.strerror or exc}"
    return f"cannot connect to {endpoint}: {name or repr(exc)}"
