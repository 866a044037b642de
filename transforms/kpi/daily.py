"""Every KPI of `kpi_daily`, computed from one set of input frames (pure: frames in, long frames out)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from transforms.kpi.cycle_counts import inventory_accuracy, inventory_accuracy_quantity
from transforms.kpi.delivery import in_full_delivery, on_time_delivery, otif
from transforms.kpi.equipment import equipment_kpis
from transforms.kpi.inventory import days_of_supply, inventory_turns, wip_level
from transforms.kpi.logistics import dock_to_stock_time, material_supply_lead_time, receipts_awaiting_putaway
from transforms.kpi.production import production_lead_time, schedule_adherence, schedule_adherence_in_full
from transforms.kpi.quality import first_pass_yield, rework_ratio, scrap_ratio

Frame = nw.LazyFrame[Any]


@dataclass(frozen=True)
class KpiInputs:
    """Lazy frames of one engine: gold OEE, MES and WMS bronze, the ledger and master data."""
    oee_by_machine_shift: Frame
    calendar_days: Frame          # day, calendar_day_s
    work_order_events: Frame      # bronze.mes_work_order_events
    inspections: Frame            # bronze.mes_quality_inspections
    wms_transactions: Frame       # bronze.wms_transactions
    ledger: Frame                 # gold.fct_inventory_ledger
    machines: Frame               # silver.dim_machine
    locations: Frame              # silver.dim_location
    material_codes: Frame         # silver.map_material_code
    plant_timezone: str


def kpi_families(inputs: KpiInputs) -> dict[str, Callable[[], Frame]]:
    """Each KPI family as a thunk, so a caller can compute, time and report them one by one."""
    i, tz = inputs, inputs.plant_timezone
    days = i.calendar_days.select("day")
    return {
        "equipment": lambda: equipment_kpis(i.oee_by_machine_shift, i.calendar_days),
        "production": lambda: nw.concat([f(i.work_order_events, plant_timezone=tz) for f in (
            production_lead_time, schedule_adherence, schedule_adherence_in_full)], how="vertical"),
        "quality": lambda: nw.concat([f(i.inspections, i.machines, plant_timezone=tz, scope="line") for f in (
            first_pass_yield, scrap_ratio, rework_ratio)], how="vertical"),
        "logistics": lambda: nw.concat([
            material_supply_lead_time(i.wms_transactions, i.locations, i.material_codes, plant_timezone=tz),
            dock_to_stock_time(i.wms_transactions, i.material_codes, plant_timezone=tz),
            receipts_awaiting_putaway(i.wms_transactions, i.material_codes, plant_timezone=tz)], how="vertical"),
        "delivery": lambda: nw.concat([f(i.wms_transactions, plant_timezone=tz) for f in (
            on_time_delivery, in_full_delivery, otif)], how="vertical"),
        "inventory_accuracy": lambda: nw.concat([
            inventory_accuracy(i.wms_transactions, i.material_codes, plant_timezone=tz),
            inventory_accuracy_quantity(i.wms_transactions, i.material_codes, plant_timezone=tz)], how="vertical"),
        "inventory": lambda: nw.concat([
            inventory_turns(i.ledger, days, plant_timezone=tz), days_of_supply(i.ledger, days, plant_timezone=tz),
            wip_level(i.ledger, i.locations, days, plant_timezone=tz)], how="vertical"),
    }
