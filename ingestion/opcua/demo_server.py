"""A small simulated OPC UA plant server (asyncua) for trying the collector, for the tests and the benchmark.

Address space: Objects/Plant/Line1/<machine>/<tag>, NodeIds `ns=2;s=<machine>.<tag>`, so a restarted server
has the same NodeIds. It only ever listens on the host it is given (127.0.0.1 by default).

    python -m ingestion.opcua.demo_server --port 4840 --machines 3 --rate 50 --duration-s 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole

from ingestion.opcua.security import DEMO_SERVER_APP_URI, CertificatePair

NAMESPACE = "urn:plantlake:demo-plant"
DEFAULT_TAGS: Mapping[str, Any] = {"temperature_c": 20.0, "speed_rpm": 0.0, "running": False, "state": "STOPPED"}


class PasswordUsers:
    """asyncua user manager: only the given username/password pairs may log in."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = dict(users)

    def get_user(self, iserver: Any, username: str | None = None, password: str | None = None,
                 certificate: Any = None) -> User | None:
        if username is not None and self.users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


def node_id(machine: str, tag: str) -> str:
    return f"ns=2;s={machine}.{tag}"


class DemoServer:
    def __init__(self, port: int, machines: tuple[str, ...] = ("M1", "M2"), tags: Mapping[str, Any] = DEFAULT_TAGS,
                 *, host: str = "127.0.0.1", security: CertificatePair | None = None,
                 users: Mapping[str, str] | None = None) -> None:
        self.endpoint = f"opc.tcp://{host}:{port}"
        self.machines, self.tags = machines, dict(tags)
        self._security, self._users = security, users
        self.server: Server | None = None
        self.published = 0

    async def start(self) -> DemoServer:
        server = Server(user_manager=PasswordUsers(self._users) if self._users is not None else None)
        await server.init()
        server.set_endpoint(self.endpoint + "/")
        server.set_server_name("plantlake demo plant")
        await server.set_application_uri(DEMO_SERVER_APP_URI)
        if self._security is not None:
            await server.load_certificate(str(self._security.certificate))
            await server.load_private_key(str(self._security.private_key))
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                                        ua.SecurityPolicyType.Basic256Sha256_Sign])
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if self._users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        ns = await server.register_namespace(NAMESPACE)
        plant = await server.nodes.objects.add_object(ua.NodeId("Plant", ns), ua.QualifiedName("Plant", ns))
        line = await plant.add_object(ua.NodeId("Line1", ns), ua.QualifiedName("Line1", ns))
        for machine in self.machines:
            obj = await line.add_object(ua.NodeId(machine, ns), ua.QualifiedName(machine, ns))
            for tag, initial in self.tags.items():
                variable = await obj.add_variable(ua.NodeId(f"{machine}.{tag}", ns), ua.QualifiedName(tag, ns), initial)
                await variable.set_writable()  # clients may write (the benchmark's latency probes do)
        await server.start()
        self.server = server
        return self

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.stop()

    async def __aenter__(self) -> DemoServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def write(self, machine: str, tag: str, value: Any, status: int = 0,
                    source_at: datetime | None = None) -> datetime:
        """Set a variable (value None with a Bad status = the sensor is unavailable); returns its source time."""
        assert self.server is not None, "server not started"
        at = source_at or datetime.now(UTC)
        variant_type = _variant_type(self.tags[tag])
        data = ua.DataValue(ua.Variant(value, variant_type) if value is not None else ua.Variant(),
                            StatusCode=ua.StatusCode(status), SourceTimestamp=at, ServerTimestamp=datetime.now(UTC))
        await self.server.write_attribute_value(ua.NodeId.from_string(node_id(machine, tag)), data)
        self.published += 1
        return at

    async def publish(self, rate_per_s: float, duration_s: float, tag: str = "temperature_c") -> int:
        """Write `rate_per_s` value changes per second, round-robin over the machines' `tag`, for `duration_s`."""
        tick_s = 0.01
        start = time.monotonic()
        due = 0.0
        index = 0
        while (elapsed := time.monotonic() - start) < duration_s:
            due = rate_per_s * elapsed
            while self.published < due:
                machine = self.machines[index % len(self.machines)]
                # +1: the first value must differ from the initial 20.0, or it is no data change and never notified
                await self.write(machine, tag, 20.0 + 5 * math.sin(index / 50) + (index + 1) * 1e-6)
                index += 1
            await asyncio.sleep(tick_s)
        return self.published


def _variant_type(initial: Any) -> ua.VariantType:
    if isinstance(initial, bool):
        return ua.VariantType.Boolean
    if isinstance(initial, str):
        return ua.VariantType.String
    if isinstance(initial, int):
        return ua.VariantType.Int64
    return ua.VariantType.Double


async def _serve(args: argparse.Namespace) -> dict[str, Any]:
    machines = tuple(f"M{i + 1}" for i in range(args.first_machine, args.first_machine + args.machines))
    async with DemoServer(args.port, machines) as server:
        print(json.dumps({"ready": server.endpoint}), flush=True)
        await asyncio.sleep(args.warmup_s)
        published = await server.publish(args.rate, args.duration_s) if args.rate else 0
        await asyncio.sleep(args.linger_s)
        return {"endpoint": server.endpoint, "published": published}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--machines", type=int, default=2)
    parser.add_argument("--first-machine", type=int, default=0, help="number machines from M<first+1>")
    parser.add_argument("--rate", type=float, default=10.0, help="value changes per second (all machines)")
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--warmup-s", type=float, default=0.0, help="wait before publishing (clients subscribe)")
    parser.add_argument("--linger-s", type=float, default=1.0, help="keep serving after publishing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(_serve(args))
    print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
