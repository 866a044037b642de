"""Every read the app makes, in one place, through the public API (`plantlake.Lake`) only.

So the app shows exactly what the CLI prints: KPIs come from `Lake.kpi`, stock from `Lake.stock`, genealogy from
`Lake.trace_result` / `Lake.recall_result`, and every table from `Lake.read`, which serves a silver or gold table's
newest *published* version (write-audit-publish), never one that failed its blocking checks.

Speed: one `Lake` per root lives in `st.cache_resource`; each query result is cached in `st.cache_data` under
(its tables' served Delta versions, its arguments). A new published version changes the key, so the result is
read again exactly once; an unchanged lake answers from memory. The served versions themselves are looked up
at most every `VERSION_TTL_S` seconds.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from lakehouse.catalog import CATALOG
from plantlake import Lake

VERSION_TTL_S = 2.0
# The tables a page cannot do without; a lake missing them gets the how-to-fill page.
CORE_TABLES = ("gold.kpi_daily", "gold.oee_by_machine_shift", "gold.fct_inventory_ledger",
               "silver.fct_genealogy_edges")
LOOKBACK_DAYS = 7  # how far back the state timeline looks for the state a day starts in
MODEL_TABLES = ("gold.machine_risk", "gold.quality_risk", "gold.signal_anomalies")
# the limit of the check `landed_rows_reach_gold` (pipelines/realtime.py; a test keeps them equal): the app does not
# import the Dagster code location for one number
LANDED_TO_GOLD_LIMIT_S = 60.0


class Missing(Exception):
    """A table the page needs is not in this lake (yet); the message says how to produce it."""


def lake_root() -> str:
    return os.environ.get("PLANTLAKE_LAKE", "lake")


@st.cache_resource(show_spinner=False)
def _lake(root: str) -> Lake:
    return Lake(root)


def lake() -> Lake:
    return _lake(lake_root())


@st.cache_resource(show_spinner=False)
def warm_imports() -> threading.Thread:
    """Import, once per server and in the background, the modules the slower pages need (`Lake.quarantine` pulls
    in the ingestion contracts and Great Expectations: many seconds on a cold process), so Data health opens fast."""
    worker = threading.Thread(target=importlib.import_module, args=("plantlake.quarantine",), daemon=True,
                              name="plantlake-warm-imports")
    worker.start()
    return worker


# ---- versions ------------------------------------------------------------------------------------------------
@st.cache_data(ttl=VERSION_TTL_S, show_spinner=False)
def _served_version(root: str, name: str) -> int | None:
    the_lake = _lake(root)
    if name not in CATALOG or not the_lake.store.exists(CATALOG[name].name):
        return None
    return the_lake.status(name).served_version


def served_version(name: str) -> int | None:
    """The Delta version of `name` readers are served (None: not in this lake)."""
    return _served_version(lake_root(), name)


def _versions(*names: str) -> tuple[int | None, ...]:
    return tuple(served_version(name) for name in names)


def exists(name: str) -> bool:
    return served_version(name) is not None


def require(*names: str) -> None:
    """Raise `Missing` naming the tables of `names` this lake does not have, and how to fill them."""
    absent = [name for name in names if not exists(name)]
    if absent:
        undeclared = [name for name in absent if name not in CATALOG]
        how = ("they are not declared in this version of plantlake yet (the models issue adds them); once they "
               "are, `plantlake run` writes them" if undeclared else
               "run `plantlake run --source LANDING` (or `make demo`) to write them")
        raise Missing(f"This page needs {', '.join(absent)}, which this lake ({lake_root()}) does not have: {how}.")


@dataclass(frozen=True)
class LakeState:
    root: str
    exists: bool
    missing: tuple[str, ...]

    @property
    def is_ready(self) -> bool:
        return self.exists and not self.missing


def lake_state() -> LakeState:
    root = lake_root()
    if not Path(root).is_dir():
        return LakeState(root, False, CORE_TABLES)
    return LakeState(root, True, tuple(name for name in CORE_TABLES if not exists(name)))


@st.cache_data(show_spinner=False, max_entries=64)
def _last_write(root: str, name: str, version: int | None) -> datetime | None:
    if version is None:
        return None
    for entry in _lake(root).history(name).iter_rows(named=True):
        if entry["version"] == version:
            return entry["committed_at"]
    return None


def reading(*names: str) -> str:
    """`Reads gold.kpi_daily v3 (written 2026-01-10 06:00 UTC) · refreshed 07:12:03 UTC` for a page's footer."""
    parts = []
    for name in names:
        version = served_version(name)
        if version is None:
            parts.append(f"{name} (missing)")
            continue
        written = _last_write(lake_root(), name, version)
        parts.append(f"{name} v{version}" + (f" (written {written:%Y-%m-%d %H:%M} UTC)" if written else ""))
    now = datetime.now(timezone.utc)
    refreshed = f"{now:%Y-%m-%d %H:%M:%S}.{now.microsecond // 1000:03d}"
    return f"Lake {lake_root()} · reads " + ", ".join(parts) + f" · refreshed {refreshed} UTC"


# ---- reads ---------------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=256)
def _read(root: str, versions: tuple[int | None, ...], name: str, columns: tuple[str, ...] | None,
          filters: tuple[tuple[str, str, Any], ...] | None) -> pl.DataFrame:
    return _lake(root).read(name, columns=list(columns) if columns else None,
                            filters=[(c, op, list(v) if isinstance(v, tuple) else v) for c, op, v in filters]
                            if filters else None)


def read(name: str, *, columns: list[str] | None = None,
         filters: list[tuple[str, str, Any]] | None = None) -> pl.DataFrame:
    """`Lake.read` of the served version, cached under (name, served version, columns, filters)."""
    require(name)
    key = tuple((c, op, tuple(v) if isinstance(v, list) else v) for c, op, v in filters) if filters else None
    return _read(lake_root(), _versions(name), name, tuple(columns) if columns else None, key)


@st.cache_data(show_spinner=False, max_entries=512)
def _kpi(root: str, versions: tuple[int | None, ...], kpis: tuple[str, ...], scope: str, start: date | None,
         end: date | None, grain: str) -> pl.DataFrame:
    return _lake(root).kpi(list(kpis), scope=scope, start=start, end=end, grain=grain)


def kpi(kpis: list[str], *, scope: str, start: date | None, end: date | None, grain: str) -> pl.DataFrame:
    """`Lake.kpi` (what `plantlake kpi` prints), cached under the served version of gold.kpi_daily."""
    require("gold.kpi_daily")
    versions = _versions("gold.kpi_daily", "gold.oee_by_machine_shift")
    return _kpi(lake_root(), versions, tuple(kpis), scope, start, end, grain)


def kpi_totals(kpis: list[str], *, scope: str, start: date, end: date) -> dict[str, float | None]:
    """Each KPI over the whole period: its days' numerators summed over their denominators summed (for a week,
    exactly what `plantlake kpi --grain week` prints)."""
    days = kpi(kpis, scope=scope, start=start, end=end, grain="day")
    totals: dict[str, float | None] = {name: None for name in kpis}
    if days.is_empty():
        return totals
    summed = days.group_by("kpi").agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    for name, numerator, denominator in summed.iter_rows():
        totals[name] = numerator / denominator if denominator else None
    return totals


@st.cache_data(show_spinner=False, max_entries=16)
def _kpi_days_range(root: str, versions: tuple[int | None, ...]) -> tuple[date | None, date | None]:
    frame = _lake(root).read("gold.kpi_daily", columns=["kpi_date"], lazy=True)
    first, last = frame.select(pl.col("kpi_date").min().alias("a"), pl.col("kpi_date").max().alias("b")).collect().row(0)
    return first, last


def kpi_days_range() -> tuple[date | None, date | None]:
    require("gold.kpi_daily")
    return _kpi_days_range(lake_root(), _versions("gold.kpi_daily"))


def equipment() -> pl.DataFrame:
    """The equipment hierarchy (silver.dim_equipment): equipment_id, parent_equipment_id, equipment_level, name."""
    return read("silver.dim_equipment")


def machines() -> pl.DataFrame:
    return read("silver.dim_machine")


def lines_under(scope: str) -> list[str] | None:
    """The line ids a scope (`site`, `area:AREA-01`, `line:LINE-01`) covers; None: every line."""
    kind, _, scope_id = scope.partition(":")
    if kind == "site" or not scope_id:
        return None
    if kind == "line":
        return [scope_id]
    tree = equipment()
    below, frontier = set(), {scope_id}
    while frontier:
        children = set(tree.filter(pl.col("parent_equipment_id").is_in(list(frontier)))["equipment_id"].to_list())
        frontier = children - below
        below |= children
    levels = dict(zip(tree["equipment_id"].to_list(), tree["equipment_level"].to_list(), strict=True))
    return sorted(item for item in below if levels.get(item) == "line")


def oee_shifts(start: date, end: date, *, lines: list[str] | None = None,
               machine: str | None = None) -> pl.DataFrame:
    """gold.oee_by_machine_shift rows of the period, for some lines or one machine."""
    filters: list[tuple[str, str, Any]] = [("shift_date", ">=", start), ("shift_date", "<=", end)]
    if lines is not None:
        filters.append(("line_id", "in", lines))
    if machine:
        filters.append(("machine_id", "=", machine))
    return read("gold.oee_by_machine_shift", filters=filters)


LOSS_COLUMNS = {"availability_loss_s": "Availability loss", "performance_loss_s": "Performance loss",
                "quality_loss_s": "Quality loss"}


def loss_waterfall(shifts: pl.DataFrame) -> pl.DataFrame:
    """Planned time -> availability, performance and quality losses -> fully productive time, in hours."""
    total = shifts.select(pl.col("planned_time_s", *LOSS_COLUMNS, "fully_productive_time_s").fill_null(0).sum())
    row = total.row(0, named=True) if not shifts.is_empty() else dict.fromkeys(total.columns, 0.0)
    steps = [("Planned time", row["planned_time_s"], "total")]
    steps += [(label, -row[column], "loss") for column, label in LOSS_COLUMNS.items()]
    steps.append(("Fully productive", row["fully_productive_time_s"], "total"))
    return pl.DataFrame({"step": [s[0] for s in steps], "hours": [s[1] / 3600 for s in steps],
                         "kind": [s[2] for s in steps]})


def largest_losses(shifts: pl.DataFrame, *, limit: int = 15) -> pl.DataFrame:
    """Lines and machines ranked by lost hours (availability + performance + quality)."""
    lost = [pl.col(column).fill_null(0).sum().truediv(3600).alias(label.lower().replace(" ", "_") + "_h")
            for column, label in LOSS_COLUMNS.items()]
    frame = shifts.group_by("line_id", "machine_id").agg(*lost, pl.col("planned_time_s").sum().truediv(3600)
                                                         .alias("planned_h"))
    frame = frame.with_columns(pl.sum_horizontal("availability_loss_h", "performance_loss_h", "quality_loss_h")
                               .alias("total_loss_h"))
    return frame.sort("total_loss_h", descending=True).head(limit)


# ---- equipment -----------------------------------------------------------------------------------------------
def state_timeline(machine: str, day: date) -> pl.DataFrame:
    """The machine's MES states over one UTC day as intervals (start, end, state, reason, minutes), with
    micro-stops marked, and the collector gaps of that day as `unknown (collector gap)` intervals."""
    from transforms.loss_mapping import load_loss_mapping

    day_start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    day_end = day_start + timedelta(days=1)
    events = read("bronze.mes_equipment_states", columns=["occurred_at", "state", "reason_code", "event_date"],
                  filters=[("machine_id", "=", machine), ("event_date", ">=", day - timedelta(days=LOOKBACK_DAYS)),
                           ("event_date", "<=", day + timedelta(days=1))]).sort("occurred_at")
    before = events.filter(pl.col("occurred_at") < day_start).tail(1)
    if before.is_empty():  # no state known before the day (within the lookback): unknown until the first event
        before = pl.DataFrame({"occurred_at": [day_start], "state": ["unknown"],
                               "reason_code": [f"no MES state in the {LOOKBACK_DAYS} days before"],
                               "event_date": [day]}, schema=events.schema)
    within = events.filter((pl.col("occurred_at") >= day_start) & (pl.col("occurred_at") < day_end))
    states = pl.concat([before.with_columns(pl.lit(day_start).cast(events["occurred_at"].dtype)
                                            .alias("occurred_at")), within])
    threshold_s = load_loss_mapping().micro_stop_threshold_s
    intervals = states.select(
        pl.col("occurred_at").alias("start"),
        pl.col("occurred_at").shift(-1).fill_null(pl.lit(day_end).cast(events["occurred_at"].dtype)).alias("end"),
        "state", pl.col("reason_code").alias("reason"))
    intervals = intervals.with_columns(((pl.col("end") - pl.col("start")).dt.total_microseconds() / 60e6).alias("minutes"))
    intervals = intervals.with_columns(
        pl.when((pl.col("state") == "unplanned_stop") & (pl.col("minutes") * 60 < threshold_s))
        .then(pl.lit("micro_stop")).otherwise(pl.col("state")).alias("state"))
    gaps = collector_gaps(machine=machine, start=day_start, end=day_end)
    if not gaps.is_empty():
        gap_rows = gaps.select(pl.max_horizontal("started_at", pl.lit(day_start)).alias("start"),
                               pl.min_horizontal("ended_at", pl.lit(day_end)).alias("end"),
                               pl.lit("unknown (collector gap)").alias("state"), pl.col("reason"))
        gap_rows = gap_rows.with_columns(((pl.col("end") - pl.col("start")).dt.total_microseconds() / 60e6)
                                         .alias("minutes"))
        intervals = pl.concat([intervals, gap_rows.cast(intervals.schema)])
    return intervals.sort("start")


def collector_gaps(*, machine: str | None = None, start: datetime | None = None,
                   end: datetime | None = None) -> pl.DataFrame:
    """bronze.machine_signal_gaps (spans with no signal data), for a machine (its own or whole-connection gaps)
    and overlapping a window; empty when the lake has none."""
    if not exists("bronze.machine_signal_gaps"):
        return pl.DataFrame(schema={"gap_id": pl.String, "scope": pl.String, "machine_id": pl.String,
                                    "started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"),
                                    "reason": pl.String})
    gaps = read("bronze.machine_signal_gaps")
    if machine:
        gaps = gaps.filter((pl.col("machine_id") == machine) | (pl.col("scope") == "connection"))
    if start is not None:
        gaps = gaps.filter(pl.col("ended_at") > start)
    if end is not None:
        gaps = gaps.filter(pl.col("started_at") < end)
    return gaps


# ---- traceability --------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def _genealogy_nodes(root: str, versions: tuple[int | None, ...]) -> list[str]:
    edges = _lake(root).read("silver.fct_genealogy_edges", columns=["parent_node_id", "child_node_id"])
    return sorted(set(edges["parent_node_id"].to_list()) | set(edges["child_node_id"].to_list()))


def search_nodes(text: str, *, kind: str = "any", limit: int = 50) -> list[str]:
    """Genealogy node ids containing `text` (case-insensitive): lots, supplier lots (SUP:) or shipments (SHP:)."""
    require("silver.fct_genealogy_edges")
    nodes = _genealogy_nodes(lake_root(), _versions("silver.fct_genealogy_edges"))
    prefix = {"lot": None, "supplier lot": "SUP:", "shipment": "SHP:"}.get(kind)
    wanted = text.strip().lower()
    found = []
    for node in nodes:
        if kind == "lot" and (node.startswith("SUP:") or node.startswith("SHP:")):
            continue
        if prefix and not node.startswith(prefix):
            continue
        if wanted in node.lower():
            found.append(node)
            if len(found) >= limit:
                break
    return found


@st.cache_data(show_spinner=False, max_entries=128)
def _trace(root: str, versions: tuple[int | None, ...], node: str, direction: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = _lake(root).trace_result(node, direction=direction)
    return result.nodes, result.edges


def trace(node: str, direction: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`Lake.trace_result(node, direction)` as (nodes, edges) frames, as `plantlake trace` prints them."""
    require("silver.fct_genealogy_edges")
    return _trace(lake_root(), _versions("silver.fct_genealogy_edges"), node, direction)


@dataclass(frozen=True)
class Recall:
    supplier_lot: str
    customers: list[str]
    affected_lots: list[str]
    end_of_chain_lots: list[str]
    shipments: pl.DataFrame
    json: str


@st.cache_data(show_spinner=False, max_entries=64)
def _recall(root: str, versions: tuple[int | None, ...], supplier_lot: str) -> Recall:
    result = _lake(root).recall_result(supplier_lot)
    return Recall(result.supplier_lot, list(result.customers), list(result.affected_lots),
                  list(result.end_of_chain_lots), result.shipments, result.to_json())


def recall(supplier_lot: str) -> Recall:
    """`Lake.recall_result` (what `plantlake recall` prints)."""
    require("silver.fct_genealogy_edges")
    return _recall(lake_root(), _versions("silver.fct_genealogy_edges"), supplier_lot)


# ---- inventory -----------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=128)
def _stock(root: str, versions: tuple[int | None, ...], as_of: datetime | None, material: str | None,
           lot: str | None, location: str | None, minute: str) -> pl.DataFrame:
    return _lake(root).stock(as_of, material=material, lot=lot, location=location)


def stock(as_of: datetime | None = None, *, material: str | None = None, lot: str | None = None,
          location: str | None = None) -> pl.DataFrame:
    """`Lake.stock` (what `plantlake stock` prints) with each material's base unit. Without `as_of` it is stock
    now (cached per minute of the clock as well as per ledger version)."""
    require("gold.fct_inventory_ledger")
    minute = "" if as_of else datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M")
    rows = _stock(lake_root(), _versions("gold.fct_inventory_ledger"), as_of, material or None, lot or None,
                  location or None, minute)
    if exists("silver.dim_material"):
        units = read("silver.dim_material", columns=["material_id", "base_unit"])
        rows = rows.join(units.rename({"base_unit": "unit"}), on="material_id", how="left")
    return rows


def ledger_lines(*, material: str, lot: str | None = None, location: str | None = None) -> pl.DataFrame:
    """gold.fct_inventory_ledger lines behind a balance, newest last."""
    filters: list[tuple[str, str, Any]] = [("material_id", "=", material)]
    if lot:
        filters.append(("lot_id", "=", lot))
    if location:
        filters.append(("location_id", "=", location))
    return read("gold.fct_inventory_ledger", filters=filters).sort("occurred_at", "movement_id", "entry_side")


def reconciliation() -> pl.DataFrame:
    return read("gold.reconciliation_differences")


def movements_behind(*, material: str, lot: str | None, work_order: str | None) -> pl.DataFrame:
    """silver.fct_inventory_movements of a material (and lot, or work order) behind a reconciliation difference."""
    filters: list[tuple[str, str, Any]] = [("material_id", "=", material)]
    if lot:
        filters.append(("lot_id", "=", lot))
    rows = read("silver.fct_inventory_movements", filters=filters)
    if work_order and not lot:
        rows = rows.filter(pl.col("work_order_id") == work_order)
    return rows.sort("occurred_at")


# ---- data health ---------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def _tables(root: str, versions: tuple[int | None, ...]) -> pl.DataFrame:
    return _lake(root).tables()


def tables() -> pl.DataFrame:
    """`Lake.tables()`: every table with rows, served and latest version, last write (what `plantlake tables`
    prints)."""
    names = tuple(spec.qualified_name for spec in CATALOG)
    return _tables(lake_root(), _versions(*names))


@st.cache_data(show_spinner=False, max_entries=8)
def _quarantine(root: str, versions: tuple[int | None, ...]) -> pl.DataFrame:
    return _lake(root).quarantine()


def quarantined() -> pl.DataFrame:
    """`Lake.quarantine()`: every quarantined row with its reasons and replay status."""
    names = tuple(spec.qualified_name for spec in CATALOG if spec.layer == "quarantine")
    return _quarantine(lake_root(), _versions(*names))


# ---- models ---------------------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=4)
def _quality_what_if(root: str, versions: tuple[int | None, ...]) -> Any:
    return _lake(root).quality_what_if()


def quality_what_if() -> Any:
    """`Lake.quality_what_if()`: the champion quality model over the orders' features, loaded once per version
    of gold.quality_risk (rescored whenever a new model becomes champion) and of the feature table.
    `QueryError` (with how to get one) when no quality model is champion yet."""
    require("gold.work_order_quality_features")
    names = tuple(name for name in ("gold.quality_risk", "gold.work_order_quality_features") if exists(name))
    return _quality_what_if(lake_root(), _versions(*names))


def safe_read(name: str, **options: Any) -> pl.DataFrame | None:
    """`read`, or None when the lake does not have the table."""
    try:
        return read(name, **options)
    except Missing:
        return None



def kpi_by_scope(kpis: list[str], *, scope: str, start: date, end: date) -> pl.DataFrame:
    """One row per scope id, one column per KPI over the whole period (numerators and denominators summed,
    then divided, as `Lake.kpi` does)."""
    days = kpi(kpis, scope=scope, start=start, end=end, grain="day")
    if days.is_empty():
        return pl.DataFrame(schema={"scope_id": pl.String, **{name: pl.Float64 for name in kpis}})
    summed = days.group_by("scope_id", "kpi").agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    summed = summed.with_columns(pl.when(pl.col("denominator") != 0)
                                 .then(pl.col("numerator") / pl.col("denominator")).alias("value"))
    wide = summed.pivot(on="kpi", index="scope_id", values="value").sort("scope_id")
    return wide.select("scope_id", *(name for name in kpis if name in wide.columns))
