"""The plant app in a real browser: `streamlit run` on a free loopback port against a small simulated lake,
Debian's chromium driven by Playwright; each page opened and screenshotted, its key figure read from the page
and compared with the CLI's answer for the same question, the genealogy graph drawn.

Screenshots go to PLANTLAKE_TEST_ARTIFACTS (default: the test's tmp dir); PLANTLAKE_UPDATE_SCREENSHOTS=1 also
copies them to docs/screenshots/. Without chromium the tests skip locally and fail under CI=true."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import expect

from apps import serve
from plantlake import Lake
from tests.services import missing

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WEEK = ("2026-01-05", "2026-01-11")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        missing("chromium is not installed (`. .ci/services` installs Debian's chromium); the browser tests need it")
    return path


@contextmanager
def served_app(app_lake: Path, folder: Path, **start: Any) -> Iterator[str]:
    """The app served by `streamlit run` (headless) on a free loopback port, its log in `folder`."""
    port = serve.free_port()
    log = folder / "streamlit.log"
    with log.open("w") as output:
        server = serve.start(app_lake, port=port, output=output, **start)
    url = f"http://127.0.0.1:{port}"
    try:
        if not serve.wait_ready(url, server):
            pytest.fail(f"streamlit did not start: {log.read_text()[-2000:]}")
        yield url
    finally:
        serve.stop(server)


@pytest.fixture(scope="module")
def app_url(app_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_app(app_lake, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("PLANTLAKE_TEST_ARTIFACTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser: Any, url: str) -> Any:
    """A page at `url`, once the app has rendered it (its footer says what it read)."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(url)
    page.get_by_text("refreshed", exact=False).last.wait_for(timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
    assert page.get_by_text("Page not found").count() == 0, url
    return page


def screenshot(page: Any, artifacts: Path, name: str) -> None:
    target = artifacts / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    if os.environ.get("PLANTLAKE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, SCREENSHOTS / target.name)


def metric_value(page: Any, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)).first
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_overview_shows_the_oee_of_a_line_and_week_that_plantlake_kpi_prints(browser, app_url, app_lake, cli_json,
                                                                             artifacts) -> None:
    rows = cli_json(app_lake, "kpi", "--kpi", "oee", "--scope", "line:LINE-01", "--from", WEEK[0], "--to", WEEK[1],
                    "--grain", "week")
    assert len(rows) == 1 and rows[0]["period"] == WEEK[0]
    page = open_page(browser, f"{app_url}/?scope=line:LINE-01&from={WEEK[0]}&to={WEEK[1]}")
    assert metric_value(page, "OEE") == f"{rows[0]['value'] * 100:.2f} %"
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(2)  # trend and waterfall
    screenshot(page, artifacts, "overview")
    page.close()


def test_equipment_page_draws_the_shift_chart_and_the_state_timeline(browser, app_url, artifacts) -> None:
    page = open_page(browser, f"{app_url}/equipment?line=LINE-01&machine=WC-01-02&day=2026-01-07"
                              f"&from={WEEK[0]}&to={WEEK[1]}")
    expect(page.get_by_text("State timeline")).to_have_count(1)
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(2)  # shifts and the state timeline
    screenshot(page, artifacts, "equipment")
    page.close()


def test_inventory_shows_the_stock_plantlake_stock_prints(browser, app_url, app_lake, cli_json, artifacts) -> None:
    as_of = "2026-01-10T12:00:00"
    rows = cli_json(app_lake, "stock", "--as-of", as_of)
    material = sorted({row["material_id"] for row in rows})[-1]
    expected = sum(row["quantity"] for row in rows if row["material_id"] == material)
    unit = Lake(app_lake).read("silver.dim_material").filter(pl.col("material_id") == material)["base_unit"][0]
    page = open_page(browser, f"{app_url}/inventory?material={material}&as_of={as_of}")
    assert metric_value(page, f"Stock of {material}") == f"{expected:,.3f} {unit}"
    screenshot(page, artifacts, "inventory")
    page.close()


def test_traceability_draws_the_genealogy_and_lists_the_recall_customers_plantlake_recall_prints(
        browser, app_url, app_lake, cli_json, artifacts) -> None:
    lake = Lake(app_lake)
    supplier_lots = sorted(n for n in lake.read("silver.fct_genealogy_edges")["parent_node_id"].unique().to_list()
                           if n.startswith("SUP:"))
    supplier_lot = next(n.removeprefix("SUP:") for n in supplier_lots if lake.recall_result(n).customers)
    recall = cli_json(app_lake, "recall", supplier_lot)
    lot = recall["end_of_chain_lots"][0]
    page = open_page(browser, f"{app_url}/traceability?node={lot}&supplier_lot={supplier_lot}&direction=backward")
    customers = page.get_by_text("Customers:", exact=False).last.locator("xpath=..").inner_text()
    assert customers.replace("Customers:", "").strip() == ", ".join(recall["customers"])
    graph = page.locator('[data-testid="stVegaLiteChart"]').first
    drawing = graph.locator("canvas, svg").first
    drawing.wait_for(timeout=30_000)
    box = drawing.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    trace = cli_json(app_lake, "trace", lot, "--direction", "backward")
    expect(page.get_by_text(f"{len(trace['nodes']) - 1} linked nodes", exact=False)).to_have_count(1)
    screenshot(page, artifacts, "traceability")
    page.close()


@pytest.mark.parametrize("name", ["risk", "health"])
def test_risk_and_health_pages_open(browser, app_url, artifacts, name: str) -> None:
    page = open_page(browser, f"{app_url}/{name}")
    expected = {"risk": "Riskiest machines", "health": "Landed per source"}[name]
    expect(page.get_by_text(expected, exact=False).first).to_be_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, artifacts, name)
    page.close()


@pytest.fixture(scope="module")
def login_app_url(app_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with login on: one executive in a users file, the cookie key in the server's environment."""
    import bcrypt
    import yaml

    folder = tmp_path_factory.mktemp("login_app")
    users = folder / "users.yaml"
    users.write_text(yaml.safe_dump({"session_minutes": 30, "users": {"erin": {
        "name": "Erin", "roles": ["executive"],
        "password_hash": bcrypt.hashpw(b"erin-secret-1", bcrypt.gensalt(rounds=4)).decode()}}}))
    environment = {"PLANTLAKE_APP_USERS": str(users), "PLANTLAKE_APP_COOKIE_KEY": "c" * 32}
    with served_app(app_lake, folder, login=True, environment=environment) as url:
        yield url


def test_a_login_survives_a_reload_and_a_new_tab_until_logout(browser, login_app_url) -> None:
    from apps import auth

    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.goto(login_app_url)
    page.get_by_role("textbox", name="User name").fill("erin")
    page.get_by_role("textbox", name="Password").fill("erin-secret-1")
    page.get_by_role("button", name="Log in").click()
    logged_in = page.get_by_text("Logged in as", exact=False)
    logged_in.wait_for(timeout=60_000)
    page.wait_for_function(f"document.cookie.includes('{auth.SESSION_COOKIE}=')", timeout=30_000)
    [cookie] = [c for c in context.cookies() if c["name"] == auth.SESSION_COOKIE]
    assert cookie["sameSite"] == "Strict" and 0 < cookie["expires"] - time.time() <= 30 * 60 + 5
    page.reload()
    page.get_by_text("Logged in as", exact=False).wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Log in").count() == 0
    expect(page.get_by_text("Data health")).to_have_count(0)  # still an executive: no admin page
    other = context.new_page()
    other.goto(login_app_url)
    other.get_by_text("Logged in as", exact=False).wait_for(timeout=60_000)
    other.close()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for(timeout=60_000)
    page.wait_for_function(f"!document.cookie.includes('{auth.SESSION_COOKIE}=')", timeout=30_000)
    page.reload()
    page.get_by_role("button", name="Log in").wait_for(timeout=60_000)
    assert page.get_by_text("Logged in as", exact=False).count() == 0
    context.close()


def test_a_forged_session_cookie_is_refused(browser, login_app_url) -> None:
    from apps import auth

    forged = auth.session_cookie({"username": "erin", "expires_at": 4_102_444_800, "signature": "0" * 64})
    context = browser.new_context()
    context.add_cookies([{"name": auth.SESSION_COOKIE, "value": forged, "url": login_app_url}])
    page = context.new_page()
    page.goto(login_app_url)
    page.get_by_text("Your session is not valid any more", exact=False).wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Log in").count() == 1
    page.wait_for_function(f"!document.cookie.includes('{auth.SESSION_COOKIE}=')", timeout=30_000)
    context.close()
