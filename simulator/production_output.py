"""Work order completion: output lots at line side (optionally two lots merged into one,
or one lot split into two), genealogy edges, B2MML actuals and putaway to the warehouse."""

from __future__ import annotations

from .b2mml import material_information, production_performance
from .catalog import MATERIALS_BY_ID
from .master_data import ZONE_BY_MATERIAL_TYPE, line_id, line_side_location
from .plant_state import WorkOrder
from .timeutil import iso_local_us

LOT_MERGE_PROBABILITY = 0.08
LOT_SPLIT_PROBABILITY = 0.12


def complete_work_order(model, work_order: WorkOrder, machine, now: float) -> None:
    spec = MATERIALS_BY_ID[work_order.material_id]
    work_order.completed_at = now
    good = work_order.operation_results[-1].good_quantity
    work_order.good_quantity = good
    line_side = line_side_location(work_order.line_index)
    rng = model.rng_logistics
    merge_draw, split_draw = rng.random(), rng.random()
    if good >= 2 and merge_draw < LOT_MERGE_PROBABILITY:
        sizes = [good // 2, good - good // 2]
    elif good > 0:
        sizes = [good]
    else:
        sizes = []
    produced = [(model.next_id("LOT-", 7), size) for size in sizes]
    for lot_id, size in produced:
        event_id = None
        if not work_order.is_b2mml:
            event_id = model.emit_mes("lot_produced", now, work_order_id=work_order.work_order_id,
                                      machine_id=machine.machine_id, material_code=spec.mes_code, lot_code=lot_id,
                                      quantity=size, unit=spec.mes_unit,
                                      location_code=model.mes_location(work_order.line_index))["event_id"]
        model.record_movement(now, spec.material_id, lot_id, "V-PRODUCTION-OUTPUT", line_side, size,
                              "production", event_id)
        for consumed_lot, _, consumed_quantity, _ in work_order.consumed:
            model.record_edge(consumed_lot, lot_id, "consumption", work_order.work_order_id,
                              work_order.machine_ids[0], consumed_quantity * size / good, now)
    final = list(produced)
    if len(produced) == 2:
        final = [(model.next_id("LOT-", 7), good)]
        _transform(model, work_order, produced, final, "merge", now)
    elif good >= 2 and split_draw < LOT_SPLIT_PROBABILITY:
        first = int(rng.integers(1, good))
        final = [(model.next_id("LOT-", 7), first), (model.next_id("LOT-", 7), good - first)]
        _transform(model, work_order, produced, final, "split", now)
    work_order.produced_lots, work_order.final_lots = produced, final
    for lot_id, size in final:
        model.stage(spec.material_id, lot_id, line_side, size)
        model.schedule(now + float(rng.uniform(900.0, 3600.0)), putaway_production_lot, model, lot_id,
                       spec.material_id, size, work_order.line_index)
    _report_completion(model, work_order, now)
    model.day.work_orders.append(model.work_order_row(work_order))
    if spec.material_type == "semi_finished":
        model.semi_pipeline[spec.material_id] -= work_order.planned_quantity
    del model.work_orders[work_order.work_order_id]


def _transform(model, work_order, sources, targets, kind, now) -> None:
    spec = MATERIALS_BY_ID[work_order.material_id]
    line_side = line_side_location(work_order.line_index)
    location_code = model.mes_location(work_order.line_index)
    if kind == "merge":
        event = model.emit_mes("lot_merged", now, material_code=spec.mes_code,
                               merged_lots=[{"lot_code": lot, "quantity": q} for lot, q in sources],
                               lot_code=targets[0][0], quantity=targets[0][1], unit=spec.mes_unit,
                               location_code=location_code)
    else:
        event = model.emit_mes("lot_split", now, material_code=spec.mes_code, lot_code=sources[0][0],
                               split_lots=[{"lot_code": lot, "quantity": q} for lot, q in targets],
                               unit=spec.mes_unit, location_code=location_code)
    for lot_id, size in sources:
        model.record_movement(now, spec.material_id, lot_id, line_side, "V-LOT-TRANSFORMATION", size, kind,
                              event["event_id"])
    for lot_id, size in targets:
        model.record_movement(now, spec.material_id, lot_id, "V-LOT-TRANSFORMATION", line_side, size, kind,
                              event["event_id"])
    for source_lot, source_size in sources:
        for target_lot, target_size in targets:
            quantity = source_size if kind == "merge" else target_size
            model.record_edge(source_lot, target_lot, kind, work_order.work_order_id, None, quantity, now)


def _report_completion(model, work_order: WorkOrder, now: float) -> None:
    spec = MATERIALS_BY_ID[work_order.material_id]
    scrap = sum(result.scrap_quantity for result in work_order.operation_results)
    work_order.scrap_quantity = scrap
    if not work_order.is_b2mml:
        model.emit_mes("work_order_completed", now, work_order_id=work_order.work_order_id,
                       line_id=line_id(work_order.line_index), good_quantity=work_order.good_quantity,
                       scrap_quantity=scrap, unit=spec.mes_unit)
        return
    stamp = lambda t: iso_local_us(t, model.tz)  # noqa: E731
    consumed = [(MATERIALS_BY_ID[m].mes_code, lot, model.mes_quantity(m, q), MATERIALS_BY_ID[m].mes_unit)
                for lot, m, q, _ in work_order.consumed]
    produced = [(spec.mes_code, lot, q, spec.mes_unit) for lot, q in work_order.produced_lots]
    segments = [(r.operation_seq, r.machine_id, stamp(r.started_at), stamp(r.ended_at))
                for r in work_order.operation_results]
    namespace = work_order.b2mml_namespace
    model.day.b2mml.append((
        f"ProductionPerformance_{work_order.work_order_id}.xml",
        production_performance(namespace, work_order.work_order_id, stamp(now), stamp(work_order.started_at),
                               stamp(now), segments, consumed, produced)))
    model.day.b2mml.append((
        f"MaterialInformation_{work_order.work_order_id}.xml",
        material_information(namespace, f"MI-{work_order.work_order_id}", stamp(now),
                             [(lot, spec.mes_code, q, spec.mes_unit) for lot, q in work_order.final_lots])))


def putaway_production_lot(model, lot_id: str, material_id: str, quantity: int, line_index: int) -> None:
    zone = ZONE_BY_MATERIAL_TYPE[MATERIALS_BY_ID[material_id].material_type]
    bin_id = model.logistics.choose_bin(zone)
    line_side = line_side_location(line_index)
    row = model.emit_wms("PUTAWAY", model.now, material_id, lot_code=lot_id,
                         quantity=model.wms_quantity(material_id, quantity),
                         from_location_code=model.wms_location(line_side), to_location_code=model.wms_location(bin_id))
    model.record_movement(model.now, material_id, lot_id, line_side, bin_id, quantity, "putaway",
                          row["transaction_id"])
    model.unstage(material_id, lot_id, line_side, quantity)
    model.warehouse.put(lot_id, material_id, bin_id, quantity)
