"""Running the materialize-everything job in-process, as `plantlake run` and `plantlake demo` do."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lakehouse.delta_io import DeltaLake
from pipelines.definitions import ALL_CHECKS, build_definitions
from pipelines.publication import publish_run


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    materialized: list[str]
    failed_checks: list[str]
    failure: str | None = None
    withheld: list[str] | None = None  # audited tables whose new version is not served (checks failed)


def run_everything(*, lake_root: Path, source_dir: Path, echo: Callable[[str], None] = print) -> RunOutcome:
    """Execute `materialize_everything`; runs are recorded in DAGSTER_HOME when set (so `dagster dev` shows
    them), in a throwaway instance otherwise."""
    defs = build_definitions(lake_root=str(lake_root), source_dir=str(source_dir))
    job = defs.resolve_job_def("materialize_everything")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
    materialized = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    failed_checks = sorted(f"{c.asset_key.to_user_string()}:{c.check_name}"
                           for c in result.get_asset_check_evaluations() if not c.passed)
    publications = publish_run(instance, result.run_id, DeltaLake(lake_root), ALL_CHECKS)
    withheld = [f"{r['table_name']} v{r['table_version']}" for r in publications if not r["is_published"]]
    failure = None
    if not result.success:
        failure = "; ".join(str(e.event_specific_data.error.message).strip()  # type: ignore[union-attr]
                            for e in result.all_events if e.is_step_failure)
    if result.success and not failed_checks:
        echo(f"run {result.run_id}: {len(materialized)} assets materialized, all checks passed, "
             f"{len(publications)} table versions published")
    else:
        echo(f"run {result.run_id} FAILED: {len(materialized)} assets materialized"
             + (f"; failed checks: {', '.join(failed_checks)}" if failed_checks else "")
             + (f"; not served (previous version kept): {', '.join(withheld)}" if withheld else ""))
    return RunOutcome(result.success, result.run_id, materialized, failed_checks, failure, withheld)
