"""`Lake.bottleneck` and `plantlake bottleneck` answer the same rows from gold.bottleneck_by_line_shift, filter by
line and dates, and refuse an unknown line or a malformed date with one line (exit 1)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from lakehouse.delta_io import DeltaLake
from plantlake import Lake
from plantlake.cli import main
from transforms.flow.bottleneck import bottleneck_by_line_shift

DAY = datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    delta = DeltaLake(tmp_path)
    machines = pl.DataFrame({"machine_id": ["A", "B", "C"], "line_id": ["L1", "L1", "L2"],
                             "machine_name": [None] * 3, "opcua_browse_name": [None] * 3},
                            schema_overrides={"machine_name": pl.String, "opcua_browse_name": pl.String})
    delta.overwrite("dim_machine", machines.to_arrow())
    intervals = pl.DataFrame({"machine_id": ["A", "A", "B", "B", "C"],
                              "reason_code": ["producing", "starved", "starved", "producing", "producing"],
                              "start_s": [DAY, DAY + 3600, DAY, DAY + 1800, DAY],
                              "end_s": [DAY + 3600, DAY + 4 * 86400, DAY + 1800, DAY + 4 * 86400, DAY + 4 * 86400]})
    shifts = pl.DataFrame({"shift_date": [date(2026, 1, 5), date(2026, 1, 6)], "shift_id": ["S1", "S1"],
                           "start_s": [DAY, DAY + 86400], "end_s": [DAY + 28800, DAY + 86400 + 28800],
                           "break_s": [0.0, 0.0]})
    rows = bottleneck_by_line_shift(intervals, machines.select("machine_id", "line_id"), shifts)
    delta.overwrite("bottleneck_by_line_shift", rows.to_arrow())
    return tmp_path


def cli(root: Path, *args: str):  # noqa: ANN201
    return CliRunner().invoke(main, ["--lake", str(root), "bottleneck", *args])


def test_api_and_cli_answer_the_same_rows(root: Path) -> None:
    rows = Lake(root).bottleneck("L1", start="2026-01-06", end="2026-01-06")
    assert rows.height == 2 and rows.filter("is_line_bottleneck")["machine_id"].to_list() == ["B"]
    result = cli(root, "--line", "L1", "--from", "2026-01-06", "--to", "2026-01-06", "--shifts", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [(r["shift_date"], r["machine_id"]) for r in json.loads(result.stdout)] == [("2026-01-06", "B")]
    summary = json.loads(cli(root, "--format", "json").stdout)
    assert {(r["line_id"], r["machine_id"], r["bottleneck_shifts"]) for r in summary} == {
        ("L1", "B", 2), ("L1", "A", 0), ("L2", "C", 2)}


def test_unknown_line_and_bad_date_are_one_line_errors(root: Path) -> None:
    unknown = cli(root, "--line", "L9")
    assert unknown.exit_code == 1 and unknown.output.strip() == "Error: line 'L9' is not in silver.dim_machine"
    bad = cli(root, "--from", "2026-13-01")
    assert bad.exit_code == 1 and "is not an ISO date" in bad.output and "Traceback" not in bad.output
    empty = cli(root, "--from", "2027-01-01")
    assert empty.exit_code == 0 and "Note:" in empty.stderr
