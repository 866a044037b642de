"""The file landing's hostile corpus sent as messages, over MQTT and over the HTTP API: every case gets the
outcome its file gets (rows landed, quarantined with the reason, duplicates), nothing crashes, nothing is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import polars as pl
import requests

from data_contracts.mes import MES_CONTRACTS
from ingestion.mqtt.listener import MqttListener
from ingestion.mqtt.settings import broker_settings, topics_for
from lakehouse.delta_io import DeltaLake
from tests.realtime.conftest import RunningApi, publisher, wait_published
from tests.realtime.hostile_messages import MESSAGE_CASES, MessageCase

ID_COLUMN = {**{t: "event_id" for t in MES_CONTRACTS}, "wms_transactions": "transaction_id"}


def landed_ids(lake: DeltaLake) -> list[str]:
    ids: list[str] = []
    for table, column in ID_COLUMN.items():
        if lake.exists(table):
            ids += lake.scan(table).select(pl.col(column).unique()).collect().to_series().to_list()
    return ids


def reasons_of(lake: DeltaLake) -> list[str]:
    found = []
    for table in ("quarantine_mes_events", "quarantine_wms_transactions"):
        if lake.exists(table):
            found += lake.scan(table).select(pl.col("reasons").list.join("; ")).collect().to_series().to_list()
    return found


def test_the_hostile_corpus_over_mqtt(mqtt_url: str, master_lake: DeltaLake, tmp_path: Path) -> None:
    site = f"h{time.time_ns()}"
    settings, topics = broker_settings(mqtt_url), topics_for(site)

    def listener() -> MqttListener:
        return MqttListener(settings, topics, master_lake, tmp_path / "spool", client_id=f"listen-{site}",
                            batch_size=5000, batch_interval_s=1.5)

    first = listener()  # makes the persistent session: the broker keeps what is published while it is away
    first.start()
    first.stop()
    infos = []
    with publisher(mqtt_url, client_id=f"pub-{site}") as client:
        for case in MESSAGE_CASES:
            for payload, record_type in zip(case.payloads, case.record_types, strict=True):
                infos.append(client.publish(f"plant/{site}/{case.kind}/{record_type}", payload, qos=1))
        wait_published(infos)
    second = listener()  # everything queued arrives at once: one micro-batch per kind, as one file per case
    stop = threading.Event()
    second.start()
    thread = threading.Thread(target=second.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while second.stats.received < len(infos) and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join(60)
    second.stop()

    log = master_lake.scan("ingest_log").collect()
    assert log["rows_read"].sum() == len(infos) == sum(c.rows[0] for c in MESSAGE_CASES)
    assert log["rows_landed"].sum() == sum(c.rows[1] for c in MESSAGE_CASES)
    assert log["rows_quarantined"].sum() == sum(c.rows[2] for c in MESSAGE_CASES)
    assert log["rows_duplicate"].sum() == sum(c.rows[3] for c in MESSAGE_CASES)
    ids = landed_ids(master_lake)
    for case in MESSAGE_CASES:
        if case.id_prefix:
            assert sum(i.startswith(case.id_prefix) for i in ids) == case.rows[1], case.name
    reasons = reasons_of(master_lake)
    missing = [c.name for c in MESSAGE_CASES if c.reason and not any(c.reason in r for r in reasons)]
    assert missing == []


HTTP_CASES = [c for c in MESSAGE_CASES if not c.mqtt_only]


def test_the_hostile_corpus_over_http(api: RunningApi) -> None:
    """All cases of a kind in one NDJSON batch (a pretty-printed record alone, as one event): the answer's
    verdicts, record by record, add up to each case's outcome."""
    verdicts: dict[str, list[dict]] = {}
    for kind in ("mes", "wms"):
        cases = [c for c in HTTP_CASES if c.kind == kind and all(p.strip() and b"\n" not in p for p in c.payloads)]
        body = b"\n".join(p for c in cases for p in c.payloads)
        response = requests.post(f"{api.url}/v1/events/{kind}/batch", data=body, timeout=300,
                                 headers={**api.headers, "Idempotency-Key": f"hostile-{kind}",
                                          "Content-Type": "application/x-ndjson"})
        assert response.status_code == 200, response.text
        answers = iter(response.json()["verdicts"])
        for case in cases:
            verdicts[case.name] = [next(answers) for _ in case.payloads]
    for case in [c for c in HTTP_CASES if c.name not in verdicts]:
        response = requests.post(f"{api.url}/v1/events/{case.kind}", data=case.payloads[0], timeout=300,
                                 headers={**api.headers, "Idempotency-Key": case.name})
        verdicts[case.name] = response.json()["verdicts"]
    ids = landed_ids(api.lake)
    for case in HTTP_CASES:
        got = [v["verdict"] for v in verdicts[case.name]]
        assert (len(got), got.count("landed"), got.count("quarantined"), got.count("duplicate")) == case.rows, \
            case.name
        if case.reason:
            reasons = [r for v in verdicts[case.name] if v["verdict"] == "quarantined" for r in v["reasons"]]
            assert any(case.reason in r for r in reasons), (case.name, reasons)
        if case.id_prefix:
            assert sum(i.startswith(case.id_prefix) for i in ids) == case.rows[1], case.name
