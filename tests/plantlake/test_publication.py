"""Write-audit-publish: a ledger version that fails its blocking checks is recorded, stays readable by version,
and is never served: not by `Lake.stock`, `Lake.read`, SQL, nor `plantlake stock`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner

from lakehouse.delta_io import DeltaLake
from pipelines.checks import table_key
from pipelines.definitions import ALL_CHECKS
from pipelines.inventory import assets as inventory_assets
from pipelines.inventory.checks import INVENTORY_CHECKS
from pipelines.publication import publication_rows, publish_run
from pipelines.resources import LakeResource
from plantlake import Lake, PlantlakeWarning
from plantlake.cli import main
from simulator import FaultRates, PlantConfig, simulate

LEDGER = "fct_inventory_ledger"


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int, pl.DataFrame]:
    """A plant run (published), then a ledger run whose running balances are off (its checks fail)."""
    plant, root = tmp_path_factory.mktemp("wap_plant"), tmp_path_factory.mktemp("wap") / "lake"
    simulate(PlantConfig(days=3, lines=1, machines_per_line=2, seed=11, fault_rates=FaultRates.none()), plant)
    outcome = Lake(root).run(plant, echo=lambda _: None)
    assert outcome.success and outcome.failed_checks == []
    good_version = DeltaLake(root).version(LEDGER)
    good_stock = Lake(root).stock()

    real_ledger = inventory_assets.ledger

    def off_by_one(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return real_ledger(*args, **kwargs).with_columns(balance_after=inventory_assets.nw.col("balance_after") + 1)

    instance = dg.DagsterInstance.ephemeral()
    inventory_assets.ledger = off_by_one
    try:
        result = dg.materialize([inventory_assets.fct_inventory_ledger, *INVENTORY_CHECKS],
                                resources={"lake": LakeResource(lake_root=str(root))}, instance=instance,
                                run_config={"ops": {"gold__fct_inventory_ledger": {"config": {"full_refresh": True}}}},
                                raise_on_error=False)
    finally:
        inventory_assets.ledger = real_ledger
    publish_run(instance, result.run_id, DeltaLake(root), ALL_CHECKS)
    bad_version = DeltaLake(root).version(LEDGER)
    assert bad_version > good_version
    return root, good_version, bad_version, good_stock


def test_the_failed_version_is_recorded_with_its_failing_checks(corrupted: tuple) -> None:
    root, good, bad, _ = corrupted
    log = DeltaLake(root).scan("publication_log").filter(pl.col("table_name") == LEDGER).collect()
    rows = {r["table_version"]: r for r in log.iter_rows(named=True)}
    assert rows[good]["is_published"] and rows[good]["failed_checks"] == []
    assert not rows[bad]["is_published"]
    assert "balances_match_recomputation" in rows[bad]["failed_checks"]
    status = Lake(root).status("gold.fct_inventory_ledger")
    assert (status.served_version, status.current_version) == (good, bad)
    assert status.withheld[0][0] == bad and "balances_match_recomputation" in status.withheld[0][1]


def test_the_api_serves_the_last_good_version_and_warns(corrupted: tuple) -> None:
    root, good, bad, good_stock = corrupted
    lake = Lake(root)
    with pytest.warns(PlantlakeWarning, match="serving version"):
        stock = lake.stock()
    assert stock.equals(good_stock)
    with pytest.warns(PlantlakeWarning):
        served = lake.read("gold.fct_inventory_ledger")
    stored = DeltaLake(root)
    assert served.sort("movement_id", "entry_side").equals(
        pl.from_arrow(stored.read_arrow(LEDGER, version=good)).sort("movement_id", "entry_side"))
    inspected = lake.read("gold.fct_inventory_ledger", as_of=bad)  # still there to look at, by version
    assert (inspected["balance_after"].sum() - served["balance_after"].sum()) == pytest.approx(served.height)
    by_sql = lake.sql("select sum(balance_after) as total from gold.fct_inventory_ledger")["total"][0]
    assert by_sql == pytest.approx(served["balance_after"].sum())
    tables = lake.tables().filter(pl.col("name") == "gold.fct_inventory_ledger").row(0, named=True)
    assert (tables["version"], tables["latest_version"]) == (good, bad)


def test_plantlake_stock_serves_the_last_good_version_and_says_so(corrupted: tuple) -> None:
    root, good, bad, good_stock = corrupted
    result = CliRunner().invoke(main, ["--lake", str(root), "stock", "--format", "csv"])
    assert result.exit_code == 0
    assert pl.read_csv(result.stdout.encode()).height == good_stock.height
    assert f"serving version {good}, not the newer version {bad}: " in result.stderr
    assert "balances_match_recomputation" in result.stderr


def test_an_audited_table_is_published_only_when_every_blocking_check_passed() -> None:
    ledger, kpis, bronze = table_key(LEDGER), table_key("kpi_daily"), table_key("wms_transactions")
    declared = {ledger: {"pairs", "balances"}, kpis: {"ratios"}}
    rows = publication_rows("r1", [(ledger, 4), (kpis, None), (bronze, 9)],
                            [(ledger, "pairs", True), (ledger, "balances", True)], declared,
                            {"kpi_daily": 7}, now=pa.scalar(0, pa.timestamp("us", "UTC")).as_py())
    assert [(r["table_name"], r["table_version"], r["is_published"], r["failed_checks"]) for r in rows] == [
        (LEDGER, 4, True, []), ("kpi_daily", 7, False, ["ratios (did not run)"])]  # bronze is not audited
