"""Start the plant app with `streamlit run` as a child process and wait until it answers (for the browser tests
and the browser benchmark)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

APP = Path(__file__).parent / "plant_app.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(lake_root: Path | str, *, port: int, output: IO[str] | None = None,
          login: bool = False, script: Path = APP, environment: dict[str, str] | None = None
          ) -> subprocess.Popen[str]:
    """`streamlit run apps/plant_app.py` (or another `script`) headless on 127.0.0.1:port against `lake_root`
    (login off unless `login`; `environment`: more variables for the server, e.g. the login's)."""
    env = {**os.environ, **(environment or {}), "PLANTLAKE_LAKE": str(lake_root)}
    if not login:
        env.pop("PLANTLAKE_APP_USERS", None)
        env.pop("PLANTLAKE_APP_COOKIE_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.fileWatcherType", "none"],
        env=env, stdout=output or subprocess.DEVNULL, stderr=subprocess.STDOUT, text=True)


def wait_ready(url: str, server: subprocess.Popen[str], *, timeout_s: float = 90) -> bool:
    """True once `url`/_stcore/health answers ok; False if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
