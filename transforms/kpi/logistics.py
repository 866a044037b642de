"""Warehouse logistics KPIs from WMS transactions: material supply lead time to the lines, dock-to-stock time.

`wms_transactions` (bronze wms_transactions): transaction_type, occurred_at, material_code, lot_code,
to_location_code, requested_at (ISSUE). Material scopes use `material_codes` (map_material_code, system WMS);
line scopes use `locations` (dim_location: wms_location_code, line_id).

Dock-to-stock follows a received lot (lot_code) from its first RECEIPT to its first PUTAWAY at or after that
receipt. A receipt not yet put away has no dock-to-stock time: it is counted by `receipts_awaiting_putaway`
on its receipt day, never dropped.
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals as nw

from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day, seconds_between
from transforms.kpi.scopes import with_line_of_location, with_material_scope

Frame = nw.LazyFrame[Any]


def material_supply_lead_time(wms_transactions: Frame, locations: Frame | None = None,
                              material_codes: Frame | None = None, *, plant_timezone: str,
                              scope: Literal["line", "material"] = "line") -> Frame:
    """material_supply_lead_time: seconds from request to arrival line-side (ISSUE occurred_at - requested_at)
    / issues with a request time; day = arrival day; scope = the line of the destination, or the material."""
    issues = (wms_transactions.filter((nw.col("transaction_type") == "ISSUE") & ~nw.col("requested_at").is_null())
              .with_columns(plant_day("occurred_at", plant_timezone).alias("day")))
    if scope == "line":
        if locations is None:
            raise ValueError("scope 'line' needs locations (wms_location_code, line_id)")
        scoped = with_line_of_location(issues, locations, code_column="to_location_code")
    elif scope == "material":
        if material_codes is None:
            raise ValueError("scope 'material' needs material_codes (map_material_code)")
        scoped = with_material_scope(issues, material_codes, system="WMS")
    else:
        raise ValueError(f"scope must be line or material, got {scope!r}")
    return kpi_rows(scoped, kpi="material_supply_lead_time", scope_type=scope,
                    numerator=seconds_between("requested_at", "occurred_at"), denominator=nw.lit(1.0))


def receipts_with_putaway(wms_transactions: Frame) -> Frame:
    """One row per received lot: lot_code, material_code, received_at (first receipt) and put_away_at (first
    putaway at or after it; null while the lot waits at the dock)."""
    kind = nw.col("transaction_type")
    receipts = (wms_transactions.filter((kind == "RECEIPT") & ~nw.col("lot_code").is_null())
                .group_by("lot_code").agg(nw.col("occurred_at").min().alias("received_at"),
                                          nw.col("material_code").max()))
    putaways = wms_transactions.filter(kind == "PUTAWAY").select("lot_code", nw.col("occurred_at").alias("put_away_at"))
    first_putaway = (receipts.join(putaways, on="lot_code", how="inner")
                     .filter(nw.col("put_away_at") >= nw.col("received_at"))
                     .group_by("lot_code").agg(nw.col("put_away_at").min()))
    return receipts.join(first_putaway, on="lot_code", how="left")


def dock_to_stock_time(wms_transactions: Frame, material_codes: Frame, *, plant_timezone: str) -> Frame:
    """dock_to_stock_time: seconds from receipt to first putaway / lots put away; day = putaway day."""
    lots = receipts_with_putaway(wms_transactions).filter(~nw.col("put_away_at").is_null())
    scoped = with_material_scope(lots.with_columns(plant_day("put_away_at", plant_timezone).alias("day")),
                                 material_codes, system="WMS")
    return kpi_rows(scoped, kpi="dock_to_stock_time", scope_type="material",
                    numerator=seconds_between("received_at", "put_away_at"), denominator=nw.lit(1.0))


def receipts_awaiting_putaway(wms_transactions: Frame, material_codes: Frame, *, plant_timezone: str) -> Frame:
    """receipts_awaiting_putaway: received lots not put away by the end of the data / received lots;
    day = receipt day (the numerator is the open count)."""
    lots = receipts_with_putaway(wms_transactions).with_columns(
        plant_day("received_at", plant_timezone).alias("day"))
    scoped = with_material_scope(lots, material_codes, system="WMS")
    return kpi_rows(scoped, kpi="receipts_awaiting_putaway", scope_type="material",
                    numerator=nw.when(nw.col("put_away_at").is_null()).then(1.0).otherwise(0.0),
                    denominator=nw.lit(1.0))
