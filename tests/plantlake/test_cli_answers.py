"""What `plantlake kpi` and `plantlake stock` answer: the scopes `kpi --list` advertises are exactly the ones the
query takes and `gold.kpi_daily` holds, repeated scopes all answer, an empty answer says why, and values print
in their units."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from plantlake import Lake, QueryError
from plantlake.cli import main
from plantlake.cli.output import shown
from plantlake.kpi import SCOPE_TYPES, kpi_scopes, native_scope
from simulator import FaultRates, PlantConfig, simulate
from transforms.kpi.definitions import KPI_DEFINITIONS


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("answers")
    landing, lake = base / "landing", base / "lake"
    simulate(PlantConfig(days=4, lines=1, machines_per_line=2, seed=3, fault_rates=FaultRates.none()), landing)
    outcome = Lake(lake).run(landing, echo=lambda _: None)
    assert outcome.success, outcome.failure
    return lake


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_kpi_list_works_without_a_lake_and_shows_the_derived_scopes(tmp_path: Path) -> None:
    result = cli("--lake", str(tmp_path / "nowhere"), "kpi", "--list", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = {row["kpi"]: row for row in json.loads(result.stdout)}
    assert set(listed) == set(KPI_DEFINITIONS)
    assert listed["oee"]["scopes"] == "machine,line,area,site"
    assert listed["oee"]["grains"] == "shift,day,week,month"
    assert listed["teep"]["grains"] == "day,week,month"
    assert listed["first_pass_yield"]["scopes"] == "line,area,site"  # kept per line in gold.kpi_daily
    assert listed["material_supply_lead_time"]["scopes"] == "line,area,site"
    assert listed["throughput_time"]["scopes"] == "line,area,site"
    assert listed["otif"]["scopes"] == "customer,site"
    assert listed["inventory_turns"]["scopes"] == "material,site"
    assert listed["wip_level"]["scopes"] == "location,site"
    assert not (tmp_path / "nowhere").exists()


def test_gold_kpi_daily_holds_exactly_the_advertised_scopes(root: Path) -> None:
    held = Lake(root).sql("select kpi, scope_type from gold.kpi_daily group by all")
    for kpi, scopes in held.group_by("kpi").agg(pl.col("scope_type")).iter_rows():
        assert set(scopes) <= set(kpi_scopes(kpi)), kpi
        assert native_scope(kpi) in scopes, kpi  # the native rows are there, not only the site roll-up
        if native_scope(kpi) in ("machine", "line"):
            assert set(scopes) == set(kpi_scopes(kpi)), kpi


def test_every_advertised_scope_is_accepted_and_no_other(root: Path) -> None:
    listed = json.loads(cli("kpi", "--list", "--format", "json").stdout)
    for row in listed:
        for scope in row["scopes"].split(","):
            result = cli("--lake", str(root), "kpi", "--kpi", row["kpi"], "--scope", scope, "--format", "json")
            assert result.exit_code == 0, (row["kpi"], scope, result.output)
            assert all(r["scope_type"] == scope for r in json.loads(result.stdout))
        for scope in set(SCOPE_TYPES) - set(row["scopes"].split(",")):
            refused = cli("--lake", str(root), "kpi", "--kpi", row["kpi"], "--scope", scope)
            assert refused.exit_code == 1 and f"{row['kpi']} is kept per {row['scopes'].replace(',', ', ')}" \
                in refused.stderr, (row["kpi"], scope, refused.output)


def test_repeated_scopes_all_answer(root: Path) -> None:
    def rows(*scopes: str) -> list[dict]:
        args = [arg for scope in scopes for arg in ("--scope", scope)]
        result = cli("--lake", str(root), "kpi", "--kpi", "oee", *args, "--grain", "week", "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    both = rows("line", "site")
    assert {r["scope_type"] for r in both} == {"line", "site"}
    assert both == rows("line") + rows("site")
    assert rows("site", "site") == rows("site")  # a scope given twice answers once


def test_an_empty_kpi_answer_names_the_days_the_data_has(root: Path) -> None:
    days = Lake(root).sql("select min(kpi_date) as first, max(kpi_date) as last from gold.kpi_daily "
                          "where kpi = 'oee' and scope_type = 'line'").row(0)
    result = cli("--lake", str(root), "kpi", "--kpi", "oee", "--scope", "line", "--from", "2030-01-01", "--to",
                 "2030-01-31", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert result.stderr.splitlines() == [
        f"Note: no oee rows for any line between 2030-01-01 and 2030-01-31; gold.kpi_daily has them from "
        f"{days[0]} to {days[1]}"]


def test_the_python_api_raises_for_impossible_questions(root: Path) -> None:
    lake = Lake(root)
    with pytest.raises(QueryError, match="ends before it starts"):
        lake.kpi("oee", start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(QueryError, match="no machine 'NO-SUCH' in gold.kpi_daily"):
        lake.kpi("oee", scope="machine:NO-SUCH")
    with pytest.raises(QueryError, match="unknown scope type 'shift'"):
        lake.kpi("oee", scope="shift")
    assert lake.kpi("oee", start=date(2030, 1, 1)).is_empty()  # valid, just no rows


def test_kpi_table_output_shows_values_in_their_units(root: Path) -> None:
    table = cli("--lake", str(root), "kpi", "--kpi", "oee", "--kpi", "mttr", "--scope", "line", "--grain", "month")
    assert table.exit_code == 0, table.output
    assert "shown" in table.stdout and " %" in table.stdout
    for row in json.loads(cli("--lake", str(root), "kpi", "--kpi", "oee", "--kpi", "mttr", "--scope", "line",
                              "--grain", "month", "--format", "json").stdout):
        assert f" {shown(row['value'], row['unit'])} " in table.stdout, row
    rows = json.loads(cli("--lake", str(root), "kpi", "--kpi", "oee", "--scope", "line", "--format", "json").stdout)
    assert "shown" not in rows[0] and rows[0]["unit"] == "ratio" and isinstance(rows[0]["value"], float)


@pytest.mark.parametrize(("value", "unit", "text"), [
    (12.04, "s", "12.0 s"), (37.6 * 60, "s", "37.6 min"), (43.2 * 3600, "s", "43.2 h"), (4 * 86400, "s", "4.0 d"),
    (-90.0, "s", "-1.5 min"), (0.875, "ratio", "87.5 %"), (1.2, "ratio", "120.0 %"), (3.25, "days", "3.2 d"),
    (12.345, "1/year", "12.35 /year"), (1234.5, "base unit", "1,234.5"), (None, "ratio", "n/a"),
])
def test_shown_formats_each_unit(value: float | None, unit: str, text: str) -> None:
    assert shown(value, unit) == text


def test_stock_says_why_it_has_no_balances(root: Path) -> None:
    lake = Lake(root)
    first = lake.sql("select min(occurred_at) from gold.fct_inventory_ledger where material_id = 'RM-1001'").item()
    early = cli("--lake", str(root), "stock", "--material", "RM-1001", "--as-of", "2000-01-01")
    assert early.exit_code == 0 and early.stdout == ""
    assert early.stderr.splitlines() == [f"Note: no ledger lines for material RM-1001 up to 2000-01-01T00:00:00+00:00;"
                                         f" the first one is at {first.isoformat()}"]
    code = lake.read("silver.map_material_code", filters=[("material_id", "=", "RM-1001"), ("system", "=", "WMS")])
    wms_code = code["system_material_code"][0]
    wrong = cli("--lake", str(root), "stock", "--material", wms_code)
    assert wrong.exit_code == 1
    assert wrong.stderr.splitlines() == [f"Error: material '{wms_code}' is not in silver.dim_material; it is the WMS "
                                         "code of RM-1001 (--material takes the canonical material_id)"]
    virtual = cli("--lake", str(root), "stock", "--location", "V-CUSTOMER", "--format", "csv")
    assert virtual.exit_code == 0 and "virtual location" in virtual.stderr
    assert virtual.stdout.startswith("material_id,lot_id,location_id,quantity,is_negative")
