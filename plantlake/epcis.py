"""EPCIS 2.0 out of a lake: a period's genealogy, a trace or a recall as one GS1 `EPCISDocument` (JSON-LD).

    from plantlake import Lake
    from plantlake.epcis import export_epcis, export_recall_epcis, export_trace_epcis, epcis_json
    document = export_epcis(Lake(), "2026-01-05", "2026-01-09")   # a dict; epcis_json(document) is the text

The events and identifiers are described in `transforms.genealogy.epcis`. The lake gives what the edges alone do
not: material GTINs (silver.dim_material), the MES and WMS material codes (silver.map_material_code), produced
quantities (bronze.mes_lot_events `lot_produced`, the records the consumption edges were built from) and the
plant's time zone (silver.dim_plant). Site GLN, party GLNs and identifier format come from `EpcisOptions`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from lakehouse.errors import QueryError
from plantlake.as_of import as_datetime
from transforms.genealogy.epcis import EpcisExportError, EpcisOptions, epcis_document

if TYPE_CHECKING:
    from plantlake.lake import Lake

__all__ = ["EpcisExportError", "EpcisOptions", "epcis_json", "export_epcis", "export_recall_epcis",
           "export_trace_epcis", "lake_epcis_options"]
EDGES_TABLE = "fct_genealogy_edges"


def export_epcis(lake: Lake, start: datetime | date | str | None = None, end: datetime | date | str | None = None,
                 *, options: EpcisOptions | None = None, creation_date: datetime | None = None) -> dict[str, Any]:
    """Every genealogy edge that happened from `start` (inclusive) to `end` as EPCIS events. A date (or an ISO date
    string) is a whole UTC day: `end="2026-01-09"` includes all of the 9th; a datetime is that moment (inclusive;
    naive means UTC). Without bounds: the whole genealogy."""
    begin, finish = as_datetime(start), _period_end(end)
    if begin is not None and finish is not None and finish < begin:
        raise QueryError(f"the period ends ({finish.isoformat()}) before it starts ({begin.isoformat()})")
    lake._require(EDGES_TABLE)
    bounds = [("occurred_at", op, moment) for op, moment in ((">=", begin), ("<=", finish)) if moment is not None]
    return _document(lake, lake.read(EDGES_TABLE, filters=bounds or None), options, creation_date)


def export_trace_epcis(lake: Lake, lot: str, *, direction: Literal["backward", "forward", "both"] = "backward",
                       max_depth: int | None = None, start: datetime | date | str | None = None,
                       end: datetime | date | str | None = None, options: EpcisOptions | None = None,
                       creation_date: datetime | None = None) -> dict[str, Any]:
    """The edges of `lake.trace_result(lot, ...)` as EPCIS events."""
    result = lake.trace_result(lot, direction=direction, max_depth=max_depth, start=start, end=end)
    return _document(lake, result.edges, options, creation_date)


def export_recall_epcis(lake: Lake, supplier_lot: str, *, options: EpcisOptions | None = None,
                        creation_date: datetime | None = None) -> dict[str, Any]:
    """The recall of a supplier lot as EPCIS events: its receipt, every production, split and merge downstream,
    and every shipment (with the customer as destination)."""
    result = lake.recall_result(supplier_lot)
    return _document(lake, result.trace.edges, options, creation_date)


def epcis_json(document: dict[str, Any]) -> str:
    """The document as JSON-LD text (indented, UTF-8 characters kept)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def lake_epcis_options(lake: Lake, options: EpcisOptions | None = None) -> EpcisOptions:
    """`options` (default: the defaults) with the plant's time zone from silver.dim_plant when it has one and
    the options keep the default UTC."""
    options = options or EpcisOptions()
    if options.timezone == "UTC" and lake.store.exists("dim_plant"):
        zones = lake.read("dim_plant", columns=["plant_timezone"])["plant_timezone"].drop_nulls().unique().to_list()
        if len(zones) == 1:
            options = replace(options, timezone=zones[0])
    return options


def _document(lake: Lake, edges: pl.DataFrame, options: EpcisOptions | None,
              creation_date: datetime | None) -> dict[str, Any]:
    lake._require("dim_material")
    try:
        materials = lake.read("dim_material")
    except KeyError as error:  # the table on disk predates a column the catalog now has
        if "gtin" not in str(error):
            raise
        raise EpcisExportError(f"silver.dim_material in {lake.root} has no gtin column yet: run `plantlake run` "
                               "again to reload the master data") from None
    codes = lake.read("map_material_code") if lake.store.exists("map_material_code") else None
    return epcis_document(edges, materials, material_codes=codes, produced_lots=_produced_lots(lake, edges),
                          options=lake_epcis_options(lake, options), creation_date=creation_date)


def _produced_lots(lake: Lake, edges: pl.DataFrame) -> pl.DataFrame | None:
    """The MES `lot_produced` records of the lots the edges' work orders produced."""
    produced = edges.filter(pl.col("edge_type") == "consumption")["child_node_id"].unique().to_list()
    if not produced or not lake.store.exists("mes_lot_events"):
        return None
    return lake.read("mes_lot_events", columns=["lot_code", "material_code", "quantity", "unit"],
                     filters=[("event_type", "=", "lot_produced"), ("lot_code", "in", produced)])


def _period_end(end: datetime | date | str | None) -> datetime | None:
    if end is None:
        return None
    whole_day = (isinstance(end, date) and not isinstance(end, datetime)) or (
        isinstance(end, str) and "T" not in end and " " not in end.strip())
    moment = as_datetime(end)
    assert moment is not None
    return moment + timedelta(days=1) - timedelta(microseconds=1) if whole_day else moment
