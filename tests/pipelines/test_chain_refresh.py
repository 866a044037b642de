"""The chain refreshes itself: a new day's files in the landing folder make the (default-on) landing sensor ask
for `materialize_everything`, and that run brings gold.kpi_daily and gold.stock_on_hand up to the new day;
the run-status sensor publishes what it wrote. Driven through Dagster's test harness, no manual step."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from lakehouse.delta_io import DeltaLake
from pipelines.definitions import build_definitions
from pipelines.ingestion.sensors import REFRESH_JOB, landing_folder_sensor
from pipelines.resources import LandingResource
from plantlake import Lake
from simulator import FaultRates, PlantConfig, simulate

PLANT = PlantConfig(days=4, lines=1, machines_per_line=2, seed=21, fault_rates=FaultRates.none())


def deliver(source: Path, landing: Path, days: list[str]) -> None:
    """Copy the master data and the files of the given days (named by their date) into the landing folder."""
    shutil.copytree(source / "master", landing / "master", dirs_exist_ok=True)
    for path in source.rglob("*"):
        if path.is_file() and "master" not in path.parts and "truth" not in path.parts and any(
                day in path.as_posix() for day in days):
            target = landing / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def sensor_tick(landing: Path, cursor: str | None) -> tuple[object, str | None]:
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": LandingResource(source_dir=str(landing))})
    return landing_folder_sensor(context), context.cursor


def run_requested(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    job = defs.resolve_job_def(REFRESH_JOB)
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    run = instance.get_run_by_id(result.run_id)
    for sensor in defs.sensors:
        if isinstance(sensor, dg.RunStatusSensorDefinition) and sensor.name == "publish_succeeded_runs":
            # entered as the sensor daemon does: the lake resource sets up and tears down (it holds the lake's
            # writer lock while a run uses it; a sensor evaluation has no run, so it never takes it)
            with dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_instance=instance,
                                                    dagster_run=run, dagster_event=result.get_run_success_event(),
                                                    resources=defs.resources) as context:
                sensor(context)


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("chain_source")
    simulate(PLANT, source)
    return source


def test_a_new_days_files_refresh_gold_with_no_manual_step(plant: Path, tmp_path: Path) -> None:
    landing, root = tmp_path / "landing", tmp_path / "lake"
    days = sorted(p.stem for p in (plant / "mes" / "events").glob("*.ndjson"))
    defs = build_definitions(lake_root=str(root), source_dir=str(landing))
    instance = dg.DagsterInstance.ephemeral()
    assert landing_folder_sensor.job_name == REFRESH_JOB
    assert landing_folder_sensor.default_status == dg.DefaultSensorStatus.RUNNING

    deliver(plant, landing, days[:-1])
    request, cursor = sensor_tick(landing, None)
    assert isinstance(request, dg.RunRequest)
    run_requested(defs, instance)
    lake = DeltaLake(root)
    kpi_days_before = lake.scan("kpi_daily").select(pl.col("kpi_date").max()).collect().item()
    stock_before = Lake(root).stock()
    published_before = lake.scan("publication_log").filter(pl.col("table_name") == "kpi_daily").collect().height

    quiet, cursor = sensor_tick(landing, cursor)
    assert isinstance(quiet, dg.SkipReason)

    deliver(plant, landing, days[-1:])
    request, cursor = sensor_tick(landing, cursor)
    assert isinstance(request, dg.RunRequest)
    run_requested(defs, instance)

    kpi_days_after = lake.scan("kpi_daily").select(pl.col("kpi_date").max()).collect().item()
    assert str(kpi_days_after) == days[-1] and kpi_days_after > kpi_days_before
    assert Lake(root).kpi("oee", scope="site", start=days[-1], end=days[-1])["denominator"].sum() > 0
    stock_after = Lake(root).stock()
    assert not stock_after.equals(stock_before)
    on_hand = lake.scan("stock_on_hand").select(pl.col("last_movement_at").max()).collect().item()
    assert str(on_hand.date()) in days[-2:]
    log = lake.scan("publication_log").filter(pl.col("table_name") == "kpi_daily").collect()
    assert log.height == published_before + 1 and log["is_published"].all()
