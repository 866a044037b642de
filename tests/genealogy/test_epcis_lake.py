"""EPCIS 2.0 out of a lake: one small clean simulated plant (built once for this module), exported as a whole
period, a day, traces and a recall; every document valid against GS1's official EPCIS 2.0 JSON schema
(tests/genealogy/epcis/, no network), read back into the same genealogy, and the recall's lots, shipments and
customers the same as `recall()`'s."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pyarrow as pa
import pytest

from lakehouse.delta_io import DeltaLake
from plantlake import Lake
from plantlake.epcis import epcis_json, export_epcis, export_recall_epcis, export_trace_epcis
from simulator.master_data import material_gtin
from transforms.genealogy.edges import SHIPMENT_PREFIX, SUPPLIER_PREFIX
from transforms.genealogy.epcis import EpcisExportError, EpcisOptions, edges_from_epcis, epcis_document
from transforms.genealogy.epcis_ids import has_valid_check_digit, parse_lot_class_uri

SCHEMA = Path(__file__).parent / "epcis" / "EPCIS-JSON-Schema.json"
CREATED = datetime(2026, 1, 12, 8, 0, tzinfo=timezone.utc)
KEY = ["parent_node_id", "child_node_id", "edge_type"]


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()),
                                           format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Path]:
    from simulator import FaultRates, PlantConfig, simulate

    base = tmp_path_factory.mktemp("epcis_plant")
    landing, root = base / "landing", base / "lake"
    simulate(PlantConfig(days=5, lines=1, machines_per_line=2, seed=3, fault_rates=FaultRates.none()), landing)
    outcome = Lake(root).run(landing, echo=lambda _: None)
    assert outcome.success, outcome
    return Lake(root), landing


def summed(edges: pl.DataFrame) -> pl.DataFrame:
    return (edges.group_by(KEY).agg(pl.col("quantity").sum(), pl.col("unit").first(), pl.col("occurred_at").first(),
                                    pl.col("customer_id").first(), pl.col("supplier_id").first())
            .sort(KEY))


def assert_same_genealogy(document: dict[str, Any], edges: pl.DataFrame, lake: Lake) -> None:
    """The events read back give the edges: parent, child, type, quantity (and unit, time, parties)."""
    back = edges_from_epcis(json.loads(epcis_json(document)), materials=lake.read("dim_material"),
                            options=EpcisOptions(timezone="Europe/Berlin"))
    ours, theirs = summed(edges), summed(back)
    assert theirs.select(KEY).equals(ours.select(KEY))
    assert theirs["quantity"].to_list() == pytest.approx(ours["quantity"].to_list(), rel=1e-9)
    for column in ("unit", "occurred_at", "customer_id", "supplier_id"):
        assert theirs[column].to_list() == ours[column].to_list(), column


def lots_in(document: dict[str, Any]) -> set[str]:
    lists = ("quantityList", "inputQuantityList", "outputQuantityList")
    return {parse_lot_class_uri(q["epcClass"])[1] for e in document["epcisBody"]["eventList"] for name in lists
            for q in e.get(name, [])}


def test_the_lake_materials_carry_the_simulated_gtins(plant: tuple[Lake, Path]) -> None:
    lake, _ = plant
    materials = lake.read("dim_material")
    assert lake.schema("dim_material").field("gtin").type == pa.string()
    for material, gtin in materials.select("material_id", "gtin").iter_rows():
        assert gtin == material_gtin(material) and has_valid_check_digit(gtin), material


def test_the_whole_period_is_valid_epcis_and_reads_back_as_the_lake_genealogy(plant: tuple[Lake, Path]) -> None:
    lake, _ = plant
    document = export_epcis(lake, creation_date=CREATED)
    assert schema_errors(document) == []
    edges = lake.read("fct_genealogy_edges")
    assert set(edges["edge_type"]) == {"receipt", "consumption", "split", "merge", "shipment"}
    assert_same_genealogy(document, edges, lake)
    events = document["epcisBody"]["eventList"]
    receipts = edges.filter(pl.col("edge_type") == "receipt").height
    work_orders = edges.filter(pl.col("edge_type") == "consumption")["work_order_id"].n_unique()
    assert sum(e["bizStep"] == "receiving" for e in events) == receipts
    assert sum(e["bizStep"] == "commissioning" for e in events) == work_orders  # one event per work order here
    assert {e["eventTimeZoneOffset"] for e in events} == {"+01:00"}  # January in the plant's Europe/Berlin
    assert all(e["eventTime"].endswith("Z") for e in events)


def test_a_day_exports_only_that_days_edges(plant: tuple[Lake, Path]) -> None:
    lake, _ = plant
    document = export_epcis(lake, "2026-01-07", "2026-01-07", creation_date=CREATED)
    assert schema_errors(document) == []
    day = lake.read("fct_genealogy_edges").filter(pl.col("occurred_at").dt.date() == datetime(2026, 1, 7).date())
    assert day.height > 0
    assert_same_genealogy(document, day, lake)
    with pytest.raises(Exception, match="ends .* before it starts"):
        export_epcis(lake, "2026-01-08", "2026-01-07")


@pytest.mark.parametrize("direction", ["backward", "forward", "both"])
def test_traces_are_valid_epcis_and_read_back_as_the_trace_edges(plant: tuple[Lake, Path], direction: str) -> None:
    lake, _ = plant
    edges = lake.read("fct_genealogy_edges")
    if direction == "forward":
        lot = edges.filter(pl.col("edge_type") == "receipt").sort("occurred_at")["child_node_id"][0]
    else:
        lot = edges.filter(pl.col("edge_type") == "shipment").sort("occurred_at")["parent_node_id"][-1]
    result = lake.trace_result(lot, direction=direction)  # type: ignore[arg-type]
    document = export_trace_epcis(lake, lot, direction=direction, creation_date=CREATED)  # type: ignore[arg-type]
    assert schema_errors(document) == []
    assert len(document["epcisBody"]["eventList"]) > 1
    assert_same_genealogy(document, result.edges, lake)
    assert lot in lots_in(document)


def test_a_recall_as_epcis_lists_the_recall_lots_shipments_and_customers(plant: tuple[Lake, Path]) -> None:
    lake, _ = plant
    edges = lake.read("fct_genealogy_edges")
    recalls = [lake.recall_result(node) for node in sorted(set(edges.filter(pl.col("edge_type") == "receipt")
                                                                 ["parent_node_id"]))]
    recall = max(recalls, key=lambda r: (len(r.customers), r.shipments.height, len(r.affected_lots)))
    assert recall.customers and recall.shipments.height
    document = export_recall_epcis(lake, recall.supplier_lot, creation_date=CREATED)
    assert schema_errors(document) == []
    assert_same_genealogy(document, recall.trace.edges, lake)
    events = document["epcisBody"]["eventList"]
    receipt = next(e for e in events if e["bizStep"] == "receiving"
                   and e["ilmd"]["plantlake:supplierLot"].endswith("/10/" + recall.supplier_lot.removeprefix(
                       SUPPLIER_PREFIX)))
    assert parse_lot_class_uri(receipt["quantityList"][0]["epcClass"])[1] in recall.affected_lots
    assert lots_in(document) == set(recall.affected_lots)
    shipping = [e for e in events if e["bizStep"] == "shipping"]
    shipped = {(parse_lot_class_uri(q["epcClass"])[1], t["bizTransaction"].rsplit(":", 1)[1],
                e["destinationList"][0]["destination"].rsplit("/", 1)[1])
               for e in shipping for q in e["quantityList"] for t in e["bizTransactionList"]}
    assert shipped == set(recall.shipments.select("lot", "shipment_id", "customer_id").iter_rows())
    assert {c for _, _, c in shipped} == set(recall.customers)
    back = edges_from_epcis(document)
    assert sorted(back["customer_id"].drop_nulls().unique()) == recall.customers
    assert set(back.filter(pl.col("edge_type") == "shipment")["child_node_id"].str.strip_prefix(SHIPMENT_PREFIX)) \
        == set(recall.shipments["shipment_id"])


def test_the_epc_uri_form_is_valid_too(plant: tuple[Lake, Path]) -> None:
    lake, _ = plant
    options = EpcisOptions(id_format="epc")
    document = export_epcis(lake, options=options, creation_date=CREATED)
    assert schema_errors(document) == []
    event = document["epcisBody"]["eventList"][0]
    assert event["quantityList"][0]["epcClass"].startswith("urn:epc:class:lgtin:9524321.")
    assert event["readPoint"]["id"].startswith("urn:epc:id:sgln:9524321.00001.")
    back = edges_from_epcis(document, options=options)
    assert back.height == summed(lake.read("fct_genealogy_edges")).height


def test_an_older_landing_without_gtins_loads_and_its_export_fails_clearly(plant: tuple[Lake, Path],
                                                                           tmp_path: Path) -> None:
    import dagster

    from pipelines.master_data.assets import MASTER_DATA_ASSETS
    from pipelines.resources import LakeResource, LandingResource

    lake, landing = plant
    old = tmp_path / "landing"
    shutil.copytree(landing / "master", old / "master")
    materials = pl.read_csv(old / "master" / "materials.csv", infer_schema=False)
    materials.drop("gtin").write_csv(old / "master" / "materials.csv")
    result = dagster.materialize(MASTER_DATA_ASSETS, resources={
        "lake": LakeResource(lake_root=str(tmp_path / "lake")), "landing": LandingResource(source_dir=str(old))})
    assert result.success
    loaded = pl.from_arrow(DeltaLake(tmp_path / "lake").read_arrow("dim_material"))
    assert isinstance(loaded, pl.DataFrame) and loaded["gtin"].null_count() == loaded.height
    with pytest.raises(EpcisExportError, match="materials without a GTIN cannot be identified in EPCIS: FG-"):
        epcis_document(lake.read("fct_genealogy_edges"), loaded, material_codes=lake.read("map_material_code"),
                       produced_lots=lake.read("mes_lot_events"))


def test_the_cli_exports_a_trace_a_recall_and_a_period_as_valid_epcis(plant: tuple[Lake, Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from plantlake.cli import main

    lake, _ = plant
    edges = lake.read("fct_genealogy_edges")
    shipped_lot = edges.filter(pl.col("edge_type") == "shipment")["parent_node_id"][0]
    supplier_lot = edges.filter(pl.col("edge_type") == "receipt")["parent_node_id"][0]
    first_day = edges["occurred_at"].min().date().isoformat()
    runner, root = CliRunner(), str(lake.root)
    trace = runner.invoke(main, ["--lake", root, "trace", shipped_lot, "--format", "epcis"])
    recall = runner.invoke(main, ["--lake", root, "recall", supplier_lot, "--format", "epcis"])
    period = runner.invoke(main, ["--lake", root, "export", "epcis", "--from", first_day, "--to", first_day,
                                  "--output", str(tmp_path / "day.jsonld")])
    for result in (trace, recall, period):
        assert result.exit_code == 0, result.output
    for document in (json.loads(trace.stdout), json.loads(recall.stdout),
                     json.loads((tmp_path / "day.jsonld").read_text())):
        assert schema_errors(document) == [] and document["epcisBody"]["eventList"]
    assert {e["bizStep"] for e in json.loads(recall.stdout)["epcisBody"]["eventList"]} >= {"receiving"}
    bad = runner.invoke(main, ["--lake", root, "export", "epcis", "--to", "yesterday"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
