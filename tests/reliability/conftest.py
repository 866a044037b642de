"""The reliability family extends the hostile corpus of tests/ingestion: its helpers are importable here."""

from __future__ import annotations

import sys
from pathlib import Path

INGESTION_TESTS = str(Path(__file__).resolve().parent.parent / "ingestion")
if INGESTION_TESTS not in sys.path:
    sys.path.append(INGESTION_TESTS)


from landing_files import landing, master_lake  # noqa: E402, F401  (fixtures shared with tests/ingestion)
