"""Write-audit-publish for silver and gold tables: readers are served a table's newest version whose blocking
checks passed, never a version that failed them.

A run writes a new version, Dagster runs the table's blocking checks, and the run's outcome is recorded in
`bronze.publication_log` (`pipelines/publication.py`): published, or not with the failing checks. `ServedLake` is
a `DeltaLake` whose reads without an explicit version go to the served version. Bronze and quarantine tables
are landed under row-level contracts and always served as they are; so is a table no run has recorded yet
(written by hand or by an older version of plantlake).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from deltalake import DeltaTable

from lakehouse.delta_io import DeltaLake, Version

LOG = "publication_log"
AUDITED_LAYERS = ("silver", "gold")


@dataclass(frozen=True)
class PublicationStatus:
    table: str                      # layer.table
    current_version: int
    served_version: int             # what readers get
    withheld: list[tuple[int, list[str]]] = field(default_factory=list)  # newer versions not served, with failures

    @property
    def is_current(self) -> bool:
        return self.served_version == self.current_version

    def describe(self) -> str:
        if self.is_current:
            return f"{self.table}: version {self.current_version} served"
        failures = "; ".join(f"version {v}: {', '.join(checks) or 'not audited'}" for v, checks in self.withheld)
        return (f"{self.table}: serving version {self.served_version}, not the newer {failures} "
                "(read it with as_of to inspect)")


def publication_status(lake: DeltaLake, name: str) -> PublicationStatus:
    """Which version of `name` readers are served, and why newer ones are not."""
    spec = lake.spec(name)
    current = DeltaTable(lake.uri(spec.name)).version()
    if spec.layer not in AUDITED_LAYERS or not lake.exists(LOG):
        return PublicationStatus(spec.qualified_name, current, current)
    rows = (lake.scan(LOG).filter(pl.col("table_name") == spec.name)
            .select("table_version", "is_published", "failed_checks").collect())
    if rows.is_empty():
        return PublicationStatus(spec.qualified_name, current, current)
    published = rows.filter(pl.col("is_published"))["table_version"]
    served = int(published.max()) if published.len() else -1
    if served < 0:
        served = 0  # never published: version 0 is the empty table as created
    failed = {int(v): list(c) for v, ok, c in rows.iter_rows() if not ok}
    withheld = [(v, failed.get(v, [])) for v in range(served + 1, current + 1) if v in failed or v == current]
    return PublicationStatus(spec.qualified_name, current, served, withheld)


class ServedLake(DeltaLake):
    """A `DeltaLake` for readers: a read without a version is a read of the served (published) version."""

    def served_version(self, name: str) -> int | None:
        status = publication_status(self, name)
        return None if status.is_current else status.served_version

    def table(self, name: str, *, version: Version = None) -> DeltaTable:
        if version is None and self.exists(name):
            version = self.served_version(name)
        return super().table(name, version=version)

    def scan(self, name: str, *, version: Version = None) -> pl.LazyFrame:
        if version is None and self.exists(name):
            version = self.served_version(name)
        return super().scan(name, version=version)
