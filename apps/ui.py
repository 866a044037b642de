"""What every page shares: the guard that turns a missing table or a lake error into a message (never a
traceback), the footer naming the lake version read, query-parameter defaults and number formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl
import streamlit as st

from apps import data
from plantlake import PlantlakeError


def run_page(render: Callable[[], None], *tables: str) -> None:
    """Render a page; a missing table or a lake error becomes a message; the footer says what was read."""
    try:
        render()
    except data.Missing as missing:
        st.info(str(missing))
    except PlantlakeError as error:
        st.error(str(error))
    st.caption(data.reading(*tables))


def param(name: str, default: str | None = None) -> str | None:
    """A filter's starting value from the URL (`?scope=line:LINE-01&from=2026-01-05`), so a view can be linked."""
    value = st.query_params.get(name)
    return value if value not in (None, "") else default


def param_date(name: str, default: date) -> date:
    text = param(name)
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        st.warning(f"?{name}={text} is not a date (YYYY-MM-DD); showing {default}")
        return default


def index_of(options: list[str], value: str | None, default: int = 0) -> int:
    return options.index(value) if value in options else default


def shown(value: float | None, unit: str) -> str:
    """A KPI value in its unit, as the page shows it: ratios as % with two decimals, seconds as hours."""
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value * 100:.2f} %"
    if unit == "s":
        return f"{value / 3600:.2f} h"
    if unit == "1/year":
        return f"{value:.2f}/yr"
    return f"{value:,.2f} {unit}"


def change(value: float | None, previous: float | None, unit: str) -> str | None:
    if value is None or previous is None:
        return None
    if unit == "ratio":
        return f"{(value - previous) * 100:+.2f} pp"
    if unit == "s":
        return f"{(value - previous) / 3600:+.2f} h"
    return f"{value - previous:+.2f}"


def numbers(frame: pl.DataFrame, label: str = "Numbers behind the chart") -> None:
    """The chart's numbers, one click away."""
    with st.expander(label):
        st.dataframe(frame, hide_index=True, width="stretch")


ROWS_SHOWN = 1_000  # rows a table sends to the browser; a large lake's tables hold hundreds of thousands
OPTIONS_SHOWN = 500  # choices a picker offers


def table(frame: pl.DataFrame, *, narrow: str = "narrow the filters above for the others",
          limit: int = ROWS_SHOWN) -> None:
    """A table of at most `limit` rows (in the frame's order), saying how many there are when it cuts."""
    st.dataframe(frame.head(limit), hide_index=True, width="stretch")
    if frame.height > limit:
        st.caption(f"Showing the first {limit:,} of {frame.height:,} rows ({narrow}).")


def choices(options: list[str], *, keep: str | None = None, limit: int = OPTIONS_SHOWN) -> list[str]:
    """At most `limit` options for a picker (the rest are reached by narrowing what the page shows), with `keep`
    (a value the URL asked for) among them when it is an option at all."""
    shown = options[:limit]
    return shown + [keep] if keep in options and keep not in shown else shown
