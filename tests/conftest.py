"""Shared fixtures: a lake under tmp_path and one local[2] Spark session for the whole run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lakehouse.delta_io import DeltaLake
from lakehouse.settings import Settings
from tests.services import missing


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests record Dagster runs in a throwaway instance, never in the project's .dagster_home."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("")
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = previous


def require_service(variable: str, what: str) -> str:
    """The address of a server `.ci/services` started (PostgreSQL, Mosquitto). Locally a missing server skips the
    test with the command that starts it; in CI (CI=true) a missing server fails the test: CI must not skip it."""
    value = os.environ.get(variable)
    if value:
        return value
    message = f"{what} is not running: start it with `. .ci/services` (or `make services`), which sets {variable}"
    missing(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """postgresql://user:password@127.0.0.1:port (no database); databases plantlake_dagster and plantlake_mlflow exist."""
    return require_service("PLANTLAKE_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """mqtt://127.0.0.1:port of an anonymous loopback Mosquitto."""
    return require_service("PLANTLAKE_TEST_MQTT_URL", "Mosquitto")


@pytest.fixture
def lake(tmp_path: Path) -> DeltaLake:
    return DeltaLake(tmp_path / "lake")


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from lakehouse.spark import spark_session

    # one JVM for the whole run, with delta-spark (a session cannot gain Delta later): tests/spark_delta/ uses it
    session = spark_session(Settings(lake_root=Path("unused"), spark_master="local[2]"), with_delta=True)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def clean_plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small clean simulated plant (no injected faults), shared by the tests that only read it."""
    from simulator import FaultRates, PlantConfig, simulate

    out = tmp_path_factory.mktemp("clean_plant")
    simulate(PlantConfig(days=3, lines=1, machines_per_line=2, seed=3, fault_rates=FaultRates.none()), out)
    return out


@pytest.fixture(scope="session")
def cli_json() -> Callable[..., Any]:
    """`plantlake --lake ROOT ARGS --format json`, parsed: `cli_json(root, "kpi", "--kpi", "oee")`."""
    from plantlake.cli import main

    def run(root: Path, *args: str) -> Any:
        result = CliRunner().invoke(main, ["--lake", str(root), *args, "--format", "json"])
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    return run
