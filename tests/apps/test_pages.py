"""Every page of the plant app under Streamlit's AppTest: the figures equal the CLI's, filters change them, an
empty lake and missing model tables give a message (never a traceback)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from lakehouse.delta_io import DeltaLake
from plantlake import Lake
from tests.apps.conftest import APP

WEEK = ("2026-01-05", "2026-01-11")  # the simulated plant's first week (Monday to Sunday)


def open_page(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if page:
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def percent(value: float) -> str:
    return f"{value * 100:.2f} %"


def test_overview_oee_of_a_line_and_week_equals_plantlake_kpi(app_lake, app_env, cli_json) -> None:
    app_env(app_lake)
    at = open_page(scope="line:LINE-01", **{"from": WEEK[0], "to": WEEK[1]})
    cli = cli_json(app_lake, "kpi", "--kpi", "oee", "--kpi", "teep", "--scope", "line:LINE-01", "--from", WEEK[0],
                   "--to", WEEK[1], "--grain", "week")
    by_kpi = {row["kpi"]: row["value"] for row in cli}
    assert metric(at, "OEE") == percent(by_kpi["oee"])
    assert metric(at, "TEEP") == percent(by_kpi["teep"])
    site = {row["kpi"]: row["value"] for row in cli_json(app_lake, "kpi", "--kpi", "otif", "--scope", "site",
                                                         "--from", WEEK[0], "--to", WEEK[1], "--grain", "week")}
    assert metric(at, "OTIF (site)") == percent(site["otif"])
    assert "refreshed" in at.caption[-1].value and "gold.kpi_daily v" in at.caption[-1].value


def test_overview_scope_change_answers_for_the_new_scope(app_lake, app_env, cli_json) -> None:
    app_env(app_lake)
    at = open_page(scope="line:LINE-01", **{"from": WEEK[0], "to": WEEK[1]})
    line_oee = metric(at, "OEE")
    at.selectbox(key="ov_scope_kind").select("site").run()
    site = cli_json(app_lake, "kpi", "--kpi", "oee", "--scope", "site", "--from", WEEK[0], "--to", WEEK[1],
                    "--grain", "week")
    assert metric(at, "OEE") == percent(site[0]["value"]) != line_oee
    at.selectbox(key="ov_scope_kind").select("line").run()
    at.selectbox(key="ov_scope_id").select("LINE-02").run()
    line2 = cli_json(app_lake, "kpi", "--kpi", "oee", "--scope", "line:LINE-02", "--from", WEEK[0], "--to", WEEK[1],
                     "--grain", "week")
    assert metric(at, "OEE") == percent(line2[0]["value"])


def test_overview_waterfall_adds_up_and_losses_rank(app_lake, app_env) -> None:
    app_env(app_lake)
    at = open_page(scope="site", **{"from": WEEK[0], "to": WEEK[1]})
    steps = next(df.value for df in at.dataframe if "step" in df.value.columns)
    hours = dict(zip(steps["step"], steps["hours"], strict=True))
    lost = hours["Availability loss"] + hours["Performance loss"] + hours["Quality loss"]
    assert hours["Planned time"] + lost == pytest.approx(hours["Fully productive"], abs=1e-6)
    shifts = Lake(app_lake).read("gold.oee_by_machine_shift", filters=[("shift_date", ">=", date(2026, 1, 5)),
                                                                       ("shift_date", "<=", date(2026, 1, 11))])
    assert hours["Planned time"] == pytest.approx(shifts["planned_time_s"].sum() / 3600)
    losses = next(df.value for df in at.dataframe if "total_loss_h" in df.value.columns)
    assert list(losses["total_loss_h"]) == sorted(losses["total_loss_h"], reverse=True)
    assert len(losses) == 6


def test_equipment_shift_figures_equal_plantlake_kpi_and_the_timeline_covers_the_day(app_lake, app_env,
                                                                                      cli_json) -> None:
    app_env(app_lake)
    at = open_page("equipment", line="LINE-02", machine="WC-02-01", day="2026-01-07",
                   **{"from": WEEK[0], "to": WEEK[1]})
    shifts = next(df.value for df in at.dataframe if "period" in df.value.columns and "oee" in df.value.columns)
    cli = cli_json(app_lake, "kpi", "--kpi", "oee", "--scope", "line:LINE-02", "--from", WEEK[0], "--to", WEEK[1],
                   "--grain", "shift")
    assert dict(zip(shifts["period"], shifts["oee"], strict=True)) == pytest.approx(
        {row["period"]: row["value"] for row in cli})
    timeline = next(df.value for df in at.dataframe if "minutes" in df.value.columns and "start" in df.value.columns)
    assert timeline["minutes"].sum() == pytest.approx(24 * 60)
    per_machine = next(df.value for df in at.dataframe if "mtbf" in df.value.columns)
    assert sorted(per_machine["machine_id"]) == ["WC-02-01", "WC-02-02", "WC-02-03"]
    at.selectbox(key="eq_machine").select("WC-02-03").run()
    assert not at.exception
    mttr = cli_json(app_lake, "kpi", "--kpi", "mttr", "--scope", "machine:WC-02-03", "--from", WEEK[0], "--to",
                    WEEK[1], "--grain", "week")
    shown = per_machine.set_index("machine_id").loc["WC-02-03", "mttr"]
    expected = mttr[0]["value"] / 3600 if mttr and mttr[0]["value"] is not None else None
    assert (shown == pytest.approx(expected)) if expected is not None else shown != shown  # NaN when no failures


def test_traceability_trace_and_recall_equal_the_cli(app_lake, app_env, cli_json) -> None:
    app_env(app_lake)
    lake = Lake(app_lake)
    supplier_lot = next(node.removeprefix("SUP:") for node in
                        lake.read("silver.fct_genealogy_edges")["parent_node_id"].unique().sort().to_list()
                        if node.startswith("SUP:") and lake.recall_result(node).customers)
    lot = lake.recall_result(supplier_lot).end_of_chain_lots[0]
    at = open_page("traceability", node=lot, supplier_lot=supplier_lot)
    trace = cli_json(app_lake, "trace", lot, "--direction", "both")
    assert any(f"**{lot}**: {len(trace['nodes']) - 1} linked nodes" in m.value for m in at.markdown)
    recall = cli_json(app_lake, "recall", supplier_lot)
    assert any(m.value == "**Customers:** " + ", ".join(recall["customers"]) for m in at.markdown)
    shipments = next(df.value for df in at.dataframe if "shipment_id" in df.value.columns)
    assert sorted(shipments["shipment_id"]) == sorted(row["shipment_id"] for row in recall["shipments"])
    at.radio(key="tr_direction").set_value("backward").run()
    backward = cli_json(app_lake, "trace", lot, "--direction", "backward")
    assert any(f"{len(backward['nodes']) - 1} linked nodes, " in m.value and "(backward)" in m.value
               for m in at.markdown)


def test_inventory_stock_equals_plantlake_stock_now_and_as_of(app_lake, app_env, cli_json) -> None:
    app_env(app_lake)
    as_of = "2026-01-10T12:00:00"
    rows = cli_json(app_lake, "stock", "--as-of", as_of)
    material = sorted({row["material_id"] for row in rows})[0]
    at = open_page("inventory", material=material, as_of=as_of)
    expected = sum(row["quantity"] for row in rows if row["material_id"] == material)
    unit = Lake(app_lake).read("silver.dim_material").filter(pl.col("material_id") == material)["base_unit"][0]
    assert metric(at, f"Stock of {material}") == f"{expected:,.3f} {unit}"
    now = cli_json(app_lake, "stock", "--material", material)
    at.toggle(key="inv_use_as_of").set_value(False).run()
    assert metric(at, f"Stock of {material}") == f"{sum(r['quantity'] for r in now):,.3f} {unit}"
    differences = Lake(app_lake).read("gold.reconciliation_differences")
    by_type = next(df.value for df in at.dataframe if "absolute_quantity" in df.value.columns)
    assert by_type["differences"].sum() == differences.height


def test_inventory_negative_balance_drills_down_to_its_ledger_lines(app_lake, app_env) -> None:
    app_env(app_lake)
    lake = Lake(app_lake)
    negative = lake.read("gold.fct_inventory_ledger").filter(pl.col("is_negative_balance")).sort("occurred_at")
    if negative.is_empty():
        pytest.skip("this simulated plant has no negative balance to drill into")
    first = negative.row(0, named=True)
    # the page picks a time to the minute: the next minute holds the negative line
    as_of = (first["occurred_at"] + timedelta(minutes=1)).replace(second=0, microsecond=0)
    at = open_page("inventory", material=first["material_id"], as_of=as_of.isoformat())
    shown = next(df.value for df in at.dataframe if "is_negative" in df.value.columns
                 and df.value["is_negative"].all())
    assert (first["lot_id"], first["location_id"]) in set(zip(shown["lot_id"], shown["location_id"], strict=True))
    lines = next(df.value for df in at.dataframe if "balance_after" in df.value.columns)
    assert set(lines["material_id"]) == {first["material_id"]} and len(lines) < 1000  # every line of the key
    # newest first: the key's lines add up to its newest balance, and one of them left it negative
    assert lines["occurred_at"].is_monotonic_decreasing
    assert lines["quantity_delta"].sum() == pytest.approx(lines["balance_after"].iloc[0])
    assert (lines["balance_after"] < 0).any()


def test_risk_page_names_the_missing_model_tables_and_how_to_produce_them(app_lake, app_env) -> None:
    app_env(app_lake)
    lake = Lake(app_lake)
    present = {t for t in ("gold.machine_risk", "gold.quality_risk", "gold.signal_anomalies")
               if t in {name for name in lake.tables()["name"].to_list()}}
    at = open_page("risk")
    text = " ".join(w.value for w in at.warning)
    for table in {"gold.machine_risk", "gold.quality_risk", "gold.signal_anomalies"} - present:
        assert table in text and "plantlake run" in text
        assert any(table in info.value for info in at.info)
    for table in present:  # a model table that exists is shown, ranked by its score
        assert table not in text
        rows = lake.read(table)
        if rows.is_empty():
            assert any(info.value.startswith(f"{table} is in the lake but empty") for info in at.info)
        else:
            assert any(f"All {rows.height} rows of {table}" == e.label for e in at.expander)


def test_risk_page_with_every_model_table_missing(tmp_path: Path, app_lake, app_env) -> None:
    """A lake whose model tables are gone (an older lake): the page names each and says how to produce it."""
    import shutil

    root = tmp_path / "lake"
    shutil.copytree(app_lake, root)
    for table in ("machine_risk", "quality_risk", "signal_anomalies"):
        shutil.rmtree(root / "gold" / table, ignore_errors=True)
    app_env(root)
    at = open_page("risk")
    text = " ".join(w.value for w in at.warning)
    for table in ("gold.machine_risk", "gold.quality_risk", "gold.signal_anomalies"):
        assert table in text
    assert "plantlake run" in text
    assert len(at.info) == 4 and sum(i.value.startswith("No what-if yet: no champion") for i in at.info) == 1


def test_data_health_counts_equal_the_ingest_log_and_quarantine(app_lake, app_env) -> None:
    app_env(app_lake)
    lake = Lake(app_lake)
    at = open_page("health")
    per_source = next(df.value for df in at.dataframe if "rows_landed" in df.value.columns
                      and "source" in df.value.columns and "files" in df.value.columns)
    log = lake.read("bronze.ingest_log")
    assert per_source["rows_landed"].sum() == log["rows_landed"].sum()
    assert per_source["rows_quarantined"].sum() == log["rows_quarantined"].sum() > 0
    reasons = next(df.value for df in at.dataframe if "reason" in df.value.columns and "rows" in df.value.columns)
    quarantined = lake.quarantine()
    assert reasons["rows"].sum() == quarantined.explode("reasons").height
    tables = next(df.value for df in at.dataframe if "hours_since_write" in df.value.columns)
    assert set(tables["name"]) == set(lake.tables()["name"].to_list())


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_an_empty_or_missing_lake_says_how_to_fill_it(tmp_path: Path, app_env, kind: str) -> None:
    root = tmp_path / "lake"
    if kind == "empty":
        root.mkdir()
    app_env(root)
    at = open_page()
    assert at.title[0].value == "Plantlake: the lake is empty"
    assert any("make demo" in m.value for m in at.markdown)


def publish(lake: DeltaLake, name: str, rows: pl.DataFrame) -> None:
    """Overwrite a gold table with `rows` and record the new version as published (what a run's audit does)."""
    lake.overwrite(name, rows.to_arrow())
    log = lake.scan("publication_log").filter(pl.col("table_name") == name).sort("table_version").collect()
    row = log.row(-1, named=True) | {"table_version": lake.version(name), "is_published": True, "failed_checks": []}
    lake.append("publication_log", pl.DataFrame([row], schema=log.schema).to_arrow())


def test_inventory_shows_the_prepared_shortage_forecast_and_picks(tmp_path: Path, app_lake, app_env) -> None:
    app_env(app_lake)
    lake = Lake(app_lake)
    assert lake.read("gold.shortage_forecast").is_empty()  # this plant's last run foresaw no shortage
    quiet = open_page("inventory").success
    assert any(s.value == "No line side runs short within the forecast horizon." for s in quiet)
    root = tmp_path / "lake"
    shutil.copytree(app_lake, root)
    t = datetime(2026, 1, 14, 8, tzinfo=timezone.utc)
    short = pl.DataFrame({"line_id": ["LINE-01", "LINE-02"], "material_id": ["RM-1001", "RM-1002"],
                          "short_at": [t, t + timedelta(hours=2)], "work_order_id": ["WO-000050", "WO-000051"],
                          "line_side_quantity": [5.0, 0.0], "required_quantity": [20.0, 8.0],
                          "shortfall_quantity": [15.0, 8.0], "warehouse_quantity": [100.0, 40.0],
                          "forecast_at": [t - timedelta(hours=3)] * 2})
    pick = pl.DataFrame({"line_id": ["LINE-01"], "material_id": ["RM-1001"], "lot_id": ["LOT-1"],
                         "from_location_id": ["BIN-1"], "to_location_id": ["PSA-01"], "pick_quantity": [15.0],
                         "lot_received_at": [t - timedelta(days=2)], "short_at": [t],
                         "pick_by_at": [t - timedelta(minutes=30)], "lead_time_s": [1800.0], "pick_rule": ["FIFO"],
                         "forecast_at": [t - timedelta(hours=3)]})
    delta = DeltaLake(root)
    publish(delta, "shortage_forecast", short)
    publish(delta, "pick_suggestions", pick)
    app_env(root)
    at = open_page("inventory")
    shown = next(df.value for df in at.dataframe if "shortfall_quantity" in df.value.columns)
    assert list(shown["work_order_id"]) == ["WO-000050", "WO-000051"] and shown["shortfall_quantity"].sum() == 23.0
    per_line = next(df.value for df in at.dataframe if "materials_short" in df.value.columns)
    assert list(per_line["materials_short"]) == [1, 1]
    shown_picks = next(df.value for df in at.dataframe if "pick_quantity" in df.value.columns)
    assert list(shown_picks["pick_quantity"]) == [15.0]


def test_data_health_shows_the_real_time_freshness_and_its_verdict(tmp_path: Path, app_lake, app_env) -> None:
    from apps.data import LANDED_TO_GOLD_LIMIT_S
    from pipelines.realtime import LANDED_TO_GOLD_LIMIT, freshness_rows

    assert LANDED_TO_GOLD_LIMIT_S == LANDED_TO_GOLD_LIMIT.total_seconds()
    app_env(app_lake)
    assert any("No real-time refresh has run" in i.value for i in open_page("health").info)
    root = tmp_path / "lake"
    shutil.copytree(app_lake, root)
    t = datetime(2026, 1, 14, 6, tzinfo=timezone.utc)
    landed = pl.DataFrame({"source": ["wms_transactions", "mes_lot_events"], "channel": ["messages"] * 2,
                           "occurred_at": [t, t], "ingested_at": [t + timedelta(seconds=2), t + timedelta(seconds=90)]})
    DeltaLake(root).append("source_freshness", freshness_rows(landed, refreshed_at=t.replace(minute=3),
                                                              landed_until=t.replace(minute=2), run_id="r").to_arrow())
    app_env(root)
    at = open_page("health")
    shown = next(df.value for df in at.dataframe if "landed_to_gold_p95_s" in df.value.columns)
    assert sorted(shown["source"]) == ["mes_lot_events", "wms_transactions"]
    assert any("mes_lot_events" in e.value and "longer than 60 s" in e.value for e in at.error)  # 90 s


def test_risk_page_quality_what_if_scores_the_changed_parameters(tmp_path: Path, app_lake, app_env) -> None:
    """With a champion quality model in the registry, the what-if shows the model's probability for the chosen
    order, first with its own parameters, then with the ones typed in; without one it says how to get one."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    from ml.registry import ModelRegistry
    from pipelines.models.inputs import feature_rows
    from pipelines.models.training import QUALITY_MODEL

    root = tmp_path / "lake"
    shutil.copytree(app_lake, root)
    app_env(root)
    assert any("No what-if yet: no champion work_order_high_scrap model" in i.value for i in open_page("risk").info)

    rows = feature_rows(DeltaLake(root), "work_order_quality_features").set_index("work_order_id", drop=False)
    columns = ["deviation_mean_c", "deviation_square_mean", "pressure_excess_mean_bar", "pressure_max_bar",
               "input_lot_prior_scrap_share"]
    above_median = rows["scrap_share"] > rows["scrap_share"].median()  # 10 days hold no high-scrap order
    model = Pipeline([("columns", ColumnTransformer([("numbers", "passthrough", columns)])),
                      ("model", HistGradientBoostingClassifier(max_iter=40, random_state=0))]).fit(rows, above_median)
    registry = ModelRegistry(root)
    run_id, version = registry.log_version(QUALITY_MODEL, model, params={}, metrics={}, input_versions={})
    assert registry.promote(QUALITY_MODEL, run_id, version, new_score=1.0, naive_score=0.0, champion_score=None,
                            champion_version=None).is_champion

    at = open_page("risk")
    order = at.selectbox(key="what_if_order").value
    own = rows.loc[[order]]
    assert metric(at, "Predicted high-scrap probability") == f"{model.predict_proba(own)[0, 1] * 100:.1f} %"
    changed = own.assign(deviation_mean_c=4.0, deviation_square_mean=16.0)
    at.number_input(key="what_if_deviation_mean_c").set_value(4.0)
    at.number_input(key="what_if_deviation_square_mean").set_value(16.0).run()
    assert not at.exception
    expected, before = model.predict_proba(changed)[0, 1], model.predict_proba(own)[0, 1]
    shown = next(m for m in at.metric if m.label == "Predicted high-scrap probability")
    assert shown.value == f"{expected * 100:.1f} %" and shown.delta == f"{(expected - before) * 100:+.1f} pts"
    assert Lake(root).quality_what_if().predict(order, {"deviation_mean_c": 4.0, "deviation_square_mean": 16.0}) \
        == pytest.approx(expected)
    with pytest.raises(Exception, match="cannot be changed in a what-if"):
        Lake(root).quality_what_if().predict(order, {"suppliers": 3})
