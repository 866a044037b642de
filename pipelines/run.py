"""Running the materialize-everything job in-process, as `plantlake run` and `plantlake demo` do."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lakehouse.delta_io import DeltaLake
from pipelines.definitions import ALL_CHECKS, build_definitions
from pipelines.publication import publish_run


LOCAL_INSTANCE_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "local" / "dagster.yaml"


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    materialized: list[str]
    failed_checks: list[str]
    failure: str | None = None
    withheld: list[str] | None = None  # audited tables whose new version is not served (checks failed)


def dagster_instance() -> dg.DagsterInstance:
    """The Dagster instance at DAGSTER_HOME, default `./.dagster_home` (the Makefile's default too), so runs
    started by `plantlake run` show in `make ui` / `dagster dev`."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home").absolute()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():  # the one-writer-per-lake run queue for runs the UI or the sensor start later
        if LOCAL_INSTANCE_CONFIG.exists():
            shutil.copy(LOCAL_INSTANCE_CONFIG, config)
        else:  # installed without the repository's deploy/ folder
            config.touch()
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def full_refresh_config(job: dg.JobDefinition) -> dict:
    """Run config asking every incremental asset of `job` (those configured by `RefreshConfig`: movements, the
    ledger, genealogy) for a full refresh: recomputed from bronze and overwritten, whatever earlier runs left."""
    ops = {}
    for node in job.graph.node_defs:
        schema = node.config_schema
        fields = getattr(schema.config_type, "fields", {}) if schema is not None and schema.config_type else {}
        if "full_refresh" in fields:
            ops[node.name] = {"config": {"full_refresh": True}}
    return {"ops": ops}


def run_everything(*, lake_root: Path, source_dir: Path, echo: Callable[[str], None] = print,
                   job_name: str = "materialize_everything", full_refresh: bool = False) -> RunOutcome:
    """Execute `materialize_everything` (or another job of the code location) in-process, recorded in the
    Dagster instance (`dagster_instance`), then publish what it wrote. With `full_refresh`, silver and gold are
    rebuilt from bronze (every other asset already recomputes what it writes on every run)."""
    defs = build_definitions(lake_root=str(lake_root), source_dir=str(source_dir))
    job = defs.resolve_job_def(job_name)
    instance = dagster_instance()
    level = os.environ.get("PLANTLAKE_LOG_LEVEL", "WARNING").upper()
    run_config: dict = {"loggers": {"console": {"config": {"log_level": level}}}}
    if full_refresh:
        run_config |= full_refresh_config(job)
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                    tags={"plantlake/full_refresh": "true"} if full_refresh else None)
    materialized = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    failed_checks = sorted(f"{c.asset_key.to_user_string()}:{c.check_name}"
                           for c in result.get_asset_check_evaluations()
                           if not c.passed and c.severity != dg.AssetCheckSeverity.WARN)
    warned = sorted(f"{c.asset_key.to_user_string()}:{c.check_name} ({c.description or 'warning'})"
                    for c in result.get_asset_check_evaluations()
                    if not c.passed and c.severity == dg.AssetCheckSeverity.WARN)  # non-blocking, e.g. drift
    for warning in warned:
        echo(f"warning: {warning}")
    publications = publish_run(instance, result.run_id, DeltaLake(lake_root), ALL_CHECKS)
    withheld = [f"{r['table_name']} v{r['table_version']}" for r in publications if not r["is_published"]]
    failure = None
    if not result.success:
        failure = "; ".join(str(e.event_specific_data.error.message).strip()  # type: ignore[union-attr]
                            for e in result.all_events if e.is_step_failure)
    if result.success and not failed_checks:
        passed = f"all blocking checks passed, {len(warned)} warned" if warned else "all checks passed"
        echo(f"run {result.run_id}: {len(materialized)} assets materialized, {passed}, "
             f"{len(publications)} table versions published")
    else:
        echo(f"run {result.run_id} FAILED: {len(materialized)} assets materialized"
             + (f"; failed checks: {', '.join(failed_checks)}" if failed_checks else "")
             + (f"; not served (previous version kept): {', '.join(withheld)}" if withheld else ""))
    return RunOutcome(result.success, result.run_id, materialized, failed_checks, failure, withheld)
