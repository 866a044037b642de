"""Acceptance 5 on a lake: `Lake.machine_lots`, `operator_lots`, `machine_recall` and `plantlake lots` answer from
the lake's own tables what the simulator's truth (its operations, genealogy edges and shipments, read here
independently of the flow transforms) says: which lots a machine made in a window, which lots an operator
touched, and which shipments and customers a recall from a machine and a window must reach."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.run import run_everything
from plantlake import Lake
from plantlake.cli import main
from simulator import FaultRates, PlantConfig, simulate


@pytest.fixture(scope="module")
def plant_and_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    plant = tmp_path_factory.mktemp("lots_plant")
    simulate(PlantConfig(days=5, lines=1, machines_per_line=3, seed=11, fault_rates=FaultRates.none()), plant)
    root = tmp_path_factory.mktemp("lots_lake")
    outcome = run_everything(lake_root=root, source_dir=plant, echo=lambda _: None)
    assert outcome.success, outcome.failure
    return plant, root


def truth_output_lots(plant: Path) -> pl.DataFrame:
    """(work_order_id, lot_id): the lots each work order produced, from the truth's consumption edges."""
    edges = pl.read_parquet(plant / "truth" / "genealogy_edges.parquet")
    return (edges.filter((pl.col("edge_type") == "consumption") & pl.col("work_order_id").is_not_null())
            .select("work_order_id", pl.col("child_lot_id").alias("lot_id")).unique())


def truth_forward_shipments(plant: Path, lots: set[str]) -> set[str]:
    """Every shipment id reachable from `lots` along the truth's edges (breadth first, any depth)."""
    edges = pl.read_parquet(plant / "truth" / "genealogy_edges.parquet").select("parent_lot_id", "child_lot_id")
    children: dict[str, list[str]] = {}
    for parent, child in edges.iter_rows():
        children.setdefault(parent, []).append(child)
    seen, frontier = set(lots), list(lots)
    while frontier:
        node = frontier.pop()
        for child in children.get(node, []):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return {node.removeprefix("SHP:") for node in seen if node.startswith("SHP:")}


def test_machine_window_lots_operator_lots_and_machine_recall_equal_the_truth(plant_and_lake) -> None:  # noqa: ANN001
    plant, root = plant_and_lake
    lake = Lake(root)
    operations = pl.read_parquet(plant / "truth" / "operations.parquet")
    outputs = truth_output_lots(plant)
    start = operations["started_at"].min() + timedelta(days=1)
    end = start + timedelta(days=1)
    checked_recalls = machines_with_lots = 0
    for machine in sorted(operations["machine_id"].unique()):
        inside = operations.filter((pl.col("machine_id") == machine) & (pl.col("ended_at") > start)
                                   & (pl.col("started_at") < end))
        expected = inside.join(outputs, on="work_order_id").select("lot_id", "work_order_id", "operator_id")
        ours = lake.machine_lots(machine, start=start, end=end)
        machines_with_lots += ours.height > 0
        assert (sorted(ours.select("lot_id", "work_order_id", "operator_id").rows())
                == sorted(expected.rows())), machine

        recall = lake.machine_recall(machine, start=start, end=end)
        shipments = truth_forward_shipments(plant, set(expected["lot_id"]))
        assert set(recall["shipment_id"]) == shipments, machine
        customers = (pl.read_parquet(plant / "truth" / "shipments.parquet")
                     .filter(pl.col("shipment_id").is_in(list(shipments)))["customer_id"])
        assert set(recall["customer_id"]) == set(customers), machine
        checked_recalls += bool(shipments)
    assert machines_with_lots >= 2, "the window holds too few operations to test anything"
    assert checked_recalls > 0, "no machine's window reached a shipment: the recall was never exercised"

    for operator in sorted(operations["operator_id"].unique()):
        expected_lots = set(operations.filter(pl.col("operator_id") == operator)
                            .join(outputs, on="work_order_id")["lot_id"])
        ours = lake.operator_lots(operator)
        assert set(ours["lot_id"]) == expected_lots and expected_lots, operator


def test_plantlake_lots_prints_what_the_api_returns_and_refuses_mistakes(plant_and_lake) -> None:  # noqa: ANN001
    plant, root = plant_and_lake
    operations = pl.read_parquet(plant / "truth" / "operations.parquet")
    machine = operations["machine_id"].sort()[0]
    start = (operations["started_at"].min() + timedelta(days=1)).isoformat()
    end = (operations["started_at"].min() + timedelta(days=2)).isoformat()

    def cli(*args: str):  # noqa: ANN202
        return CliRunner().invoke(main, ["--lake", str(root), "lots", *args])

    made = cli("--machine", machine, "--from", start, "--to", end, "--format", "json")
    assert made.exit_code == 0, made.output
    api = Lake(root).machine_lots(machine, start=start, end=end)
    assert sorted(r["lot_id"] for r in json.loads(made.stdout)) == sorted(api["lot_id"])
    recall = cli("--machine", machine, "--from", start, "--to", end, "--recall", "--format", "json")
    assert recall.exit_code == 0, recall.output
    assert {r["shipment_id"] for r in json.loads(recall.stdout)} == set(
        Lake(root).machine_recall(machine, start=start, end=end)["shipment_id"])

    assert cli("--machine", machine, "--operator", "X").exit_code == 2
    unknown = cli("--machine", "NO-SUCH-MACHINE")
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert unknown.output.strip() == "Error: machine 'NO-SUCH-MACHINE' ran no operation in gold.fct_operation_flow"
