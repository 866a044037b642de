"""One small simulated plant for every app test (built once per session), a lake that is empty, and the CLI's
answers to compare the app with."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from plantlake import Lake
from simulator import FaultRates, PlantConfig, simulate

APP = Path(__file__).resolve().parents[2] / "apps" / "plant_app.py"
PLANT = PlantConfig(days=10, lines=2, machines_per_line=3, seed=7, fault_rates=FaultRates.default())


@pytest.fixture(scope="session")
def app_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake root of a simulated, materialized plant (10 days from Monday 2026-01-05, 2 lines x 3 machines).
    PLANTLAKE_TEST_APP_LAKE names an already built lake of this plant, to iterate on the app tests faster."""
    prebuilt = os.environ.get("PLANTLAKE_TEST_APP_LAKE")
    if prebuilt:
        return Path(prebuilt)
    plant, root = tmp_path_factory.mktemp("app_plant"), tmp_path_factory.mktemp("app_lake")
    simulate(PLANT, plant)
    outcome = Lake(root).run(plant, echo=lambda _: None)
    assert outcome.success and outcome.failed_checks == [], outcome.failure
    return root



@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point the app at a lake (and, optionally, a users file and cookie key) for one test."""
    def point(root: Path, users: Path | None = None, cookie_key: str | None = None) -> None:
        monkeypatch.setenv("PLANTLAKE_LAKE", str(root))
        for name, value in (("PLANTLAKE_APP_USERS", users), ("PLANTLAKE_APP_COOKIE_KEY", cookie_key)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()

    return point
