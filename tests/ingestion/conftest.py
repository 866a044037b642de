"""Fixtures: a lake with a little master data, and an empty landing folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.delta_io import DeltaLake
from landing_files import write_master_data


@pytest.fixture
def master_lake(tmp_path: Path) -> DeltaLake:
    return write_master_data(DeltaLake(tmp_path / "lake"))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root

