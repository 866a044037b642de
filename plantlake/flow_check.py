"""The flow transforms against the simulator's truth: operation times (acceptance 1), Little's law
(acceptance 2) and bottleneck detection (acceptance 3) on simulated plants.

    .venv/bin/python -m plantlake.flow_check --seeds 1 2 3 4 5 --days 30

The transforms are fed the simulated plant's MES events and WMS issues in the shapes the lake's bronze MES
tables and silver movements have (same columns, same timestamps), so a check needs no full lake run."""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import narwhals as nw
import polars as pl

from simulator import FaultRates, PlantConfig, simulate
from transforms.flow.facts import FlowTables, flow_tables
from transforms.flow.wip import LITTLE_TOLERANCE, littles_law

UTC = pl.Datetime("us", "UTC")
OPERATION_TIMES = ("queue_s", "setup_s", "processing_s", "stopped_s", "starved_s", "blocked_s")


def _mes_events(plant: Path, event_types: tuple[str, ...]) -> pl.DataFrame:
    rows = [event for path in sorted((plant / "mes" / "events").glob("*.ndjson"))
            for event in map(json.loads, path.read_text(encoding="utf-8").splitlines())
            if event["event_type"] in event_types]
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("occurred_at").str.to_datetime(time_zone="UTC").cast(UTC))


def plant_flow_tables(plant: Path) -> FlowTables:
    """The flow tables computed from a simulated plant's files."""
    operations = _mes_events(plant, ("operation_started", "operation_completed"))
    if "operator_id" not in operations.columns:
        operations = operations.with_columns(pl.lit(None, pl.String).alias("operator_id"))
    operations = operations.select("event_type", "occurred_at", "work_order_id",
                                   pl.col("operation_seq").cast(pl.Int64), "machine_id", "operator_id")
    states = _mes_events(plant, ("equipment_state_changed",)).select("machine_id", "occurred_at", "reason_code")
    releases = _mes_events(plant, ("work_order_released",)).select("work_order_id",
                                                                  pl.col("occurred_at").alias("released_at"))
    issues = pl.concat([pl.read_csv(path, infer_schema_length=0)
                        for path in sorted((plant / "wms" / "issues").glob("*.csv"))])
    issues = issues.select("work_order_id", pl.col("occurred_at").str.to_datetime(time_zone="UTC").cast(UTC)
                           .alias("issued_at"))
    machines = pl.read_csv(plant / "master" / "machines.csv").select("machine_id", "line_id")
    truth = pl.read_parquet(plant / "truth" / "bottlenecks.parquet")
    shifts = truth.select("shift_date", "shift_id", (pl.col("shift_start_at").dt.epoch("us") / 1e6).alias("start_s"),
                          (pl.col("shift_end_at").dt.epoch("us") / 1e6).alias("end_s")).unique()
    breaks = pl.read_csv(plant / "master" / "shift_breaks.csv")
    seconds = [(pl.col(c).str.split(":").list.get(0).cast(pl.Int64) * 3600
                + pl.col(c).str.split(":").list.get(1).cast(pl.Int64) * 60) for c in
               ("break_start_local_time", "break_end_local_time")]
    break_s = breaks.group_by("shift_id").agg((seconds[1] - seconds[0]).sum().cast(pl.Float64).alias("break_s"))
    shifts = shifts.join(break_s, on="shift_id", how="left").with_columns(pl.col("break_s").fill_null(0.0))
    end = datetime.combine(states["occurred_at"].max().date() + timedelta(days=1), datetime.min.time(), timezone.utc)
    frame = lambda data: nw.from_native(data.lazy())  # noqa: E731
    return flow_tables(frame(operations), frame(states), frame(releases), frame(issues), machines=machines,
                       shifts=shifts, period_end=end)


@dataclass(frozen=True)
class OperationCheck:
    operations: int
    truth_operations: int
    max_abs_diff_s: dict[str, float]
    operators_equal: bool


def check_operations(plant: Path, tables: FlowTables) -> OperationCheck:
    truth = pl.read_parquet(plant / "truth" / "operations.parquet")
    joined = tables.operations.join(truth, on=["work_order_id", "operation_seq"], suffix="_truth")
    diffs = {c: float((joined[c] - joined[f"{c}_truth"]).abs().max() or 0.0) for c in OPERATION_TIMES}
    return OperationCheck(joined.height, truth.height, diffs,
                          bool((joined["operator_id"] == joined["operator_id_truth"]).all()))


def check_littles_law(plant: Path) -> dict[str, float]:
    orders = pl.read_parquet(plant / "truth" / "work_orders.parquet").select("released_at", "completed_at")
    law = littles_law(nw.from_native(orders.lazy()), window_start=orders["released_at"].min(),
                      window_end=orders["released_at"].max()).to_native().collect().row(0, named=True)
    return {**law, "throughput_x_lead_time": law["throughput_per_s"] * law["mean_lead_time_s"]}


@dataclass(frozen=True)
class BottleneckCheck:
    line_shifts: int
    named_true: int
    shifted: int  # line-shifts whose true bottleneck is not the designed one
    shifted_found: int

    @property
    def hit_rate(self) -> float:
        return self.named_true / self.line_shifts if self.line_shifts else 0.0


def check_bottlenecks(plant: Path, tables: FlowTables) -> BottleneckCheck:
    truth = pl.read_parquet(plant / "truth" / "bottlenecks.parquet")
    found = tables.bottlenecks.filter("is_line_bottleneck").select("line_id", "shift_date", "shift_id",
                                                                   pl.col("machine_id").alias("found"))
    joined = truth.join(found, on=["line_id", "shift_date", "shift_id"], how="left").with_columns(
        (pl.col("found") == pl.col("machine_id")).fill_null(False).alias("hit"))
    shifted = joined.filter(pl.col("cause") != "designed")
    return BottleneckCheck(joined.height, int(joined["hit"].sum()), shifted.height, int(shifted["hit"].sum()))


def flow_plant(out: Path, seed: int, days: int) -> Path:
    """A clean plant with a designed bottleneck per line and slowdown days, every order reported as NDJSON."""
    simulate(PlantConfig(days=days, lines=2, machines_per_line=4, seed=seed, fault_rates=FaultRates.none(),
                         b2mml_share=0.0, slowdown_day_share=0.2, bottleneck_factor=1.35), out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            plant = flow_plant(Path(folder) / f"seed{seed}", seed, args.days)
            tables = plant_flow_tables(plant)
            ops, law, bn = check_operations(plant, tables), check_littles_law(plant), check_bottlenecks(plant, tables)
            worst = max(ops.max_abs_diff_s.values())
            print(f"seed {seed}: operations {ops.operations}/{ops.truth_operations} equal truth within "
                  f"{worst:.3f} s (queue_s {ops.max_abs_diff_s['queue_s']:.3f} s: WMS issue times are whole "
                  f"seconds), operators equal: {ops.operators_equal}; Little: L={law['mean_wip']:.2f} "
                  f"lambda*W={law['throughput_x_lead_time']:.2f} gap {law['relative_gap']:.1%} "
                  f"(within {LITTLE_TOLERANCE:.0%}: {law['relative_gap'] <= LITTLE_TOLERANCE}); bottleneck named "
                  f"in {bn.named_true}/{bn.line_shifts} line-shifts ({bn.hit_rate:.1%}), shifted line-shifts "
                  f"found {bn.shifted_found}/{bn.shifted}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
