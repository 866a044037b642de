"""Schedule suggestions measured honestly in the simulator (acceptance 4): for each seed, a clean plant runs
`--warmup` days under its own rule (first in, first out); at that moment a suggestion is made per line from the
open work orders, routings, due dates and WIP (the plant's MES events and master data, the shapes the lake
holds); then the same plant continues `--period` days twice - once under its own rule, once following the
suggestion (`simulator.dispatching`) - and the outcomes of the orders open at that moment are compared:
total tardiness, on-time share, makespan (until the last of them completes) and OEE of the period.

    .venv/bin/python -m plantlake.schedule_check --seeds 1 2 3 4 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from simulator import FaultRates, PlantConfig, simulate
from simulator.simulation import continue_simulation
from transforms.flow.schedule import (ScheduleSuggestion, WorkingCalendar, schedule_problem, suggest_schedule,
                                      working_calendar)

UTC = pl.Datetime("us", "UTC")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _events(plant: Path, event_types: tuple[str, ...]) -> pl.DataFrame:
    rows = [event for path in sorted((plant / "mes" / "events").glob("*.ndjson"))
            for event in map(json.loads, path.read_text(encoding="utf-8").splitlines())
            if event["event_type"] in event_types]
    frame = pl.DataFrame(rows, infer_schema_length=None)
    timestamps = [c for c in ("occurred_at", "due_at", "planned_start_at") if c in frame.columns]
    return frame.with_columns(pl.col(c).str.to_datetime(time_zone="UTC").cast(UTC) for c in timestamps)


def plant_calendar(plant: Path, first: date, days: int) -> WorkingCalendar:
    """Working periods of the plant's shift calendar (master data) for `days` local dates from `first`."""
    info = json.loads((plant / "master" / "plant.json").read_text(encoding="utf-8"))
    zone = ZoneInfo(info["plant_timezone"])
    shifts = pl.read_csv(plant / "master" / "shift_calendar.csv")
    breaks = pl.read_csv(plant / "master" / "shift_breaks.csv")

    def at(day: date, local: str) -> float:
        hours, minutes, *_ = (int(p) for p in local.split(":"))
        return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).timestamp()

    shift_rows, break_rows = [], []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for shift in shifts.iter_rows(named=True):
            if WEEKDAYS[day.weekday()] not in shift["scheduled_weekdays"].split(","):
                continue
            shift_rows.append((at(day, shift["start_local_time"]), at(day, shift["end_local_time"])))
            break_rows += [(at(day, b["break_start_local_time"]), at(day, b["break_end_local_time"]))
                           for b in breaks.filter(pl.col("shift_id") == shift["shift_id"]).iter_rows(named=True)]
    schema = {"start_s": pl.Float64, "end_s": pl.Float64}
    return working_calendar(pl.DataFrame(shift_rows, schema=schema, orient="row"),
                            pl.DataFrame(break_rows, schema=schema, orient="row"))


def plant_suggestions(plant: Path, now: datetime, *, time_limit_s: float = 20.0) -> list[ScheduleSuggestion]:
    """A suggestion per line of the plant at `now`, from its MES events and master data."""
    orders = _events(plant, ("work_order_released", "work_order_completed"))
    codes = pl.read_csv(plant / "master" / "material_code_map.csv",
                        schema_overrides={"system_material_code": pl.String})
    codes = codes.filter(pl.col("system") == "MES").select(pl.col("system_material_code").alias("material_code"),
                                                           "material_id")
    completed = orders.filter(pl.col("event_type") == "work_order_completed").select(
        "work_order_id", pl.col("occurred_at").alias("completed_at"))
    released = (orders.filter(pl.col("event_type") == "work_order_released")
                .join(codes, on="material_code")
                .select("work_order_id", "line_id", "material_id", pl.col("planned_quantity").cast(pl.Float64),
                        pl.col("occurred_at").alias("released_at"), "due_at")
                .join(completed, on="work_order_id", how="left"))
    operations = _events(plant, ("operation_started", "operation_completed")).select(
        "event_type", "occurred_at", "work_order_id", pl.col("operation_seq").cast(pl.Int64), "machine_id")
    routings = pl.read_csv(plant / "master" / "routings.csv")
    calendar = plant_calendar(plant, now.date() - timedelta(days=40), 120)
    return [suggest_schedule(schedule_problem(line_id=line, now=now, released=released, operation_events=operations,
                                              routings=routings, calendar=calendar), time_limit_s=time_limit_s)
            for line in sorted(routings["line_id"].unique())]


@dataclass(frozen=True)
class Outcome:
    tardiness_h: float
    on_time_share: float
    makespan_h: float
    oee: float


def outcome(plant: Path, orders: list[str], now: datetime, end: datetime) -> Outcome:
    truth = pl.read_parquet(plant / "truth" / "work_orders.parquet").filter(pl.col("work_order_id").is_in(orders))
    finished = truth.with_columns(pl.col("completed_at").fill_null(end))  # still open: at least this late
    late = (finished["completed_at"] - finished["due_at"]).dt.total_seconds().clip(lower_bound=0)
    oee = pl.read_parquet(plant / "truth" / "oee_by_machine_shift.parquet").filter(
        pl.col("shift_start_at") >= now)
    planned = float(oee["planned_time_s"].sum())
    return Outcome(float(late.sum()) / 3600, float((late == 0).mean()),
                   (finished["completed_at"].max() - now).total_seconds() / 3600,
                   float((oee["oee"] * oee["planned_time_s"]).sum()) / planned if planned else 0.0)


def compare(folder: Path, seed: int, *, warmup_days: int = 8, period_days: int = 4,
            time_limit_s: float = 20.0) -> dict[str, object]:
    base = folder / f"seed{seed}"
    cfg = PlantConfig(days=warmup_days, lines=2, machines_per_line=4, seed=seed, fault_rates=FaultRates.none(),
                      b2mml_share=0.0)
    simulate(cfg, base)
    now = datetime.combine(cfg.start_date + timedelta(days=warmup_days), datetime.min.time(), timezone.utc)
    started = time.perf_counter()
    suggestions = plant_suggestions(base, now, time_limit_s=time_limit_s)
    suggest_s = time.perf_counter() - started
    ranks = {order: rank for s in suggestions for order, rank in s.ranks.items()}
    fifo_dir, plan_dir = folder / f"seed{seed}_fifo", folder / f"seed{seed}_plan"
    shutil.copytree(base, fifo_dir)
    shutil.copytree(base, plan_dir)
    continue_simulation(fifo_dir, period_days)
    continue_simulation(plan_dir, period_days, dispatch_ranks=ranks)
    end = now + timedelta(days=period_days)
    orders = list(ranks)
    return {"seed": seed, "orders": len(orders), "suggest_s": suggest_s,
            "solver_s": max(s.solve_s for s in suggestions), "status": sorted({s.status for s in suggestions}),
            "fifo": outcome(fifo_dir, orders, now, end), "suggested": outcome(plan_dir, orders, now, end)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--warmup", type=int, default=8, help="days under the plant's own rule first")
    parser.add_argument("--period", type=int, default=4, help="days compared")
    parser.add_argument("--time-limit", type=float, default=20.0,
                        help="upper bound of CP-SAT's deterministic seconds per line (it gets 0.05 per operation, "
                             "at least 1)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            r = compare(Path(folder), seed, warmup_days=args.warmup, period_days=args.period,
                        time_limit_s=args.time_limit)
            results.append(r)
            f, s = r["fifo"], r["suggested"]
            print(f"seed {seed}: {r['orders']} open orders, suggestion {r['suggest_s']:.1f} s for 2 lines "
                  f"(CP-SAT {r['status']}, longest solve {r['solver_s']:.1f} s) | tardiness FIFO {f.tardiness_h:.1f} h "
                  f"-> suggested {s.tardiness_h:.1f} h | on time {f.on_time_share:.0%} -> {s.on_time_share:.0%} | "
                  f"makespan {f.makespan_h:.1f} h -> {s.makespan_h:.1f} h | OEE {f.oee:.3f} -> {s.oee:.3f}")
    gains = [r["fifo"].tardiness_h - r["suggested"].tardiness_h for r in results]
    print(f"tardiness lowered by {sum(gains) / len(gains):.1f} h on average over {len(gains)} seeds; smallest gain "
          f"{min(gains):+.1f} h (seed {results[gains.index(min(gains))]['seed']}); suggestion time at most "
          f"{max(r['suggest_s'] for r in results):.1f} s for 2 lines")
    return 0 if min(gains) >= 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
