import asyncio
import socket

import pytest
from asyncua import Client, ua
from sim_test_support import small_config

from simulator.opcua_server import NAMESPACE_URI, running_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def read_counters(client: Client, machine_ids: list[str]) -> int:
    total = 0
    for machine_id in machine_ids:
        total += await client.get_node(f"ns=2;s={machine_id}.good_count").read_value()
    return total


def test_client_reads_live_values_and_counters_increase():
    cfg = small_config(lines=1, machines_per_line=2)
    machines = ["WC-01-01", "WC-01-02"]

    async def scenario():
        async with running_server(cfg, port=free_port(), update_interval_s=0.1, time_scale=900.0) as url:
            async with Client(url=url, timeout=10) as client:
                assert await client.get_namespace_index(NAMESPACE_URI) == 2
                node = await client.nodes.objects.get_child(["2:Plant", "2:LINE-01", "2:Machining_01_01",
                                                             "2:temperature_c"])
                assert node.nodeid == ua.NodeId("WC-01-01.temperature_c", 2)
                data_value = await node.read_data_value()
                assert data_value.SourceTimestamp is not None
                assert 15.0 < data_value.Value.Value < 80.0
                state = await client.get_node("ns=2;s=WC-01-01.state").read_value()
                assert state in (0, 1, 2, 3)
                first = await read_counters(client, machines)
                await asyncio.sleep(1.5)
                second = await read_counters(client, machines)
                assert second > first

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def test_username_password_is_enforced():
    cfg = small_config(lines=1, machines_per_line=1)

    async def scenario():
        port = free_port()
        async with running_server(cfg, port=port, update_interval_s=0.2, users={"operator": "s3cret"}) as url:
            client = Client(url=url, timeout=10)
            client.set_user("operator")
            client.set_password("s3cret")
            async with client:
                value = await client.get_node("ns=2;s=WC-01-01.vibration_mm_s").read_value()
                assert value >= 0.0
            intruder = Client(url=url, timeout=10)
            intruder.set_user("operator")
            intruder.set_password("wrong")
            with pytest.raises(Exception):
                async with intruder:
                    pass

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))
