"""What each KPI is, for a CLI or an asset to list and describe them (docs/kpis.md has the formulas).

`KPI_DEFINITIONS` maps the `kpi` value of the long KPI shape to its definition. Every KPI's value is
numerator / denominator after summing both over the rows being combined; `unit` is the unit of that value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KpiDefinition:
    name: str
    description: str
    unit: str  # "s", "ratio" (0..1), "1/year", "days" or "base unit"
    higher_is_better: bool
    iso22400_name: str | None
    scope_types: tuple[str, ...]
    transform: str  # the function in transforms.kpi that computes it


def _define(*definitions: KpiDefinition) -> dict[str, KpiDefinition]:
    return {d.name: d for d in definitions}


KPI_DEFINITIONS: dict[str, KpiDefinition] = _define(
    KpiDefinition("throughput_time", "Production lead time: work order release to completion, mean per order.",
                  "s", False, "Throughput time", ("line",), "production.production_lead_time"),
    KpiDefinition("schedule_adherence", "Share of completed work orders completed by their due date.",
                  "ratio", True, None, ("line",), "production.schedule_adherence"),
    KpiDefinition("schedule_adherence_in_full",
                  "Share of completed work orders completed by their due date with good quantity >= planned.",
                  "ratio", True, None, ("line",), "production.schedule_adherence_in_full"),
    KpiDefinition("first_pass_yield", "Good quantity over inspected quantity.",
                  "ratio", True, "First pass yield", ("machine", "line"), "quality.first_pass_yield"),
    KpiDefinition("scrap_ratio", "Scrapped quantity over inspected quantity.",
                  "ratio", False, "Scrap ratio", ("machine", "line"), "quality.scrap_ratio"),
    KpiDefinition("rework_ratio", "Inspected quantity neither good nor scrapped, over inspected quantity.",
                  "ratio", False, "Rework ratio", ("machine", "line"), "quality.rework_ratio"),
    KpiDefinition("material_supply_lead_time", "Issue to the line: production request to arrival line-side, mean.",
                  "s", False, None, ("line", "material"), "logistics.material_supply_lead_time"),
    KpiDefinition("dock_to_stock_time", "Received lot: receipt to first putaway, mean per lot.",
                  "s", False, None, ("material",), "logistics.dock_to_stock_time"),
    KpiDefinition("receipts_awaiting_putaway", "Share of received lots not put away yet (numerator: open count).",
                  "ratio", False, None, ("material",), "logistics.receipts_awaiting_putaway"),
    KpiDefinition("on_time_delivery", "Share of shipments with a due date shipped by it.",
                  "ratio", True, None, ("customer",), "delivery.on_time_delivery"),
    KpiDefinition("in_full_delivery", "Share of shipments with an ordered quantity shipped in full.",
                  "ratio", True, None, ("customer",), "delivery.in_full_delivery"),
    KpiDefinition("otif", "On time in full: share of shipments with a due date shipped on time and in full.",
                  "ratio", True, None, ("customer",), "delivery.otif"),
    KpiDefinition("inventory_accuracy", "Share of cycle counts matching the book within tolerance.",
                  "ratio", True, None, ("material",), "cycle_counts.inventory_accuracy"),
    KpiDefinition("inventory_accuracy_quantity", "1 - absolute count differences over book quantity counted.",
                  "ratio", True, None, ("material",), "cycle_counts.inventory_accuracy_quantity"),
    KpiDefinition("inventory_turns", "Annualised usage over average end-of-day stock on hand.",
                  "1/year", True, "Inventory turns", ("material",), "inventory.inventory_turns"),
    KpiDefinition("days_of_supply", "Average end-of-day stock over average daily usage.",
                  "days", False, None, ("material",), "inventory.days_of_supply"),
    KpiDefinition("wip_level", "End-of-day quantity at work-in-process locations; mean over days when rolled up.",
                  "base unit", False, None, ("location",), "inventory.wip_level"),
    KpiDefinition("end_to_end_lead_time",
                  "Earliest supplier receipt behind a shipped lot (through the genealogy) to its shipment, mean.",
                  "s", False, None, ("material",), "traceability.end_to_end_lead_time"),
    KpiDefinition("availability", "Run time over planned production time whose equipment state is known.",
                  "ratio", True, "Availability", ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("performance", "Ideal cycle time x units produced over run time (above 1 is flagged, not clipped).",
                  "ratio", True, "Effectiveness", ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("quality", "Good units over units produced (OEE quality rate, from MES counts).",
                  "ratio", True, "Quality ratio", ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("oee", "Fully productive time over planned time: A x P x Q, rolled up by summing times.",
                  "ratio", True, "OEE index", ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("teep", "Fully productive time over calendar time (every hour of every day).",
                  "ratio", True, None, ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("mtbf", "Run time over failures (unplanned stops with a failure reason, not micro-stops).",
                  "s", True, "Mean operating time between failures", ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("mttr", "Failure downtime over failures.",
                  "s", False, "Mean time to restoration", ("machine",), "equipment.equipment_kpis"),
    KpiDefinition("equipment_data_coverage", "Planned time with a known equipment state over all planned time "
                  "(unknown time: collector gaps, no state reported).",
                  "ratio", True, None, ("machine",), "equipment.equipment_kpis"),
)
