"""Standardization: WMS transactions and MES events become canonical inventory movements.

Codes map to one code system (master-data material code map and location codes), quantities convert to
the material's base unit. A record whose material, unit or location does not map is not a movement: it is
returned by `unmapped_*` with the reason, for quarantine — never dropped, never guessed.

Virtual locations (their ids are master data, location_type 'virtual') stand for the other side of a
movement: suppliers, customers, production consumption and output, lot transformations (splits and merges)
and inventory adjustments (cycle-count differences).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

SUPPLIER, CUSTOMER = "V-SUPPLIER", "V-CUSTOMER"
CONSUMPTION, OUTPUT = "V-PRODUCTION-CONSUMPTION", "V-PRODUCTION-OUTPUT"
TRANSFORMATION, ADJUSTMENT = "V-LOT-TRANSFORMATION", "V-INVENTORY-ADJUSTMENT"
VIRTUAL_LOCATIONS = (SUPPLIER, CUSTOMER, CONSUMPTION, OUTPUT, TRANSFORMATION, ADJUSTMENT, "V-SCRAP")

MOVEMENT_COLUMNS = ["movement_id", "occurred_at", "material_id", "lot_id", "from_location_id", "to_location_id",
                    "quantity", "movement_type", "source_system", "source_event_id", "work_order_id",
                    "reported_material_code", "reported_quantity", "reported_unit"]
Frame = nw.LazyFrame[Any]


def _materials(code_map: Frame, system: str) -> Frame:
    return (code_map.filter(nw.col("system") == system)
            .select(nw.col("system_material_code").alias("material_code"), "material_id"))


def _with_factor(records: Frame, code_map: Frame, factors: Frame, system: str) -> Frame:
    return (records.join(_materials(code_map, system), on="material_code", how="left")
            .join(factors.select("material_id", nw.col("unit"), "factor_to_base"), on=["material_id", "unit"],
                  how="left"))


def _location(locations: Frame, code_column: str, alias: str) -> Frame:
    return (locations.filter(~nw.col(code_column).is_null())
            .select(nw.col(code_column).alias(f"{alias}_code"), nw.col("location_id").alias(f"{alias}_location_id")))


def _wms_mapped(wms: Frame, code_map: Frame, locations: Frame, factors: Frame) -> Frame:
    return (_with_factor(wms, code_map, factors, "WMS")
            .join(_location(locations, "wms_location_code", "from"), left_on="from_location_code",
                  right_on="from_code", how="left")
            .join(_location(locations, "wms_location_code", "to"), left_on="to_location_code",
                  right_on="to_code", how="left"))


def _wms_problem() -> nw.Expr:
    kind = nw.col("transaction_type")
    needs_from = ~kind.is_in(["RECEIPT"])
    needs_to = ~kind.is_in(["SHIPMENT", "COUNT"])
    return (nw.when(nw.col("material_id").is_null()).then(nw.lit("unknown WMS material code"))
            .when(nw.col("factor_to_base").is_null()).then(nw.lit("unit does not convert to the base unit"))
            .when(needs_from & nw.col("from_location_id").is_null()).then(nw.lit("unknown WMS from-location code"))
            .when(needs_to & nw.col("to_location_id").is_null()).then(nw.lit("unknown WMS to-location code"))
            .otherwise(nw.lit(None, nw.String)))


def wms_movements(wms: Frame, code_map: Frame, locations: Frame, factors: Frame) -> Frame:
    """Receipts come from the supplier, shipments go to the customer, cycle counts book the difference
    (counted - system) against the adjustment location; every other type moves from -> to."""
    mapped = _wms_mapped(wms, code_map, locations, factors).filter(_wms_problem().is_null())
    kind = nw.col("transaction_type")
    count_delta = (nw.col("counted_quantity") - nw.col("system_quantity")) * nw.col("factor_to_base")
    is_count = kind == "COUNT"
    quantity = nw.when(is_count).then(count_delta.abs()).otherwise(nw.col("quantity") * nw.col("factor_to_base"))
    source = (nw.when(kind == "RECEIPT").then(nw.lit(SUPPLIER))
              .when(is_count & (count_delta > 0)).then(nw.lit(ADJUSTMENT))
              .otherwise(nw.col("from_location_id")))
    target = (nw.when(kind == "SHIPMENT").then(nw.lit(CUSTOMER))
              .when(is_count & (count_delta > 0)).then(nw.col("from_location_id"))
              .when(is_count).then(nw.lit(ADJUSTMENT))
              .otherwise(nw.col("to_location_id")))
    return (mapped.filter(~is_count | (count_delta != 0)).select(
        nw.concat_str([nw.lit("WMS:"), nw.col("transaction_id")]).alias("movement_id"), "occurred_at", "material_id",
        nw.col("lot_code").alias("lot_id"), source.alias("from_location_id"), target.alias("to_location_id"),
        quantity.alias("quantity"),
        nw.when(is_count).then(nw.lit("count_adjustment")).otherwise(kind.str.to_lowercase()).alias("movement_type"),
        nw.lit("WMS").alias("source_system"), nw.col("transaction_id").alias("source_event_id"), "work_order_id",
        nw.col("material_code").alias("reported_material_code"),
        nw.when(is_count).then(nw.col("counted_quantity") - nw.col("system_quantity"))
        .otherwise(nw.col("quantity")).alias("reported_quantity"),
        nw.col("unit").alias("reported_unit")))


def unmapped_wms(wms: Frame, code_map: Frame, locations: Frame, factors: Frame) -> Frame:
    mapped = _wms_mapped(wms, code_map, locations, factors).with_columns(_wms_problem().alias("reason"))
    return mapped.filter(~nw.col("reason").is_null()).select(
        nw.lit("WMS").alias("source_system"), nw.col("transaction_id").alias("source_event_id"), "occurred_at",
        nw.col("material_code").alias("reported_material_code"), nw.col("unit").alias("reported_unit"),
        nw.coalesce(nw.col("from_location_code"), nw.col("to_location_code")).alias("reported_location_code"),
        "reason")


def _mes_mapped(events: Frame, code_map: Frame, locations: Frame, machines: Frame, factors: Frame) -> Frame:
    """MES records with material, factor and the line-side location: the reported MES location code, or
    (B2MML reports none) the line-side location of the machine's line."""
    line_side = (locations.filter((nw.col("location_type") == "line_side") & ~nw.col("line_id").is_null())
                 .select("line_id", nw.col("location_id").alias("line_location_id")))
    machine_line = machines.select("machine_id", "line_id").join(line_side, on="line_id", how="left")
    return (_with_factor(events, code_map, factors, "MES")
            .join(_location(locations, "mes_location_code", "reported"), left_on="location_code",
                  right_on="reported_code", how="left")
            .join(machine_line.select("machine_id", "line_location_id"), on="machine_id", how="left")
            .with_columns(nw.when(nw.col("location_code").is_null()).then(nw.col("line_location_id"))
                          .otherwise(nw.col("reported_location_id")).alias("location_id")))


def _mes_problem() -> nw.Expr:
    return (nw.when(nw.col("material_id").is_null()).then(nw.lit("unknown MES material code"))
            .when(nw.col("factor_to_base").is_null()).then(nw.lit("unit does not convert to the base unit"))
            .when(nw.col("location_id").is_null()).then(nw.lit("unknown MES location (code or machine line)"))
            .otherwise(nw.lit(None, nw.String)))


def _mes_movement(frame: Frame, movement_id: nw.Expr, lot: str, source: nw.Expr, target: nw.Expr,
                  movement_type: nw.Expr) -> Frame:
    return frame.select(
        movement_id.alias("movement_id"), "occurred_at", "material_id", nw.col(lot).alias("lot_id"),
        source.alias("from_location_id"), target.alias("to_location_id"),
        (nw.col("quantity") * nw.col("factor_to_base")).alias("quantity"), movement_type.alias("movement_type"),
        nw.lit("MES").alias("source_system"), nw.col("event_id").alias("source_event_id"), "work_order_id",
        nw.col("material_code").alias("reported_material_code"), nw.col("quantity").alias("reported_quantity"),
        nw.col("unit").alias("reported_unit"))


def mes_movements(consumption: Frame, lot_events: Frame, code_map: Frame, locations: Frame, machines: Frame,
                  factors: Frame) -> Frame:
    """Consumption leaves line-side for production; produced lots arrive line-side from production; each lot
    relation of a split or merge moves its quantity out of the input lot and into the resulting lot through
    the lot-transformation location."""
    used = _mes_mapped(consumption.with_columns(nw.col("consumed_lot_code").alias("lot_code")),
                       code_map, locations, machines, factors).filter(_mes_problem().is_null())
    lots = _mes_mapped(lot_events, code_map, locations, machines, factors).filter(_mes_problem().is_null())
    produced = lots.filter(nw.col("event_type") == "lot_produced")
    relations = lots.filter(nw.col("event_type") != "lot_produced")
    relation_id = nw.concat_str([nw.lit("MES:"), nw.col("event_id"), nw.lit(":"), nw.col("line_seq").cast(nw.String)])
    kind = nw.when(nw.col("event_type") == "lot_split").then(nw.lit("split")).otherwise(nw.lit("merged"))
    return nw.concat([
        _mes_movement(used, nw.concat_str([nw.lit("MES:"), nw.col("event_id")]), "lot_code", nw.col("location_id"),
                      nw.lit(CONSUMPTION), nw.lit("consumption")),
        _mes_movement(produced, nw.concat_str([nw.lit("MES:"), nw.col("event_id")]), "lot_code", nw.lit(OUTPUT),
                      nw.col("location_id"), nw.lit("production")),
        _mes_movement(relations, nw.concat_str([relation_id, nw.lit(":out")]), "source_lot_code", nw.col("location_id"),
                      nw.lit(TRANSFORMATION), kind),
        _mes_movement(relations, nw.concat_str([relation_id, nw.lit(":in")]), "lot_code", nw.lit(TRANSFORMATION),
                      nw.col("location_id"), kind),
    ], how="vertical")


def unmapped_mes(consumption: Frame, lot_events: Frame, code_map: Frame, locations: Frame, machines: Frame,
                 factors: Frame) -> Frame:
    frames = []
    for frame, lot in ((consumption.with_columns(nw.col("consumed_lot_code").alias("lot_code")), "lot_code"),
                       (lot_events, "lot_code")):
        mapped = _mes_mapped(frame, code_map, locations, machines, factors).with_columns(
            _mes_problem().alias("reason"))
        frames.append(mapped.filter(~nw.col("reason").is_null()).select(
            nw.lit("MES").alias("source_system"), nw.col("event_id").alias("source_event_id"), "occurred_at",
            nw.col("material_code").alias("reported_material_code"), nw.col("unit").alias("reported_unit"),
            nw.col("location_code").alias("reported_location_code"), "reason").unique(
            ["source_system", "source_event_id"]))
    return nw.concat(frames, how="vertical")
