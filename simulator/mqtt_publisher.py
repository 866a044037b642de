"""The simulated plant's MES events and WMS transactions published live to MQTT, time-scaled (as the OPC UA
server plays its signals): `plantlake simulate mqtt-publish`.

The records are the ones the simulator writes to its landing files (the same JSON objects as the NDJSON lines;
a WMS CSV row as an object of its non-empty fields), published in event-time order, QoS 1, on
`plant/<site>/mes/<event_type>` and `plant/<site>/wms/<transaction_type>`. With `--continue-days N` the plant
first runs N more days (`continue_simulation`), and those days are what goes out: new events, so stock moves.
Simulated time advances `time_scale` seconds per wall-clock second; the `occurred_at` of each record stays its
simulated time.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click
import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class LiveRecord:
    occurred_at: datetime
    topic: str
    payload: bytes


@dataclass
class PublishReport:
    published: int = 0
    mes: int = 0
    wms: int = 0
    seconds: float = 0.0


def simulated_dates(out_dir: Path) -> set[str]:
    return {p.name[:10] for p in (out_dir / "mes" / "events").glob("*.ndjson")}


def recorded_records(out_dir: Path, dates: Iterable[str], site: str) -> list[LiveRecord]:
    """The MES and WMS records of the simulated `dates`, in event-time order (ties: MES first, file order)."""
    records: list[tuple[datetime, int, int, LiveRecord]] = []
    for day in sorted(dates):
        for path in sorted((out_dir / "mes" / "events").glob(f"{day}*.ndjson")):
            for line in path.read_bytes().splitlines():
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    stamp = datetime.fromisoformat(record["occurred_at"])
                    kind = record["event_type"]
                except (ValueError, KeyError, TypeError):  # an injected malformed record: sent as it is
                    stamp, kind = _last_stamp(records), "unknown"
                live = LiveRecord(stamp, f"plant/{site}/mes/{kind}", line)
                records.append((stamp, 0, len(records), live))
        for path in sorted((out_dir / "wms").glob(f"*/{day}*.csv")):
            with path.open(newline="", encoding="utf-8") as stream:
                for row in csv.DictReader(stream):
                    fields = {k: v for k, v in row.items() if k and v not in (None, "")}
                    try:
                        stamp = datetime.fromisoformat(fields["occurred_at"])
                    except (ValueError, KeyError):
                        stamp = _last_stamp(records)
                    topic = f"plant/{site}/wms/{fields.get('transaction_type', 'UNKNOWN')}"
                    live = LiveRecord(stamp, topic, json.dumps(fields).encode())
                    records.append((stamp, 1, len(records), live))
    return [r for *_, r in sorted(records, key=lambda item: (item[0], item[1], item[2]))]


def _last_stamp(records: list) -> datetime:
    return records[-1][0] if records else datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def publish_live(records: list[LiveRecord], url: str, *, time_scale: float = 600.0,
                 client_id: str = "plantlake-simulator", max_wait_s: float = 2.0,
                 on_published: Callable[[LiveRecord], None] | None = None) -> PublishReport:
    """Publish in event-time order, sleeping the simulated gaps divided by `time_scale` (a gap never holds the
    feed longer than `max_wait_s`); waits for every PUBACK. Login from PLANTLAKE_MQTT_USERNAME/_PASSWORD and
    TLS from PLANTLAKE_MQTT_CA_FILE, as the listener's."""
    parts = urlsplit(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    if os.environ.get("PLANTLAKE_MQTT_USERNAME"):
        client.username_pw_set(os.environ["PLANTLAKE_MQTT_USERNAME"], os.environ.get("PLANTLAKE_MQTT_PASSWORD"))
    if parts.scheme == "mqtts" or os.environ.get("PLANTLAKE_MQTT_CA_FILE"):
        client.tls_set(ca_certs=os.environ.get("PLANTLAKE_MQTT_CA_FILE") or None)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    report, infos = PublishReport(), []
    started = time.monotonic()
    try:
        previous = records[0].occurred_at if records else None
        for record in records:
            gap = (record.occurred_at - previous).total_seconds() / time_scale if previous else 0.0
            if gap > 0:
                time.sleep(min(gap, max_wait_s))
            previous = record.occurred_at
            infos.append(client.publish(record.topic, record.payload, qos=1))
            report.published += 1
            report.mes += "/mes/" in record.topic
            report.wms += "/wms/" in record.topic
            if on_published:
                on_published(record)
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()
    report.seconds = time.monotonic() - started
    return report


@click.command(name="mqtt-publish")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="The simulated plant's folder (as written by `plantlake simulate --out`).")
@click.option("--broker", "broker_url", envvar="PLANTLAKE_MQTT_URL", default="mqtt://127.0.0.1:1883",
              show_default=True, help="mqtt://host:port or mqtts://host:port (env PLANTLAKE_MQTT_URL).")
@click.option("--site", default="site1", show_default=True, help="Site level of the topics.")
@click.option("--continue-days", type=click.IntRange(0, 366), default=1, show_default=True,
              help="Simulate this many more days first and publish them (0: publish --date from the folder).")
@click.option("--date", "dates", multiple=True, help="A simulated day (ISO date) to publish (with --continue-days 0).")
@click.option("--hours", type=click.FloatRange(0.0), default=None,
              help="Publish only the first this many simulated hours.")
@click.option("--time-scale", type=click.FloatRange(0.1), default=600.0, show_default=True,
              help="Simulated seconds per wall-clock second.")
def mqtt_publish_command(out_dir: Path, broker_url: str, site: str, continue_days: int, dates: tuple[str, ...],
                         hours: float | None, time_scale: float) -> None:
    """Publish the plant's MES events and WMS transactions live to MQTT (QoS 1, event-time order, time-scaled)."""
    chosen = set(dates)
    if continue_days:
        from .simulation import ContinuationError, continue_simulation

        before = simulated_dates(out_dir)
        try:
            continue_simulation(out_dir, continue_days)
        except ContinuationError as exc:
            raise click.ClickException(f"cannot continue: {exc}") from exc
        chosen |= simulated_dates(out_dir) - before
    if not chosen:
        raise click.UsageError("nothing to publish: give --continue-days or --date")
    records = recorded_records(out_dir, chosen, site)
    if hours is not None and records:
        cut = records[0].occurred_at.timestamp() + hours * 3600
        records = [r for r in records if r.occurred_at.timestamp() <= cut]
    click.echo(f"publishing {len(records):,} records of {', '.join(sorted(chosen))} to {broker_url} "
               f"at {time_scale:g}x")
    report = publish_live(records, broker_url, time_scale=time_scale)
    click.echo(f"published {report.published:,} records ({report.mes:,} MES, {report.wms:,} WMS) in "
               f"{report.seconds:.1f} s")
