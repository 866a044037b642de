"""The landing sensor asks for a run when new files appear, and not again for the same files."""

from pathlib import Path

import dagster as dg

from pipelines.ingestion.sensors import landing_folder_sensor
from pipelines.resources import LandingResource


def evaluate(landing: Path, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": LandingResource(source_dir=str(landing))})
    return landing_folder_sensor(context), context.cursor


def test_new_files_trigger_one_run_and_the_cursor_remembers_them(tmp_path: Path) -> None:
    result, cursor = evaluate(tmp_path, None)
    assert isinstance(result, dg.SkipReason)
    day = tmp_path / "mes" / "events" / "2026-01-05.ndjson"
    day.parent.mkdir(parents=True)
    day.write_text('{"event_id": "E1"}\n')
    result, cursor = evaluate(tmp_path, cursor)
    assert isinstance(result, dg.RunRequest) and result.tags["plantlake/new_files"] == "1"
    again, _ = evaluate(tmp_path, cursor)
    assert isinstance(again, dg.SkipReason)
    (tmp_path / "mes" / "events" / "2026-01-06.ndjson").write_text('{"event_id": "E2"}\n')
    later, _ = evaluate(tmp_path, cursor)
    assert isinstance(later, dg.RunRequest) and later.run_key != result.run_key
