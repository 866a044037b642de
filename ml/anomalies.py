"""Per-tag sensor anomaly detection with robust statistics: a pure Polars transform from long-format signals
(machine_id, tag, source_at, value, status_code: `bronze.machine_signals` or the simulator's signal files) to
anomaly events (`gold.signal_anomalies`: machine_id, tag, kind, started_at, ended_at, samples, score).

Each analog tag of each machine is judged on its own, in the context of the machine's `state` tag (a state
change moves temperature, vibration and current at once; that is physics, not a sensor fault):

- `dropout`: at least `min_dropout_samples` samples in a row with a status other than Good or no value, or a
  hole in the timestamps longer than `gap_factor` x the tag's usual sampling interval. Score: missing samples.
- `stuck`: at least `min_stuck_samples` Good samples in a row with exactly the same value (a live analog sensor
  always carries some noise). Score: samples in the run.
- `spike`: at most `max_spike_samples` samples far from the rolling median of their neighbours in the same
  machine state (`level_window` samples, centred). Score: distance in robust noise standard deviations
  (1.4826 x the median absolute residual of the tag).
- `drift`: the level (that rolling median) keeps moving one way within machine states: the increments of the
  level inside each state run, each clipped to `drift_clip` noise standard deviations so that steps (a new
  production chunk, a pressure excursion) count little, summed over the trailing `drift_window`. Score: that
  sum over its robust spread on the same tag (1.4826 x its median absolute deviation), which also absorbs the
  tag's slow wear trend.

Every statistic is per series (machine and tag), so the detector gives the same events on all machines at once
or on any split of the machines (`pipelines/anomalies` runs it in buckets of machines to bound memory).

Rolling medians are not in Narwhals' API, so this transform is Polars only (eager or lazy in, eager out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

# condition-monitoring sensors; process parameters set per production chunk (pressure, setpoint deviation) jump
# by as much as a small anomaly whenever a chunk starts, so a per-tag detector would flag every short chunk
ANALOG_TAGS: tuple[str, ...] = ("temperature_c", "vibration_mm_s", "motor_current_a")
KINDS: tuple[str, ...] = ("spike", "drift", "stuck", "dropout")
EVENT_SCHEMA = {"machine_id": pl.String, "tag": pl.String, "kind": pl.String,
                "started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"),
                "samples": pl.Int64, "score": pl.Float64}
SERIES = ["machine_id", "tag"]


@dataclass(frozen=True)
class DetectorSettings:
    tags: tuple[str, ...] = ANALOG_TAGS
    state_tag: str | None = "state"
    min_dropout_samples: int = 3
    gap_factor: float = 3.0
    min_stuck_samples: int = 5
    level_window: int = 11
    spike_threshold: float = 9.0
    max_spike_samples: int = 3
    drift_window: timedelta = timedelta(hours=2)
    drift_clip: float = 1.5
    drift_threshold: float = 10.0
    min_drift_samples: int = 3


def detect_anomalies(signals: pl.DataFrame | pl.LazyFrame,
                     settings: DetectorSettings = DetectorSettings()) -> pl.DataFrame:
    """Anomaly events of every analog tag of every machine, sorted by machine, tag and start."""
    frame = signals.lazy() if isinstance(signals, pl.DataFrame) else signals
    frame = frame.select(pl.col("machine_id").cast(pl.String), pl.col("tag").cast(pl.String), pl.col("source_at"),
                         pl.col("value").cast(pl.Float64),
                         pl.col("status_code").cast(pl.Int64))
    analog = _with_state(frame, settings).sort(*SERIES, "source_at").with_columns(
        is_good=(pl.col("status_code") == 0) & pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    analog = analog.collect()
    spikes, drifts = _spikes_and_drifts(analog, settings)
    longer = pl.concat([_dropouts(analog, settings), _stuck(analog, settings),
                        _merged(drifts, settings.drift_window)], how="vertical")
    spikes = _outside(spikes, longer, _usual_steps(analog), settings.level_window // 2 + 1)
    events = pl.concat([longer, spikes], how="vertical")
    return events.select([pl.col(c).cast(t) for c, t in EVENT_SCHEMA.items()]).sort(*SERIES, "started_at", "kind")


def _merged(events: pl.DataFrame, gap: timedelta) -> pl.DataFrame:
    """Events of one series less than `gap` apart joined into one (a drift's tail in the trailing window)."""
    ordered = events.sort(*SERIES, "started_at")
    previous_end = pl.col("ended_at").cum_max().shift(1).over(SERIES)
    joined = ordered.with_columns(
        group=((pl.col("started_at") - previous_end) > gap).fill_null(True).cum_sum().over(SERIES))
    return (joined.group_by(*SERIES, "group", maintain_order=True)
            .agg(kind=pl.col("kind").first(), started_at=pl.col("started_at").min(),
                 ended_at=pl.col("ended_at").max(), samples=pl.col("samples").sum(), score=pl.col("score").max())
            .drop("group"))


def _usual_steps(analog: pl.DataFrame) -> pl.DataFrame:
    """Each series' usual sampling interval (median time between samples; `analog` is sorted by series and time)."""
    return analog.group_by(SERIES).agg(step=pl.col("source_at").diff().median())


def _outside(spikes: pl.DataFrame, longer: pl.DataFrame, steps: pl.DataFrame, margin_samples: int) -> pl.DataFrame:
    """Spikes not at the edge of a longer anomaly of the same series (where the level jumps by design): within
    `margin_samples` of the series' usual sampling interval of its start or end."""
    margin = pl.col("step").fill_null(pl.duration(microseconds=0)) * margin_samples
    near = (spikes.with_row_index("spike").join(longer, on=SERIES, suffix="_longer").join(steps, on=SERIES)
            .filter((pl.col("started_at") <= pl.col("ended_at_longer") + margin)
                    & (pl.col("started_at_longer") - margin <= pl.col("ended_at")))["spike"])
    return spikes.with_row_index("spike").filter(~pl.col("spike").is_in(near.implode())).drop("spike")


def _with_state(frame: pl.LazyFrame, settings: DetectorSettings) -> pl.LazyFrame:
    analog = frame.filter(pl.col("tag").is_in(list(settings.tags)))
    if settings.state_tag is None:
        return analog.with_columns(state=pl.lit(0.0))
    states = (frame.filter((pl.col("tag") == settings.state_tag) & (pl.col("status_code") == 0))
              .select("machine_id", "source_at", pl.col("value").alias("state")).sort("machine_id", "source_at"))
    return analog.sort("machine_id", "source_at").join_asof(states, on="source_at", by="machine_id",
                                                             strategy="backward", check_sortedness=False)


def _runs(frame: pl.DataFrame, flag: pl.Expr, kind: str, min_samples: int, score: pl.Expr) -> pl.DataFrame:
    """Runs of consecutive rows (per series) where `flag` holds, at least `min_samples` long, as events."""
    flagged = frame.with_columns(flag=flag).with_columns(run=pl.col("flag").rle_id().over(SERIES))
    return (flagged.filter(pl.col("flag")).group_by(*SERIES, "run")
            .agg(started_at=pl.col("source_at").min(), ended_at=pl.col("source_at").max(), samples=pl.len(),
                 score=score)
            .filter(pl.col("samples") >= min_samples)
            .select(*SERIES, kind=pl.lit(kind), started_at="started_at", ended_at="ended_at",
                    samples=pl.col("samples").cast(pl.Int64), score=pl.col("score").cast(pl.Float64)))


def _dropouts(frame: pl.DataFrame, settings: DetectorSettings) -> pl.DataFrame:
    bad_runs = _runs(frame, ~pl.col("is_good"), "dropout", settings.min_dropout_samples,
                     pl.len().cast(pl.Float64))
    step = frame.with_columns(step=pl.col("source_at").diff().over(SERIES).dt.total_microseconds())
    usual = step.group_by(SERIES).agg(usual=pl.col("step").median())
    holes = (step.join(usual, on=SERIES).filter(pl.col("step") > settings.gap_factor * pl.col("usual"))
             .select(*SERIES, kind=pl.lit("dropout"),
                     started_at=pl.col("source_at") - pl.duration(microseconds=pl.col("step")),
                     ended_at="source_at", samples=(pl.col("step") / pl.col("usual") - 1).round().cast(pl.Int64),
                     score=(pl.col("step") / pl.col("usual") - 1).round()))
    return pl.concat([bad_runs, holes])


def _stuck(frame: pl.DataFrame, settings: DetectorSettings) -> pl.DataFrame:
    good = frame.filter(pl.col("is_good")).with_columns(repeat=pl.col("value").rle_id().over(SERIES))
    return (good.group_by(*SERIES, "repeat")
            .agg(started_at=pl.col("source_at").min(), ended_at=pl.col("source_at").max(), samples=pl.len())
            .filter(pl.col("samples") >= settings.min_stuck_samples)
            .select(*SERIES, kind=pl.lit("stuck"), started_at="started_at", ended_at="ended_at",
                    samples=pl.col("samples").cast(pl.Int64), score=pl.col("samples").cast(pl.Float64)))


def _spikes_and_drifts(frame: pl.DataFrame, settings: DetectorSettings) -> list[pl.DataFrame]:
    good = frame.filter(pl.col("is_good")).with_columns(
        state_run=pl.col("state").fill_null(-1.0).rle_id().over(SERIES))
    in_state = [*SERIES, "state_run"]
    level = pl.col("value").rolling_median(settings.level_window, center=True, min_samples=1).over(in_state)
    scored = good.with_columns(level=level).with_columns(residual=pl.col("value") - pl.col("level"))
    scored = scored.with_columns(
        noise_sd=pl.max_horizontal(1.4826 * pl.col("residual").abs().median().over(SERIES), pl.lit(1e-6)))
    scored = scored.with_columns(
        spike_score=pl.col("residual").abs() / pl.col("noise_sd"),
        increment=(pl.col("level").diff().over(in_state).fill_null(0.0)
                   .clip(-settings.drift_clip * pl.col("noise_sd"), settings.drift_clip * pl.col("noise_sd"))))
    scored = scored.with_columns(
        level_change=pl.col("increment").rolling_sum_by(
            "source_at", f"{int(settings.drift_window.total_seconds())}s").over(SERIES))
    spread = 1.4826 * (pl.col("level_change") - pl.col("level_change").median()).abs().median()
    scored = scored.with_columns(
        drift_score=pl.col("level_change").abs() / pl.max_horizontal(spread.over(SERIES), pl.col("noise_sd")))
    spikes = _runs(scored, pl.col("spike_score") > settings.spike_threshold, "spike", 1, pl.col("spike_score").max())
    spikes = spikes.filter(pl.col("samples") <= settings.max_spike_samples)
    drifts = _runs(scored, pl.col("drift_score") > settings.drift_threshold, "drift", settings.min_drift_samples,
                   pl.col("drift_score").max())
    return [spikes, drifts]
