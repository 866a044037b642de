"""Writes one simulated day: WMS CSVs, MES NDJSON, B2MML XML, signal Parquet and truth,
applying report-level faults. Late records are carried into a later day's file."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .config import PlantConfig
from .faults import (corrupt_mes_events, corrupt_wms_rows, duplicate_file_fault, late_fault, serialize_event)
from .flow_truth import bottleneck_rows
from .master_data import MasterData
from .oee_truth import oee_from_intervals
from .plant_model import DayRecords
from .risk_truth import machine_hour_rows
from .signal_anomalies import plan_day
from .signal_anomalies import truth_rows as anomaly_truth_rows
from .signals import day_signals
from .timeutil import utc_day_start
from .truth import SCHEMAS, TruthWriter, rows_to_table
from .wms_transactions import WMS_COLUMNS, WMS_TYPE_DIRECTORIES


class OutputWriter:
    """Writes the days of one simulation run. `resume` (the `state()` of the writer of the previous period of
    a continued simulation) carries the output counters and fault numbering on and makes the truth tables
    continue the previous ones."""

    def __init__(self, cfg: PlantConfig, master: MasterData, out_dir: Path, resume: dict | None = None):
        self.cfg, self.master, self.out_dir = cfg, master, out_dir
        self.truth = TruthWriter(out_dir / "truth", carry_over=resume is not None)
        self.counts = {"wms_rows": 0, "mes_events": 0, "b2mml_messages": 0, "signal_rows": 0}
        self.fault_count = 0
        self.fault_types: dict[str, int] = {}
        if resume is not None:
            self.counts.update({name: int(resume["counts"][name]) for name in self.counts})
            self.fault_count = int(resume["fault_count"])
            self.fault_types = {name: int(count) for name, count in resume["fault_types"].items()}
        self._late_mes: dict[int, list[dict]] = {}
        self._late_wms: dict[int, dict[str, list[dict]]] = {}
        self._ideal = pd.DataFrame([(machine, material, seconds) for (material, machine), seconds
                                    in sorted(master.ideal_cycle_time_s.items())],
                                   columns=["machine_id", "material_id", "ideal_cycle_time_s"])
        for directory in WMS_TYPE_DIRECTORIES.values():
            (out_dir / "wms" / directory).mkdir(parents=True, exist_ok=True)
        for directory in ("mes/events", "mes/b2mml", "signals"):
            (out_dir / directory).mkdir(parents=True, exist_ok=True)

    def write_day(self, records: DayRecords) -> None:
        rng = np.random.default_rng([self.cfg.seed, 40, records.day_index])
        faults = list(records.faults)
        date_text = records.day.isoformat()
        allow_late = records.day_index < self.cfg.days - 1
        faults += self._write_mes(records, rng, date_text, allow_late)
        faults += self._write_wms(records, rng, date_text, allow_late)
        self._write_b2mml(records, date_text)
        self._write_signals(records, date_text)
        self._write_truth(records, faults)

    def _late_target(self, rng: np.random.Generator, day_index: int) -> int:
        return min(day_index + 1 + int(rng.integers(2)), self.cfg.days - 1)

    def _write_mes(self, records, rng, date_text, allow_late) -> list[dict]:
        relative = f"mes/events/{date_text}.ndjson"
        lines, faults, late = corrupt_mes_events(records.mes_events, records.protected_keys, rng,
                                                 self.cfg.fault_rates, relative, allow_late)
        for event in self._late_mes.pop(records.day_index, []):
            lines.append(serialize_event(event))
            faults.append(late_fault("MES", relative, event["event_id"], event["occurred_at"]))
        for event in late:
            self._late_mes.setdefault(self._late_target(rng, records.day_index), []).append(event)
        self._write_text(relative, "".join(line + "\n" for line in lines), "MES", rng, faults)
        self.counts["mes_events"] += len(lines)
        return faults

    def _write_wms(self, records, rng, date_text, allow_late) -> list[dict]:
        faults = []
        carried = self._late_wms.pop(records.day_index, {})
        for transaction_type, directory in WMS_TYPE_DIRECTORIES.items():
            relative = f"wms/{directory}/{date_text}.csv"
            rows, type_faults, late = corrupt_wms_rows(records.wms_rows.get(transaction_type, []),
                                                       records.protected_keys, rng, self.cfg.fault_rates,
                                                       relative, allow_late)
            for row in carried.get(transaction_type, []):
                rows.append(row)
                type_faults.append(late_fault("WMS", relative, row["transaction_id"], row["occurred_at"]))
            for row in late:
                target = self._late_target(rng, records.day_index)
                self._late_wms.setdefault(target, {}).setdefault(transaction_type, []).append(row)
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(WMS_COLUMNS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            self._write_text(relative, buffer.getvalue(), "WMS", rng, type_faults)
            self.counts["wms_rows"] += len(rows)
            faults += type_faults
        return faults

    def _write_text(self, relative: str, text: str, system: str, rng, faults: list[dict]) -> None:
        path = self.out_dir / relative
        path.write_text(text, encoding="utf-8")
        if rng.random() < self.cfg.fault_rates.duplicate_file and text.count("\n") > 1:
            copy = path.with_name(f"{path.stem}_redelivery{path.suffix}")
            shutil.copyfile(path, copy)
            faults.append(duplicate_file_fault(system, copy.relative_to(self.out_dir).as_posix(), relative))

    def _write_b2mml(self, records, date_text) -> None:
        if not records.b2mml:
            return
        directory = self.out_dir / "mes" / "b2mml" / date_text
        directory.mkdir(parents=True, exist_ok=True)
        for name, xml in records.b2mml:
            (directory / name).write_bytes(xml)
        self.counts["b2mml_messages"] += len(records.b2mml)

    def _write_signals(self, records, date_text) -> None:
        machine_ids, interval_s = list(self.master.machine_ids), self.cfg.signal_interval_s
        anomalies = plan_day(machine_ids, 86400 // interval_s, interval_s, self.cfg.seed, records.day_index,
                             self.cfg.fault_rates.signal_anomaly)
        table = day_signals(machine_ids, records.segments, utc_day_start(records.day), interval_s, self.cfg.seed,
                            records.day_index, anomalies)
        times = utc_day_start(records.day) + np.arange(0, 86400, interval_s, dtype=np.float64)
        self.truth.append("signal_anomalies", rows_to_table("signal_anomalies",
                                                            anomaly_truth_rows(anomalies, times, records.day_index)))
        pq.write_table(table, self.out_dir / "signals" / f"{date_text}.parquet")
        self.counts["signal_rows"] += table.num_rows

    def _write_truth(self, records, faults) -> None:
        truth = self.truth
        truth.append("state_intervals", rows_to_table("state_intervals", records.intervals))
        truth.append("breakdowns", rows_to_table("breakdowns", records.breakdowns))
        truth.append("production_counts", rows_to_table("production_counts", records.counts))
        truth.append("movements", rows_to_table("movements", records.movements))
        truth.append("genealogy_edges", rows_to_table("genealogy_edges", records.genealogy))
        truth.append("work_orders", rows_to_table("work_orders", records.work_orders))
        truth.append("shipments", rows_to_table("shipments", records.shipments))
        truth.append("shortage_stops", rows_to_table("shortage_stops", records.shortage_stops))
        truth.append("machine_hours", rows_to_table("machine_hours", machine_hour_rows(
            records.segments, utc_day_start(records.day))))
        truth.append("production_chunks", rows_to_table("production_chunks", records.chunks))
        truth.append("offspec_lots", rows_to_table("offspec_lots", records.offspec_lots))
        fault_rows = []
        for fault in faults:
            self.fault_count += 1
            self.fault_types[fault["fault_type"]] = self.fault_types.get(fault["fault_type"], 0) + 1
            fault_rows.append((f"F-{self.fault_count:06d}", fault["fault_type"], fault["source_system"],
                               fault["source_file"], fault["record_key"], fault["description"]))
        truth.append("faults", rows_to_table("faults", fault_rows))
        if records.shifts:
            truth.append("oee_by_machine_shift", self._oee(records))
        truth.append("operations", rows_to_table("operations", records.operations))
        truth.append("bottlenecks", rows_to_table("bottlenecks", bottleneck_rows(self.master, self.cfg, records)))

    def _oee(self, records):
        intervals = rows_to_table("state_intervals", records.intervals).to_pandas()
        counts = rows_to_table("production_counts", records.counts).to_pandas()
        shifts = pd.DataFrame([(s.shift_date, s.shift_id, s.start_s, s.end_s, s.break_s) for s in records.shifts],
                              columns=["shift_date", "shift_id", "shift_start_at", "shift_end_at", "break_s"])
        for column in ("shift_start_at", "shift_end_at"):
            shifts[column] = pd.to_datetime(shifts[column], unit="s", utc=True)
        result = oee_from_intervals(intervals, counts, shifts, self._ideal)
        return pa.Table.from_pandas(result, schema=SCHEMAS["oee_by_machine_shift"], preserve_index=False)

    def close(self, stock_rows: list[tuple], open_work_orders: list[tuple] = (),
              open_shipments: list[tuple] = ()) -> None:
        """Stock at the end, then the work orders and shipments still open, then every truth file closed
        (a continuation's truth files still need `truth.commit()`)."""
        if self._late_mes or self._late_wms:  # late records never go past the last day of a period
            raise RuntimeError("late records left undelivered at the end of the simulated period")
        self.truth.write_stock(stock_rows)
        self.truth.append("work_orders", rows_to_table("work_orders", list(open_work_orders)))
        self.truth.append("shipments", rows_to_table("shipments", list(open_shipments)))
        self.truth.close()

    def state(self) -> dict:
        """What a continuation of this simulation needs from the writer (JSON-ready)."""
        return {"counts": dict(self.counts), "fault_count": self.fault_count,
                "fault_types": dict(sorted(self.fault_types.items())),
                "truth_rows": dict(sorted(self.truth.row_counts.items()))}
