"""Point in time: changing or deleting everything after t leaves every feature at t unchanged."""

from __future__ import annotations

from datetime import datetime, timezone

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lakehouse.engines import collect_arrow
from ml.features.maintenance import hourly_signal_stats, machine_hour_features
from ml.features.quality import work_order_features
from pipelines.models.inputs import maintenance_frames, quality_frames
from tests.ml.model_plant import model_plant

CUT = datetime(2026, 1, 19, 13, 0, tzinfo=timezone.utc)  # day 15 of the plant, on the hour
TIME_COLUMNS = {"signals": "source_at", "equipment_states": "occurred_at", "shift_oee": "shift_end_at",
                "inspections": "occurred_at", "consumption": "occurred_at", "edges": "occurred_at"}


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    lake, _ = model_plant(tmp_path_factory.getbasetemp())
    quality = {name: frame for name, frame in quality_frames(lake).items() if name != "machine_hours"}
    lazy = {**maintenance_frames(lake), **quality}  # the machine hours of the wear proxies: from these signals
    return {name: nw.to_native(frame).collect() for name, frame in lazy.items()}


def _cut(frames: dict[str, pl.DataFrame], how: str) -> dict[str, pl.DataFrame]:
    changed = {}
    for name, frame in frames.items():
        after = pl.col(TIME_COLUMNS[name]) > CUT if name != "signals" else pl.col("source_at") >= CUT
        if how == "delete":
            changed[name] = frame.filter(~after)
        else:  # change every numeric value after t and shuffle lot references
            numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
            changed[name] = frame.with_columns(
                *(pl.when(after).then(pl.col(c) * 3 + 1).otherwise(pl.col(c)).alias(c) for c in numeric))
            if name == "edges":
                changed[name] = changed[name].with_columns(
                    pl.when(after).then(pl.lit("SUP:FAKE")).otherwise(pl.col("parent_node_id")).alias("parent_node_id"))
    return changed


def _machine_hours(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    f = {k: nw.from_native(v.lazy()) for k, v in frames.items()}
    rows = machine_hour_features(hourly_signal_stats(f["signals"], f["equipment_states"]), f["shift_oee"])
    return pl.from_arrow(collect_arrow(rows))


def _maintenance(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return _machine_hours(frames).filter(pl.col("predicted_at") <= CUT).sort("machine_id", "hour_start_at")


def _quality(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Quality features with the wear proxies from machine hours computed from the same (changed) frames."""
    f = {k: nw.from_native(v.lazy()) for k, v in frames.items()}
    hours = nw.from_native(_machine_hours(frames).lazy())
    rows = pl.from_arrow(collect_arrow(work_order_features(f["inspections"], f["consumption"], f["edges"],
                                                           machine_hours=hours)))
    return rows.drop("scrap_share", "scrap_units", "is_high_scrap").sort("work_order_id")


@pytest.mark.parametrize("how", ["delete", "change"])
def test_machine_hour_features_at_t_ignore_everything_after_t(frames, how):
    before = _maintenance(frames)
    after = _maintenance(_cut(frames, how))
    assert before.height > 6 * 24 * 10  # 6 machines, 14 days of hours before the cut
    assert before["vibration_mean_48h"].drop_nulls().len() > before.height * 0.6  # idle weekends have none
    assert_frame_equal(before, after)


@pytest.mark.parametrize("how", ["delete", "change"])
def test_work_order_features_at_t_ignore_everything_after_t(frames, how):
    full = _quality(frames)
    ids = full.filter(pl.col("predicted_at") <= CUT)["work_order_id"]
    before = full.filter(pl.col("work_order_id").is_in(ids.implode()))
    after = _quality(_cut(frames, how)).filter(pl.col("work_order_id").is_in(ids.implode()))
    assert before.height > 50
    assert before["input_lot_prior_inspected_units"].sum() > 0
    # run hours since maintenance are null before a machine's first planned maintenance
    assert before["machine_run_h_since_maintenance"].drop_nulls().len() > before.height * 0.7
    assert before["machine_vibration_mean_48h"].drop_nulls().len() > before.height * 0.5
    assert_frame_equal(before, after)
