"""`dagster dev` starts on the workspace and its GraphQL API lists every asset, and the KPI assets' checks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.definitions import defs

ROOT = Path(__file__).resolve().parents[2]
QUERY = json.dumps({"query": "{ assetNodes { assetKey { path } groupName "
                               "assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"}).encode()
KPI_CHECKS = {
    "gold/oee_by_machine_shift": {"ratios_within_bounds", "waterfall_adds_up"},
    "gold/kpi_daily": {"primary_key_unique_not_null", "kpi_ratios_within_bounds",
                       "kpi_daily_oee_matches_the_shift_table"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dagster_dev_serves_the_assets(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "dagster.yaml").write_text("")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1",
         "-p", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        nodes = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and nodes is None:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=QUERY,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    nodes = json.load(response)["data"]["assetNodes"]
            except (OSError, KeyError, TypeError):
                assert process.poll() is None, "dagster dev exited early"
                time.sleep(1)
        assert nodes is not None, "dagster dev did not answer within 120 s"
        served = sorted("/".join(n["assetKey"]["path"]) for n in nodes)
        assert served == sorted(k.to_user_string() for k in defs.resolve_all_asset_keys())
        checks = {"/".join(n["assetKey"]["path"]): {c["name"] for c in n["assetChecksOrError"]["checks"]}
                  for n in nodes if n["groupName"] == "kpi"}
        assert checks == KPI_CHECKS
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
