"""The HTTP API for MES and WMS events (FastAPI; `plantlake serve-api` runs it on uvicorn).

    POST /v1/events/{mes|wms}          one record (a JSON object, as a line of the NDJSON files)
    POST /v1/events/{mes|wms}/batch    a JSON array of records, or NDJSON (Content-Type application/x-ndjson)

Every POST needs `X-API-Key` and `Idempotency-Key`. Records land through the file landing's contracts, quarantine,
business-key dedup and ingest log (`ingestion.messages`); the answer gives each record's verdict: landed,
duplicate (its business key had landed) or quarantined with the reasons. The same Idempotency-Key with the same
body answers the first request's verdicts again (rebuilt from the lake) without landing anything; with another
body it is refused (409). Limits: MAX_BODY_BYTES per request (413), MAX_RECORDS per batch (413), a rate per API
key (429 with Retry-After). The OpenAPI document is at /openapi.json.

API keys: the secrets file (PLANTLAKE_API_SECRETS) holds one `client_id:<sha256 hex of the key>` per line and
must be readable by its owner only; keys are never stored or logged in clear.
"""

import hashlib
import hmac
import json
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
from fastapi import Depends, FastAPI, Header, HTTPException, Path as PathParam, Request
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from ingestion.landing import Lander
from ingestion.messages import (SPOOL_SUFFIX, BatchOutcome, Message, Verdict, encode_batch, land_messages,
                                replayed_verdicts)
from lakehouse.delta_io import DeltaLake
from lakehouse.errors import PlantlakeError

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_RECORDS = 5000
MAX_KEY_CHARS = 200


class SecretsFileError(PlantlakeError):
    """The API keys file is missing, readable by others, or not `client_id:sha256hex` lines."""


@dataclass(frozen=True)
class ApiSettings:
    lake_root: Path
    spool_root: Path
    secrets_file: Path
    rate_per_minute: int = 600


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def read_secrets(path: Path) -> dict[str, str]:
    """sha256 of each API key -> its client id; refuses a file group or others may read."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SecretsFileError(f"API keys file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsFileError(f"API keys file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                               f"chmod 600 {path}")
    keys = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        client, _, digest = line.strip().partition(":")
        if not client or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise SecretsFileError(f"API keys file {path} line {number}: expected client_id:<sha256 hex of the key>")
        keys[digest.lower()] = client
    if not keys:
        raise SecretsFileError(f"API keys file {path} holds no key")
    return keys


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity, self.rate = float(per_minute), per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """0 when the request may go ahead (a token is taken), else the seconds until one is free."""
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate


class RecordVerdict(BaseModel):
    index: int = Field(description="Position of the record in the request (0-based).")
    verdict: Literal["landed", "duplicate", "quarantined", "rejected"]
    reasons: list[str] = Field(default_factory=list, description="Why quarantined, duplicate or rejected.")


class IngestAnswer(BaseModel):
    idempotency_key: str
    replayed: bool = Field(description="True when this answers an earlier request with the same key and body.")
    ingest_run_id: str | None
    records: int
    landed: int
    duplicate: int
    quarantined: int
    verdicts: list[RecordVerdict]


KindParam = Annotated[Literal["mes", "wms"], PathParam(description="mes: MES events; wms: WMS transactions")]
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key of the secrets file.")


def create_app(settings: ApiSettings) -> FastAPI:
    keys = read_secrets(settings.secrets_file)
    limiter = RateLimiter(settings.rate_per_minute)
    lake = DeltaLake(settings.lake_root)
    write_lock = threading.Lock()  # one writer per process: batches land one after the other
    app = FastAPI(title="plantlake events API", version="1",
                  description="MES and WMS events into the plant's lake, with each record's verdict.")

    def client_of(api_key: Annotated[str | None, Depends(api_key_header)]) -> str:
        if not api_key:
            raise HTTPException(401, "missing X-API-Key header")
        digest = hash_key(api_key)
        client = next((c for d, c in keys.items() if hmac.compare_digest(d, digest)), None)
        if client is None:
            raise HTTPException(401, "unknown API key")
        wait = limiter.retry_after(client)
        if wait:
            raise HTTPException(429, f"rate limit of {settings.rate_per_minute} requests per minute reached",
                                headers={"Retry-After": str(max(1, round(wait)))})
        return client

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body of {int(declared):,} bytes, more than {MAX_BODY_BYTES:,}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise HTTPException(413, f"request body larger than {MAX_BODY_BYTES:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def answer(kind: str, client: str, key: str, messages: list[Message]) -> IngestAnswer:
        if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
            raise HTTPException(400, f"Idempotency-Key header must be 1 to {MAX_KEY_CHARS} printable characters")
        if not messages:
            raise HTTPException(400, "the request holds no record")
        if len(messages) > MAX_RECORDS:
            raise HTTPException(413, f"{len(messages):,} records, more than {MAX_RECORDS:,} per request")
        name = "api-" + hashlib.sha256(client.encode() + b"\x00" + key.encode()).hexdigest()[:32]
        with write_lock:
            earlier = _earlier_delivery(lake, kind, name)
            sha = hashlib.sha256(encode_batch(messages)).hexdigest()
            if earlier is not None and earlier["file_sha256"] != sha:
                raise HTTPException(409, "this Idempotency-Key was used before with a different body")
            if earlier is not None:
                verdicts = replayed_verdicts(lake, kind, sha, len(messages))  # type: ignore[arg-type]
                return _answer(key, True, earlier["ingest_run_id"], verdicts)
            lander = Lander(lake, settings.spool_root, run_id=f"api-{client}-{time.time_ns()}")
            batch: BatchOutcome = land_messages(lander, kind, messages, batch_name=name)  # type: ignore[arg-type]
            return _answer(key, False, lander.run_id, batch.verdicts)

    def topic(kind: str) -> str:
        return f"api/{kind}/"  # an API path names no record type: the record's own is checked by its contract


    @app.post("/v1/events/{kind}", response_model=IngestAnswer, summary="Post one event")
    async def post_one(request: Request, kind: KindParam,
                       client: Annotated[str, Depends(client_of)],
                       idempotency_key: Annotated[str, Header(alias="Idempotency-Key")]) -> IngestAnswer:
        body = await body_of(request)
        return await _in_thread(answer, kind, client, idempotency_key, [Message(topic(kind), body)])

    @app.post("/v1/events/{kind}/batch", response_model=IngestAnswer, summary="Post a batch of events",
              description="A JSON array of records, or NDJSON (Content-Type application/x-ndjson, one record "
                          "per line; a bad line is quarantined like a bad line of a landing file).")
    async def post_batch(request: Request, kind: KindParam,
                         client: Annotated[str, Depends(client_of)],
                         idempotency_key: Annotated[str, Header(alias="Idempotency-Key")]) -> IngestAnswer:
        body = await body_of(request)
        if "ndjson" in request.headers.get("content-type", ""):
            payloads = [line for line in body.split(b"\n") if line.strip()]
        else:
            try:
                records = json.loads(body)
            except (ValueError, RecursionError) as exc:
                raise HTTPException(400, f"body is not valid JSON: {str(exc)[:200]}") from None
            if not isinstance(records, list):
                raise HTTPException(400, "a batch is a JSON array of records (or NDJSON)")
            payloads = [json.dumps(r).encode() for r in records]
        return await _in_thread(answer, kind, client, idempotency_key, [Message(topic(kind), p) for p in payloads])

    @app.get("/v1/health", summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _in_thread(fn, *args):  # noqa: ANN001, ANN202 - landing blocks: keep the event loop free
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _answer(key: str, replayed: bool, run_id: str | None, verdicts: list[Verdict]) -> IngestAnswer:
    rows = [RecordVerdict(index=i, verdict=v.status, reasons=list(v.reasons)) for i, v in enumerate(verdicts)]
    return IngestAnswer(idempotency_key=key, replayed=replayed, ingest_run_id=run_id, records=len(rows),
                        landed=sum(v.status == "landed" for v in verdicts),
                        duplicate=sum(v.status == "duplicate" for v in verdicts),
                        quarantined=sum(v.status == "quarantined" for v in verdicts), verdicts=rows)


def _earlier_delivery(lake: DeltaLake, kind: str, name: str) -> dict | None:
    if not lake.exists("ingest_log"):
        return None
    source_file = f"messages/{kind}/{name}{SPOOL_SUFFIX}"
    rows = (lake.scan("ingest_log").filter((pl.col("source_file") == source_file) & (pl.col("status") == "landed"))
            .select("file_sha256", "ingest_run_id").collect())
    return rows.row(0, named=True) if rows.height else None
