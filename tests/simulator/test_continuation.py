"""`continue_simulation` / `plantlake simulate --continue`: later days appended to a simulated plant carry its
ids and state on, exactly as one longer simulation would have."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from sim_test_support import HEAVY_FAULTS, small_config

from simulator import ContinuationError, FaultRates, PlantConfig, continue_simulation, simulate
from simulator.cli import simulate_command
from simulator.continuation import STATE_FILE
from simulator.master_data import VIRTUAL_LOCATIONS

KEYS = ["material_id", "lot_id", "location_id"]
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}")


def file_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def mes_events(out: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((out / "mes" / "events").glob("*.ndjson"))
            for line in path.read_text().splitlines()]


def wms_rows(out: Path) -> list[dict]:
    rows = []
    for path in sorted((out / "wms").rglob("*.csv")):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


@pytest.fixture(scope="module")
def continued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A clean plant simulated for 3 days (Mon-Wed) and continued by 3 (Thu-Sat); the hashes of period 1."""
    out = tmp_path_factory.mktemp("continued")
    simulate(small_config(days=3), out)
    first_period = file_hashes(out)
    result = continue_simulation(out, 3)
    assert result.continued_from == date(2026, 1, 8) and result.config.days == 6
    return out, first_period


def test_continuation_equals_one_longer_simulation(tmp_path: Path) -> None:
    """Byte for byte, with report faults, lot splits/merges, shrinkage and B2MML: only late events (which
    never cross the end of a period) can make a continuation differ from the longer run."""
    cfg = small_config(days=6, fault_rates=replace(HEAVY_FAULTS, late_event=0.0, unreported_shrinkage=0.3))
    longer = simulate(cfg, tmp_path / "longer")
    simulate(replace(cfg, days=2), tmp_path / "split")
    continue_simulation(tmp_path / "split", 1)
    continued = continue_simulation(tmp_path / "split", 3)
    ours, theirs = file_hashes(tmp_path / "split"), file_hashes(tmp_path / "longer")
    assert len(ours) > 60 and ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == [STATE_FILE.as_posix()]
    assert (continued.counts, continued.faults, continued.fault_types, continued.truth_rows) == (
        longer.counts, longer.faults, longer.fault_types, longer.truth_rows)
    state = json.loads((tmp_path / "split" / STATE_FILE).read_text())
    reference = json.loads((tmp_path / "longer" / STATE_FILE).read_text())
    assert [p["days"] for p in state.pop("periods")] == [2, 1, 3] and len(reference.pop("periods")) == 1
    assert state == reference


def test_ids_are_unique_across_both_periods(continued: tuple[Path, dict[str, str]]) -> None:
    out, first_period = continued
    events, rows = mes_events(out), wms_rows(out)
    second = {"2026-01-08", "2026-01-09", "2026-01-10"}
    assert {e["occurred_at"][:10] for e in events} >= second - {"2026-01-10"}  # reported Thu and Fri (Sat idle)
    event_ids = [e["event_id"] for e in events]
    assert len(event_ids) == len(set(event_ids)) > 1000
    transaction_ids = [r["transaction_id"] for r in rows]
    assert len(transaction_ids) == len(set(transaction_ids)) > 100

    movements = pl.read_parquet(out / "truth" / "movements.parquet")
    assert movements["movement_id"].is_unique().all()
    created = movements.filter(pl.col("from_location_id").is_in(["V-SUPPLIER", "V-PRODUCTION-OUTPUT",
                                                                 "V-LOT-TRANSFORMATION"])
                               & pl.col("movement_type").is_in(["receipt", "production", "split", "merge"]))
    assert created["lot_id"].null_count() == 0
    assert created["lot_id"].is_unique().all()
    created_later = created.filter(pl.col("occurred_at") >= datetime(2026, 1, 8, tzinfo=timezone.utc))
    assert created_later.height > 5
    receipts = [r["lot_code"] for r in rows if r["transaction_type"] == "RECEIPT"]
    produced = [e["lot_code"] for e in events if e["event_type"] == "lot_produced"]
    assert len(receipts + produced) == len(set(receipts + produced))

    work_orders = pl.read_parquet(out / "truth" / "work_orders.parquet")
    assert work_orders["work_order_id"].is_unique().all()
    released_later = work_orders.filter(pl.col("released_at") >= datetime(2026, 1, 8, tzinfo=timezone.utc))
    assert released_later.height > 0
    released = [e["work_order_id"] for e in events if e["event_type"] == "work_order_released"]
    schedules = [p.name for p in (out / "mes" / "b2mml").rglob("ProductionSchedule_*.xml")]
    assert len(released) + len(schedules) == work_orders.height  # each order released once
    assert set(released).isdisjoint(name.removeprefix("ProductionSchedule_").removesuffix(".xml")
                                    for name in schedules)

    shipments = pl.read_parquet(out / "truth" / "shipments.parquet")
    assert shipments["shipment_id"].is_unique().all()
    shipped = {r["shipment_id"] for r in rows if r["transaction_type"] == "SHIPMENT"}
    assert shipped == set(shipments.filter(pl.col("shipped_at").is_not_null())["shipment_id"])
    assert any(r["occurred_at"][:10] in second for r in rows if r["transaction_type"] == "SHIPMENT")


def test_continuation_starts_the_day_after_the_previous_end(continued: tuple[Path, dict[str, str]]) -> None:
    out, first_period = continued
    now = file_hashes(out)
    dated = {name for name in now if DAY_FILE.search(name)}
    earlier = {name for name in first_period if DAY_FILE.search(name)}
    assert all(now[name] == first_period[name] for name in earlier)  # landed files never change
    new_dates = {DAY_FILE.search(name).group(0) for name in dated - earlier}
    assert new_dates == {"2026-01-08", "2026-01-09", "2026-01-10"}
    assert sorted(p.stem for p in (out / "signals").glob("*.parquet")) == [f"2026-01-{d:02d}" for d in range(5, 11)]
    plant = json.loads((out / "master" / "plant.json").read_text())
    assert (plant["start_date"], plant["end_date"], plant["config"]["days"]) == ("2026-01-05", "2026-01-10", 6)
    state = json.loads((out / STATE_FILE).read_text())
    assert state["periods"] == [{"start_date": "2026-01-05", "end_date": "2026-01-07", "days": 3},
                                {"start_date": "2026-01-08", "end_date": "2026-01-10", "days": 3}]
    assert state["next_date"] == "2026-01-11"
    assert all(now[name] == first_period[name] for name in first_period if name.startswith("master/")
               and name != "master/plant.json")  # master data unchanged

    # machine state carries on: cumulative counters continue across the period boundary
    boundary = datetime(2026, 1, 8, tzinfo=timezone.utc)
    counts = pl.concat([pl.read_parquet(out / "signals" / f"2026-01-0{d}.parquet") for d in (7, 8)]).filter(
        pl.col("tag").cast(pl.String) == "good_count")
    before = counts.filter(pl.col("source_at") < boundary).group_by("machine_id").agg(pl.col("value").max())
    after = counts.filter(pl.col("source_at") >= boundary).group_by("machine_id").agg(pl.col("value").min())
    joined = before.join(after, on="machine_id", suffix="_after")
    assert joined.height == 6 and (joined["value_after"] >= joined["value"]).all() and joined["value"].sum() > 0
    oee_dates = pl.read_parquet(out / "truth" / "oee_by_machine_shift.parquet")["shift_date"].unique().sort()
    assert oee_dates.to_list() == [date(2026, 1, d) for d in range(5, 10)]  # Mon-Fri, both periods


def test_truth_covers_both_periods(continued: tuple[Path, dict[str, str]]) -> None:
    out, _ = continued
    movements = pl.read_parquet(out / "truth" / "movements.parquet")
    leaving = movements.select("material_id", "lot_id", pl.col("from_location_id").alias("location_id"),
                               (-pl.col("quantity")).alias("delta"))
    arriving = movements.select("material_id", "lot_id", pl.col("to_location_id").alias("location_id"),
                                pl.col("quantity").alias("delta"))
    rebuilt = (pl.concat([leaving, arriving]).filter(~pl.col("location_id").is_in(VIRTUAL_LOCATIONS))
               .group_by(KEYS).agg(pl.col("delta").sum().alias("quantity")).filter(pl.col("quantity") != 0).sort(KEYS))
    stock = pl.read_parquet(out / "truth" / "stock.parquet").select(*KEYS, "quantity").sort(KEYS)
    assert stock.height > 10 and stock.equals(rebuilt)
    work_orders = pl.read_parquet(out / "truth" / "work_orders.parquet")
    open_orders = work_orders.filter(pl.col("completed_at").is_null())
    assert work_orders.tail(open_orders.height).equals(open_orders)  # still open at the new end: written last
    summary = json.loads((out / "truth" / "summary.json").read_text())
    assert summary["truth_rows"]["work_orders"] == work_orders.height
    assert summary["counts"]["mes_events"] == len(mes_events(out))
    assert not list((out / "truth").glob("*.partial")) and not list((out / "state").glob("*.partial"))


def test_late_events_never_cross_into_a_continuation(tmp_path: Path) -> None:
    cfg = small_config(days=3, fault_rates=HEAVY_FAULTS, seed=11)
    simulate(cfg, tmp_path)
    before = file_hashes(tmp_path)
    result = continue_simulation(tmp_path, 3)
    after = file_hashes(tmp_path)
    assert all(after[name] == before[name] for name in before if DAY_FILE.search(name))
    faults = pl.read_parquet(tmp_path / "truth" / "faults.parquet")
    assert faults["fault_id"].to_list() == [f"F-{i:06d}" for i in range(1, faults.height + 1)]
    assert faults.height == result.faults and "late_event" in set(faults["fault_type"])
    late_files = faults.filter(pl.col("fault_type") == "late_event")["source_file"]
    assert all(name in after for name in late_files)


def cli(*args: str) -> object:
    return CliRunner().invoke(simulate_command, [*args, "--no-progress"])


def one_line_error(result: object, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot continue:"), result.output
    for fragment in fragments:
        assert fragment in lines[0], result.output


def test_cli_continue_appends_days_and_keeps_the_stored_settings(tmp_path: Path) -> None:
    out = str(tmp_path / "raw")
    first = cli("--out", out, "--days", "2", "--lines", "1", "--machines-per-line", "2", "--seed", "3",
                "--clean", "--signal-interval-s", "600")
    assert first.exit_code == 0, first.output
    second = cli("--out", out, "--days", "2", "--continue")  # stored seed, size, interval and faults
    assert second.exit_code == 0, second.output
    assert "continued: appended 2 days 2026-01-07 .. 2026-01-08" in second.output
    third = cli("--out", out, "--days", "1", "--continue", "--seed", "3", "--lines", "1", "--clean",
                "--start-date", "2026-01-09")  # matching settings may be repeated
    assert third.exit_code == 0, third.output
    plant = json.loads((tmp_path / "raw" / "master" / "plant.json").read_text())
    assert plant["end_date"] == "2026-01-09" and plant["config"]["signal_interval_s"] == 600
    assert pl.read_parquet(tmp_path / "raw" / "signals" / "2026-01-09.parquet").height == 2 * 9 * 144
    assert pl.read_parquet(tmp_path / "raw" / "truth" / "faults.parquet").height == 0


def test_cli_continue_refuses_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    one_line_error(cli("--out", str(out), "--continue"), "no previous simulation")
    assert not out.exists()
    assert cli("--out", str(out), "--days", "2", "--lines", "1", "--machines-per-line", "2", "--seed", "3",
               "--signal-interval-s", "600").exit_code == 0  # default fault rates
    before = file_hashes(out)
    one_line_error(cli("--out", str(out), "--continue", "--seed", "4"), "seed=4", "seed=3")
    one_line_error(cli("--out", str(out), "--continue", "--lines", "2"), "lines=2")
    one_line_error(cli("--out", str(out), "--continue", "--machines-per-line", "3"), "machines_per_line=3")
    one_line_error(cli("--out", str(out), "--continue", "--signal-interval-s", "60"), "signal_interval_s=60")
    one_line_error(cli("--out", str(out), "--continue", "--clean"), "no faults (clean)", "default fault rates")
    one_line_error(cli("--out", str(out), "--continue", "--start-date", "2026-01-08"),
                   "ends on 2026-01-06", "continues on 2026-01-07")
    one_line_error(cli("--out", str(out), "--continue", "--start-date", "tomorrow"))
    assert file_hashes(out) == before  # refusals leave the folder untouched
    (out / STATE_FILE).unlink()
    one_line_error(cli("--out", str(out), "--continue"), "without state/simulation_state.json")


def test_continuation_refuses_a_folder_changed_since_the_last_simulation(tmp_path: Path) -> None:
    simulate(small_config(days=2), tmp_path)
    movements = pl.read_parquet(tmp_path / "truth" / "movements.parquet")
    movements.head(10).write_parquet(tmp_path / "truth" / "movements.parquet")
    with pytest.raises(ContinuationError, match="movements.parquet has 10 rows"):
        continue_simulation(tmp_path, 1)
    simulate(small_config(days=2), tmp_path)
    state = json.loads((tmp_path / STATE_FILE).read_text())
    state["machines"]["WC-01-01"]["unknown_field"] = 1
    (tmp_path / STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(ContinuationError, match="another version"):
        continue_simulation(tmp_path, 1)
    state["machines"]["WC-01-01"].pop("unknown_field")
    state["model"]["_heap"][0] = {"fn": "os.system"}
    (tmp_path / STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(ContinuationError, match="unknown state value"):
        continue_simulation(tmp_path, 1)
    with pytest.raises(ContinuationError, match="fault rates"):
        continue_simulation(tmp_path, 1, fault_rates=FaultRates.default())


def test_a_new_simulation_replaces_the_stored_state(tmp_path: Path) -> None:
    simulate(small_config(days=2), tmp_path)
    continue_simulation(tmp_path, 1)
    simulate(small_config(days=2, seed=8), tmp_path)
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert state["config"]["seed"] == 8 and len(state["periods"]) == 1 and state["end_date"] == "2026-01-06"
    assert not (tmp_path / "signals" / "2026-01-07.parquet").exists()


def test_a_folder_with_data_no_simulation_wrote_is_refused_untouched(tmp_path: Path) -> None:
    from simulator.simulation import OutputFolderError

    real = tmp_path / "landing" / "wms" / "receipts" / "2026-01-05.csv"
    real.parent.mkdir(parents=True)
    real.write_text("a real export\n")
    with pytest.raises(OutputFolderError, match="refusing to overwrite"):
        simulate(PlantConfig(days=1, lines=1, machines_per_line=1, seed=1), tmp_path / "landing")
    assert real.read_text() == "a real export\n"
    assert sorted(p.name for p in (tmp_path / "landing").iterdir()) == ["wms"]
