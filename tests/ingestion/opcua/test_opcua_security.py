"""Security and login: Basic256Sha256 with self-signed certificates works; a bad login fails at once (not retried),
a dead endpoint after its bounded attempts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl
import pytest
from conftest import free_port, make_config

from ingestion.opcua import Collector, CollectorError, generate_pki
from ingestion.opcua.demo_server import DemoServer
from lakehouse.delta_io import DeltaLake


async def _collect_encrypted(lake: DeltaLake, port: int, pki: Path, mode: str) -> list[float]:
    server_pair, client_pair = generate_pki(pki)
    async with DemoServer(port, security=server_pair) as server:
        config = make_config(server.endpoint, security={
            "policy": "Basic256Sha256", "mode": mode, "client_certificate": str(client_pair.certificate),
            "private_key": str(client_pair.private_key), "server_certificate": str(server_pair.certificate)})
        run = asyncio.create_task(Collector(config, lake).run(duration_s=2.5))
        await asyncio.sleep(1.0)
        written = [await server.write("M1", "temperature_c", v) for v in (31.0, 32.0)]
        await run
    rows = lake.scan("machine_signals").filter(pl.col("source_at").is_in(written)).sort("source_at").collect()
    return rows["value"].to_list()


@pytest.mark.parametrize("mode", ["SignAndEncrypt", "Sign"])
def test_basic256sha256_with_self_signed_certificates_lands_values(lake: DeltaLake, port: int, tmp_path: Path,
                                                                   mode: str) -> None:
    assert asyncio.run(_collect_encrypted(lake, port, tmp_path / "pki", mode)) == [31.0, 32.0]


def count_sessions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the collector tried to open a session (each connection attempt opens one)."""
    attempts = [0]
    real = Collector._session

    async def counted(self: Collector, stop: asyncio.Event) -> None:
        attempts[0] += 1
        await real(self, stop)

    monkeypatch.setattr(Collector, "_session", counted)
    return attempts


async def _login(lake: DeltaLake, port: int, password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPCUA_TEST_PASSWORD", password)
    async with DemoServer(port, users={"collector": "right-password"}) as server:  # policy None: consent needed
        config = make_config(server.endpoint, auth={"username": "collector", "password_env": "OPCUA_TEST_PASSWORD",
                                                    "allow_password_without_encryption": True}, start_attempts=3)
        report = await Collector(config, lake).run(duration_s=1.0)
        assert report.targets == 2


def test_wrong_password_is_a_clear_error_within_seconds(lake: DeltaLake, port: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = count_sessions(monkeypatch)
    with pytest.raises(CollectorError, match=r"login rejected by opc\.tcp://127\.0\.0\.1:\d+: BadUserAccessDenied"):
        asyncio.run(_login(lake, port, "wrong-password", monkeypatch))
    assert attempts == [1]  # a rejection is not retried (start_attempts is 3)
    assert not lake.exists("machine_signals")


def test_right_password_collects(lake: DeltaLake, port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(_login(lake, port, "right-password", monkeypatch))
    assert lake.scan("machine_signals").select(pl.len()).collect().item() > 0


def test_unreachable_endpoint_fails_after_bounded_attempts(lake: DeltaLake, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(f"opc.tcp://127.0.0.1:{free_port()}", start_attempts=3)
    attempts = count_sessions(monkeypatch)
    with pytest.raises(CollectorError, match="is unreachable"):
        asyncio.run(Collector(config, lake).run())
    assert attempts == [3]  # bounded: 3 refused connects, then the error
