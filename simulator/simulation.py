"""Public entry point: `simulate(cfg, out_dir)` runs the plant day by day and streams
every day's outputs to disk (memory stays bounded by one day of records)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .config import PlantConfig
from .master_data import build_master_data
from .outputs import OutputWriter
from .plant_model import PlantModel
from .timeutil import day_offset


@dataclass(frozen=True)
class SimulationResult:
    out_dir: Path
    counts: dict[str, int]
    faults: int
    fault_types: dict[str, int] = field(default_factory=dict)
    truth_rows: dict[str, int] = field(default_factory=dict)
    config: PlantConfig | None = None

    def summary(self) -> str:
        lines = [f"Simulated plant written to {self.out_dir}"]
        if self.config is not None:
            cfg = self.config
            lines.append(f"  {cfg.days} days from {cfg.start_date.isoformat()}, {cfg.lines} lines x "
                         f"{cfg.machines_per_line} machines, seed {cfg.seed}, signals every {cfg.signal_interval_s} s")
        for name, value in self.counts.items():
            lines.append(f"  {name:<16} {value:>12,}")
        lines.append(f"  {'faults':<16} {self.faults:>12,}"
                     + (f"  ({', '.join(f'{k}={v}' for k, v in sorted(self.fault_types.items()))})"
                        if self.fault_types else ""))
        truth = ", ".join(f"{k}={v:,}" for k, v in sorted(self.truth_rows.items()))
        lines.append(f"  truth rows: {truth}")
        return "\n".join(lines)


def simulate(cfg: PlantConfig, out_dir: Path, progress: bool = False) -> SimulationResult:
    out_dir = Path(out_dir)
    for generated in ("master", "wms", "mes", "signals", "truth"):
        if (out_dir / generated).exists():
            shutil.rmtree(out_dir / generated)
    master = build_master_data(cfg)
    master.write(out_dir / "master", {
        "plant_name": cfg.plant_name,
        "plant_timezone": cfg.plant_timezone,
        "start_date": cfg.start_date.isoformat(),
        "end_date": day_offset(cfg.start_date, cfg.days - 1).isoformat(),
        "config": cfg.to_dict(),
    })
    model = PlantModel(cfg, master)
    writer = OutputWriter(cfg, master, out_dir)
    for day_index in tqdm(range(cfg.days), desc="simulating days", unit="day", disable=not progress):
        writer.write_day(model.run_day(day_index))
    writer.close(model.physical_stock(), model.open_work_order_rows(), model.logistics.unshipped_rows())
    counts = dict(writer.counts)
    counts["transactions"] = counts["wms_rows"] + counts["mes_events"] + counts["signal_rows"]
    result = SimulationResult(out_dir, counts, writer.fault_count, dict(sorted(writer.fault_types.items())),
                              dict(sorted(writer.truth.row_counts.items())), cfg)
    (out_dir / "truth" / "summary.json").write_text(json.dumps({
        "counts": result.counts, "faults": result.faults, "fault_types": result.fault_types,
        "truth_rows": result.truth_rows}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return result
