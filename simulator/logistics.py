"""Warehouse logistics: supplier receipts and putaway, bin moves, unreported shrinkage,
cycle counts, customer orders shipped (pick + ship, sometimes short or late) and
end-of-day returns from line side."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, time, timedelta

from .catalog import BOM, MATERIALS_BY_ID, purchased_materials
from .master_data import RECEIVING_DOCK, SHIPPING_DOCK, ZONE_BY_MATERIAL_TYPE, line_side_location
from .shift_calendar import is_working_day
from .timeutil import iso_local_s, local_to_epoch

PLANNED_SECONDS_PER_LINE_DAY = 52200.0
SHORT_ORDER_SHARE = 0.08  # customer orders for more than the stock: shipped short
LATE_PROMISE_SHARE = 0.08  # orders promised earlier than the dock ships them: late
SUPPLIER_LOTS_PER_DELIVERY = 4  # a replenishment delivery arrives as up to this many supplier batches (lots)
SUPPLIER_LOT_GAP_S = 60.0  # between the receipts of one delivery's batches


@dataclass
class OpenShipment:
    customer_id: str
    material_id: str
    ordered: int  # base unit
    due_at: float
    lots_pending: int
    shipped: int = 0  # base unit

    def truth_row(self, shipment_id: str, shipped_at: float | None) -> tuple:
        """A `truth/shipments` row; on-time and in-full are null while not shipped."""
        shipped = shipped_at is not None
        return (shipment_id, self.customer_id, self.material_id, float(self.ordered), float(self.shipped),
                self.due_at, shipped_at, shipped_at <= self.due_at if shipped else None,
                self.shipped >= self.ordered if shipped else None)


def local_times_in_utc_day(model, day: date, local_time: time, working_days_only: bool) -> list[float]:
    """Epoch times of `local_time` on local dates that fall inside the UTC day."""
    start, end = model.calendar.day_start, model.calendar.day_end
    times = []
    for offset in (-1, 0, 1):
        local_day = day + timedelta(days=offset)
        if working_days_only and not is_working_day(local_day):
            continue
        at = local_to_epoch(local_day, local_time, model.tz)
        if start <= at < end:
            times.append(at)
    return times


class Logistics:
    def __init__(self, model):
        self.model = model
        self.stock_targets = self._stock_targets()
        self.open_shipments: dict[str, OpenShipment] = {}

    def _stock_targets(self) -> dict[str, tuple[int, int]]:
        model = self.model
        usage = {}
        for spec in purchased_materials():
            daily = 0.0
            for parent, components in BOM.items():
                for component, per_parent in components:
                    if component == spec.material_id:
                        bottleneck = max(ct for (m, _), ct in model.master.ideal_cycle_time_s.items() if m == parent)
                        daily = max(daily, per_parent * PLANNED_SECONDS_PER_LINE_DAY / bottleneck)
            usage[spec.material_id] = daily * model.cfg.lines
        return {m: (int(2 * u), int(4 * u)) for m, u in usage.items()}

    def schedule_day(self, model, day: date) -> None:
        if day == model.cfg.start_date:
            for at in local_times_in_utc_day(model, day, time(1, 30), False):
                model.schedule(at, self.replenish, True)
        daily = ((time(7, 0), self.replenish, (False,)), (time(10, 0), self.move_lots, ()),
                 (time(11, 0), self.shrinkage, ()), (time(13, 0), self.cycle_count, ()),
                 (time(15, 0), self.ship_orders, ()), (time(22, 15), self.return_line_side, ()))
        for local_time, handler, args in daily:
            for at in local_times_in_utc_day(model, day, local_time, True):
                model.schedule(at, handler, *args)

    def choose_bin(self, zone_id: str) -> str:
        bins = self.model.master.bins_by_zone[zone_id]
        return bins[int(self.model.rng_logistics.integers(len(bins)))]

    @staticmethod
    def receipt_multiple(material_id: str) -> int:
        """Base units a supplier ships in: a pallet, or ten of the WMS handling unit."""
        spec = MATERIALS_BY_ID[material_id]
        return spec.wms_pack_base * (1 if spec.wms_unit == "PAL" else 10)

    def receipt_quantity(self, material_id: str, needed: int) -> int:
        multiple = self.receipt_multiple(material_id)
        return max(1, math.ceil(needed / multiple)) * multiple

    def delivery_batches(self, material_id: str, quantity: int) -> list[int]:
        """A delivery's supplier batches: whole receipt multiples, as even as they split, at most
        `SUPPLIER_LOTS_PER_DELIVERY` of them (a supplier ships what it made in several batches, each with its own
        supplier lot code; one lot per batch is what lets the genealogy tell a bad batch from its delivery)."""
        multiple = self.receipt_multiple(material_id)
        units = max(1, quantity // multiple)
        count = min(SUPPLIER_LOTS_PER_DELIVERY, units)
        return [(units // count + (1 if index < units % count else 0)) * multiple for index in range(count)]

    # --- inbound ----------------------------------------------------------------------
    def replenish(self, initial: bool) -> None:
        model = self.model
        for index, spec in enumerate(purchased_materials()):
            reorder_point, order_up_to = self.stock_targets[spec.material_id]
            position = model.warehouse.available_quantity(spec.material_id)
            if initial or position < reorder_point:
                quantity = self.receipt_quantity(spec.material_id, max(order_up_to - position, 1))
                for batch, batch_quantity in enumerate(self.delivery_batches(spec.material_id, quantity)):
                    model.schedule(model.now + index * 240.0 + batch * SUPPLIER_LOT_GAP_S, self.receive_lot,
                                   spec.material_id, batch_quantity, False)

    def receive_lot(self, material_id: str, quantity: int, expedited: bool) -> None:
        model = self.model
        spec = MATERIALS_BY_ID[material_id]
        lot_id = model.next_id("LOT-", 7)
        supplier_lot = f"{spec.supplier_id.replace('SUP-', 'S')}-{model.next_id('B', 6)}"
        row = model.emit_wms("RECEIPT", model.now, material_id, lot_code=lot_id,
                             quantity=model.wms_quantity(material_id, quantity),
                             to_location_code=model.wms_location(RECEIVING_DOCK), supplier_id=spec.supplier_id,
                             supplier_lot_code=supplier_lot)
        model.record_movement(model.now, material_id, lot_id, "V-SUPPLIER", RECEIVING_DOCK, quantity, "receipt",
                              row["transaction_id"])
        model.record_edge(f"SUP:{supplier_lot}", lot_id, "receipt", None, None, quantity, model.now)
        model.stage(material_id, lot_id, RECEIVING_DOCK, quantity)
        if expedited:
            model.warehouse.lot(lot_id, material_id).available += quantity
            delay = 1200.0
        else:
            delay = float(model.rng_logistics.uniform(1200.0, 5400.0))
        model.schedule(model.now + delay, self.putaway_receipt, lot_id, material_id, quantity, expedited)

    def putaway_receipt(self, lot_id: str, material_id: str, quantity: int, pre_allocated: bool) -> None:
        model = self.model
        bin_id = self.choose_bin(ZONE_BY_MATERIAL_TYPE[MATERIALS_BY_ID[material_id].material_type])
        row = model.emit_wms("PUTAWAY", model.now, material_id, lot_code=lot_id,
                             quantity=model.wms_quantity(material_id, quantity),
                             from_location_code=model.wms_location(RECEIVING_DOCK),
                             to_location_code=model.wms_location(bin_id))
        model.record_movement(model.now, material_id, lot_id, RECEIVING_DOCK, bin_id, quantity, "putaway",
                              row["transaction_id"])
        model.unstage(material_id, lot_id, RECEIVING_DOCK, quantity)
        model.warehouse.put(lot_id, material_id, bin_id, quantity, allocatable=not pre_allocated)

    # --- inside the warehouse ---------------------------------------------------------
    def _pick_stored_lots(self, count: int) -> list[str]:
        stored = self.model.warehouse.stored_lot_ids()
        if not stored:
            return []
        picks = self.model.rng_logistics.choice(len(stored), size=min(count, len(stored)), replace=False)
        return [stored[int(i)] for i in sorted(picks)]

    def move_lots(self) -> None:
        model = self.model
        for lot_id in self._pick_stored_lots(2):
            lot = model.warehouse.lots[lot_id]
            zone = ZONE_BY_MATERIAL_TYPE[MATERIALS_BY_ID[lot.material_id].material_type]
            targets = [b for b in model.master.bins_by_zone[zone] if b != lot.bin_id]
            to_bin = targets[int(model.rng_logistics.integers(len(targets)))]
            row = model.emit_wms("MOVE", model.now, lot.material_id, lot_code=lot_id,
                                 quantity=model.wms_quantity(lot.material_id, lot.physical),
                                 from_location_code=model.wms_location(lot.bin_id),
                                 to_location_code=model.wms_location(to_bin))
            model.record_movement(model.now, lot.material_id, lot_id, lot.bin_id, to_bin, lot.physical, "move",
                                  row["transaction_id"])
            model.warehouse.move(lot_id, to_bin)

    def shrinkage(self) -> None:
        """Unreported loss of one handling unit (damage); found later by cycle counts."""
        model = self.model
        if model.rng_logistics.random() >= model.cfg.fault_rates.unreported_shrinkage:
            return
        candidates = [lot_id for lot_id in model.warehouse.stored_lot_ids()
                      if MATERIALS_BY_ID[model.warehouse.lots[lot_id].material_id].material_type in ("raw", "packaging")
                      and model.warehouse.lots[lot_id].available >= MATERIALS_BY_ID[model.warehouse.lots[lot_id].material_id].wms_pack_base]
        if not candidates:
            return
        lot = model.warehouse.lots[candidates[int(model.rng_logistics.integers(len(candidates)))]]
        pack = MATERIALS_BY_ID[lot.material_id].wms_pack_base
        bin_id = model.warehouse.lose(lot.lot_id, pack)
        model.record_movement(model.now, lot.material_id, lot.lot_id, bin_id, "V-INVENTORY-ADJUSTMENT", pack,
                              "shrinkage", None)
        model.record_fault("unreported_shrinkage", "WMS", model.wms_file("cycle_counts"), lot.lot_id,
                           f"{pack} {MATERIALS_BY_ID[lot.material_id].base_unit} of {lot.lot_id} lost from {bin_id} "
                           f"without a booking; only a later cycle count can find it")

    def cycle_count(self) -> None:
        model = self.model
        for lot_id in self._pick_stored_lots(3):
            lot = model.warehouse.lots[lot_id]
            model.emit_wms("COUNT", model.now, lot.material_id, lot_code=lot_id,
                           from_location_code=model.wms_location(lot.bin_id),
                           counted_quantity=model.wms_quantity(lot.material_id, lot.physical),
                           system_quantity=model.wms_quantity(lot.material_id, lot.book))
            lot.book = lot.physical

    # --- outbound ---------------------------------------------------------------------
    def ship_orders(self) -> None:
        """Customer orders of the day, each picked now and shipped 1-2.5 h later as one shipment.

        The order is for 40-90 % of the stock of the best-stocked finished good; for
        `SHORT_ORDER_SHARE` of orders the customer asks for 5-50 % more than the stock and
        the shipment goes out short. The promised ship time (`due_at`) is at or up to 4 h
        after the ship time, for `LATE_PROMISE_SHARE` of orders 10-120 min before it (late).
        Ship and due times are whole seconds, as the WMS stamps them. The order's promise is drawn
        from the sub-stream `rng_customer_orders`, the rest from the logistics RNG as before."""
        model = self.model
        rng = model.rng_logistics
        finished = sorted(m for m, spec in MATERIALS_BY_ID.items() if spec.material_type == "finished")
        for order in range(int(rng.integers(1, 3))):
            material_id = max(finished, key=lambda m: (model.warehouse.available_quantity(m), m))
            available = model.warehouse.available_quantity(material_id)
            if available == 0:
                continue
            fraction = float(rng.uniform(0.4, 0.9))
            customers = model.master.tables["customers"]
            customer_id = customers[int(rng.integers(len(customers)))]["customer_id"]
            ship_at = model.now + round(float(rng.uniform(3600.0, 9000.0)))
            short_draw, excess, late_draw, promise = (float(x) for x in model.rng_customer_orders.random(4))
            if short_draw < SHORT_ORDER_SHARE:
                ordered = available + max(1, math.ceil(available * (0.05 + 0.45 * excess)))
            else:
                ordered = max(1, int(available * fraction))
            if late_draw < LATE_PROMISE_SHARE:
                due_at = ship_at - round(600.0 + 6600.0 * promise)
            else:
                due_at = ship_at + round(14400.0 * promise)
            quantity = min(ordered, available)
            shipment_id = model.next_id("SHP-", 6)
            order_fields = dict(customer_id=customer_id, shipment_id=shipment_id,
                                ordered_quantity=model.wms_quantity(material_id, ordered),
                                due_at=iso_local_s(due_at, model.tz))
            allocations = model.warehouse.allocate(material_id, quantity)
            self.open_shipments[shipment_id] = OpenShipment(customer_id, material_id, ordered, due_at,
                                                            len(allocations))
            for lot_id, lot_quantity in allocations:
                bin_id = model.warehouse.take(lot_id, lot_quantity)
                row = model.emit_wms("PICK", model.now, material_id, lot_code=lot_id,
                                     quantity=model.wms_quantity(material_id, lot_quantity),
                                     from_location_code=model.wms_location(bin_id),
                                     to_location_code=model.wms_location(SHIPPING_DOCK), **order_fields)
                model.record_movement(model.now, material_id, lot_id, bin_id, SHIPPING_DOCK, lot_quantity, "pick",
                                      row["transaction_id"])
                model.stage(material_id, lot_id, SHIPPING_DOCK, lot_quantity)
                model.schedule(ship_at, self.ship_lot, material_id, lot_id, lot_quantity, order_fields)

    def ship_lot(self, material_id: str, lot_id: str, quantity: int, order_fields: dict[str, str]) -> None:
        model = self.model
        shipment_id = order_fields["shipment_id"]
        row = model.emit_wms("SHIPMENT", model.now, material_id, lot_code=lot_id,
                             quantity=model.wms_quantity(material_id, quantity),
                             from_location_code=model.wms_location(SHIPPING_DOCK), **order_fields)
        model.record_movement(model.now, material_id, lot_id, SHIPPING_DOCK, "V-CUSTOMER", quantity, "shipment",
                              row["transaction_id"])
        model.record_edge(lot_id, f"SHP:{shipment_id}", "shipment", None, None, quantity, model.now)
        model.unstage(material_id, lot_id, SHIPPING_DOCK, quantity)
        shipment = self.open_shipments[shipment_id]
        shipment.shipped += quantity
        shipment.lots_pending -= 1
        if shipment.lots_pending == 0:
            model.day.shipments.append(shipment.truth_row(shipment_id, model.now))
            del self.open_shipments[shipment_id]

    def unshipped_rows(self) -> list[tuple]:
        """Truth rows of shipments picked but not shipped by the end of the simulated period."""
        return [shipment.truth_row(shipment_id, None) for shipment_id, shipment in self.open_shipments.items()]

    def return_line_side(self) -> None:
        """Return whole handling units that no released work order needs any more."""
        model = self.model
        for line_index, side in enumerate(model.line_sides):
            line_side = line_side_location(line_index)
            for material_id in sorted(side.stock):
                pack = MATERIALS_BY_ID[material_id].wms_pack_base
                returnable = min(side.free.get(material_id, 0), side.quantity(material_id)) // pack * pack
                lots = sorted(side.stock[material_id].items(), key=lambda item: (-item[1], item[0]))
                for lot_id, on_hand in lots:
                    quantity = min(on_hand // pack * pack, returnable)
                    if quantity <= 0:
                        continue
                    returnable -= quantity
                    side.take_lot(material_id, lot_id, quantity)
                    side.free[material_id] -= quantity
                    lot = model.warehouse.lot(lot_id, material_id)
                    zone = ZONE_BY_MATERIAL_TYPE[MATERIALS_BY_ID[material_id].material_type]
                    bin_id = lot.bin_id if lot.physical > 0 else self.choose_bin(zone)
                    row = model.emit_wms("RETURN", model.now, material_id, lot_code=lot_id,
                                         quantity=model.wms_quantity(material_id, quantity),
                                         from_location_code=model.wms_location(line_side),
                                         to_location_code=model.wms_location(bin_id))
                    model.record_movement(model.now, material_id, lot_id, line_side, bin_id, quantity, "return",
                                          row["transaction_id"])
                    model.warehouse.put(lot_id, material_id, bin_id, quantity)
