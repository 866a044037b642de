"""The HTTP API on a real uvicorn server, through a real HTTP client: verdicts per record, idempotency keys,
API keys from an owner-only secrets file, size and rate limits, and the OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import requests

from lakehouse.delta_io import DeltaLake
from plantlake.api_server import MAX_BODY_BYTES, SecretsFileError, hash_key, read_secrets
from tests.ingestion.landing_files import mes_event
from tests.realtime.conftest import RunningApi, running_api


def post(api: RunningApi, path: str, body: bytes, key: str, **headers: str) -> requests.Response:
    return requests.post(api.url + path, data=body, headers={**api.headers, "Idempotency-Key": key, **headers},
                         timeout=60)


def test_a_batch_answers_each_records_verdict_and_lands_it_once(api: RunningApi) -> None:
    records = [mes_event("H1"), mes_event("H2"), mes_event("H1"), {**mes_event("H3"), "state": "exploded"},
               mes_event("H4", machine_id="L9-M9")]
    answer = post(api, "/v1/events/mes/batch", json.dumps(records).encode(), "batch-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [v["verdict"] for v in body["verdicts"]] == ["landed", "landed", "duplicate", "quarantined",
                                                          "quarantined"]
    assert body["verdicts"][3]["reasons"] == ["state is an allowed value"]
    assert body["verdicts"][4]["reasons"] == ["machine_id is a known machine code"]
    assert (body["records"], body["landed"], body["duplicate"], body["quarantined"]) == (5, 2, 1, 2)
    ids = api.lake.scan("mes_equipment_states").select("event_id").collect()["event_id"].to_list()
    assert sorted(ids) == ["H1", "H2"]
    log = api.lake.scan("ingest_log").collect().row(0, named=True)
    assert (log["source"], log["rows_read"], log["rows_landed"], log["rows_quarantined"], log["rows_duplicate"]) \
        == ("messages_mes", 5, 2, 2, 1)
    quarantined = api.lake.scan("quarantine_mes_events").collect()
    assert quarantined.height == 2 and "exploded" in quarantined.sort("source_line")["raw_payload"][0]

    # the same key and body: the same answer, rebuilt from the lake, nothing landed again
    again = post(api, "/v1/events/mes/batch", json.dumps(records).encode(), "batch-1")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["verdicts"] == body["verdicts"]
    assert api.lake.scan("ingest_log").collect().height == 1
    # the same key with another body is refused
    other = post(api, "/v1/events/mes/batch", json.dumps(records[:1]).encode(), "batch-1")
    assert other.status_code == 409 and "different body" in other.json()["detail"]
    # another key, records already landed: duplicates by their business key
    later = post(api, "/v1/events/mes", json.dumps(mes_event("H2")).encode(), "single-1")
    assert later.json()["verdicts"] == [{"index": 0, "verdict": "duplicate",
                                         "reasons": ["its business key had landed before"]}]
    assert api.lake.row_count("mes_equipment_states") == 2


def test_single_events_ndjson_batches_and_wms_transactions(api: RunningApi) -> None:
    bad = post(api, "/v1/events/mes", b'{"event_id": "X1", "event_ty', "bad-json")
    assert bad.status_code == 200
    assert bad.json()["verdicts"][0]["verdict"] == "quarantined"
    assert bad.json()["verdicts"][0]["reasons"][0].startswith("invalid JSON")
    lines = b"\n".join(json.dumps(mes_event(f"N{i}")).encode() for i in range(3)) + b"\n[1, 2]\n"
    ndjson = post(api, "/v1/events/mes/batch", lines, "nd-1", **{"Content-Type": "application/x-ndjson"})
    assert [v["verdict"] for v in ndjson.json()["verdicts"]] == ["landed"] * 3 + ["quarantined"]
    receipt = {"transaction_id": "W1", "transaction_type": "RECEIPT", "occurred_at": "2026-01-05T07:00:00+01:00",
               "material_code": "ALU", "lot_code": "LOT-1", "quantity": 10, "unit": "KG",
               "to_location_code": "D-01", "supplier_id": "SUP-01", "supplier_lot_code": "S-9"}
    wms = post(api, "/v1/events/wms", json.dumps(receipt).encode(), "wms-1")
    assert wms.json()["landed"] == 1
    assert api.lake.scan("wms_transactions").select("transaction_id", "quantity").collect().rows() == [("W1", 10.0)]


def test_requests_without_a_key_a_known_key_or_an_idempotency_key_are_refused(api: RunningApi) -> None:
    body = json.dumps(mes_event("K1")).encode()
    assert requests.post(api.url + "/v1/events/mes", data=body, headers={"Idempotency-Key": "k"},
                         timeout=30).status_code == 401
    wrong = requests.post(api.url + "/v1/events/mes", data=body,
                          headers={"X-API-Key": "guess", "Idempotency-Key": "k"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown API key"
    assert requests.post(api.url + "/v1/events/mes", data=body, headers=api.headers, timeout=30).status_code == 422
    assert post(api, "/v1/events/erp", body, "k").status_code == 422  # only mes and wms
    assert post(api, "/v1/events/mes/batch", b"{not json", "k").status_code == 400
    assert post(api, "/v1/events/mes/batch", b'{"a": 1}', "k").status_code == 400
    assert not api.lake.exists("ingest_log")


def test_size_limit_and_openapi(api: RunningApi) -> None:
    huge = post(api, "/v1/events/mes/batch", b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]", "huge")
    assert huge.status_code == 413
    document = requests.get(api.url + "/openapi.json", timeout=30).json()
    assert {"/v1/events/{kind}", "/v1/events/{kind}/batch"} <= set(document["paths"])
    assert "APIKeyHeader" in document["components"]["securitySchemes"]
    parameters = {p["name"] for p in document["paths"]["/v1/events/{kind}/batch"]["post"]["parameters"]}
    assert "Idempotency-Key" in parameters


def test_the_rate_limit_answers_429_with_retry_after(master_lake: DeltaLake, tmp_path: Path) -> None:
    with running_api(master_lake, tmp_path, rate_per_minute=2) as api:
        codes = [post(api, "/v1/events/mes", json.dumps(mes_event(f"R{i}")).encode(), f"r{i}").status_code
                 for i in range(3)]
        assert codes == [200, 200, 429]
        refused = post(api, "/v1/events/mes", b"{}", "r9")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert master_lake.row_count("mes_equipment_states") == 2


def test_the_secrets_file_must_be_owner_only_and_hold_hashed_keys(tmp_path: Path) -> None:
    secrets = tmp_path / "keys"
    secrets.write_text(f"mes-gateway:{hash_key('k1')}\n")
    secrets.chmod(0o644)
    with pytest.raises(SecretsFileError, match="readable by others"):
        read_secrets(secrets)
    secrets.chmod(0o600)
    assert read_secrets(secrets) == {hash_key("k1"): "mes-gateway"}
    secrets.write_text("mes-gateway:k1-in-clear\n")
    with pytest.raises(SecretsFileError, match="line 1"):
        read_secrets(secrets)
