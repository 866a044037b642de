"""The landing sensor: when new files (or new master data) appear in the landing folder, refresh the whole chain
(bronze -> silver -> gold) with `materialize_everything`. On by default, so `dagster dev` keeps the lake current
with no manual step; silver and gold refresh incrementally from the event dates the landing marks dirty.

The cursor is the set of files already handed to a run (relative path, size, modification time); the
ingest itself is exactly-once by content fingerprint, so a file the sensor sees twice still lands once.
"""


import hashlib
import json

import dagster as dg

from ingestion.landing import Lander
from ingestion.sources import SOURCES
from pipelines.resources import LandingResource

INGEST_JOB = "ingest_landing_files"
REFRESH_JOB = "materialize_everything"
MASTER_PATTERNS = ("master/*.csv", "master/*.json")


def file_signatures(landing: LandingResource) -> list[str]:
    root = landing.root()
    signatures = []
    patterns = [*MASTER_PATTERNS, *(pattern for source in SOURCES for pattern in source.patterns)]
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                stat = path.stat()
                signatures.append(f"{path.relative_to(root).as_posix()}|{stat.st_size}|{stat.st_mtime_ns}")
    return sorted(set(signatures))


@dg.sensor(job_name=REFRESH_JOB, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Refreshes bronze, silver and gold when new or changed files appear in the landing folder.")
def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    current = file_signatures(landing)
    new = [s for s in current if s not in seen]
    if not new:
        return dg.SkipReason(f"no new files among {len(current)} in {landing.root()}")
    context.update_cursor(json.dumps(current))
    run_key = hashlib.sha256("\n".join(new).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"plantlake/new_files": str(len(new))})


__all__ = ["INGEST_JOB", "REFRESH_JOB", "Lander", "file_signatures", "landing_folder_sensor"]
