"""Public entry points: `simulate(cfg, out_dir)` runs the plant day by day and streams every day's
outputs to disk (memory stays bounded by one day of records); `continue_simulation(out_dir, days)` appends
later days to a plant simulated into `out_dir` before, from the state every simulation stores in
`state/simulation_state.json` (see `simulator.continuation`)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from .config import FaultRates, PlantConfig
from .continuation import (STATE_FILE, STATE_FORMAT, StateError, commit_state, encode_model, master_digest,
                           read_state, restore_model, write_state)
from .master_data import MasterData, build_master_data
from .outputs import OutputWriter
from .plant_model import PlantModel
from .timeutil import day_offset
from .truth import SCHEMAS

GENERATED_FOLDERS = ("master", "wms", "mes", "signals", "truth", "state")
DAY_FOLDERS = ("mes/events", "mes/b2mml", "signals", "wms/*")  # entries named <YYYY-MM-DD>[...]
DAY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:_redelivery)?(?:\.\w+)?$")


class ContinuationError(ValueError):
    """Why a simulation cannot be continued (one line, shown as the CLI error)."""


class OutputFolderError(ValueError):
    """The output folder holds data the simulator did not write; it is refused, untouched."""


def _refuse_foreign_output(out_dir: Path) -> None:
    """A folder may be replaced only if the simulator wrote it (its state file is there) or it holds none of the
    folders a simulation writes: a real landing folder with real WMS or MES files is never deleted."""
    from .continuation import STATE_FILE

    present = [name for name in GENERATED_FOLDERS if (out_dir / name).exists()]
    if present and not (out_dir / STATE_FILE).is_file():
        raise OutputFolderError(f"refusing to overwrite {out_dir}: it holds {', '.join(p + '/' for p in present)} "
                                f"that no simulation wrote (no {STATE_FILE}); pass a new or empty folder")


@dataclass(frozen=True)
class SimulationResult:
    out_dir: Path
    counts: dict[str, int]
    faults: int
    fault_types: dict[str, int] = field(default_factory=dict)
    truth_rows: dict[str, int] = field(default_factory=dict)
    config: PlantConfig | None = None
    continued_from: date | None = None  # first appended day of a continuation (counts cover all days)

    def summary(self) -> str:
        lines = [f"Simulated plant written to {self.out_dir}"]
        if self.config is not None:
            cfg = self.config
            lines.append(f"  {cfg.days} days from {cfg.start_date.isoformat()}, {cfg.lines} lines x "
                         f"{cfg.machines_per_line} machines, seed {cfg.seed}, signals every {cfg.signal_interval_s} s")
            if self.continued_from is not None:
                end = day_offset(cfg.start_date, cfg.days - 1)
                appended = (end - self.continued_from).days + 1
                lines.append(f"  continued: appended {appended} day{'s' if appended > 1 else ''} "
                             f"{self.continued_from.isoformat()} .. {end.isoformat()} (totals below cover all days)")
        for name, value in self.counts.items():
            lines.append(f"  {name:<16} {value:>12,}")
        lines.append(f"  {'faults':<16} {self.faults:>12,}"
                     + (f"  ({', '.join(f'{k}={v}' for k, v in sorted(self.fault_types.items()))})"
                        if self.fault_types else ""))
        truth = ", ".join(f"{k}={v:,}" for k, v in sorted(self.truth_rows.items()))
        lines.append(f"  truth rows: {truth}")
        return "\n".join(lines)


def simulate(cfg: PlantConfig, out_dir: Path, progress: bool = False) -> SimulationResult:
    """Simulate `cfg.days` days from `cfg.start_date`, replacing the folders an earlier simulation generated in
    `out_dir`; a folder holding anything else of those names is refused (`OutputFolderError`), untouched."""
    out_dir = Path(out_dir)
    _refuse_foreign_output(out_dir)
    for generated in GENERATED_FOLDERS:
        if (out_dir / generated).exists():
            shutil.rmtree(out_dir / generated)
    master = build_master_data(cfg)
    master.write(out_dir / "master", _plant_info(cfg))
    model = PlantModel(cfg, master)
    writer = OutputWriter(cfg, master, out_dir)
    return _run(cfg, master, model, writer, out_dir, range(cfg.days), progress, [], None)


def continue_simulation(out_dir: Path, days: int, progress: bool = False, *, seed: int | None = None,
                        lines: int | None = None, machines_per_line: int | None = None,
                        start_date: date | None = None, fault_rates: FaultRates | None = None,
                        signal_interval_s: int | None = None, b2mml_share: float | None = None,
                        dispatch_ranks: dict[str, int] | None = None) -> SimulationResult:
    """Append `days` days to the plant simulated into `out_dir`, continuing its stored state.
    `dispatch_ranks` (work order id -> rank) makes the machines follow that schedule instead of first-in
    first-out for these days (`simulator.dispatching`).

    The result is what one simulation over all days would have written (with no `late_event` fault in
    the last day of an earlier period, as every period ends complete): the same ids continue (lots, work
    orders, WMS transactions, MES events, shipments, faults), stock, open work orders and shipments,
    pending events, machine wear and state and every random stream carry on, and the truth tables are
    rewritten to cover all days. Master data are not touched; `master/plant.json` gets the new end date.
    The keyword arguments given (not None) must match the stored simulation; `start_date` must be the day
    after its last day. Raises `ContinuationError` when the folder holds no continuable simulation or a
    setting conflicts."""
    out_dir = Path(out_dir)
    state = _previous_state(out_dir)
    try:
        previous = PlantConfig.from_dict(state["config"])
        next_date = date.fromisoformat(state["next_date"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ContinuationError(f"{out_dir / STATE_FILE} holds an unreadable configuration: {exc}") from exc
    _check_settings(out_dir, previous, next_date, start_date, fault_rates, seed=seed, lines=lines,
                    machines_per_line=machines_per_line, signal_interval_s=signal_interval_s,
                    b2mml_share=b2mml_share)
    if days < 1:
        raise ContinuationError(f"days to append must be at least 1, not {days}")
    cfg = replace(previous, days=previous.days + days)
    master = build_master_data(cfg)
    if master_digest(master) != state.get("master_digest"):
        raise ContinuationError(f"the master data of the simulation in {out_dir} would change (written by another "
                                "simulator version?); simulate it again without --continue")
    _check_truth(out_dir, state)
    try:
        model = restore_model(state, cfg, master)
    except (StateError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ContinuationError(f"cannot restore {out_dir / STATE_FILE}: {exc}") from exc
    model.dispatch_ranks = dict(dispatch_ranks or {})
    _remove_days_from(out_dir, next_date)
    writer = OutputWriter(cfg, master, out_dir, resume=state["output"])
    return _run(cfg, master, model, writer, out_dir, range(previous.days, cfg.days), progress,
                list(state["periods"]), next_date)


def _run(cfg: PlantConfig, master: MasterData, model: PlantModel, writer: OutputWriter, out_dir: Path,
         day_indices: range, progress: bool, periods: list[dict], continued_from: date | None) -> SimulationResult:
    for day_index in tqdm(day_indices, desc="simulating days", unit="day", disable=not progress):
        writer.write_day(model.run_day(day_index))
    writer.close(model.physical_stock(), model.open_work_order_rows(), model.logistics.unshipped_rows())
    model.day = None
    first, last = day_offset(cfg.start_date, day_indices[0]), day_offset(cfg.start_date, day_indices[-1])
    periods.append({"start_date": first.isoformat(), "end_date": last.isoformat(), "days": len(day_indices)})
    # commit order: the new state is complete before the truth files are replaced, and takes effect last
    write_state(out_dir, {
        "format": STATE_FORMAT, "config": cfg.to_dict(), "start_date": cfg.start_date.isoformat(),
        "end_date": last.isoformat(), "next_date": day_offset(last, 1).isoformat(), "periods": periods,
        "master_digest": master_digest(master), "output": writer.state(), **encode_model(model)})
    writer.truth.commit()
    commit_state(out_dir)
    if continued_from is not None:
        (out_dir / "master" / "plant.json").write_text(json.dumps(_plant_info(cfg), indent=2, sort_keys=True) + "\n",
                                                       encoding="utf-8")
    counts = dict(writer.counts)
    counts["transactions"] = counts["wms_rows"] + counts["mes_events"] + counts["signal_rows"]
    result = SimulationResult(out_dir, counts, writer.fault_count, dict(sorted(writer.fault_types.items())),
                              dict(sorted(writer.truth.row_counts.items())), cfg, continued_from)
    (out_dir / "truth" / "summary.json").write_text(json.dumps({
        "counts": result.counts, "faults": result.faults, "fault_types": result.fault_types,
        "truth_rows": result.truth_rows}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return result


def _plant_info(cfg: PlantConfig) -> dict[str, object]:
    return {"plant_name": cfg.plant_name, "plant_timezone": cfg.plant_timezone,
            "start_date": cfg.start_date.isoformat(),
            "end_date": day_offset(cfg.start_date, cfg.days - 1).isoformat(), "config": cfg.to_dict()}


def _previous_state(out_dir: Path) -> dict:
    if not (out_dir / STATE_FILE).is_file():
        if (out_dir / "master" / "plant.json").is_file():
            raise ContinuationError(f"{out_dir} holds a simulated plant without {STATE_FILE.as_posix()} (simulated "
                                    "before --continue existed?); simulate it again without --continue")
        raise ContinuationError(f"{out_dir} holds no previous simulation to continue (no {STATE_FILE.as_posix()}); "
                                "run the simulation without --continue first")
    try:
        return read_state(out_dir)
    except StateError as exc:
        raise ContinuationError(str(exc)) from exc


def _describe_faults(rates: FaultRates) -> str:
    if rates.is_clean:
        return "no faults (clean)"
    return "the default fault rates" if rates == FaultRates.default() else f"fault rates {rates.to_dict()}"


def _check_settings(out_dir: Path, previous: PlantConfig, next_date: date, start_date: date | None,
                    fault_rates: FaultRates | None, **given: object) -> None:
    for name, value in given.items():
        if value is not None and value != getattr(previous, name):
            raise ContinuationError(f"{name}={value} conflicts with the simulation in {out_dir} ({name}="
                                    f"{getattr(previous, name)}); a continuation keeps the stored settings")
    if fault_rates is not None and fault_rates != previous.fault_rates:
        raise ContinuationError(f"{_describe_faults(fault_rates)} conflicts with the simulation in {out_dir}, which "
                                f"injects {_describe_faults(previous.fault_rates)}")
    if start_date is not None and start_date != next_date:
        raise ContinuationError(f"start date {start_date.isoformat()} conflicts with the simulation in {out_dir}, "
                                f"which ends on {day_offset(next_date, -1).isoformat()} and continues on "
                                f"{next_date.isoformat()}")


def _check_truth(out_dir: Path, state: dict) -> None:
    """The truth files must be the ones the stored state wrote (not e.g. from an interrupted continuation)."""
    expected_rows = state["output"]["truth_rows"]
    for name in SCHEMAS:
        path = out_dir / "truth" / f"{name}.parquet"
        rows = pq.read_metadata(path).num_rows if path.is_file() else None
        if rows != expected_rows.get(name, 0):
            raise ContinuationError(f"truth/{name}.parquet has {rows} rows where the stored state expects "
                                    f"{expected_rows.get(name, 0)} (files changed after the last simulation, or an "
                                    "interrupted --continue); simulate again without --continue")


def _remove_days_from(out_dir: Path, first_date: date) -> None:
    """Remove day files and folders dated `first_date` or later (left by an interrupted continuation)."""
    for pattern in DAY_FOLDERS:
        for folder in out_dir.glob(pattern):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                match = DAY_NAME.match(entry.name)
                if match and match.group(1) >= first_date.isoformat():
                    if entry.is_dir():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
