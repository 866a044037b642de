"""Ground-truth Parquet tables under `truth/` (canonical ids, base units, UTC timestamps).

Streamed day by day with one row group per day; `stock.parquet` is written at the end
from the simulator's physical ledgers.

- `work_orders`: one row per released work order; rows of orders completed on a day are
  written with that day, orders still open at the end of the simulated period last, with
  null started_at / completed_at / good_quantity / scrap_quantity where not reached.
  Quantities in the material's base unit; `due_at` and `planned_start_at` are the planned
  dates fixed at release (`simulator.planning`).
- `shipments`: one row per customer order / shipment; ordered and shipped quantity in the
  base unit, `shipped_at` the time of its last SHIPMENT row, `is_on_time` = shipped_at <=
  due_at, `is_in_full` = shipped >= ordered. Shipments picked but not shipped by the end
  are written last with null shipped_at, is_on_time and is_in_full.

A continued simulation (`simulator.simulation.continue_simulation`) rewrites every file so it covers
all periods: the rows of the earlier periods are copied row group by row group, except the rows of
work orders and shipments that were still open at the end of the earlier period (null `completed_at` /
`shipped_at`); those orders are written again when they complete or, still open, at the new end. The
files are written as `<name>.parquet.partial` and replace the old ones only in `commit()`, so the
result equals the truth of one longer simulation."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .timeutil import epoch_to_us

TS = pa.timestamp("us", tz="UTC")
SCHEMAS: dict[str, pa.Schema] = {
    "state_intervals": pa.schema([("machine_id", pa.string()), ("state", pa.string()),
                                  ("reason_code", pa.string()), ("started_at", TS), ("ended_at", TS)]),
    "breakdowns": pa.schema([("machine_id", pa.string()), ("started_at", TS), ("ended_at", TS),
                             ("reason_code", pa.string()), ("failure_mode", pa.string())]),
    "production_counts": pa.schema([("machine_id", pa.string()), ("material_id", pa.string()),
                                    ("counted_at", TS), ("total_count", pa.int64()), ("good_count", pa.int64())]),
    "movements": pa.schema([("movement_id", pa.string()), ("occurred_at", TS), ("material_id", pa.string()),
                            ("lot_id", pa.string()), ("from_location_id", pa.string()),
                            ("to_location_id", pa.string()), ("quantity", pa.float64()),
                            ("movement_type", pa.string()), ("source_transaction_id", pa.string())]),
    "genealogy_edges": pa.schema([("parent_lot_id", pa.string()), ("child_lot_id", pa.string()),
                                  ("edge_type", pa.string()), ("work_order_id", pa.string()),
                                  ("machine_id", pa.string()), ("quantity", pa.float64()), ("occurred_at", TS)]),
    "oee_by_machine_shift": pa.schema([
        ("machine_id", pa.string()), ("shift_date", pa.date32()), ("shift_id", pa.string()),
        ("shift_start_at", TS), ("shift_end_at", TS), ("planned_time_s", pa.float64()),
        ("run_time_s", pa.float64()), ("unplanned_stop_count", pa.int64()), ("unplanned_stop_s", pa.float64()),
        ("ideal_time_s", pa.float64()), ("total_count", pa.int64()),
        ("good_count", pa.int64()), ("availability", pa.float64()), ("performance", pa.float64()),
        ("quality", pa.float64()), ("oee", pa.float64())]),
    "work_orders": pa.schema([
        ("work_order_id", pa.string()), ("line_id", pa.string()), ("material_id", pa.string()),
        ("planned_quantity", pa.int64()), ("released_at", TS), ("started_at", TS), ("completed_at", TS),
        ("due_at", TS), ("good_quantity", pa.int64()), ("scrap_quantity", pa.int64()), ("planned_start_at", TS)]),
    "shipments": pa.schema([
        ("shipment_id", pa.string()), ("customer_id", pa.string()), ("material_id", pa.string()),
        ("ordered_quantity", pa.float64()), ("shipped_quantity", pa.float64()), ("due_at", TS),
        ("shipped_at", TS), ("is_on_time", pa.bool_()), ("is_in_full", pa.bool_())]),
    "shortage_stops": pa.schema([("line_id", pa.string()), ("material_id", pa.string()),
                                 ("work_order_id", pa.string()), ("started_at", TS), ("ended_at", TS)]),
    "faults": pa.schema([("fault_id", pa.string()), ("fault_type", pa.string()), ("source_system", pa.string()),
                         ("source_file", pa.string()), ("record_key", pa.string()), ("description", pa.string())]),
    "operations": pa.schema([
        ("work_order_id", pa.string()), ("operation_seq", pa.int64()), ("line_id", pa.string()),
        ("machine_id", pa.string()), ("operator_id", pa.string()), ("ready_at", TS), ("started_at", TS),
        ("ended_at", TS), ("queue_s", pa.float64()), ("setup_s", pa.float64()), ("processing_s", pa.float64()),
        ("stopped_s", pa.float64()), ("starved_s", pa.float64()), ("blocked_s", pa.float64()),
        ("quantity", pa.int64()), ("good_quantity", pa.int64())]),
    "bottlenecks": pa.schema([
        ("line_id", pa.string()), ("shift_date", pa.date32()), ("shift_id", pa.string()),
        ("shift_start_at", TS), ("shift_end_at", TS), ("machine_id", pa.string()),
        ("designed_machine_id", pa.string()), ("slowed_machine_id", pa.string()), ("cause", pa.string()),
        ("active_share", pa.float64())]),
    "signal_anomalies": pa.schema([("anomaly_id", pa.string()), ("machine_id", pa.string()), ("tag", pa.string()),
                                   ("kind", pa.string()), ("started_at", TS), ("ended_at", TS),
                                   ("samples", pa.int64()), ("size", pa.float64()), ("size_in_noise_sd", pa.float64())]),
    "stock": pa.schema([("material_id", pa.string()), ("lot_id", pa.string()), ("location_id", pa.string()),
                        ("quantity", pa.float64()), ("base_unit", pa.string())]),
    # the true risk (simulator.risk_truth): the oracle models are compared with
    "machine_hours": pa.schema([("machine_id", pa.string()), ("hour_start_at", TS), ("run_s", pa.float64()),
                                ("wear_end", pa.float64()), ("hazard_per_run_h", pa.float64()),
                                ("expected_breakdowns", pa.float64()), ("thermal_fault", pa.float64())]),
    "production_chunks": pa.schema([("machine_id", pa.string()), ("work_order_id", pa.string()),
                                    ("started_at", TS), ("ended_at", TS), ("units", pa.int64()),
                                    ("defective_units", pa.int64()), ("defect_probability", pa.float64()),
                                    ("offspec_defect_probability", pa.float64())]),
    "offspec_lots": pa.schema([("supplier_lot_code", pa.string()), ("lot_id", pa.string()), ("received_at", TS),
                               ("added_defect_probability", pa.float64())]),
}
TIMESTAMP_COLUMNS = {name for schema in SCHEMAS.values() for name, kind in zip(schema.names, schema.types)
                     if kind == TS}


def rows_to_table(name: str, rows: list[tuple] | list[list]) -> pa.Table:
    """Tuples in schema column order; timestamp columns given as epoch seconds (None for null), rounded to
    whole microseconds by `epoch_to_us`."""
    schema = SCHEMAS[name]
    columns = list(zip(*rows)) if rows else [[] for _ in schema.names]
    arrays = []
    for field, values in zip(schema, columns):
        if field.type == TS and (not values or not hasattr(values[0], "tzinfo")):
            missing = np.array([v is None for v in values], dtype=bool)
            seconds = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
            arrays.append(pa.array(epoch_to_us(seconds), TS, mask=missing if missing.any() else None))
        else:
            arrays.append(pa.array(list(values), field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


# rows written at the end of a period for what was still open then: dropped when the period is continued
OPEN_ROW_COLUMNS: dict[str, str] = {"work_orders": "completed_at", "shipments": "shipped_at"}
PARTIAL_SUFFIX = ".partial"


class TruthWriter:
    """Streams truth tables to `truth_dir`; with `carry_over`, first copies the existing tables (a continued
    simulation) into `.partial` files that `commit()` moves over the old ones."""

    def __init__(self, truth_dir: Path, carry_over: bool = False):
        self.truth_dir = truth_dir
        truth_dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.row_counts: dict[str, int] = {}
        self.carry_over = carry_over
        self._suffix = PARTIAL_SUFFIX if carry_over else ""
        if carry_over:
            for name in SCHEMAS:
                if name != "stock":
                    self._carry(name)

    def path(self, name: str) -> Path:
        return self.truth_dir / f"{name}.parquet{self._suffix}"

    def _carry(self, name: str) -> None:
        previous = self.truth_dir / f"{name}.parquet"
        if not previous.exists():
            return
        source = pq.ParquetFile(previous)
        open_column = OPEN_ROW_COLUMNS.get(name)
        for index in range(source.num_row_groups):
            table = source.read_row_group(index)
            if open_column is not None:
                table = table.filter(pc.is_valid(table[open_column]))
            self.append(name, table)

    def append(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(self.path(name), SCHEMAS[name])
        self._writers[name].write_table(table.cast(SCHEMAS[name]))
        self.row_counts[name] = self.row_counts.get(name, 0) + table.num_rows

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        for name, schema in SCHEMAS.items():
            if name not in self._writers and name != "stock":
                pq.write_table(schema.empty_table(), self.path(name))

    def commit(self) -> None:
        """Move the `.partial` files of a continuation over the previous tables (no-op otherwise)."""
        if not self.carry_over:
            return
        for name in SCHEMAS:
            partial = self.path(name)
            if partial.exists():
                os.replace(partial, self.truth_dir / f"{name}.parquet")

    def write_stock(self, rows: list[tuple]) -> None:
        pq.write_table(rows_to_table("stock", rows), self.path("stock"))
        self.row_counts["stock"] = len(rows)
