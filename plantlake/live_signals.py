"""Live machine signals for the demo: the simulator's OPC UA server on loopback and the collector reading it
into `machine_signals`, for a fixed number of seconds."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

from ingestion.opcua import Collector, CollectorConfig, CollectorReport, NodeSpec
from lakehouse.delta_io import DeltaLake
from simulator import PlantConfig
from simulator.master_data import build_master_data
from simulator.opcua_server import running_server
from simulator.signals import TAGS

SIMULATOR_NAMESPACE_INDEX = 2  # the server registers urn:plantlake:simulator first, so it gets index 2


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def simulator_nodes(config: PlantConfig) -> tuple[NodeSpec, ...]:
    """Every tag of every machine, addressed by the server's string NodeIds."""
    machines = [row["machine_id"] for row in build_master_data(config).tables["machines"]]
    return tuple(NodeSpec(machine_id=m, tag=t, node_id=f"ns={SIMULATOR_NAMESPACE_INDEX};s={m}.{t}")
                 for m in machines for t in TAGS)


async def _collect(config: PlantConfig, lake: DeltaLake, seconds: float) -> CollectorReport:
    port = free_loopback_port()
    async with running_server(config, host="127.0.0.1", port=port, update_interval_s=1.0) as endpoint:
        collector_config = CollectorConfig(endpoint=endpoint, collector_id="demo", nodes=simulator_nodes(config),
                                           sampling_interval_ms=500, flush_interval_s=2.0)
        return await Collector(collector_config, lake).run(duration_s=seconds)


def collect_live_signals(config: PlantConfig, lake_root: Path, seconds: float = 30.0) -> CollectorReport:
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # asyncua warns about negotiated session timeouts
    return asyncio.run(_collect(config, DeltaLake(lake_root), seconds))
