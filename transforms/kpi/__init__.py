"""Plant KPIs in one long shape (kpi, scope_type, scope_id, day, numerator, denominator) that rolls up by summing.

Each KPI function is pure (frames in, frame out, no IO) and, except the genealogy-based end-to-end lead time,
written once in Narwhals for Polars and PySpark. `KPI_DEFINITIONS` describes them; docs/kpis.md has the formulas.
"""

from transforms.kpi.cycle_counts import inventory_accuracy, inventory_accuracy_quantity
from transforms.kpi.definitions import KPI_DEFINITIONS, KpiDefinition
from transforms.kpi.delivery import in_full_delivery, on_time_delivery, otif
from transforms.kpi.inventory import days_of_supply, inventory_turns, wip_level
from transforms.kpi.logistics import dock_to_stock_time, material_supply_lead_time, receipts_awaiting_putaway
from transforms.kpi.long_format import KPI_COLUMNS, UNASSIGNED, roll_up, sum_kpis, with_value
from transforms.kpi.production import production_lead_time, schedule_adherence, schedule_adherence_in_full
from transforms.kpi.quality import first_pass_yield, rework_ratio, scrap_ratio
from transforms.kpi.traceability import end_to_end_lead_time

__all__ = [
    "KPI_COLUMNS", "KPI_DEFINITIONS", "UNASSIGNED", "KpiDefinition", "days_of_supply", "dock_to_stock_time",
    "end_to_end_lead_time", "first_pass_yield", "in_full_delivery", "inventory_accuracy",
    "inventory_accuracy_quantity", "inventory_turns", "material_supply_lead_time", "on_time_delivery", "otif",
    "production_lead_time", "receipts_awaiting_putaway", "rework_ratio", "roll_up", "schedule_adherence",
    "schedule_adherence_in_full", "scrap_ratio", "sum_kpis", "with_value", "wip_level",
]
