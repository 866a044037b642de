"""Live OPC UA server (asyncua) publishing per-machine tags driven by the plant model.

Address space: Objects/Plant/<line_id>/<opcua_browse_name>/<tag> in namespace
`urn:plantlake:simulator` (index 2) with string NodeIds `ns=2;s=<machine_id>.<tag>`.
`state` is Int32, `good_count`/`bad_count` UInt32, the other tags Double. Values are
written every `update_interval_s`; simulated plant time advances `time_scale` seconds
per wall-clock second from one hour after the first shift of `cfg.start_date`, and
SourceTimestamp/ServerTimestamp carry the wall-clock UTC time of the update (a live feed).
Security: anonymous + no security by default; pass `users` for user/password login and
`certificate`/`private_key` to offer Basic256Sha256 Sign and SignAndEncrypt endpoints. The command line takes
the user's password from PLANTLAKE_SIM_OPCUA_PASSWORD only (`users_from_env`), never from its arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager

from .config import PlantConfig
from .live_plant import LivePlant
from .signals import TAGS

NAMESPACE_URI = "urn:plantlake:simulator"
PASSWORD_ENV = "PLANTLAKE_SIM_OPCUA_PASSWORD"
TAG_TYPES = {"state": ua.VariantType.Int32, "good_count": ua.VariantType.UInt32, "bad_count": ua.VariantType.UInt32}


class PasswordUserManager(UserManager):
    def __init__(self, users: dict[str, str]):
        self._users = dict(users)

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username is not None and self._users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


def users_from_env(username: str | None, env: Mapping[str, str] = os.environ) -> dict[str, str] | None:
    """The user allowed to log in, with its password from PLANTLAKE_SIM_OPCUA_PASSWORD (None: anonymous).

    Never from the command line: a process's arguments are readable by every local user (`ps`) and stay in shell
    history. Raises ValueError when only one of the two is given, without echoing the password."""
    password = env.get(PASSWORD_ENV) or None
    if username is None:
        if password is not None:
            raise ValueError(f"{PASSWORD_ENV} is set but no user name is given: name the user (--username) or "
                             f"unset {PASSWORD_ENV} to serve anonymously")
        return None
    if password is None:
        raise ValueError(f"a login for user {username} needs its password in the environment variable "
                         f"{PASSWORD_ENV} (never on the command line, where every local user can read it)")
    return {username: password}


def _variant(tag: str, value: float) -> ua.Variant:
    variant_type = TAG_TYPES.get(tag, ua.VariantType.Double)
    if variant_type == ua.VariantType.Double:
        return ua.Variant(value, variant_type)
    return ua.Variant(int(value), variant_type)


async def _build_server(cfg: PlantConfig, plant: LivePlant, host: str, port: int, users: dict[str, str] | None,
                        certificate: Path | None, private_key: Path | None) -> tuple[Server, dict[str, ua.NodeId]]:
    server = Server(user_manager=PasswordUserManager(users) if users else None)
    await server.init()
    server.set_endpoint(f"opc.tcp://{host}:{port}/plantlake/")
    server.set_server_name("plantlake simulator")
    if certificate is not None:
        await server.load_certificate(str(certificate))
        await server.load_private_key(str(private_key))
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_Sign,
                                    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
    else:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    server.set_identity_tokens([ua.UserNameIdentityToken] if users else [ua.AnonymousIdentityToken])
    index = await server.register_namespace(NAMESPACE_URI)
    plant_folder = await server.nodes.objects.add_folder(ua.NodeId("Plant", index), ua.QualifiedName("Plant", index))
    initial = plant.sample(plant.start_time)
    nodes: dict[str, ua.NodeId] = {}
    machines = {row["machine_id"]: row for row in plant.master.tables["machines"]}
    for line_machines in plant.master.machines_by_line:
        line_id = machines[line_machines[0]]["line_id"]
        line_folder = await plant_folder.add_folder(ua.NodeId(line_id, index), ua.QualifiedName(line_id, index))
        for machine_id in line_machines:
            browse_name = machines[machine_id]["opcua_browse_name"]
            machine_node = await line_folder.add_object(ua.NodeId(machine_id, index),
                                                        ua.QualifiedName(browse_name, index))
            for tag in TAGS:
                node_id = ua.NodeId(f"{machine_id}.{tag}", index)
                value, _ = initial[machine_id][tag]
                await machine_node.add_variable(node_id, ua.QualifiedName(tag, index), _variant(tag, value))
                nodes[f"{machine_id}.{tag}"] = node_id
    return server, nodes


async def _publish(server: Server, nodes: dict[str, ua.NodeId], values: dict) -> None:
    stamp = datetime.now(timezone.utc)
    for machine_id, tags in values.items():
        for tag, (value, status) in tags.items():
            data_value = ua.DataValue(_variant(tag, value), ua.StatusCode(status), SourceTimestamp=stamp,
                                      ServerTimestamp=stamp)
            await server.write_attribute_value(nodes[f"{machine_id}.{tag}"], data_value)


async def _update_loop(server, nodes, plant: LivePlant, update_interval_s: float, time_scale: float,
                       stop: asyncio.Event) -> None:
    wall_start = time.monotonic()
    while not stop.is_set():
        sim_time = plant.start_time + (time.monotonic() - wall_start) * time_scale
        await _publish(server, nodes, plant.sample(sim_time))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=update_interval_s)


@contextlib.asynccontextmanager
async def running_server(cfg: PlantConfig, host: str = "127.0.0.1", port: int = 4840, update_interval_s: float = 1.0,
                         time_scale: float = 1.0, users: dict[str, str] | None = None,
                         certificate: Path | None = None, private_key: Path | None = None):
    """Start the server, yield its endpoint URL, stop it on exit."""
    plant = LivePlant(cfg)
    server, nodes = await _build_server(cfg, plant, host, port, users, certificate, private_key)
    stop = asyncio.Event()
    async with server:
        updater = asyncio.create_task(_update_loop(server, nodes, plant, update_interval_s, time_scale, stop))
        try:
            yield f"opc.tcp://{host}:{port}/plantlake/"
        finally:
            stop.set()
            await updater


async def serve(cfg: PlantConfig, host: str = "127.0.0.1", port: int = 4840, update_interval_s: float = 1.0,
                stop: asyncio.Event | None = None, duration_s: float | None = None, time_scale: float = 1.0,
                users: dict[str, str] | None = None, certificate: Path | None = None,
                private_key: Path | None = None) -> None:
    """Run until `stop` is set or `duration_s` has elapsed (forever if neither is given)."""
    stop = stop or asyncio.Event()
    async with running_server(cfg, host, port, update_interval_s, time_scale, users, certificate, private_key):
        if duration_s is None:
            await stop.wait()
        else:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=duration_s)
