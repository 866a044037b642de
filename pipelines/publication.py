"""Publishing what a run wrote (write-audit-publish): after a run, each silver or gold table it materialized is
recorded in `bronze.publication_log`, published when every blocking check declared for it passed in that run,
withheld otherwise (with the checks that failed or did not run). Readers (`plantlake.Lake`, the CLI, the app)
are served the newest published version (`lakehouse.publication`).

`run_everything` publishes its in-process run; `publish_finished_runs` does the same for runs the Dagster daemon
starts (the landing sensor, schedules, the UI)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import dagster as dg
from dagster import DagsterEventType

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.publication import AUDITED_LAYERS, LOG
from lakehouse.schema import rows_to_arrow
from pipelines.resources import LakeResource


def blocking_checks(checks: Iterable[dg.AssetChecksDefinition]) -> dict[dg.AssetKey, set[str]]:
    """Asset -> names of its blocking checks, from the check definitions."""
    declared: dict[dg.AssetKey, set[str]] = {}
    for definition in checks:
        for spec in definition.check_specs:
            if spec.blocking:
                declared.setdefault(spec.asset_key, set()).add(spec.name)
    return declared


def publication_rows(run_id: str, materializations: list[tuple[dg.AssetKey, int | None]],
                     evaluations: list[tuple[dg.AssetKey, str, bool]], declared: dict[dg.AssetKey, set[str]],
                     current_version: dict[str, int], now: datetime) -> list[dict]:
    """One row per audited table the run materialized (pure: events in, rows out)."""
    passed: dict[dg.AssetKey, set[str]] = {}
    failed: dict[dg.AssetKey, set[str]] = {}
    for key, name, ok in evaluations:
        (passed if ok else failed).setdefault(key, set()).add(name)
    rows = []
    for key, version in materializations:
        layer, table = key.path[0], key.path[-1]
        if layer not in AUDITED_LAYERS or table not in CATALOG:
            continue
        blocking = declared.get(key, set())
        missing = blocking - passed.get(key, set())
        failing = sorted((failed.get(key, set()) & blocking) | {f"{n} (did not run)" for n in
                                                                missing - failed.get(key, set())})
        rows.append({"table_name": table, "table_version": version if version is not None else current_version[table],
                     "run_id": run_id, "is_published": not missing, "failed_checks": failing, "recorded_at": now})
    return rows


def record_publications(lake: DeltaLake, rows: list[dict]) -> None:
    if rows:
        lake.insert_new(LOG, rows_to_arrow(lake.spec(LOG), rows))


def publish_run(instance: dg.DagsterInstance, run_id: str, lake: DeltaLake,
                checks: Iterable[dg.AssetChecksDefinition]) -> list[dict]:
    """Record the publication of every audited table the run materialized, from the run's event log."""
    materializations, evaluations = [], []
    for entry in instance.all_logs(run_id, of_type={DagsterEventType.ASSET_MATERIALIZATION,
                                                    DagsterEventType.ASSET_CHECK_EVALUATION}):
        event = entry.dagster_event
        if event is None:
            continue
        data = event.event_specific_data
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = data.materialization  # type: ignore[union-attr]
            version = materialization.metadata.get("table_version")
            value = getattr(version, "value", version)
            materializations.append((materialization.asset_key, int(value) if value is not None and value >= 0
                                     else None))
        else:
            evaluations.append((data.asset_key, data.check_name, data.passed))  # type: ignore[union-attr]
    tables = {key.path[-1] for key, _ in materializations if key.path[-1] in CATALOG}
    current = {t: lake.version(t) for t in tables if lake.exists(t)}
    rows = publication_rows(run_id, materializations, evaluations, blocking_checks(checks), current,
                            datetime.now(timezone.utc))
    record_publications(lake, rows)
    return rows


def publication_sensor(checks: list[dg.AssetChecksDefinition]) -> list[dg.RunStatusSensorDefinition]:
    """Sensors that publish every finished run of this code location (success or failure), on by default."""

    def publish(context: dg.RunStatusSensorContext, lake: LakeResource) -> None:
        rows = publish_run(context.instance, context.dagster_run.run_id, lake.lake(), checks)
        context.log.info(f"published {sum(r['is_published'] for r in rows)} table versions, "
                         f"withheld {sum(not r['is_published'] for r in rows)}")

    succeeded = dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="publish_succeeded_runs",
                                     default_status=dg.DefaultSensorStatus.RUNNING,
                                     description="Publish the table versions of a finished run whose blocking "
                                     "checks passed")(publish)
    failed = dg.run_status_sensor(run_status=dg.DagsterRunStatus.FAILURE, name="record_failed_runs",
                                  default_status=dg.DefaultSensorStatus.RUNNING,
                                  description="Record which table versions a failed run left unpublished, and "
                                  "why")(publish)
    return [succeeded, failed]
