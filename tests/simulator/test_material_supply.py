"""Supply policies and the truth of material-shortage stops (simulator.material_supply)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from sim_test_support import small_config

from simulator import PlantConfig, simulate
from simulator.continuation import encode_model

DAYS = 12


@pytest.fixture(scope="module")
def plants(tmp_path_factory) -> dict[str, object]:
    out = {}
    for policy in ("at_release", "call_off", "forecast"):
        folder = tmp_path_factory.mktemp(policy)
        simulate(small_config(days=DAYS, signal_interval_s=3600, material_supply=policy), folder)
        out[policy] = folder
    return out


def stops(folder) -> pl.DataFrame:
    return pl.read_parquet(folder / "truth" / "shortage_stops.parquet")


def test_default_configuration_is_stored_as_before():
    assert "material_supply" not in PlantConfig().to_dict()
    called_off = PlantConfig(material_supply="call_off")
    assert PlantConfig.from_dict(called_off.to_dict()) == called_off
    with pytest.raises(ValueError, match="material_supply must be one of"):
        PlantConfig(material_supply="by_magic")


def test_every_shortage_stop_is_a_material_shortage_of_the_first_machine(plants):
    folder = plants["call_off"]
    truth = stops(folder)
    assert truth.height >= 3
    intervals = (pl.read_parquet(folder / "truth" / "state_intervals.parquet")
                 .filter(pl.col("reason_code") == "material_shortage")
                 .with_columns(("LINE-" + pl.col("machine_id").str.slice(3, 2)).alias("line_id")))
    assert intervals["machine_id"].str.ends_with("-01").all()  # only the first machine of a line consumes
    for stop in truth.iter_rows(named=True):
        assert stop["ended_at"] > stop["started_at"]
        # the line stood for material from the stop's start, and its order started when the stop ended
        starts = intervals.filter(pl.col("line_id") == stop["line_id"], pl.col("started_at") == stop["started_at"])
        assert starts.height == 1
    orders = pl.read_parquet(folder / "truth" / "work_orders.parquet")
    joined = truth.join(orders.select("work_order_id", pl.col("started_at").alias("order_started_at")),
                        on="work_order_id")
    assert joined.height == truth.height
    assert (joined["order_started_at"] == joined["ended_at"]).all()
    # and every first-machine shortage interval belongs to a stop, except those of a stop still open at the end
    # (its row is written when its order starts): after the first of those the machine never runs again
    covered = intervals.join(truth.select("line_id", "started_at", "ended_at").unique(), on="line_id")\
        .filter(pl.col("started_at") >= pl.col("started_at_right"),
                pl.col("ended_at") <= pl.col("ended_at_right") + timedelta(microseconds=1))\
        .select("machine_id", "started_at").unique()
    open_at_end = intervals.join(covered, on=["machine_id", "started_at"], how="anti")
    running = pl.read_parquet(folder / "truth" / "state_intervals.parquet").filter(pl.col("state") == "running")
    for machine_id, first_open in open_at_end.group_by("machine_id").agg(pl.col("started_at").min()).iter_rows():
        assert running.filter(pl.col("machine_id") == machine_id, pl.col("started_at") >= first_open).height == 0
    assert covered.height >= intervals.height // 2


def test_call_off_stops_the_line_more_and_following_the_forecast_less(plants):
    counts = {policy: stops(folder).height for policy, folder in plants.items()}
    assert counts["call_off"] > counts["forecast"]
    assert counts["call_off"] > counts["at_release"]


def test_forecast_policy_state_survives_encoding(tmp_path):
    from simulator.master_data import build_master_data
    from simulator.plant_model import PlantModel

    cfg = small_config(days=2, material_supply="forecast")
    model = PlantModel(cfg, build_master_data(cfg))
    model.run_day(0)
    state = encode_model(model)
    assert set(state["supply"]) == {"requested", "reserved", "pending", "open_stops"}
