"""Production flow (gold): per-operation facts, WIP per machine over time and bottlenecks per line and shift,
recomputed whole each run (overwrite) from the MES events, equipment states and the ledger; checks on the
operation time identity and on Little's law."""

import dagster as dg
import narwhals as nw
import polars as pl

from lakehouse.catalog import CATALOG
from lakehouse.errors import QueryError
from pipelines.checks import primary_key_check, table_key
from pipelines.flow.inputs import load_flow_inputs
from pipelines.resources import LakeResource
from transforms.flow.facts import flow_tables
from transforms.flow.wip import LITTLE_TOLERANCE, littles_law

TABLES = ("fct_operation_flow", "wip_by_machine", "bottleneck_by_line_shift")
SOURCES = ("mes_operation_events", "mes_equipment_states", "mes_work_order_events", "fct_inventory_movements",
           "dim_machine", "dim_shift", "dim_shift_break", "dim_plant")
LITTLE_MIN_WINDOW_DAYS = 28


@dg.multi_asset(specs=[dg.AssetSpec(table_key(t), description=CATALOG[t].description, group_name="flow",
                                    kinds={"delta", "polars", "spark"}, owners=["team:plant-data"],
                                    deps=[table_key(s) for s in SOURCES]) for t in TABLES],
                name="production_flow")
def production_flow(lake: LakeResource):
    """Operation facts, WIP over time and bottlenecks per line and shift."""
    delta = lake.lake()
    try:
        inputs = load_flow_inputs(delta)
    except QueryError as exc:
        for table in TABLES:
            result = delta.overwrite(table, CATALOG[table].schema.empty_table())
            yield dg.MaterializeResult(asset_key=table_key(table), metadata={**result.as_metadata(), "note": str(exc)})
        return
    tables = flow_tables(lake.frame(inputs.operation_events.to_arrow()), lake.frame(inputs.state_events.to_arrow()),
                         lake.frame(inputs.releases.to_arrow()), lake.frame(inputs.issues.to_arrow()),
                         machines=inputs.machines, shifts=inputs.shifts, period_end=inputs.period_end)
    for table, rows in zip(TABLES, (tables.operations, tables.wip, tables.bottlenecks)):
        result = delta.overwrite(table, rows.select(CATALOG[table].schema.names).to_arrow())
        yield dg.MaterializeResult(asset_key=table_key(table), metadata=result.as_metadata())


@dg.asset_check(asset=table_key("fct_operation_flow"), blocking=True,
                description="setup + processing + stopped = the operation's span; no negative time")
def operation_times_add_up(lake: LakeResource) -> dg.AssetCheckResult:
    rows = lake.lake().scan("fct_operation_flow")
    span = (pl.col("ended_at") - pl.col("started_at")).dt.total_microseconds() / 1e6
    bad = rows.filter(((pl.col("setup_s") + pl.col("processing_s") + pl.col("stopped_s") - span).abs() > 1e-3)
                      | (pl.min_horizontal("setup_s", "processing_s", "stopped_s", "starved_s", "blocked_s") < -1e-3)
                      | (pl.col("queue_s") < -1.0)).select(pl.len()).collect().item()
    return dg.AssetCheckResult(passed=bad == 0, metadata={"rows_not_adding_up": bad})


@dg.asset_check(asset=table_key("fct_operation_flow"), blocking=False,
                description=f"Little's law: mean WIP = throughput x mean lead time within {LITTLE_TOLERANCE:.0%} "
                            f"(work orders, release to completion) over windows of {LITTLE_MIN_WINDOW_DAYS}+ days")
def littles_law_holds(lake: LakeResource) -> dg.AssetCheckResult:
    """Little's law over the work orders, each in the system from its release to its completion.

    An order leaves the system when its last routing step ends. The `work_order_completed` event says so,
    but that one MES record can be lost while the order's operations are all on record: a truncated JSON line
    or a wrong unit sends it to quarantine (seed 43 over 60 days: 3 truncated, 1 unit L for EA). Counted
    open, such an order sits in the WIP until the window's end - WO-000026, lost on day 2, added 58 order-days,
    and the four of that plant 2.2 orders to a mean WIP of 18.1 against lambda x W = 15.6 (gap 14 %, 2 % once
    they end with their last operation). The data is right (the record was rightly quarantined and counted
    there); the check read completion from one record only. So an order without a completion event whose
    last routing step has ended (`fct_operation_flow`) completes at that end (`work_order_spans`)."""
    delta = lake.lake()
    orders = delta.scan("mes_work_order_events").select("event_type", "work_order_id", "occurred_at", "line_id",
                                                        "material_code").collect()
    materials = (delta.scan("map_material_code").filter(pl.col("system") == "MES")
                 .select("system_material_code", "material_id").collect())
    operations = delta.scan("fct_operation_flow").select("work_order_id", "operation_seq", "ended_at").collect()
    routing = delta.scan("dim_routing").select("material_id", "line_id", "operation_seq").collect()
    spans = work_order_spans(orders, operations, routing, materials)
    if spans.is_empty():
        return dg.AssetCheckResult(passed=True, metadata={"note": "no work orders released yet"})
    start, end = spans["released_at"].min(), spans["released_at"].max()
    days = (end - start).total_seconds() / 86400
    law = littles_law(nw.from_native(spans.lazy()), window_start=start, window_end=end).to_native().collect().row(
        0, named=True)
    metadata = {"window_days": round(days, 1), "mean_wip": law["mean_wip"],
                "throughput_x_lead_time": law["throughput_per_s"] * (law["mean_lead_time_s"] or 0.0),
                "relative_gap": law["relative_gap"], "tolerance": LITTLE_TOLERANCE}
    if days < LITTLE_MIN_WINDOW_DAYS:
        return dg.AssetCheckResult(passed=True, metadata={**metadata, "note": "window too short to judge"})
    return dg.AssetCheckResult(passed=bool(law["relative_gap"] <= LITTLE_TOLERANCE), metadata=metadata)


def work_order_spans(orders: pl.DataFrame, operations: pl.DataFrame, routing: pl.DataFrame,
                     materials: pl.DataFrame) -> pl.DataFrame:
    """work_order_id, released_at, completed_at (null while open) from the MES work order events
    (event_type, work_order_id, occurred_at, line_id, material_code): completed at the `work_order_completed`
    event or, without one, when the order's last routing step (`routing`: material_id, line_id,
    operation_seq; `materials`: system_material_code -> material_id) ended in `operations` (work_order_id,
    operation_seq, ended_at)."""
    released = orders.filter(pl.col("event_type") == "work_order_released").group_by("work_order_id").agg(
        pl.col("occurred_at").min().alias("released_at"), pl.col("line_id").first(),
        pl.col("material_code").first())
    completed = orders.filter(pl.col("event_type") == "work_order_completed").group_by("work_order_id").agg(
        pl.col("occurred_at").max().alias("completed_at"))
    last_step = routing.group_by("material_id", "line_id").agg(pl.col("operation_seq").max().alias("last_seq"))
    last_ended = (released.join(materials, left_on="material_code", right_on="system_material_code")
                  .join(last_step, on=["material_id", "line_id"])
                  .join(operations.filter(pl.col("ended_at").is_not_null()),
                        left_on=["work_order_id", "last_seq"], right_on=["work_order_id", "operation_seq"])
                  .group_by("work_order_id").agg(pl.col("ended_at").max().alias("last_step_ended_at")))
    return (released.join(completed, on="work_order_id", how="left")
            .join(last_ended, on="work_order_id", how="left")
            .select("work_order_id", "released_at",
                    pl.coalesce("completed_at", "last_step_ended_at").alias("completed_at")))


FLOW_ASSETS = [production_flow]
FLOW_CHECKS = [operation_times_add_up, littles_law_holds, *(primary_key_check(CATALOG[t]) for t in TABLES)]
