"""One small simulated plant per test module, run into a lake through the public API (`Lake.run`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantlake import Lake
from simulator import FaultRates, PlantConfig, simulate

# Default fault rates: duplicates, late and bad rows make the lake's data less tidy than the plan, which is what
# the API, the CLI and hand-written SQL must still agree on.
PLANT = PlantConfig(days=10, lines=2, machines_per_line=3, seed=7, fault_rates=FaultRates.default())


@pytest.fixture(scope="module")
def plant_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake root of a freshly simulated and materialized plant (built once per module)."""
    plant, root = tmp_path_factory.mktemp("plant"), tmp_path_factory.mktemp("lake")
    simulate(PLANT, plant)
    outcome = Lake(root).run(plant, echo=lambda _: None)
    assert outcome.success and outcome.failed_checks == [], outcome.failure
    return root

