import json

import polars as pl
from click.testing import CliRunner

from simulator.cli import simulate_command


def test_cli_runs_a_clean_simulation_and_prints_summary(tmp_path):
    out = tmp_path / "raw"
    result = CliRunner().invoke(simulate_command, ["--out", str(out), "--days", "2", "--lines", "1",
                                                   "--machines-per-line", "2", "--seed", "3", "--clean",
                                                   "--signal-interval-s", "600", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "transactions" in result.output and "faults" in result.output
    plant = json.loads((out / "master" / "plant.json").read_text())
    assert plant["config"]["days"] == 2 and plant["plant_timezone"] == "Europe/Berlin"
    assert pl.read_parquet(out / "truth" / "faults.parquet").height == 0
    signals = pl.read_parquet(out / "signals" / "2026-01-05.parquet")
    assert signals.height == 2 * 9 * 144


def test_help_works_for_group_and_server():
    runner = CliRunner()
    for args in (["--help"], ["opcua-server", "--help"]):
        result = runner.invoke(simulate_command, args)
        assert result.exit_code == 0
        assert "Usage" in result.output
    assert "--update-interval-s" in runner.invoke(simulate_command, ["opcua-server", "--help"]).output
