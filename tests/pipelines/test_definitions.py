"""The Dagster code location: it loads, its asset keys are the expected ones, and it materializes a lake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import polars as pl

from lakehouse.delta_io import DeltaLake
from pipelines.definitions import build_definitions, defs
from pipelines.master_data.assets import MASTER_DATA_ASSETS, MASTER_DATA_CHECKS, MASTER_FILES
from pipelines.run import run_everything

ROOT = Path(__file__).resolve().parents[2]

MASTER_DATA_KEYS = sorted([
    "silver/dim_bom", "silver/dim_customer", "silver/dim_equipment", "silver/dim_location",
    "silver/dim_machine", "silver/dim_material", "silver/dim_plant", "silver/dim_routing", "silver/dim_shift",
    "silver/dim_shift_break", "silver/dim_supplier",
    "silver/dim_unit_conversion", "silver/map_material_code",
])
BRONZE_KEYS = sorted([
    "bronze/wms_transactions", "bronze/mes_work_order_events", "bronze/mes_operation_events",
    "bronze/mes_material_consumption", "bronze/mes_lot_events", "bronze/mes_quality_inspections",
    "bronze/mes_equipment_states", "bronze/mes_material_lots", "bronze/mes_production_counts", "bronze/ingest_log", "bronze/dirty_partitions",
    "quarantine/quarantine_wms_transactions", "quarantine/quarantine_mes_events",
    "bronze/machine_signals", "quarantine/quarantine_machine_signals", "quarantine/quarantine_replays",
])
INVENTORY_KEYS = sorted(["silver/fct_inventory_movements", "quarantine/quarantine_inventory_movements",
                         "gold/fct_inventory_ledger", "gold/stock_on_hand", "silver/fct_genealogy_edges",
                         "gold/reconciliation_differences"])
KPI_KEYS = ["gold/kpi_daily", "gold/oee_by_machine_shift"]
COLLECTOR_KEYS = ["bronze/machine_signal_gaps"]  # external: written by `plantlake collect`
REALTIME_KEYS = ["bronze/source_freshness"]  # external: written by `plantlake listen --refresh`
ANOMALY_KEYS = ["gold/signal_anomalies"]
MODEL_KEYS = sorted(["gold/machine_hour_features", "gold/work_order_quality_features", "models/machine_breakdown",
                     "models/work_order_high_scrap", "gold/machine_risk", "gold/quality_risk"])
MODEL_TABLE_KEYS = [k for k in MODEL_KEYS if k.startswith("gold/")]
FLOW_KEYS = sorted(["gold/fct_operation_flow", "gold/wip_by_machine", "gold/bottleneck_by_line_shift",
                    "gold/schedule_suggestions"])
LOOKAHEAD_KEYS = ["gold/line_material_requirements", "gold/pick_suggestions", "gold/shortage_forecast"]
EXPECTED_ASSET_KEYS = sorted(MASTER_DATA_KEYS + BRONZE_KEYS + INVENTORY_KEYS + KPI_KEYS + COLLECTOR_KEYS
                             + REALTIME_KEYS + ANOMALY_KEYS + MODEL_KEYS + FLOW_KEYS + LOOKAHEAD_KEYS)


def test_definitions_load_with_one_job_and_resources() -> None:
    assert defs.resolve_job_def("materialize_everything") is not None
    assert set(defs.resources or {}) == {"lake", "landing"}


def test_asset_key_snapshot() -> None:
    keys = sorted(k.to_user_string() for k in defs.resolve_all_asset_keys())
    assert keys == EXPECTED_ASSET_KEYS


def test_every_asset_has_description_owner_group_and_kind() -> None:
    groups = {}
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        assert spec.owners == ["team:plant-data"], spec.key
        assert "delta" in spec.kinds or "mlflow" in spec.kinds, spec.key  # models live in the registry
        groups[spec.key.to_user_string()] = spec.group_name
    assert {k for k, g in groups.items() if g == "master_data"} == set(MASTER_DATA_KEYS)
    assert {k for k, g in groups.items() if g == "bronze"} == set(BRONZE_KEYS)
    assert {k for k, g in groups.items() if g == "inventory"} == set(INVENTORY_KEYS)
    assert {k for k, g in groups.items() if g == "kpi"} == set(KPI_KEYS)
    assert {k for k, g in groups.items() if g == "models"} == set(MODEL_KEYS)
    assert {k for k, g in groups.items() if g == "ml"} == set(ANOMALY_KEYS)
    assert {k for k, g in groups.items() if g == "flow"} == set(FLOW_KEYS)
    assert {k for k, g in groups.items() if g == "lookahead"} == set(LOOKAHEAD_KEYS)


def test_checks_master_data_keys_contracts_and_conservation() -> None:
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    assert {k for k, name in checks if name == "primary_key_unique_not_null"} == {*MASTER_DATA_KEYS, "gold/kpi_daily",
                                                                                   *MODEL_TABLE_KEYS, *ANOMALY_KEYS,
                                                                                   *FLOW_KEYS, *LOOKAHEAD_KEYS}
    assert {k for k, name in checks if name == "contract"} == {
        k for k in BRONZE_KEYS if k.startswith("bronze/mes_") or k in ("bronze/wms_transactions",
                                                                        "bronze/machine_signals")}
    assert ("bronze/ingest_log", "rows_conserved") in checks
    assert {name for k, name in checks if k == "gold/signal_anomalies"} == {
        "primary_key_unique_not_null", "anomaly_events_well_formed"}
    assert {name for k, name in checks if k == "gold/fct_inventory_ledger"} == {
        "movement_pairs_sum_to_zero", "balances_match_recomputation", "no_unflagged_negative_balance"}
    assert {name for k, name in checks if k == "gold/oee_by_machine_shift"} == {
        "ratios_within_bounds", "waterfall_adds_up"}
    assert {name for k, name in checks if k == "gold/kpi_daily"} == {
        "primary_key_unique_not_null", "kpi_ratios_within_bounds", "kpi_daily_oee_matches_the_shift_table"}


def test_jobs_schedule_and_sensors_are_defined_and_on_by_default() -> None:
    assert defs.resolve_job_def("ingest_landing_files") is not None
    assert defs.resolve_job_def("lake_maintenance") is not None
    nightly = defs.resolve_schedule_def("nightly_maintenance")
    assert nightly.cron_schedule == "30 2 * * *" and nightly.default_status == dg.DefaultScheduleStatus.RUNNING
    landing = defs.resolve_sensor_def("landing_folder_sensor")
    assert landing.job_name == "materialize_everything" and landing.default_status == dg.DefaultSensorStatus.RUNNING
    for name in ("publish_succeeded_runs", "record_failed_runs"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    policy = defs.resolve_asset_graph().get(dg.AssetKey(["gold", "kpi_daily"])).freshness_policy
    assert policy is not None and policy.fail_window.to_timedelta().total_seconds() == 26 * 3600


def test_materialize_everything_into_a_tmp_lake(tmp_path: Path, clean_plant: Path) -> None:
    outcome = run_everything(lake_root=tmp_path / "lake", source_dir=clean_plant, echo=lambda _: None)
    assert outcome.success, outcome.failure
    assert outcome.materialized == sorted(set(EXPECTED_ASSET_KEYS) - set(COLLECTOR_KEYS) - set(REALTIME_KEYS))
    assert outcome.failed_checks == []
    lake = DeltaLake(tmp_path / "lake")
    for table, source in MASTER_FILES.items():
        source_rows = pl.read_csv(clean_plant / source, infer_schema=False).height
        assert lake.row_count(table) == source_rows > 0, table
    log = lake.scan("ingest_log").collect()
    assert "rejected" not in log["status"].to_list()  # identical header-only files show as duplicate_file
    assert log["rows_quarantined"].sum() == 0
    # the only duplicates of a clean plant: B2MML start messages re-reported by the completion message
    assert log.filter(pl.col("source") != "mes_b2mml")["rows_duplicate"].sum() == 0
    assert (log["rows_landed"] + log["rows_duplicate"]).sum() == log["rows_read"].sum() > 0


def test_rerun_is_idempotent(tmp_path: Path, clean_plant: Path) -> None:
    for _ in range(2):
        assert run_everything(lake_root=tmp_path / "lake", source_dir=clean_plant, echo=lambda _: None).success
    lake = DeltaLake(tmp_path / "lake")
    assert lake.row_count("dim_material") == pl.read_csv(clean_plant / "master/materials.csv").height
    assert lake.history("dim_material", 1)[0]["operationParameters"]["mode"] == "Overwrite"


def test_a_duplicate_primary_key_in_master_data_is_refused(tmp_path: Path, clean_plant: Path) -> None:
    broken = tmp_path / "landing"
    subprocess.run(["cp", "-r", str(clean_plant), str(broken)], check=True)
    materials = (broken / "master/materials.csv").read_text().splitlines()
    (broken / "master/materials.csv").write_text("\n".join([*materials, materials[1]]) + "\n")
    material = dg.AssetKey(["silver", "dim_material"])
    result = dg.materialize(
        [*(a for a in MASTER_DATA_ASSETS if a.key == material),
         *(c for c in MASTER_DATA_CHECKS if material in {k.asset_key for k in c.check_keys})],
        resources=build_definitions(lake_root=str(tmp_path / "lake"), source_dir=str(broken)).resources,
        raise_on_error=False)
    # the master file's contract finds the repeated key before anything is written (the blocking primary-key
    # check stays behind it); with no earlier version to keep, the step fails with the line and the rule
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = str(failure.event_specific_data.error)
    assert "master/materials.csv: master file for dim_material rejected whole" in message
    assert f"line {len(materials) + 1}: material_id is unique" in message
    assert not DeltaLake(tmp_path / "lake").exists("dim_material")


def test_dagster_definitions_validate_passes() -> None:
    completed = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                                "-w", "workspace.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "All code locations passed validation" in completed.stderr + completed.stdout


def test_every_job_that_writes_the_lake_carries_the_one_writer_per_lake_tag() -> None:
    """The production run queue (deploy/production/dagster.yaml) limits runs per value of this tag."""
    from pipelines.production import LAKE_TAG

    jobs = {job.name: job for job in defs.resolve_all_job_defs() if job.name != "__ASSET_JOB"}
    assert {"materialize_everything", "refresh_master_data", "weekly_model_training", "refresh_inventory",
            "lake_maintenance"} <= set(jobs)
    for name, job in jobs.items():
        assert job.tags.get(LAKE_TAG), f"{name} writes the lake but has no {LAKE_TAG} tag"


def test_the_local_instance_queues_runs_one_writer_per_lake(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`make ui` / `plantlake run` create DAGSTER_HOME with deploy/local/dagster.yaml: the sensor's, the
    schedules' and the UI's runs wait in a queue while another run writes the same lake."""
    from dagster._core.run_coordinator import QueuedRunCoordinator

    from pipelines.production import LAKE_TAG
    from pipelines.run import dagster_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    instance = dagster_instance()
    coordinator = instance.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    limits = coordinator.get_run_queue_config().tag_concurrency_limits
    assert [(lim["key"], lim["limit"], lim["value"]) for lim in limits] == [
        (LAKE_TAG, 1, {"applyLimitPerUniqueValue": True})]
    assert (tmp_path / "home" / "dagster.yaml").read_text() == (ROOT / "deploy/local/dagster.yaml").read_text()
