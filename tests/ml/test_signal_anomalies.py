"""Sensor anomalies: the simulator's injected windows (truth/signal_anomalies.parquet), the per-tag detector
(ml/anomalies.py) on inline series and on a small simulated plant, and the gold.signal_anomalies asset."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from lakehouse.delta_io import DeltaLake
from ml.anomalies import ANALOG_TAGS, detect_anomalies
from ml.anomaly_evaluation import event_scores
from pipelines.anomalies.assets import ANOMALY_CHECKS, signal_anomalies
from pipelines.resources import LakeResource
from plantlake.anomaly_evaluation import DOCUMENTED_SIZE, evaluate_plant
from simulator import FaultRates, PlantConfig, continue_simulation, simulate
from simulator.signal_anomalies import ANOMALY_TAGS, NOISE_SD

T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
SMALL = PlantConfig(days=8, lines=1, machines_per_line=3, seed=5, fault_rates=FaultRates(signal_anomaly=0.5))


@pytest.fixture(scope="module")
def plants(tmp_path_factory) -> tuple[Path, Path]:
    """The same small plant with and without sensor anomalies."""
    root = tmp_path_factory.mktemp("anomalies")
    simulate(SMALL, root / "with")
    simulate(replace(SMALL, fault_rates=FaultRates.none()), root / "without")
    return root / "with", root / "without"


def _signals(plant: Path) -> pl.DataFrame:
    return pl.read_parquet(plant / "signals" / "*.parquet").with_columns(
        pl.col("machine_id").cast(pl.String), pl.col("tag").cast(pl.String)).sort("machine_id", "tag", "source_at")


def test_anomalies_change_only_their_windows_and_truth_lists_them(plants) -> None:
    with_anomalies, without = plants
    truth = pl.read_parquet(with_anomalies / "truth" / "signal_anomalies.parquet")
    assert set(truth["kind"]) == {"spike", "drift", "stuck", "dropout"} and set(truth["tag"]) <= set(ANOMALY_TAGS)
    assert truth.height > 20 and truth["anomaly_id"].n_unique() == truth.height
    assert pl.read_parquet(without / "truth" / "signal_anomalies.parquet").height == 0
    signals = _signals(with_anomalies)
    changed = signals.join(_signals(without), on=["machine_id", "tag", "source_at"], suffix="_clean")
    changed = changed.filter(pl.col("value").ne_missing(pl.col("value_clean"))
                             | (pl.col("status_code") != pl.col("status_code_clean")))
    inside = changed.join(truth, on=["machine_id", "tag"]).filter(
        pl.col("source_at").is_between(pl.col("started_at"), pl.col("ended_at")))
    assert inside.select("machine_id", "tag", "source_at").n_unique() == changed.height > 0  # nothing outside
    for window in truth.iter_rows(named=True):
        rows = changed.filter(pl.col("machine_id") == window["machine_id"], pl.col("tag") == window["tag"],
                              pl.col("source_at").is_between(window["started_at"], window["ended_at"]))
        if window["kind"] == "dropout":
            assert rows.height == window["samples"] and (rows["status_code"] == 0x80000000).all()
            assert rows["value"].is_nan().all()
        elif window["kind"] == "spike":
            assert rows["value"][0] - rows["value_clean"][0] == pytest.approx(window["size"], abs=1e-3)
            assert window["size_in_noise_sd"] == pytest.approx(abs(window["size"]) / NOISE_SD[window["tag"]], rel=1e-3)
        elif window["kind"] == "drift":
            offsets = (rows["value"] - rows["value_clean"]).to_numpy()
            assert offsets[-1] == pytest.approx(window["size"], abs=1e-3) and len(offsets) == window["samples"]
        else:  # stuck: one value repeated over the whole window, status Good
            held = signals.filter(
                pl.col("machine_id") == window["machine_id"], pl.col("tag") == window["tag"],
                pl.col("source_at").is_between(window["started_at"], window["ended_at"]))
            assert held.height == window["samples"] and held["value"].n_unique() == 1
            assert (held["status_code"] == 0).all()


def test_a_continued_plant_has_the_same_anomaly_windows(tmp_path: Path) -> None:
    config = replace(SMALL, days=3)
    simulate(config, tmp_path / "once")
    simulate(replace(config, days=2), tmp_path / "twice")
    continue_simulation(tmp_path / "twice", 1)
    once, twice = (pl.read_parquet(tmp_path / p / "truth" / "signal_anomalies.parquet") for p in ("once", "twice"))
    assert once.height > 0 and once.equals(twice)


def test_detector_scores_the_small_plant_above_the_documented_size(plants) -> None:
    result = evaluate_plant(plants[0])
    scores = {row["kind"]: row for row in result.above_size.iter_rows(named=True)}
    for kind in ("spike", "stuck", "drift", "dropout"):
        assert scores[kind]["known"] >= 4, kind
        assert scores[kind]["recall"] >= 0.9 and scores[kind]["precision"] >= 0.9, scores[kind]
    assert result.goal_met()
    clean = detect_anomalies(pl.scan_parquet(plants[1] / "signals" / "*.parquet"))
    assert clean.height <= 1  # the plant without sensor faults is (almost) quiet


def _series(values, *, tag="temperature_c", status=None, state=None) -> pl.DataFrame:
    n = len(values)
    times = [T0 + timedelta(minutes=i) for i in range(n)]
    rows = pl.DataFrame({"machine_id": "M1", "tag": tag, "source_at": times, "value": np.asarray(values, float),
                         "status_code": status if status is not None else [0] * n}, schema_overrides={"status_code": pl.Int64})
    states = pl.DataFrame({"machine_id": "M1", "tag": "state", "source_at": times,
                           "value": np.asarray(state if state is not None else [1] * n, float)}).with_columns(
                               status_code=pl.lit(0, pl.Int64))
    return pl.concat([rows, states]).with_columns(pl.col("source_at").dt.cast_time_unit("us"),
                                                  pl.col("status_code").cast(pl.Int64))


def test_each_kind_on_an_inline_series() -> None:
    rng = np.random.default_rng(1)
    values = 40 + rng.normal(0, 0.3, 1000)
    values[100] += 6.0  # spike of 20 sd
    values[300:340] = values[299]  # stuck 40 min
    values[600:720] += np.linspace(0, 15, 120)  # drift of 50 sd over 2 h
    status = np.zeros(1000, dtype=np.int64)
    status[850:870] = 0x80000000
    values[850:870] = np.nan
    events = detect_anomalies(_series(values, status=status))
    kinds = {(row["kind"], row["started_at"].minute + 60 * row["started_at"].hour) for row in events.iter_rows(named=True)}
    assert ("spike", 100) in kinds and ("stuck", 299) in kinds and ("dropout", 850) in kinds
    drift = events.filter(pl.col("kind") == "drift")
    assert drift.height == 1 and T0 + timedelta(minutes=600) <= drift["started_at"][0] <= T0 + timedelta(minutes=720)
    assert events.height == 4


def test_a_state_change_is_no_anomaly() -> None:
    rng = np.random.default_rng(2)
    state = np.where((np.arange(600) // 50) % 2 == 0, 1, 0)  # running and idle every 50 minutes
    values = np.where(state == 1, 40.0, 24.0) + rng.normal(0, 0.3, 600)
    values[201] = 33.0  # a lone sample between the levels inside a running stretch: a spike
    events = detect_anomalies(_series(values, state=state))
    assert events.select("kind", "samples").rows() == [("spike", 1)]


def test_event_scores_count_found_and_right_events() -> None:
    window = {"machine_id": "M1", "tag": "t", "size_in_noise_sd": 40.0}
    known = pl.DataFrame([{**window, "kind": "drift", "started_at": T0, "ended_at": T0 + timedelta(hours=1)},
                          {**window, "kind": "drift", "started_at": T0 + timedelta(hours=5),
                           "ended_at": T0 + timedelta(hours=6), "size_in_noise_sd": 10.0}])
    detected = pl.DataFrame([{"machine_id": "M1", "tag": "t", "kind": "drift", "started_at": T0 + timedelta(minutes=30),
                              "ended_at": T0 + timedelta(hours=2)},
                             {"machine_id": "M1", "tag": "t", "kind": "drift", "started_at": T0 + timedelta(hours=9),
                              "ended_at": T0 + timedelta(hours=10)}])
    row = event_scores(detected, known).filter(pl.col("kind") == "drift").row(0, named=True)
    assert (row["known"], row["found"], row["detected"], row["right"]) == (2, 1, 2, 1)
    above = event_scores(detected, known, min_size_in_noise_sd={"drift": 30.0}).filter(pl.col("kind") == "drift")
    assert above.select("known", "found", "detected", "right").row(0) == (1, 1, 2, 1)


@pytest.mark.parametrize("samples_per_bucket", [None, 20_000])
def test_the_asset_writes_gold_signal_anomalies_and_its_checks_pass(tmp_path: Path, plants, samples_per_bucket,
                                                                    monkeypatch) -> None:
    """At once, and in buckets of machines (what a large lake gets): the same events as the detector on all."""
    if samples_per_bucket:
        monkeypatch.setattr("pipelines.anomalies.assets.SAMPLES_PER_BUCKET", samples_per_bucket)
    signals = pl.read_parquet(plants[0] / "signals" / "2026-01-0[5-7].parquet").with_columns(
        pl.col("machine_id").cast(pl.String), pl.col("tag").cast(pl.String),
        pl.col("value").fill_nan(None), pl.col("status_code").cast(pl.Int64),
        source_date=pl.col("source_at").dt.date(), ingested_at=pl.lit(T0).dt.cast_time_unit("us"),
        ingest_run_id=pl.lit("test"), node_id=pl.lit(None, pl.String), server_at=pl.col("source_at"),
        source_file=pl.lit("signals/test.parquet"))
    DeltaLake(tmp_path / "lake").append("machine_signals", signals)
    result = dg.materialize([signal_anomalies, *ANOMALY_CHECKS],
                            resources={"lake": LakeResource(lake_root=str(tmp_path / "lake"))})
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    buckets = result.asset_materializations_for_node("gold__signal_anomalies")[-1].metadata["buckets"].value
    assert buckets == (1 if samples_per_bucket is None else -(-signals.filter(
        pl.col("tag").is_in([*ANALOG_TAGS, "state"])).height // samples_per_bucket))
    written = DeltaLake(tmp_path / "lake").scan("signal_anomalies").collect()
    expected = detect_anomalies(signals)
    assert written.height == expected.height > 0
    assert written.sort("machine_id", "tag", "started_at", "kind").equals(expected)
    truth = pl.read_parquet(plants[0] / "truth" / "signal_anomalies.parquet").filter(
        pl.col("started_at") < datetime(2026, 1, 8, tzinfo=timezone.utc))
    scores = event_scores(written, truth, min_size_in_noise_sd=DOCUMENTED_SIZE)
    assert (scores.filter(pl.col("known") > 0)["recall"] >= 0.75).all()
