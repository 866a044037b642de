"""The production Dagster instance (deploy/production/dagster.yaml) on a real PostgreSQL: runs and schedule state
live in the database, so they survive a restart of the Dagster daemon; the run queue keeps one writer per lake."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

from pipelines.production import LAKE_TAG, PG_URL_ENV, lake_writer_tags

ROOT = Path(__file__).resolve().parents[2]
DEFS = Path(__file__).with_name("tiny_defs.py")
BIN = Path(sys.executable).parent


def wait_for_heartbeat(home: Path, after: float, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        instance = dg.DagsterInstance.from_config(str(home))
        beats = instance.get_daemon_heartbeats()
        if "SCHEDULER" in beats and beats["SCHEDULER"].timestamp > after:
            return
        time.sleep(2)
    raise AssertionError(f"no scheduler heartbeat from the daemon within {timeout} s")


def start_daemon(home: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-f", str(DEFS)], cwd=home, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_daemon(daemon: subprocess.Popen) -> None:
    os.killpg(daemon.pid, signal.SIGTERM)
    try:
        daemon.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()


def test_runs_and_schedules_survive_a_daemon_restart_on_postgres(postgres_url: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "production" / "dagster.yaml", home / "dagster.yaml")
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the project installs psycopg2
    url = postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    monkeypatch.setenv(PG_URL_ENV, f"{url}/plantlake_dagster")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    instance = dg.DagsterInstance.from_config(str(home))
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    coordinator = instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    limits = coordinator.get_run_queue_config().tag_concurrency_limits
    assert [(lim["key"], lim["limit"]) for lim in limits] == [(LAKE_TAG, 1)]
    assert limits[0]["value"] == {"applyLimitPerUniqueValue": True}
    assert lake_writer_tags("/x/lake") == {LAKE_TAG: "/x/lake"}

    from tests.production.tiny_defs import tiny_job

    result = tiny_job.execute_in_process(instance=instance)
    assert result.success
    run_id = result.run_id
    started = subprocess.run([str(BIN / "dagster"), "schedule", "start", "postgres_test_schedule", "-f", str(DEFS)],
                             cwd=home, env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr[-2000:]
    daemon = start_daemon(home, env)
    try:
        wait_for_heartbeat(home, after=time.time() - 5)
        stop_daemon(daemon)
        restarted_at = time.time()
        daemon = start_daemon(home, env)
        wait_for_heartbeat(home, after=restarted_at)
        after = dg.DagsterInstance.from_config(str(home))
        run = after.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[LAKE_TAG] == "/lakes/postgres-test"
        assert any(e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS
                   for e in after.all_logs(run_id))
        states = {s.instigator_name: s for s in after.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)}
        assert states["postgres_test_schedule"].status == InstigatorStatus.RUNNING
        assert datetime.now(timezone.utc).timestamp() >= restarted_at
    finally:
        stop_daemon(daemon)
        cleanup = dg.DagsterInstance.from_config(str(home))
        for state in cleanup.all_instigator_state(instigator_type=InstigatorType.SCHEDULE):
            if state.instigator_name == "postgres_test_schedule":
                cleanup.delete_instigator_state(state.instigator_origin_id, state.selector_id)
        cleanup.delete_run(run_id)
