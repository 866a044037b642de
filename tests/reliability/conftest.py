"""The reliability family extends the hostile corpus of tests/ingestion: its helpers are importable here."""

from __future__ import annotations

import sys
from pathlib import Path

INGESTION_TESTS = str(Path(__file__).resolve().parent.parent / "ingestion")
if INGESTION_TESTS not in sys.path:
    sys.path.append(INGESTION_TESTS)


import pytest  # noqa: E402

from lakehouse.delta_io import DeltaLake  # noqa: E402
from landing_files import write_master_data  # noqa: E402


@pytest.fixture
def master_lake(tmp_path: Path) -> DeltaLake:
    return write_master_data(DeltaLake(tmp_path / "lake"))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root
