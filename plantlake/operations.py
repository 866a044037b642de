"""What a pipeline job or the CLI does to a lake: run every asset, land a landing folder, maintain tables.
These are `Lake.run`, `Lake.ingest` and `Lake.maintain`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError
from lakehouse.lake_lock import lake_writer


@dataclass(frozen=True)
class IngestReport:
    run_id: str
    files: int
    counts: pl.DataFrame  # per source: files, duplicate and rejected files, rows read/landed/quarantined/duplicate
    master_data: str      # what happened to master data first
    replay: object        # ingestion.replay.ReplayReport: quarantined records replayed against the master data


@dataclass(frozen=True)
class MaintenanceReport:
    table: str
    files_removed: int
    files_added: int
    files_vacuumed: int
    version: int


def run_everything(lake: DeltaLake, source_dir: Path, echo: Callable[[str], None] = print, *,
                   full_refresh: bool = False) -> object:
    """Materialize every asset in-process (master data, bronze landing, silver, gold) with every check; with
    `full_refresh`, silver and gold are rebuilt from bronze instead of refreshed incrementally."""
    from pipelines.run import run_everything as run_job

    with lake_writer(lake.root, "run"):
        return run_job(lake_root=lake.root, source_dir=source_dir, echo=echo, full_refresh=full_refresh)


def ingest(lake: DeltaLake, source_dir: Path, progress: Callable[[object], None] | None = None) -> IngestReport:
    """Land every new file of a landing folder in bronze (exactly once; bad rows to quarantine)."""
    from ingestion.landing import Lander
    from ingestion.report import ingest_counts
    from ingestion.signal_files import land_signal_files

    from ingestion.replay import replay_quarantined

    if not source_dir.is_dir():
        raise QueryError(f"landing folder {source_dir} does not exist")
    with lake_writer(lake.root, "ingest"):
        master = land_master_data(lake, source_dir)
        replay = replay_quarantined(lake, landing_root=source_dir)
        lander = Lander(lake, source_dir)
        outcomes = [*lander.land_all(progress=progress), *land_signal_files(lander, progress=progress)]
    return IngestReport(lander.run_id, len(outcomes), ingest_counts(lake, lander.run_id), master, replay)


MASTER_TABLES = ("map_material_code", "dim_location", "dim_machine", "dim_supplier", "dim_customer")


def land_master_data(lake: DeltaLake, source_dir: Path) -> str:
    """Master data first: the landing folder's master/ when it has one (so records meet the codes they use),
    else what the lake holds; with neither, refuse: every record would be quarantined for unknown codes."""
    from pipelines.run import run_everything as run_job

    if (source_dir / "master").is_dir():
        outcome = run_job(lake_root=lake.root, source_dir=source_dir, echo=lambda _: None,
                          job_name="refresh_master_data")
        if not outcome.success:
            raise QueryError(f"master data in {source_dir / 'master'} did not land: {outcome.failure or outcome.failed_checks}")
        return f"master data landed from {source_dir / 'master'}"
    missing = [t for t in MASTER_TABLES if not lake.exists(t)]
    if missing:
        raise QueryError(f"no master data: {source_dir} has no master/ folder and the lake has no "
                         f"{', '.join('silver.' + t for t in missing)}; every record would be quarantined for "
                         "unknown codes. Deliver master/ first (or run `plantlake run`).")
    return "master data: the lake's (no master/ in the landing folder)"


def maintain(lake: DeltaLake, names: Sequence[str] = (), retention_hours: int = 168) -> list[MaintenanceReport]:
    """Compact small files (optimize), vacuum files no version within `retention_hours` needs, checkpoint."""
    reports = []
    for name in names or [spec.name for spec in lake.tables()]:
        metrics = lake.optimize(name)
        removed = lake.vacuum(name, retention_hours=retention_hours)
        lake.checkpoint(name)
        reports.append(MaintenanceReport(lake.spec(name).qualified_name, metrics["numFilesRemoved"],
                                         metrics["numFilesAdded"], len(removed), lake.version(name)))
    return reports
