from pathlib import Path

import pytest
from sim_test_support import HEAVY_FAULTS, small_config

from simulator import PlantConfig, simulate


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory) -> tuple[PlantConfig, Path, object]:
    cfg = small_config()
    out = tmp_path_factory.mktemp("clean")
    return cfg, out, simulate(cfg, out)


@pytest.fixture(scope="session")
def faulty_run(tmp_path_factory) -> tuple[PlantConfig, Path, object]:
    cfg = small_config(fault_rates=HEAVY_FAULTS, seed=11)
    out = tmp_path_factory.mktemp("faulty")
    return cfg, out, simulate(cfg, out)
