"""The plant app in a real browser: per page, the time until its main content is visible (warm server, a new
browser tab) and the time a filter change takes to re-render, against the same question answered by the Python
API directly (the peer: `plantlake.Lake`, no browser, no Streamlit, warm).

    python -m benchmarks.bench_app                         # a small plant (14 days, 2 lines x 3 machines)
    python -m benchmarks.bench_app --large                 # 1 year of 200 machines, >= 10M movements (app_lake.py)
    python -m benchmarks.bench_app --lake PATH             # an existing lake

The plant is simulated and materialized once into --workdir and reused. Debian's chromium drives the app
(Playwright, `--chromium PATH`, default `which chromium`). Goals (issue 13): main content <= 2 s, a filter
change <= 1 s, on a lake of >= 10M movements and 1 year of 200 machines.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class PageTiming:
    page: str
    first_content_s: list[float]
    filter_change_s: list[float]
    filter: str
    peer_s: float
    peer: str
    switch_s: list[float] = field(default_factory=list)


# The floor: what Streamlit itself costs to show a page's first content in a new tab of the same browser (loading
# and starting its front end, the websocket, one script run), measured on a one-line app in the same run.
FLOOR_SCRIPT = """import streamlit as st
st.title("Floor")
st.caption("one line · refreshed now")
"""


def build_lake(workdir: Path, *, days: int, lines: int, machines_per_line: int, seed: int,
               signal_interval_s: int = 60) -> Path:
    """Simulate and materialize a plant once; a later call with the same size reuses it."""
    from plantlake import Lake
    from simulator import FaultRates, PlantConfig, simulate

    name = f"plant-{days}d-{lines}x{machines_per_line}-s{seed}" + (
        f"-signals{signal_interval_s}s" if signal_interval_s != 60 else "")
    plant, root = workdir / name / "landing", workdir / name / "lake"
    done = workdir / name / ".built"
    if done.exists():
        return root
    shutil.rmtree(workdir / name, ignore_errors=True)
    plant.mkdir(parents=True)
    started = time.perf_counter()
    simulate(PlantConfig(days=days, lines=lines, machines_per_line=machines_per_line, seed=seed,
                         fault_rates=FaultRates.default(), signal_interval_s=signal_interval_s), plant)
    outcome = Lake(root).run(plant, echo=lambda _: None)
    if not outcome.success:
        raise SystemExit(f"plantlake run failed: {outcome.failure}")
    done.write_text(f"{time.perf_counter() - started:.0f} s\n")
    return root


def footer(page: Any) -> str:
    return page.get_by_text("refreshed", exact=False).last.inner_text()


def wait_rendered(page: Any, previous: str | None = None, timeout_ms: int = 120_000) -> None:
    """Until the page's footer (written last) is there, and differs from `previous` after a filter change."""
    page.get_by_text("refreshed", exact=False).last.wait_for(timeout=timeout_ms)
    if previous is not None:
        page.wait_for_function(
            """previous => { const all = [...document.querySelectorAll('p')]
                                 .filter(e => e.innerText.includes(' · refreshed '));
                             return all.length && all[all.length - 1].innerText !== previous; }""",
            arg=previous, timeout=timeout_ms)


def pick_option(label: str, nth: Callable[[int], int]) -> Callable[[Any, int], None]:
    def act(page: Any, round_: int) -> None:
        page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
        page.get_by_role("option").nth(nth(round_)).click()
    return act


def pick_radio(choices: list[str]) -> Callable[[Any, int], None]:
    def act(page: Any, round_: int) -> None:
        page.locator('[data-testid="stRadio"] label').filter(has_text=choices[round_ % len(choices)]).first.click()
    return act


def peers(lake: Any) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Per page, the page's main question through the Python API."""
    first, last = lake.read("gold.kpi_daily", columns=["kpi_date"]).select(
        pl.col("kpi_date").min(), pl.col("kpi_date").max().alias("b")).row(0)
    start = max(first, last - timedelta(days=6))
    line = lake.read("silver.dim_machine")["line_id"].sort()[0]
    lot = lake.read("silver.fct_genealogy_edges", columns=["child_node_id"]).filter(
        pl.col("child_node_id").str.starts_with("LOT-"))["child_node_id"].sort()[0]
    return {
        "overview": ("Lake.kpi x6 KPIs, day grain, site", lambda: lake.kpi(
            ["oee", "teep", "first_pass_yield", "otif", "inventory_accuracy", "inventory_turns"], scope="site",
            start=start, end=last, grain="day")),
        "equipment": ("Lake.kpi A/P/Q/OEE by shift, one line", lambda: lake.kpi(
            ["availability", "performance", "quality", "oee"], scope=f"line:{line}", start=start, end=last,
            grain="shift")),
        "traceability": ("Lake.trace_result both ways", lambda: lake.trace_result(lot, direction="both")),
        "inventory": ("Lake.stock now", lambda: lake.stock()),
        "risk": ("Lake.read gold.signal_anomalies", (lambda: lake.read("gold.signal_anomalies"))
                 if "gold.signal_anomalies" in lake.tables()["name"].to_list() else (lambda: None)),
        "health": ("Lake.tables + Lake.quarantine", lambda: (lake.tables(), lake.quarantine())),
    }


ACTIONS: dict[str, tuple[str, Callable[[Any, int], None] | None]] = {
    "overview": ("trend grain week/month", pick_radio(["week", "month"])),
    "equipment": ("another machine", pick_option("Machine", lambda r: 1 + r % 2)),
    "traceability": ("direction forward/backward", pick_radio(["forward", "backward"])),
    "inventory": ("another location", pick_option("Location", lambda r: 1 + r % 2)),
    "risk": ("another anomaly machine", pick_option("Machine", lambda r: 1 + r % 2)),
    "health": ("another quarantine reason", pick_option("Examples of reason", lambda r: 1 + r % 2)),
}


def run(lake_root: Path, *, repeats: int = 3, chromium: str | None = None) -> list[PageTiming]:
    from playwright.sync_api import sync_playwright

    from apps import serve
    from plantlake import Lake

    chromium = chromium or shutil.which("chromium")
    if not chromium:
        raise SystemExit("chromium is not installed (`. .ci/services` installs Debian's chromium)")
    lake = Lake(lake_root)
    questions = peers(lake)
    port = serve.free_port()
    server = serve.start(lake_root, port=port)
    url = f"http://127.0.0.1:{port}"
    timings = []
    try:
        if not serve.wait_ready(url, server):
            raise SystemExit("streamlit did not start")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for name, (what, act) in ACTIONS.items():
                print(f"[bench_app] {name}", file=sys.stderr, flush=True)
                peer_name, question = questions[name]
                question()  # warm, like the server
                peer_s = min(_timed(question) for _ in range(repeats))
                warm = browser.new_page(viewport={"width": 1500, "height": 1100})
                warm.goto(page_url(url, name))
                wait_rendered(warm)  # warm server: caches filled once
                warm.close()
                first, change = [], []
                for round_ in range(repeats):
                    page = browser.new_page(viewport={"width": 1500, "height": 1100})
                    started = time.perf_counter()
                    page.goto(page_url(url, name))
                    wait_rendered(page)
                    first.append(time.perf_counter() - started)
                    if act is not None:
                        try:
                            before = footer(page)
                            started = time.perf_counter()
                            act(page, round_)
                            wait_rendered(page, before, timeout_ms=20_000)
                            change.append(time.perf_counter() - started)
                        except Exception as error:  # noqa: BLE001 - a page without that filter: say so
                            what = f"{what}: round {round_ + 1} failed ({type(error).__name__})"
                    page.close()
                timings.append(PageTiming(name, first, change, what, peer_s, peer_name,
                                          switch_times(browser, url, name, repeats)))
            browser.close()
    finally:
        serve.stop(server)
    return timings


def switch_times(browser: Any, url: str, name: str, repeats: int) -> list[float]:
    """From another page of an open app, a click on `name` in the sidebar until its content is there (what a user
    moving between pages waits for: the front end is loaded already)."""
    from apps.auth import PAGES

    start_at, link = page_url(url, "equipment" if name == "overview" else "overview"), PAGES[name][0]
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    times = []
    try:
        for _ in range(repeats):
            page.goto(start_at)
            wait_rendered(page)
            before = footer(page)
            started = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text=link).first.click()
            wait_rendered(page, before)
            times.append(time.perf_counter() - started)
    finally:
        page.close()
    return times


def floor_times(browser_path: str, repeats: int) -> list[float]:
    """First content of a one-line Streamlit app, served and opened exactly as the plant app is."""
    from playwright.sync_api import sync_playwright

    from apps import serve

    with tempfile.TemporaryDirectory(prefix="bench_app_floor_") as folder:
        script = Path(folder) / "floor.py"
        script.write_text(FLOOR_SCRIPT)
        port = serve.free_port()
        server = serve.start(folder, port=port, script=script)
        url = f"http://127.0.0.1:{port}"
        try:
            if not serve.wait_ready(url, server):
                raise SystemExit("streamlit did not start")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
                times = []
                for round_ in range(repeats + 1):
                    page = browser.new_page(viewport={"width": 1500, "height": 1100})
                    started = time.perf_counter()
                    page.goto(url)
                    wait_rendered(page)
                    if round_:  # the first visit warms the server, as for the app's pages
                        times.append(time.perf_counter() - started)
                    page.close()
                browser.close()
        finally:
            serve.stop(server)
    return times


def page_url(url: str, name: str) -> str:
    return f"{url}/" if name == "overview" else f"{url}/{name}"  # the start page lives at the root


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def table(timings: list[PageTiming], floor_s: list[float]) -> str:
    floor = statistics.median(floor_s)
    lines = ["| page | main content, new tab (median of warm visits) | from another page (sidebar) "
             "| filter change (median) | filter | peer: same question through the API |",
             "|---|---|---|---|---|---|"]
    for t in timings:
        first = statistics.median(t.first_content_s)
        switch = f"{statistics.median(t.switch_s):.2f} s" if t.switch_s else "n/a"
        change = f"{statistics.median(t.filter_change_s):.2f} s" if t.filter_change_s else "n/a"
        lines.append(f"| {t.page} | {first:.2f} s | {switch} | {change} | {t.filter} | {t.peer}: {t.peer_s:.3f} s |")
    lines.append(f"| (floor) a one-line Streamlit app | {floor:.2f} s | | | | |")
    firsts = [statistics.median(t.first_content_s) for t in timings]
    switches = [statistics.median(t.switch_s) for t in timings if t.switch_s]
    changes = [statistics.median(t.filter_change_s) for t in timings if t.filter_change_s]
    lines.append(f"goals: main content <= 2 s: {_verdict(firsts, 2.0)} (new tab; from another page "
                 f"{_verdict(switches, 2.0)}); filter change <= 1 s: {_verdict(changes, 1.0)}")
    return "\n".join(lines)


def _verdict(times: list[float], goal: float) -> str:
    over = sum(t > goal for t in times)
    return "met on every page" if times and not over else f"missed on {over} of {len(times)} pages"


def lake_size(lake_root: Path) -> str:
    from plantlake import Lake

    lake = Lake(lake_root)
    tables = dict(zip(*lake.tables().select("name", "rows").to_dict(as_series=False).values(), strict=True))
    machines = lake.read("silver.dim_machine").height
    first, last = lake.read("gold.kpi_daily", columns=["kpi_date"]).select(pl.col("kpi_date").min(),
                                                                           pl.col("kpi_date").max().alias("b")).row(0)
    days = (last - first).days + 1 if isinstance(first, date) else 0
    return (f"{tables.get('silver.fct_inventory_movements', 0):,} movements, {machines} machines, {days} days, "
            f"{tables.get('bronze.machine_signals', 0):,} signal samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=None, help="an existing lake (no simulation)")
    parser.add_argument("--large", action="store_true", help="the issue's lake: 1 year of 200 machines and >= 10M "
                        "movements (benchmarks/app_lake.py; built once, about an hour)")
    parser.add_argument("--large-days", type=int, default=365, help="days the --large plant simulates")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--lines", type=int, default=2)
    parser.add_argument("--machines-per-line", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/plantlake-bench-app"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args()
    if args.lake:
        root = args.lake
    elif args.large:
        from benchmarks.app_lake import build_large_lake

        root = build_large_lake(args.workdir, days=args.large_days)
    else:
        root = build_lake(args.workdir, days=args.days, lines=args.lines, machines_per_line=args.machines_per_line,
                          seed=args.seed)
    print(f"lake {root}: {lake_size(root)}")
    chromium = args.chromium or shutil.which("chromium") or ""
    timings = run(root, repeats=args.repeats, chromium=chromium or None)
    print(table(timings, floor_times(chromium, args.repeats)))


if __name__ == "__main__":
    main()
