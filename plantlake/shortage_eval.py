"""How well the line-side shortage forecast sees material-shortage stops coming, and what following it saves.

`evaluate_forecast` replays the forecast every `step_s` over a simulated period, each forecast from the lake's
records before its moment only (`pipelines.lookahead.forecast.forecast_at`), and compares it with the
simulator's truth of shortage stops (`truth/shortage_stops.parquet`):
- a stop (line, material, started_at) is *predicted at least `min_lead_s` ahead* when a forecast made between
  `horizon_s` and `min_lead_s` before it flagged that line side short of that material at a time no later
  than `started_at + TIME_TOLERANCE_S`;
- an *alarm* is a run of consecutive forecasts flagging the same line side and material; it is *false* when no
  stop of that line and material starts between its first forecast and `TIME_TOLERANCE_S` after the last
  time it predicted. False alarms are counted per line-day.

`compare_supply` simulates one plant three times, the WMS issuing at release, on call-off and following the
forecast (`simulator.material_supply`), and counts the shortage stops and the mean line-side stock of each
(time-weighted, in handling units, from the truth movements).

Run as `python -m plantlake.shortage_eval` (see `main`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from lakehouse.delta_io import DeltaLake
from pipelines.lookahead.forecast import forecast_at, load_inputs

TIME_TOLERANCE_S = 3600.0
ALARM_WINDOWS_H = (8.0, 3.0, 2.0)


@dataclass(frozen=True)
class ForecastQuality:
    stops: int
    predicted: int
    alarms: int
    false_alarms: int
    line_days: float
    forecasts: int

    @property
    def predicted_share(self) -> float:
        return self.predicted / self.stops if self.stops else float("nan")

    @property
    def false_alarms_per_line_day(self) -> float:
        return self.false_alarms / self.line_days if self.line_days else float("nan")

    def summary(self, min_lead_s: float) -> str:
        return (f"shortage stops: {self.stops}, predicted >= {min_lead_s / 3600:g} h ahead: {self.predicted} "
                f"({self.predicted_share:.1%}); alarms: {self.alarms}, false: {self.false_alarms} "
                f"({self.false_alarms_per_line_day:.2f} per line-day over {self.line_days:g} line-days; "
                f"{self.forecasts} point-in-time forecasts)")


def replay_alarms(lake_root: Path, start: datetime, end: datetime, *, step_s: float = 3600.0,
                  horizon_s: float = 8 * 3600.0, line_side_stock: str = "backflushed") -> tuple[pl.DataFrame, int]:
    """Every forecast's shortages (line_id, material_id, forecast_at, short_at) at start, start + step, ..."""
    inputs = load_inputs(DeltaLake(lake_root))
    frames, moment, count = [], start, 0
    while moment < end:
        shortages = forecast_at(inputs, moment, horizon_s=horizon_s, line_side_stock=line_side_stock).shortages
        frames.append(shortages.select("line_id", "material_id", "forecast_at", "short_at"))
        moment += timedelta(seconds=step_s)
        count += 1
    return pl.concat(frames), count


def score(alarms: pl.DataFrame, stops: pl.DataFrame, *, lines: int, days: float, forecasts: int,
          step_s: float = 3600.0, min_lead_s: float = 3600.0, horizon_s: float = 8 * 3600.0) -> ForecastQuality:
    tolerance = timedelta(seconds=TIME_TOLERANCE_S)
    stops = stops.with_row_index("stop")
    candidates = (stops.join(alarms, on=["line_id", "material_id"])
                  .filter(pl.col("forecast_at") <= pl.col("started_at") - timedelta(seconds=min_lead_s),
                          pl.col("forecast_at") >= pl.col("started_at") - timedelta(seconds=horizon_s),
                          pl.col("short_at") <= pl.col("started_at") + tolerance))
    predicted = candidates["stop"].n_unique()
    episodes = (alarms.sort("line_id", "material_id", "forecast_at")
                .with_columns(((pl.col("forecast_at").diff().dt.total_seconds() > step_s)
                               | pl.col("forecast_at").diff().is_null()).over("line_id", "material_id")
                              .cum_sum().over("line_id", "material_id").alias("episode"))
                .group_by("line_id", "material_id", "episode")
                .agg(pl.col("forecast_at").min().alias("first_at"), pl.col("short_at").max().alias("last_short_at")))
    hits = (episodes.join(stops.select("line_id", "material_id", "started_at"), on=["line_id", "material_id"])
            .filter(pl.col("started_at") >= pl.col("first_at"),
                    pl.col("started_at") <= pl.col("last_short_at") + tolerance)
            .select("line_id", "material_id", "episode").unique())
    false_alarms = episodes.height - hits.height
    return ForecastQuality(stops.height, predicted, episodes.height, false_alarms, lines * days, forecasts)


def evaluate_forecast(lake_root: Path, plant_dir: Path, *, step_s: float = 3600.0, min_lead_s: float = 3600.0,
                      horizon_s: float = 8 * 3600.0, line_side_stock: str = "backflushed") -> ForecastQuality:
    """Replay the forecast over the simulated period of `plant_dir` (landed in `lake_root`) and score it
    (`line_side_stock`: see `pipelines.lookahead.forecast.forecast_at`)."""
    plant = json.loads((plant_dir / "master" / "plant.json").read_text(encoding="utf-8"))
    first = datetime.fromisoformat(plant["start_date"]).replace(tzinfo=timezone.utc)
    end = datetime.fromisoformat(plant["end_date"]).replace(tzinfo=timezone.utc) + timedelta(days=1)
    alarms, count = replay_alarms(lake_root, first + timedelta(hours=1), end, step_s=step_s, horizon_s=horizon_s,
                                  line_side_stock=line_side_stock)
    stops = pl.read_parquet(plant_dir / "truth" / "shortage_stops.parquet")
    return score(alarms, stops, lines=int(plant["config"]["lines"]), days=(end - first).days, forecasts=count,
                 step_s=step_s, min_lead_s=min_lead_s, horizon_s=horizon_s)


def line_side_stock_units(plant_dir: Path) -> float:
    """Mean line-side stock over the simulated period, in handling units (time-weighted over all lines)."""
    from simulator.catalog import MATERIALS_BY_ID

    plant = json.loads((plant_dir / "master" / "plant.json").read_text(encoding="utf-8"))
    start = datetime.fromisoformat(plant["start_date"]).replace(tzinfo=timezone.utc)
    end = datetime.fromisoformat(plant["end_date"]).replace(tzinfo=timezone.utc) + timedelta(days=1)
    packs = pl.DataFrame({"material_id": list(MATERIALS_BY_ID),
                          "pack": [float(m.wms_pack_base) for m in MATERIALS_BY_ID.values()]})
    moves = pl.read_parquet(plant_dir / "truth" / "movements.parquet")
    deltas = pl.concat([
        moves.filter(pl.col("to_location_id").str.starts_with("LS-")).select("occurred_at", "material_id", "quantity"),
        moves.filter(pl.col("from_location_id").str.starts_with("LS-"))
        .select("occurred_at", "material_id", -pl.col("quantity"))])
    units = (deltas.join(packs, on="material_id").sort("occurred_at")
             .with_columns((pl.col("quantity") / pl.col("pack")).cum_sum().alias("level"),
                           ((pl.col("occurred_at").shift(-1).fill_null(end) - pl.col("occurred_at"))
                            .dt.total_seconds()).alias("held_s")))
    return float((units["level"] * units["held_s"]).sum() / (end - start).total_seconds())


@dataclass(frozen=True)
class SupplyOutcome:
    policy: str
    stops: int
    stopped_orders: int
    line_side_units: float


def compare_supply(days: int, lines: int, seed: int, workdir: Path, *, faults: bool = False) -> list[SupplyOutcome]:
    from simulator.config import MATERIAL_SUPPLY_POLICIES, FaultRates, PlantConfig
    from simulator.simulation import simulate

    outcomes = []
    for policy in MATERIAL_SUPPLY_POLICIES:
        plant_dir = workdir / f"plant_{policy}"
        simulate(PlantConfig(days=days, lines=lines, seed=seed, signal_interval_s=3600, material_supply=policy,
                             fault_rates=FaultRates.default() if faults else FaultRates.none()), plant_dir)
        stops = pl.read_parquet(plant_dir / "truth" / "shortage_stops.parquet")
        outcomes.append(SupplyOutcome(policy, stops.height, stops["work_order_id"].n_unique(),
                                      line_side_stock_units(plant_dir)))
    return outcomes


def build_plant_lake(days: int, lines: int, seed: int, workdir: Path, policy: str = "call_off", *,
                     faults: bool = False) -> tuple[Path, Path]:
    """Simulate a plant with the given supply policy and land it in a lake (hourly signals keep it quick);
    without `faults` the MES and WMS report exactly what happened, so the book stock is the physical one."""
    from simulator.config import FaultRates, PlantConfig
    from simulator.simulation import simulate

    plant_dir, lake_root = workdir / "plant", workdir / "lake"
    simulate(PlantConfig(days=days, lines=lines, seed=seed, signal_interval_s=3600, material_supply=policy,
                         fault_rates=FaultRates.default() if faults else FaultRates.none()), plant_dir)
    land_for_lookahead(plant_dir, lake_root)
    return plant_dir, lake_root


LOOKAHEAD_GROUPS = ("master_data", "bronze", "inventory", "lookahead")


def land_for_lookahead(source_dir: Path, lake_root: Path) -> None:
    """Materialize only what the look-ahead reads (master data, bronze, inventory) and the look-ahead tables, with
    their checks (a whole `plantlake run` would also fit models and KPIs the forecast does not read); raises
    RuntimeError naming the failed steps or checks."""
    import dagster as dg

    from pipelines.definitions import ALL_ASSETS, ALL_CHECKS
    from pipelines.resources import LakeResource, LandingResource

    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], selection=dg.AssetSelection.groups(*LOOKAHEAD_GROUPS),
                            resources={"lake": LakeResource(lake_root=str(lake_root)),
                                       "landing": LandingResource(source_dir=str(source_dir))},
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    failed = sorted(f"{c.asset_key.to_user_string()}:{c.check_name}" for c in result.get_asset_check_evaluations()
                    if not c.passed)
    if not result.success or failed:
        steps = [e.step_key for e in result.all_events if e.is_step_failure]
        raise RuntimeError(f"landing {source_dir} failed: steps {steps}, checks {failed}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m plantlake.shortage_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--lines", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--faults", action="store_true",
                        help="Inject the default MES/WMS faults (the lake's book stock then drifts from the physical).")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the plants and lake here.")
    parser.add_argument("--book", action="store_true",
                        help="Also score the forecast drawing on the line-side book stock as booked (no backflush).")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shortage_eval_"))
    plant_dir, lake_root = build_plant_lake(args.days, args.lines, args.seed, workdir, faults=args.faults)
    print(f"forecast on a {args.days}-day plant, {args.lines} lines, seed {args.seed}, WMS on call-off, "
          f"{'default' if args.faults else 'no'} MES/WMS faults (hourly point-in-time forecasts):")
    for window_h in ALARM_WINDOWS_H:
        quality = evaluate_forecast(lake_root, plant_dir, horizon_s=window_h * 3600.0)
        print(f"  alarm horizon {window_h:g} h: " + quality.summary(3600.0))
    if args.book:
        print("the same forecast drawing on the line-side book stock as booked (no backflush):")
        for window_h in ALARM_WINDOWS_H:
            quality = evaluate_forecast(lake_root, plant_dir, horizon_s=window_h * 3600.0, line_side_stock="book")
            print(f"  alarm horizon {window_h:g} h: " + quality.summary(3600.0))
    print("replay of the same plant with the WMS issuing at release / on call-off / following the forecast:")
    for outcome in compare_supply(args.days, args.lines, args.seed, workdir, faults=args.faults):
        print(f"  {outcome.policy:<11} shortage stops {outcome.stops:>4} ({outcome.stopped_orders} orders)   "
              f"mean line-side stock {outcome.line_side_units:8.1f} handling units")


if __name__ == "__main__":
    main()
