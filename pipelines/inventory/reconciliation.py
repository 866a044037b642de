"""MES <-> WMS reconciliation (gold): named differences per work order, material and lot."""

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.engines import collect_arrow
from pipelines.checks import table_key
from pipelines.resources import LakeResource
from transforms.reconciliation import reconciliation
from transforms.units import unit_factors_to_base

QUARANTINES = ("quarantine_mes_events", "quarantine_wms_transactions")


MOVEMENT_RECORDS = ("material_consumed", "ISSUE", "RETURN")


def quarantined_payloads(lake: DeltaLake) -> pl.Series:
    """Raw payloads of quarantined records that could have carried a material movement (or that were too
    broken to tell)."""
    kind = pl.coalesce(pl.col("record_type"), pl.col("raw_payload").str.extract(r'"event_type":\s*"([^"]+)"'))
    frames = [lake.scan(t).filter(kind.is_null() | kind.is_in(MOVEMENT_RECORDS)).select("raw_payload").collect()
              for t in QUARANTINES if lake.exists(t)]
    return pl.concat(frames)["raw_payload"] if frames else pl.Series("raw_payload", [], pl.String)


def quarantined_references(lake: DeltaLake, lots: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Work orders and lots named in quarantined movement records (their reports exist but were rejected)."""
    payloads = quarantined_payloads(lake)
    orders = (payloads.str.extract(r'"work_order_id":\s*"([^"]+)"').drop_nulls().unique()
              .alias("work_order_id").to_frame())
    named = [lot for lot in lots if payloads.str.contains(lot, literal=True).any()]
    return orders, pl.DataFrame({"lot_id": named}, schema={"lot_id": pl.String})


@dg.asset(key=table_key("reconciliation_differences"), group_name="inventory",
          deps=[table_key("fct_inventory_ledger"), table_key("mes_work_order_events"), table_key("dim_bom")],
          description=CATALOG["reconciliation_differences"].description, kinds={"delta", "polars", "spark"},
          owners=["team:plant-data"])
def reconciliation_differences(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    orders = delta.scan("mes_work_order_events")
    releases = orders.filter(pl.col("event_type") == "work_order_released").select(
        "work_order_id", "material_code", "planned_quantity", "unit", "occurred_at").collect()
    started = orders.filter(pl.col("event_type") == "work_order_started").select("work_order_id").collect()
    ledger_lots = delta.scan("fct_inventory_ledger").select(pl.col("lot_id").unique()).collect()["lot_id"].to_list()
    quarantined_orders, quarantined_lots = quarantined_references(delta, ledger_lots)
    f = lake.frames("fct_inventory_movements", "fct_inventory_ledger", "map_material_code", "dim_bom")
    local = {name: lake.frame(frame.to_arrow()) for name, frame in (
        ("releases", releases), ("started", started), ("orders", quarantined_orders), ("lots", quarantined_lots))}
    factors = lake.frame(unit_factors_to_base(delta.read_arrow("dim_material"), delta.read_arrow("dim_unit_conversion")))
    differences = reconciliation(f["fct_inventory_movements"], f["fct_inventory_ledger"], local["releases"],
                                 local["started"], local["orders"], local["lots"], f["map_material_code"], factors,
                                 f["dim_bom"])
    rows = pl.from_arrow(collect_arrow(differences)).with_columns(
        pl.concat_str([pl.col("difference_type"), pl.col("work_order_id").fill_null("-"), pl.col("material_id"),
                       pl.col("lot_id").fill_null("-"), pl.col("occurred_at").cast(pl.String).fill_null("-")],
                      separator=":").alias("difference_id"),
        pl.col("occurred_at").dt.date().alias("event_date"))
    result = delta.overwrite("reconciliation_differences", rows)
    by_type = dict(rows.group_by("difference_type").len().iter_rows())
    return dg.MaterializeResult(metadata={**result.as_metadata(), "differences_by_type": dg.MetadataValue.json(by_type)})
