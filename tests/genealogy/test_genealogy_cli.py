"""`plantlake trace` / `plantlake recall` through click's CliRunner, and the on-disk index they reuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from genealogy_support import PlantLake, clean_plant_lake

from plantlake import Lake
from plantlake.cli import main
from plantlake.cli.genealogy import recall_command, trace_command
from transforms.genealogy import GenealogyIndex, trace
from transforms.genealogy.persistence import index_path, lake_index, load_index


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> PlantLake:
    return clean_plant_lake(tmp_path_factory.mktemp("genealogy_plant"))


def test_help_describes_both_commands() -> None:
    runner = CliRunner()
    trace_help = runner.invoke(trace_command, ["--help"])
    assert trace_help.exit_code == 0
    for option in ("--direction", "--max-depth", "--from", "--to", "--format"):
        assert option in trace_help.output
    recall_help = runner.invoke(recall_command, ["--help"])
    assert recall_help.exit_code == 0 and "--output" in recall_help.output


def test_trace_prints_json_equal_to_the_python_api(plant: PlantLake) -> None:
    lot = plant.finished_lots()[0]
    result = CliRunner().invoke(trace_command, [lot, "--direction", "backward", "--format", "json"],
                                obj=Lake(plant.lake.root))
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["root"] == lot and document["direction"] == "backward"
    edges = pl.from_arrow(plant.lake.read_arrow("fct_genealogy_edges"))
    assert isinstance(edges, pl.DataFrame)
    expected = trace(edges, lot, "backward")
    assert {n["node_id"] for n in document["nodes"]} == set(expected.nodes["node_id"])
    assert len(document["edges"]) == expected.edges.height


def test_recall_writes_csv_to_a_file(plant: PlantLake, tmp_path: Path) -> None:
    supplier_lot = next(n for n in sorted(plant.truth_graph().nodes) if n.startswith("SUP:"))
    target = tmp_path / "recall.csv"
    result = CliRunner().invoke(recall_command, [supplier_lot.removeprefix("SUP:"), "--format", "csv",
                                                 "--output", str(target)], obj=Lake(plant.lake.root))
    assert result.exit_code == 0, result.output
    written = pl.read_csv(target)
    assert written.columns == ["lot", "shipment_id", "customer_id", "quantity", "unit", "occurred_at",
                               "supplier_share"]


def test_missing_table_and_unknown_lot_are_clear_errors(plant: PlantLake, tmp_path: Path) -> None:
    empty = CliRunner().invoke(main, ["--lake", str(tmp_path / "nolake"), "trace", "LOT-1"])
    assert empty.exit_code == 1 and "run `plantlake run`" in empty.output and empty.output.count("\n") == 1
    unknown = CliRunner().invoke(main, ["--lake", str(plant.lake.root), "trace", "NO-SUCH-LOT"])
    assert unknown.exit_code == 1 and "NO-SUCH-LOT" in unknown.output and "Traceback" not in unknown.output


def test_the_index_is_saved_per_table_version_and_loads_equal(plant: PlantLake) -> None:
    index = lake_index(plant.lake)
    path = index_path(plant.lake.root, plant.lake.version("fct_genealogy_edges"))
    assert path.is_file()
    loaded = load_index(path)
    rebuilt = GenealogyIndex.build(index.rows)
    for name, array in rebuilt.arrays().items():
        assert np.array_equal(loaded.arrays()[name], array, equal_nan=True), name
    assert loaded.rows.equals(rebuilt.rows)
