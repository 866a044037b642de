"""Shared helpers for the genealogy tests: one clean simulated plant landed into a lake (built once per session),
the genealogy edges built from its bronze tables, and the simulator's truth as a networkx graph."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import networkx as nx
import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow, lazy_frame
from transforms.genealogy.edges import genealogy_edges

BRONZE_INPUTS = {"consumption": "mes_material_consumption", "lot_events": "mes_lot_events",
                 "wms_transactions": "wms_transactions"}
UTC = timezone.utc
_PLANTS: dict[str, PlantLake] = {}


@dataclass(frozen=True)
class PlantLake:
    lake: DeltaLake
    landing: Path

    def bronze_inputs(self) -> dict[str, pa.Table]:
        return {argument: self.lake.read_arrow(table) for argument, table in BRONZE_INPUTS.items()}

    def edges(self) -> pl.DataFrame:
        frames = {argument: lazy_frame(table) for argument, table in self.bronze_inputs().items()}
        edges = pl.from_arrow(collect_arrow(genealogy_edges(**frames)))
        assert isinstance(edges, pl.DataFrame)
        return edges

    def truth_edges(self) -> pl.DataFrame:
        return pl.read_parquet(self.landing / "truth" / "genealogy_edges.parquet")

    def truth_graph(self) -> nx.DiGraph:
        truth = self.truth_edges()
        graph = nx.DiGraph()
        graph.add_edges_from(zip(truth["parent_lot_id"].to_list(), truth["child_lot_id"].to_list(), strict=True))
        return graph

    def finished_lots(self) -> list[str]:
        """Lots of finished materials according to the truth's movements and the master data."""
        materials = pl.read_csv(self.landing / "master" / "materials.csv")
        finished = materials.filter(pl.col("material_type") == "finished")["material_id"].to_list()
        movements = pl.read_parquet(self.landing / "truth" / "movements.parquet")
        return sorted(movements.filter(pl.col("material_id").is_in(finished))["lot_id"].drop_nulls().unique().to_list())

    def shipment_customers(self) -> dict[str, str]:
        """SHP:<shipment id> -> customer, from the WMS shipment files as delivered (the truth has no customer)."""
        files = sorted((self.landing / "wms" / "shipments").glob("*.csv"))
        shipments = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
        pairs = shipments.select("shipment_id", "customer_id").unique()
        return {f"SHP:{s}": c for s, c in pairs.iter_rows()}


def clean_plant_lake(base: Path) -> PlantLake:
    """Simulate a clean 5-day plant (2 lines x 3 machines, seed 11), land master data and files (cached)."""
    key = "clean"
    if key not in _PLANTS:
        import dagster

        from ingestion.landing import Lander
        from pipelines.master_data.assets import MASTER_DATA_ASSETS
        from pipelines.resources import LakeResource, LandingResource
        from simulator import FaultRates, PlantConfig, simulate

        landing, root = base / "landing", base / "lake"
        simulate(PlantConfig(days=5, lines=2, machines_per_line=3, seed=11, fault_rates=FaultRates.none()), landing)
        result = dagster.materialize(MASTER_DATA_ASSETS, resources={
            "lake": LakeResource(lake_root=str(root)), "landing": LandingResource(source_dir=str(landing))})
        assert result.success
        lake = DeltaLake(root)
        Lander(lake, landing).land_all()
        plant = PlantLake(lake, landing)
        lake.overwrite("fct_genealogy_edges", plant.edges().to_arrow())
        _PLANTS[key] = plant
    return _PLANTS[key]


def hand_edges(rows: list[tuple[str, str, str, float, int]], *, work_order: str | None = "WO-1",
               material: str | None = None) -> pl.DataFrame:
    """fct_genealogy_edges rows from (parent, child, edge_type, quantity, hour) tuples. The material is the name
    before '#' ('A#1' and 'A#2' are two lots of material A): the parent's for consumption, receipt and shipment
    edges (what was consumed, received, shipped), the child's for splits and merges (as MES reports them)."""
    start = datetime(2026, 1, 5, tzinfo=UTC)
    records = []
    for i, (parent, child, edge_type, quantity, hour) in enumerate(rows):
        records.append({
            "edge_id": f"{edge_type}:E{i}:{parent}:{child}", "parent_node_id": parent, "child_node_id": child,
            "edge_type": edge_type, "work_order_id": work_order if edge_type == "consumption" else None,
            "machine_id": None, "material_code": material or (child if edge_type in ("split", "merge") else parent).split("#")[0], "quantity": quantity,
            "unit": "EA", "occurred_at": start + timedelta(hours=hour), "supplier_id": None, "customer_id": None,
            "source_event_id": f"E{i}"})
    return pl.DataFrame(records, schema_overrides={"occurred_at": pl.Datetime("us", "UTC"),
                                                   "work_order_id": pl.String, "machine_id": pl.String,
                                                   "supplier_id": pl.String, "customer_id": pl.String})
