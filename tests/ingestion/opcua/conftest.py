"""Helpers for the OPC UA collector tests: free loopback ports and configs for a demo server."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from ingestion.opcua.config import CollectorConfig


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


def make_config(endpoint: str, nodes: list[tuple[str, str]] | None = None,
                states: dict[tuple[str, str], dict[str, float]] | None = None, **overrides: Any) -> CollectorConfig:
    """A fast-flushing config collecting `nodes` ((machine, tag) pairs on the demo server) by NodeId."""
    nodes = nodes or [("M1", "temperature_c"), ("M2", "temperature_c")]
    states = states or {}
    data: dict[str, Any] = {
        "endpoint": endpoint, "collector_id": "test", "sampling_interval_ms": 50, "flush_interval_s": 0.5,
        "connect_timeout_s": 3, "request_timeout_s": 2, "watchdog_interval_s": 0.5,
        "reconnect": {"initial_s": 0.2, "max_s": 1.0, "factor": 2.0},
        "nodes": [{"node_id": f"ns=2;s={m}.{t}", "machine_id": m, "tag": t,
                   **({"states": states[(m, t)]} if (m, t) in states else {})} for m, t in nodes],
    }
    data.update(overrides)
    return CollectorConfig.from_dict(data)


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in front of a server; `cut()` severs every connection like a network outage
    while the server itself keeps running (and keeps its variables' values and timestamps)."""

    def __init__(self, listen_port: int, target_port: int) -> None:
        self.listen_port, self.target_port = listen_port, target_port
        self._listener: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.listen_port}"

    async def start(self) -> CuttableProxy:
        self._listener = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        return self

    async def cut(self) -> None:
        """Stop listening and close every open connection (the proxy refuses connections until `start()`)."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
