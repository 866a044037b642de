"""The rest of `plantlake.Lake`'s surface on a small simulated plant: listing and describing tables, reading with
columns and filters, SQL, the errors each mistake gets (all `PlantlakeError`s), networkx traces, the Spark engine,
and the CLI printing a `PlantlakeError` as one line."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import plantlake
from lakehouse.catalog import CATALOG, LAYERS
from plantlake import (Lake, PlantlakeError, PlantlakeWarning, QueryError, TableNotFoundError, UnknownLotError,
                       UnknownTableError, VersionNotFoundError)
from plantlake.cli import main
from plantlake.stock import latest_line_at, stock_from_ledger, stock_table_answers

KPI = "gold.kpi_daily"


@pytest.fixture(scope="module")
def lake(plant_root: Path) -> Lake:
    return Lake(plant_root)


@pytest.fixture(scope="module")
def shipped_lot(lake: Lake) -> str:
    return lake.sql("select min(parent_node_id) as lot from silver.fct_genealogy_edges "
                    "where edge_type = 'shipment'")["lot"][0]


# ---- what is there -----------------------------------------------------------------------------------------------
def test_tables_lists_every_written_table_with_its_rows_and_version(lake: Lake) -> None:
    tables = lake.tables()
    assert tables.columns == ["name", "layer", "rows", "version", "latest_version", "last_write", "description"]
    assert tables.schema["last_write"] == pl.Datetime("ms", "UTC")
    names = tables["name"].to_list()
    assert len(set(names)) == len(names) and {KPI, "silver.fct_genealogy_edges", "gold.fct_inventory_ledger",
                                              "silver.dim_machine", "bronze.wms_transactions"} <= set(names)
    assert [LAYERS.index(layer) for layer in tables["layer"]] == sorted(LAYERS.index(layer) for layer in tables["layer"])
    for row in tables.iter_rows(named=True):
        spec = CATALOG[row["name"]]
        assert row["name"] == spec.qualified_name and row["layer"] == spec.layer
        assert row["description"] == spec.description == lake.describe(row["name"])
        assert row["rows"] >= 0
        # a run whose blocking checks all passed serves every table's newest version
        assert row["version"] == row["latest_version"] >= 0, row["name"]
    small = tables.filter(pl.col("rows") < 5_000)
    assert small.height >= 20
    for row in small.iter_rows(named=True):
        assert lake.read(row["name"]).height == row["rows"], row["name"]
        history = lake.history(row["name"], limit=1)
        assert history["version"][0] == row["version"] and history["committed_at"][0] == row["last_write"]
    counted = lake.sql(f"select count(*) as n from {KPI}")["n"][0]
    assert tables.filter(pl.col("name") == KPI)["rows"][0] == counted > 100
    assert Lake(Path("/nonexistent/lake")).tables().is_empty()


def test_schema_is_the_catalog_schema_and_reads_conform_to_it(lake: Lake) -> None:
    for name in (KPI, "silver.fct_genealogy_edges", "gold.fct_inventory_ledger", "silver.dim_machine"):
        schema = lake.schema(name)
        assert isinstance(schema, pa.Schema) and schema.equals(CATALOG[name].schema)
        assert lake.schema(name.split(".")[1]).equals(schema)
        assert lake.read(name, engine="arrow").schema.equals(schema, check_metadata=False)
        assert lake.read(name).columns == schema.names
    assert lake.schema(KPI).field("kpi_date").type == pa.date32()
    assert not lake.schema(KPI).field("kpi").nullable


# ---- reading -----------------------------------------------------------------------------------------------------
def test_layer_qualified_and_bare_names_read_the_same_table(lake: Lake) -> None:
    assert_frame_equal(lake.read(KPI), lake.read("kpi_daily"))
    assert_frame_equal(lake.read("silver.dim_machine"), lake.read("dim_machine"))
    assert_frame_equal(lake.sql(f"select * from {KPI} order by all"), lake.sql("select * from kpi_daily order by all"))


FILTERS: list[tuple[str, list[tuple[str, str, Any]], pl.Expr]] = [
    ("=", [("kpi", "=", "oee")], pl.col("kpi") == "oee"),
    ("==", [("scope_type", "==", "line")], pl.col("scope_type") == "line"),
    ("!=", [("scope_type", "!=", "machine")], pl.col("scope_type") != "machine"),
    ("<", [("kpi_date", "<", date(2026, 1, 8))], pl.col("kpi_date") < date(2026, 1, 8)),
    ("<=", [("kpi_date", "<=", date(2026, 1, 8))], pl.col("kpi_date") <= date(2026, 1, 8)),
    (">", [("numerator", ">", 1000.0)], pl.col("numerator") > 1000.0),
    (">=", [("denominator", ">=", 1.0)], pl.col("denominator") >= 1.0),
    ("in", [("kpi", "in", ["oee", "otif", "mtbf"])], pl.col("kpi").is_in(["oee", "otif", "mtbf"])),
    ("not in", [("scope_type", "not in", ("machine", "site"))], ~pl.col("scope_type").is_in(["machine", "site"])),
    ("ANDed", [("kpi", "=", "oee"), ("scope_type", "in", ["line"]), ("kpi_date", ">=", date(2026, 1, 12))],
     (pl.col("kpi") == "oee") & (pl.col("scope_type") == "line") & (pl.col("kpi_date") >= date(2026, 1, 12))),
]


@pytest.mark.parametrize(("filters", "expected"), [(f, e) for _, f, e in FILTERS], ids=[i for i, _, _ in FILTERS])
def test_read_filters_give_the_rows_the_predicate_gives(lake: Lake, filters: list[tuple[str, str, Any]],
                                                        expected: pl.Expr) -> None:
    everything = lake.read(KPI)
    want = everything.filter(expected).sort(pl.all())
    assert 0 < want.height < everything.height
    columns = ["kpi", "scope_id", "value"]
    reads = {"polars": lake.read(KPI, filters=filters), "lazy": lake.read(KPI, filters=filters, lazy=True).collect(),
             "pandas": pl.from_pandas(lake.read(KPI, filters=filters, engine="pandas")),
             "arrow": pl.from_arrow(lake.read(KPI, filters=filters, engine="arrow")),
             "duckdb": lake.read(KPI, filters=filters, engine="duckdb").pl()}
    for engine, got in reads.items():
        assert got.height == want.height, engine
        assert_frame_equal(got.sort(pl.all()), want, check_dtypes=engine != "pandas")
    # filtering on columns that are not read
    for got in (lake.read(KPI, columns=columns, filters=filters),
                lake.read("kpi_daily", columns=columns, filters=filters, lazy=True).collect()):
        assert got.columns == columns
        assert_frame_equal(got.sort(pl.all()), want.select(columns).sort(pl.all()))


def test_read_columns_in_the_order_asked(lake: Lake) -> None:
    frame = lake.read(KPI, columns=["value", "kpi"])
    assert frame.columns == ["value", "kpi"] and frame.height == lake.read(KPI).height
    assert lake.read(KPI, columns=["value", "kpi"], engine="pandas").columns.tolist() == ["value", "kpi"]
    assert lake.read(KPI, columns=["value", "kpi"], lazy=True).collect_schema().names() == ["value", "kpi"]


def test_a_filter_that_is_not_a_filter_is_a_query_error(lake: Lake) -> None:
    for bad in ([("kpi", "like", "oee")], [("kpi", "in", "oee")], [("kpi", "=")], ["kpi = 'oee'"]):
        with pytest.raises(QueryError):
            lake.read(KPI, filters=bad)
        with pytest.raises(QueryError):
            lake.read(KPI, filters=bad, lazy=True)


def test_an_unknown_table_is_named_with_a_suggestion(lake: Lake) -> None:
    for name, suggestion in (("gold.kpi_dayly", "gold.kpi_daily"), ("kpi_daly", "kpi_daily"),
                             ("silver.kpi_daily", "gold.kpi_daily"), ("dim_machines", "dim_machine")):
        with pytest.raises(UnknownTableError, match=f"did you mean .*{suggestion}") as raised:
            lake.read(name)
        assert str(raised.value).startswith(f"no table {name!r} in the catalog")
    for call in (lambda: lake.schema("gold.nope_nope"), lambda: lake.history("nope_nope"),
                 lambda: lake.describe("x.y")):
        with pytest.raises(UnknownTableError, match="plantlake catalog"):
            call()


def test_a_table_of_the_catalog_not_written_yet_is_not_found(lake: Lake, tmp_path: Path) -> None:
    empty = Lake(tmp_path / "empty")
    for call in (lambda: empty.read(KPI), lambda: empty.history("kpi_daily"), lambda: empty.read(KPI, lazy=True),
                 lambda: empty.read(KPI, as_of=0)):
        with pytest.raises(TableNotFoundError, match="gold.kpi_daily has not been written"):
            call()
    written = set(lake.tables()["name"])
    unwritten = [spec.qualified_name for spec in CATALOG if spec.qualified_name not in written]
    for name in unwritten:
        with pytest.raises(TableNotFoundError, match=name):
            lake.read(name)
    assert empty.schema(KPI).equals(lake.schema(KPI))  # the catalog still knows it


def test_an_unknown_column_is_a_query_error_naming_the_columns_there_are(lake: Lake) -> None:
    with pytest.raises(QueryError, match="gold.kpi_daily has no column oee_value; it has kpi, scope_type"):
        lake.read(KPI, columns=["kpi", "oee_value"])
    with pytest.raises(QueryError, match="no column day"):
        lake.read(KPI, filters=[("day", ">", date(2026, 1, 1))], lazy=True)
    with pytest.raises(QueryError, match="engine must be one of polars, pandas, arrow, duckdb, spark"):
        lake.read(KPI, engine="dask")  # type: ignore[arg-type]


def test_sql_joins_tables_and_returns_polars_pandas_or_arrow(lake: Lake) -> None:
    query = ("select k.scope_id, m.line_id, sum(k.numerator) / sum(k.denominator) as oee "
             "from gold.kpi_daily k join silver.dim_machine m on k.scope_id = m.machine_id "
             "where k.kpi = 'oee' and k.scope_type = 'machine' group by all order by k.scope_id")
    frame = lake.sql(query)
    assert isinstance(frame, pl.DataFrame) and frame.columns == ["scope_id", "line_id", "oee"]
    assert frame.height == lake.read("dim_machine").height == 6
    pandas = lake.sql(query, engine="pandas")
    assert isinstance(pandas, pd.DataFrame)
    assert_frame_equal(pl.from_pandas(pandas), frame)
    arrow = lake.sql(query, engine="arrow")
    assert isinstance(arrow, pa.Table) and arrow.num_rows == 6
    assert_frame_equal(frame, lake.sql(query.replace("gold.kpi_daily", "kpi_daily")))
    with pytest.raises(QueryError):
        lake.sql("select 1", engine="dask")  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["select * from gold.nope", "select * form gold.kpi_daily",
                                   "select no_such_column from gold.kpi_daily", "select 1/"])
def test_bad_sql_is_a_query_error_of_one_line(lake: Lake, query: str) -> None:
    with pytest.raises(QueryError, match="^SQL failed: ") as raised:
        lake.sql(query)
    assert "\n" not in str(raised.value)


# ---- questions ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"names": "oee_average"}, "unknown KPI oee_average"),
    ({"names": ["oee", "nope"]}, "unknown KPI nope"),
    ({"names": []}, "name at least one KPI"),
    ({"names": "oee", "grain": "year"}, "grain must be one of shift, day, week, month"),
    ({"names": "otif", "scope": "line"}, "otif is kept per customer, site; it has no line rows"),
    ({"names": "oee", "scope": "customer:CUS-01"}, "oee is kept per .*; it has no customer rows"),
    ({"names": "otif", "grain": "shift"}, "only equipment KPIs"),
    ({"names": "oee", "grain": "shift", "scope": "customer"}, "the shift grain is kept per"),
    ({"names": "oee", "start": "2026-13-01"}, "not an ISO 8601 date"),
])
def test_kpi_questions_the_lake_cannot_answer_are_query_errors(lake: Lake, kwargs: dict[str, Any],
                                                                message: str) -> None:
    names = kwargs.pop("names")
    with pytest.raises(QueryError, match=message):
        lake.kpi(names, **kwargs)


def test_kpi_definitions_name_every_kpi_of_the_lake(lake: Lake) -> None:
    definitions = lake.kpi_definitions()
    assert set(lake.read(KPI, columns=["kpi"])["kpi"]) == set(definitions["kpi"])
    assert definitions.filter(pl.col("kpi") == "oee")["unit"][0] == "ratio"


def test_stock_takes_its_moment_in_every_form(lake: Lake) -> None:
    moment = datetime.fromisoformat("2026-01-10T00:00:00+00:00")
    want = lake.stock(moment)
    assert want.columns == ["material_id", "lot_id", "location_id", "quantity", "is_negative"] and want.height > 10
    for same in (date(2026, 1, 10), "2026-01-10", "2026-01-10T00:00:00Z", "2026-01-10T01:00:00+01:00",
                 moment.replace(tzinfo=None)):
        assert_frame_equal(lake.stock(same), want)
    material = want["material_id"][0]
    assert_frame_equal(lake.stock(moment, material=material), want.filter(pl.col("material_id") == material))
    assert lake.stock("2020-01-01").is_empty()
    for bad in ("yesterday", "3", 3, True, 2.5):
        with pytest.raises(QueryError):
            lake.stock(bad)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        lake.trace(want["lot_id"][0], start=3)  # type: ignore[arg-type]


def test_stock_now_reads_the_stock_table_and_equals_the_ledger_sum(lake: Lake, plant_root: Path,
                                                                   tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    latest = latest_line_at(lake.delta)
    assert latest is not None and latest < now
    assert stock_table_answers(lake.delta, now) and stock_table_answers(lake.delta, latest)
    assert not stock_table_answers(lake.delta, latest - timedelta(microseconds=1))
    from_table, from_ledger = lake.stock(), stock_from_ledger(lake.delta, now)
    assert from_table.height > 10 and from_table["is_negative"].sum() == (from_table["quantity"] < 0).sum()
    assert_frame_equal(from_table, from_ledger)
    material = from_table["material_id"][0]
    assert_frame_equal(lake.stock(material=material), stock_from_ledger(lake.delta, now, material=material))
    # a ledger version the stock table was not refreshed from sends the question back to the ledger
    copy = tmp_path / "lake"
    shutil.copytree(plant_root, copy)
    behind = Lake(copy)
    behind.store.table("fct_inventory_ledger").alter.set_table_properties({"delta.logRetentionDuration": "interval 31 days"})
    assert not stock_table_answers(behind.delta, now)
    assert_frame_equal(behind.stock(), from_table)


def test_trace_and_recall_of_unknown_lots_are_unknown_lot_errors(lake: Lake) -> None:
    for call in (lambda: lake.trace("LOT-9999999"), lambda: lake.trace_graph("LOT-9999999", direction="both"),
                 lambda: lake.trace_result("SHP:NOPE", direction="forward"), lambda: lake.recall("S99-B999999"),
                 lambda: lake.recall_result("SUP:S99-B999999")):
        with pytest.raises(UnknownLotError, match="is not in the genealogy"):
            call()
    with pytest.raises(QueryError, match="direction must be"):
        lake.trace("LOT-0000001", direction="sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize("direction", ["backward", "forward", "both"])
def test_trace_graph_has_the_nodes_and_edges_of_the_trace(lake: Lake, shipped_lot: str, direction: str) -> None:
    result = lake.trace_result(shipped_lot, direction=direction)  # type: ignore[arg-type]
    graph = lake.trace_graph(shipped_lot, direction=direction)  # type: ignore[arg-type]
    assert result.nodes.height > 1 and result.edges.height >= result.nodes.height - 1
    assert graph.number_of_nodes() == result.nodes.height
    assert graph.number_of_edges() == result.edges.height
    assert set(graph.nodes) == set(result.nodes["node_id"])
    assert graph.graph["root"] == shipped_lot and graph.nodes[shipped_lot]["relation"] == "root"
    assert_frame_equal(lake.trace(shipped_lot, direction=direction), result.nodes)  # type: ignore[arg-type]
    limited = lake.trace(shipped_lot, direction=direction, max_depth=1)  # type: ignore[arg-type]
    assert_frame_equal(limited.drop("share"), result.nodes.filter(pl.col("depth") <= 1).drop("share"))
    # within one step only the direct edges count (transforms/genealogy/shares.py, rule 2): a lot consumed both
    # directly and inside a subassembly of the root has a larger share in the whole trace than in this one
    root_edges = result.edges.filter((pl.col("child_node_id") == shipped_lot)
                                     | (pl.col("parent_node_id") == shipped_lot))
    direct = pl.concat([root_edges.select(pl.col("parent_node_id").alias("node_id"), "fraction"),
                        root_edges.select(pl.col("child_node_id").alias("node_id"), "fraction")]) \
        .filter(pl.col("node_id") != shipped_lot).group_by("node_id").agg(pl.col("fraction").sum())
    shares = limited.filter(pl.col("depth") == 1).join(direct, on="node_id", how="left")
    assert shares.height == limited.height - 1 and (shares["share"] - shares["fraction"]).abs().max() < 1e-9
    if direction != "forward":  # a shipped lot's only descendants are its shipments, one edge away
        assert limited.height < result.nodes.height


# ---- Spark -------------------------------------------------------------------------------------------------------
@pytest.mark.spark
def test_spark_without_delta_spark_warns_and_reads_the_same_rows(lake: Lake, spark: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from pyspark.sql import DataFrame as SparkDataFrame

    monkeypatch.delenv("DELTA_SPARK_JARS", raising=False)
    # the shared session has delta-spark; this test is about a session without it
    monkeypatch.setattr("plantlake.spark._active_delta_session", lambda: None)
    filters = [("kpi", "in", ["oee", "otif"]), ("scope_type", "!=", "machine")]
    columns = ["kpi", "scope_type", "scope_id", "kpi_date", "numerator", "denominator", "value"]
    with pytest.warns(PlantlakeWarning, match="delta-spark is not configured"):
        frame = lake.read(KPI, engine="spark", columns=columns, filters=filters, as_of=1)
    assert isinstance(frame, SparkDataFrame) and frame.columns == columns
    got = pl.from_arrow(frame.toArrow())
    want = lake.read(KPI, columns=columns, filters=filters, as_of=1)
    assert isinstance(got, pl.DataFrame) and got.height == want.height > 0
    assert_frame_equal(got.sort(pl.all()), want.sort(pl.all()))
    with pytest.warns(PlantlakeWarning):
        machines = lake.read("silver.dim_machine", engine="spark")
    assert sorted(tuple(r) for r in machines.collect()) == sorted(lake.read("dim_machine").iter_rows())


# ---- errors ------------------------------------------------------------------------------------------------------
def test_every_plantlake_error_is_catchable_as_plantlake_error(lake: Lake, tmp_path: Path) -> None:
    raisers = {UnknownTableError: lambda: lake.read("gold.nope"),
               TableNotFoundError: lambda: Lake(tmp_path).read(KPI),
               VersionNotFoundError: lambda: lake.read(KPI, as_of=10_000),
               QueryError: lambda: lake.kpi("nope"),
               UnknownLotError: lambda: lake.trace("LOT-NOPE")}
    exported = {getattr(plantlake, name) for name in plantlake.__all__}
    errors = {cls for cls in exported if isinstance(cls, type) and issubclass(cls, PlantlakeError)}
    assert errors - {PlantlakeError} == set(raisers)
    for kind, call in raisers.items():
        try:
            call()
        except PlantlakeError as error:
            assert type(error) is kind or isinstance(error, kind), (kind, type(error))
            assert str(error) and "\n" not in str(error)
        else:  # pragma: no cover
            pytest.fail(f"{kind.__name__} was not raised")
    assert issubclass(PlantlakeWarning, UserWarning) and not issubclass(PlantlakeWarning, PlantlakeError)
    # the built-in bases keep working for code that catches those
    assert issubclass(UnknownTableError, KeyError) and issubclass(TableNotFoundError, FileNotFoundError)
    assert issubclass(VersionNotFoundError, ValueError) and issubclass(QueryError, ValueError)


@pytest.mark.parametrize(("args", "message"), [
    (["stock", "--as-of", "yesterday"], "as_of 'yesterday' is not a version number or an ISO 8601 date or time"),
    (["kpi", "--kpi", "nope"], "unknown KPI nope"),
    (["kpi", "--kpi", "otif", "--scope", "line"], "otif is kept per customer, site"),
    (["sql", "select * from nope"], "SQL failed: "),
    (["history", "gold.kpi_dayly"], "no table 'gold.kpi_dayly' in the catalog; did you mean gold.kpi_daily"),
    (["trace", "LOT-NOPE"], "'LOT-NOPE' is not in the genealogy"),
    (["recall", "S99-B999999"], "'SUP:S99-B999999' is not in the genealogy"),
])
def test_the_cli_prints_a_plantlake_error_as_one_line(plant_root: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["--lake", str(plant_root), *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}"), result.stderr
    assert "Traceback" not in result.output


def test_the_cli_on_a_lake_not_written_yet_says_so_in_one_line(tmp_path: Path) -> None:
    for args in (["history", "gold.kpi_daily"], ["kpi", "--kpi", "oee"], ["stock"], ["trace", "LOT-0000001"]):
        result = CliRunner().invoke(main, ["--lake", str(tmp_path / "empty"), *args])
        assert result.exit_code == 1, (args, result.output)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "run `plantlake run`" in lines[0], args
