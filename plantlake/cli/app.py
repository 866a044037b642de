"""`plantlake app`: start the plant app (apps/plant_app.py, Streamlit) against this lake."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import click


def app_script() -> Path:
    """apps/plant_app.py of the installed project (found without importing the app, which sits above us)."""
    spec = importlib.util.find_spec("apps")
    if spec is None or not spec.submodule_search_locations:
        raise click.ClickException("the apps package is not installed with plantlake (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0]) / "plant_app.py"


def streamlit_command(script: Path, *, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", host,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal"]


@click.command("app")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.pass_obj
def app_command(lake, host: str, port: int) -> None:  # noqa: ANN001
    """Serve the plant app (six pages over this lake) on http://HOST:PORT until Ctrl-C.

    Login is off unless PLANTLAKE_APP_USERS names a users file (then PLANTLAKE_APP_COOKIE_KEY is required);
    see apps/README.md. An empty or missing lake shows a page saying how to fill it."""
    script = app_script()
    click.echo(f"plant app on http://{host}:{port} reading {lake.root} (Ctrl-C stops it)", err=True)
    environment = {**os.environ, "PLANTLAKE_LAKE": str(Path(lake.root).resolve())}
    # Ctrl-C (and a supervisor's SIGTERM) stop the server too, whatever handler an import installed before
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server = subprocess.Popen(streamlit_command(script, host=host, port=port), env=environment)
    try:
        code = server.wait()
    except KeyboardInterrupt:  # stop streamlit too (it has the same signal on a terminal, not under a supervisor)
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        raise
    if code not in (0, -signal.SIGINT, 130):
        raise click.ClickException(f"streamlit exited with code {code}")
