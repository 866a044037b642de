"""Maintenance and quality risk, from the model tables gold.machine_risk, gold.quality_risk and
gold.signal_anomalies. Until a table exists the page says which is missing and how to produce it."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import polars as pl
import streamlit as st

from apps import data, ui
from plantlake.errors import QueryError

QUALITY_LABEL = "probability that the order scraps at least 4 % of its units"

SCORE_HINTS = ("risk", "probability", "score")


def score_column(frame: pl.DataFrame) -> str | None:
    """The column a model table ranks by: the first numeric one whose name mentions risk, probability or score."""
    for hint in SCORE_HINTS:
        for name, dtype in frame.schema.items():
            if hint in name and dtype.is_numeric():
                return name
    return None


def ranked(name: str, title: str, limit: int = 20) -> pl.DataFrame | None:
    st.subheader(title)
    try:
        frame = data.read(name)
    except data.Missing as missing:
        st.info(str(missing))
        return None
    if frame.is_empty():
        st.info(f"{name} is in the lake but empty: nothing has been scored yet (the model needs training and "
                "registering first, or more data); its columns are " + ", ".join(frame.columns) + ".")
        return frame
    score = score_column(frame)
    if score:
        frame = frame.sort(score, descending=True, nulls_last=True)
    st.dataframe(frame.head(limit), hide_index=True, width="stretch")
    ui.numbers(frame, f"All {frame.height} rows of {name}")
    return frame


def render() -> None:
    st.title("Maintenance and quality risk")
    absent = [name for name in data.MODEL_TABLES if not data.exists(name)]
    if absent:
        st.warning("Missing model tables: " + ", ".join(absent) + ". They come from the models (the models "
                   "issue): once declared in the catalog, `plantlake run --source LANDING` (or `make demo`) "
                   "writes them. The rest of the app works without them.")
    machines = ranked("gold.machine_risk", "Riskiest machines")
    orders = ranked("gold.quality_risk", "Work orders and lots at risk")
    quality_what_if(orders)
    anomalies = ranked("gold.signal_anomalies", "Signal anomalies")
    if anomalies is not None and not anomalies.is_empty():
        signal_chart(anomalies, machines)


PARAMETER_LABELS = {"deviation_mean_c": "Mean setpoint deviation (°C)",
                    "deviation_square_mean": "Mean squared setpoint deviation (°C²)",
                    "pressure_excess_mean_bar": "Mean pressure outside tolerance (bar)",
                    "pressure_max_bar": "Highest pressure (bar)"}


def quality_what_if(orders: pl.DataFrame | None) -> None:
    """Set an order's process parameters, see the quality model's predicted high-scrap probability."""
    st.subheader("What if (quality model)")
    try:
        what_if = data.quality_what_if()
    except data.Missing as missing:
        st.info(str(missing))
        return
    except QueryError as error:
        st.info(f"No what-if yet: {error}.")
        return
    known = what_if.order_ids()
    ranked_ids = [o for o in (orders["work_order_id"].to_list() if orders is not None and not orders.is_empty()
                              and "work_order_id" in orders.columns else []) if o in set(known)]
    ids = ranked_ids + sorted(set(known) - set(ranked_ids))
    order = st.selectbox("Work order", ids, index=ui.index_of(ids, ui.param("work_order")), key="what_if_order")
    baseline = what_if.baseline(order)
    columns = st.columns(len(baseline) or 1)
    changes = {name: columns[i].number_input(PARAMETER_LABELS.get(name, name), value=value,
                                             format="%.4f", key=f"what_if_{name}")
               for i, (name, value) in enumerate(baseline.items())}
    before, after = what_if.predict(order), what_if.predict(order, changes)
    st.metric("Predicted high-scrap probability", f"{after * 100:.1f} %", delta=f"{(after - before) * 100:+.1f} pts",
              delta_color="inverse", help=f"{QUALITY_LABEL}; model version {what_if.model_version}, the order's own "
                                          f"parameters give {before * 100:.1f} %")
    ui.numbers(pl.DataFrame({"parameter": list(baseline), "as landed": list(baseline.values()),
                             "what if": [changes[name] for name in baseline]}),
               f"Parameters of {order}: as landed and what if")


def signal_chart(anomalies: pl.DataFrame, machines: pl.DataFrame | None) -> None:
    """One machine tag's signal around its strongest anomaly, the anomalies marked as bands."""
    order = (machines["machine_id"].to_list() if machines is not None and "machine_id" in machines.columns else [])
    ids = sorted(set(anomalies["machine_id"].to_list()), key=lambda m: (order.index(m) if m in order else 10**6, m))
    row = st.columns(2)
    machine = row[0].selectbox("Machine", ids, index=ui.index_of(ids, ui.param("machine")), key="risk_machine")
    own = anomalies.filter(pl.col("machine_id") == machine)
    tags = sorted(own["tag"].unique().to_list())
    tag = row[1].selectbox("Tag", tags, key="risk_tag")
    marked = own.filter(pl.col("tag") == tag).sort("score", descending=True)
    strongest = marked.row(0, named=True)
    start = strongest["started_at"] - timedelta(hours=6)
    end = strongest["ended_at"] + timedelta(hours=6)
    signal = data.read("bronze.machine_signals", columns=["source_at", "value"],
                       filters=[("machine_id", "=", machine), ("tag", "=", tag),
                                ("source_date", ">=", start.date()), ("source_date", "<=", end.date())])
    signal = signal.filter(pl.col("source_at").is_between(start, end)).sort("source_at")
    bands = marked.filter((pl.col("ended_at") >= start) & (pl.col("started_at") <= end))
    line = alt.Chart(signal.to_pandas()).mark_line().encode(x=alt.X("source_at:T", title="UTC"),
                                                            y=alt.Y("value:Q", title=tag))
    marks = alt.Chart(bands.to_pandas()).mark_rect(opacity=0.25, color="#e45756").encode(
        x="started_at:T", x2="ended_at:T", tooltip=["kind", "started_at:T", "ended_at:T", "score"])
    st.altair_chart(alt.layer(marks, line), width="stretch")
    ui.numbers(bands, f"Anomalies of {machine} {tag} in this window")


ui.run_page(render, *data.MODEL_TABLES)
