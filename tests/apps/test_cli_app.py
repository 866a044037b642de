"""`plantlake app` starts the plant app with `streamlit run` on the lake given, and stops on Ctrl-C."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from apps import serve
from plantlake.cli.app import app_script, streamlit_command


def test_the_command_runs_the_installed_app_headless_on_loopback() -> None:
    assert app_script() == Path(serve.APP)
    command = streamlit_command(app_script(), host="127.0.0.1", port=8501)
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8501"
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"


def test_plantlake_app_serves_the_lake_and_stops_on_ctrl_c(app_lake: Path) -> None:
    port = serve.free_port()
    plantlake = shutil.which("plantlake", path=str(Path(sys.executable).parent))
    assert plantlake
    server = subprocess.Popen([plantlake, "--lake", str(app_lake), "app", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              # Ctrl-C reaches it even when this test runs in the background (SIGINT ignored)
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert serve.wait_ready(f"http://127.0.0.1:{port}", server), server.stdout.read() if server.stdout else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"<div id=\"root\">" in page.read()
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=90)
    assert f"plant app on http://127.0.0.1:{port} reading {app_lake}" in output
    assert "Traceback" not in output
    assert server.returncode == 130  # interrupted, as `plantlake --help` documents
