"""The production Dagster instance: run, event-log and schedule storage on PostgreSQL (dagster-postgres) and a
run queue that keeps one writer per lake.

`make demo` and `plantlake run` keep the embedded SQLite instance under DAGSTER_HOME; a deployment puts
`deploy/production/dagster.yaml` (written by `instance_config`, checked in) into DAGSTER_HOME and sets
PLANTLAKE_DAGSTER_PG_URL. Every job that writes the lake carries the tag `plantlake/lake=<lake root>`; the
QueuedRunCoordinator's tag concurrency limit (one run per unique value) lets one of them run per lake at a time,
the others wait in the queue (Delta commits are safe concurrently, but two refreshes of the same tables would
only redo each other's work). Tested against a real PostgreSQL in tests/production/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

LAKE_TAG = "plantlake/lake"
PG_URL_ENV = "PLANTLAKE_DAGSTER_PG_URL"
MAX_CONCURRENT_RUNS = 4


def lake_writer_tags(lake_root: str | Path | None = None) -> dict[str, str]:
    """The tag the run queue limits on: the absolute lake root (PLANTLAKE_LAKE when not given)."""
    root = Path(lake_root if lake_root is not None else os.environ.get("PLANTLAKE_LAKE", "lake"))
    return {LAKE_TAG: str(root.absolute())}


def instance_config(postgres_url: str | None = None) -> dict[str, Any]:
    """dagster.yaml as a dict: PostgreSQL storage (the URL itself, or read from PLANTLAKE_DAGSTER_PG_URL when
    None) and the queued run coordinator with one run per lake."""
    url: Any = postgres_url if postgres_url is not None else {"env": PG_URL_ENV}
    return {
        "storage": {"postgres": {"postgres_url": url}},
        "run_coordinator": {
            "module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": MAX_CONCURRENT_RUNS,
                       "tag_concurrency_limits": [{"key": LAKE_TAG, "value": {"applyLimitPerUniqueValue": True},
                                                   "limit": 1}]}},
        "run_monitoring": {"enabled": True},
        "telemetry": {"enabled": False},
    }


def write_instance_yaml(dagster_home: Path, postgres_url: str | None = None) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    header = ("# Production Dagster instance: PostgreSQL storage, one writer per lake (pipelines/production.py).\n"
              f"# Set {PG_URL_ENV}=postgresql+psycopg2://USER:PASSWORD@HOST:5432/plantlake_dagster\n")
    path.write_text(header + yaml.safe_dump(instance_config(postgres_url), sort_keys=False), encoding="utf-8")
    return path
