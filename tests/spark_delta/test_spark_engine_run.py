"""`PLANTLAKE_ENGINE=spark`: the whole job reads its inputs with delta-spark and commits its outputs through Spark,
and every table it writes equals the Polars run's on the same small plant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lakehouse.delta_io import DeltaLake
from pipelines.definitions import build_definitions
from simulator import FaultRates, PlantConfig, simulate

pytestmark = [pytest.mark.spark, pytest.mark.slow]
# tables whose rows name the run that wrote them (ids, clock times): compared without those columns
RUN_COLUMNS = {"refresh_log": ["run_id", "refreshed_at", "source_version"], "ingest_log": None,
               "dirty_partitions": None, "publication_log": None, "quarantine_replays": None,
               "machine_risk": ["scored_at"], "quality_risk": ["scored_at"]}


def run_job(source: Path, lake_root: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTLAKE_ENGINE", engine)
    defs = build_definitions(lake_root=str(lake_root), source_dir=str(source))
    result = defs.resolve_job_def("materialize_everything").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    failures = [str(e.event_specific_data.error.message)[:300]  # type: ignore[union-attr]
                for e in result.all_events if e.is_step_failure]
    assert result.success, failures


def comparable(lake: DeltaLake, name: str) -> pl.DataFrame:
    frame = pl.from_arrow(lake.read_arrow(name))
    assert isinstance(frame, pl.DataFrame)
    run_dependent = {*(RUN_COLUMNS.get(name) or []), "ingested_at", "ingest_run_id", "run_id", "landed_at"}
    frame = frame.drop([c for c in run_dependent if c in frame.columns])
    # rounded only to sort alike; compared within 10 µs: durations are differences of epoch seconds (~1.8e9), where
    # a double holds about 0.2 µs, and the two engines subtract timestamps in different units
    return frame.with_columns(pl.col(pl.Float64).round(6)).sort(pl.all())


def test_the_spark_engine_writes_through_delta_spark_and_equals_the_polars_run(spark_delta: Any, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "landing"
    simulate(PlantConfig(days=1, lines=1, machines_per_line=2, seed=8, fault_rates=FaultRates.none()), source)
    polars_lake, spark_lake = DeltaLake(tmp_path / "polars"), DeltaLake(tmp_path / "spark")
    run_job(source, polars_lake.root, "polars", monkeypatch)
    run_job(source, spark_lake.root, "spark", monkeypatch)
    written = [s.name for s in polars_lake.tables()]
    assert [s.name for s in spark_lake.tables()] == written
    by_spark = []
    for name in written:
        if RUN_COLUMNS.get(name, ()) is None:
            continue  # bookkeeping of the landing itself (delta-rs with either engine)
        assert_frame_equal(comparable(spark_lake, name), comparable(polars_lake, name), check_dtypes=False,
                           rel_tol=1e-9, abs_tol=1e-5)
        log = Path(spark_lake.uri(name), "_delta_log")
        infos = [json.loads(line)["commitInfo"] for f in sorted(log.glob("*.json"))
                 for line in f.read_text().splitlines() if '"commitInfo"' in line]
        if any("Apache-Spark" in i.get("engineInfo", "") for i in infos):
            by_spark.append(name)
    for table in ("dim_machine", "fct_inventory_movements", "fct_inventory_ledger", "stock_on_hand",
                  "oee_by_machine_shift", "kpi_daily", "fct_genealogy_edges", "reconciliation_differences"):
        assert table in by_spark, f"{table} was not written by delta-spark"
    assert comparable(spark_lake, "kpi_daily").height > 0
