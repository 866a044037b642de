"""`plantlake run` and `plantlake ingest` are never silent: progress per asset and per file on standard error
(log lines when it is not a terminal, a bar when it is), answers on standard output; --verbose and
PLANTLAKE_LOG_LEVEL set the plantlake logger and what the in-process Dagster run is told."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from plantlake import Lake
from plantlake.cli import main
from plantlake.cli.progress import LakeWatcher, Progress, asset_tables, landing_file_count
from simulator import FaultRates, PlantConfig, simulate


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    """A small plant's landing folder, and `plantlake run` of it into a new lake (through the CLI)."""
    base = tmp_path_factory.mktemp("progress")
    landing, lake = base / "landing", base / "lake"
    simulate(PlantConfig(days=4, lines=1, machines_per_line=2, seed=3, fault_rates=FaultRates.none()), landing)
    return landing, lake, CliRunner().invoke(main, ["--lake", str(lake), "run", "--source", str(landing)])


def test_run_reports_every_asset_on_stderr(plant: tuple[Path, Path, Result]) -> None:
    _, _, result = plant
    assert result.exit_code == 0, result.output
    total = len(asset_tables())
    assert total > 30
    lines = result.stderr.splitlines()
    progress = [line for line in lines if line.startswith("[run] ")]
    assert progress[0].startswith(f"[run] materializing {total} assets from ")
    assert any(line.startswith(f"[run] 1/{total} assets, ") and line.endswith(" written (" + line.split(" (")[-1])
               for line in progress)
    assert re.fullmatch(rf"\[run\] {total}/{total} assets materialized \(\d+ s\)", progress[-1]), progress[-1]
    written = [line for line in progress if re.match(rf"\[run\] \d+/{total} assets, \S+ written", line)]
    names = [line.split(", ")[1].removesuffix(" written").split(" written")[0] for line in written]
    assert len(names) == len(set(names)) > total // 2  # an asset that commits nothing (no gaps) is not seen
    assert {"silver.dim_machine", "bronze.ingest_log", "gold.fct_inventory_ledger", "gold.kpi_daily"} <= set(names)
    assert re.search(rf"{total} assets materialized, all (blocking checks passed, \d+ warned|checks passed)",
                     result.stdout), result.stdout[-2000:]
    assert "[run]" not in result.stdout  # answers and progress stay apart


def test_ingest_reports_files_and_verbose_prints_one_line_per_file(plant: tuple[Path, Path, Result]) -> None:
    landing, lake, _ = plant
    files = landing_file_count(landing)
    assert files and files > 10
    nothing_new = CliRunner().invoke(main, ["--lake", str(lake), "ingest", "--source", str(landing)])
    assert nothing_new.exit_code == 0, nothing_new.output
    assert f"[ingest] 0 new files in {landing}" in nothing_new.stderr  # the run logged them all: none read again
    assert landing_file_count(landing, lake) == 0 and ": 0 files" in nothing_new.stdout
    for path in landing.rglob("*"):  # every file written again: each is read again (and found a duplicate)
        if path.is_file():
            os.utime(path)
    assert landing_file_count(landing, lake) == files
    result = CliRunner().invoke(main, ["--lake", str(lake), "ingest", "--source", str(landing)])
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines()  # a busy machine adds "still working" heartbeats
                if line.startswith("[ingest] ") and "still working" not in line]
    assert progress[0].startswith(f"[ingest] {files} new files in {landing} to land into {lake}")
    assert progress[1].startswith(f"[ingest] 1/{files} files, ")
    assert progress[-1].startswith(f"[ingest] {files}/{files} files")
    assert f"ingest run ingest-" in result.stdout and f": {files} files" in result.stdout
    for path in landing.rglob("*"):
        if path.is_file():
            os.utime(path)
    verbose = CliRunner().invoke(main, ["--verbose", "--lake", str(lake), "ingest", "--source", str(landing)])
    assert verbose.exit_code == 0, verbose.output
    per_file = [line for line in verbose.stdout.splitlines() if " read=" in line]
    assert len(per_file) == files and sum("duplicate_file" in line for line in per_file) > files // 2


@pytest.mark.parametrize(("args", "env", "level"), [
    ([], {}, "WARNING"),
    (["--verbose"], {}, "DEBUG"),
    ([], {"PLANTLAKE_LOG_LEVEL": "info"}, "INFO"),
    (["--log-level", "error"], {"PLANTLAKE_LOG_LEVEL": "debug"}, "ERROR"),
])
def test_the_log_level_reaches_the_plantlake_logger_and_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                args: list[str], env: dict[str, str],
                                                                level: str) -> None:
    seen = {}

    def tables(self: Lake) -> object:
        seen["env"] = os.environ.get("PLANTLAKE_LOG_LEVEL")
        seen["logger"] = logging.getLevelName(logging.getLogger("plantlake").level)
        logging.getLogger("plantlake").debug("a debug line")
        raise KeyboardInterrupt  # any way out of the command

    monkeypatch.setattr(Lake, "tables", tables)
    monkeypatch.delenv("PLANTLAKE_LOG_LEVEL", raising=False)
    before = logging.getLogger("plantlake").level
    result = CliRunner(env=env).invoke(main, [*args, "--lake", str(tmp_path), "tables"])
    assert result.exit_code == 130
    assert seen == {"env": level, "logger": level}
    assert ("a debug line" in result.stderr) == (level == "DEBUG")
    assert "PLANTLAKE_LOG_LEVEL" not in os.environ  # restored after the command
    assert logging.getLogger("plantlake").level == before


def test_progress_without_a_terminal_writes_a_line_now_and_then(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress("ingest", 5, "file", every=3600, heartbeat=3600, terminal=False)
    for name in "abcde":
        progress.advance(f"{name}.csv")
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == ["[ingest] 1/5 files, a.csv", "[ingest] 5/5 files, e.csv"]

    quiet = Progress("run", None, "asset", every=3600, heartbeat=0.0, terminal=False)
    quiet.advance("silver.x written")
    quiet.advance("silver.y written")
    quiet.tick()
    quiet.finish(3, "materialized")
    lines = capsys.readouterr().err.splitlines()
    assert lines[1].startswith("[run] 2 assets so far, still working (")
    assert lines[2].startswith("[run] 3 assets materialized (")


def test_progress_on_a_terminal_is_a_bar_and_answers_stay_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress("run", 3, "asset", terminal=True)
    progress.advance("silver.a written")
    progress.echo("the answer")
    progress.finish(3, "materialized")
    progress.close()
    out, err = capsys.readouterr()
    assert out == "the answer\n"
    assert "3/3" in err and "100%" in err and "[run] 3/3 assets materialized" in err


def test_the_lake_watcher_sees_new_commits_only(tmp_path: Path) -> None:
    def commit(table: str, version: int) -> None:
        log = tmp_path / table / "_delta_log"
        log.mkdir(parents=True, exist_ok=True)
        (log / f"{version:020d}.json").write_text("{}")

    commit("silver/old", 0)
    commit("silver/touched", 0)
    seen: list[str] = []
    with LakeWatcher(tmp_path, seen.append, interval=0.05):
        commit("silver/touched", 1)
        commit("gold/new", 0)
        (tmp_path / "_indexes" / "x" / "_delta_log").mkdir(parents=True)
    assert sorted(seen) == ["gold.new", "silver.touched"]
