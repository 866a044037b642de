"""Equipment: A/P/Q/OEE by shift per line, MTBF/MTTR and data coverage per machine, a machine's day as a state
timeline (micro-stops and collector gaps shown)."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import polars as pl
import streamlit as st

from apps import data, ui

SHIFT_KPIS = ["availability", "performance", "quality", "oee"]
MACHINE_KPIS = [("availability", "ratio"), ("performance", "ratio"), ("quality", "ratio"), ("oee", "ratio"),
                ("mtbf", "s"), ("mttr", "s"), ("equipment_data_coverage", "ratio")]
STATE_COLOURS = {"running": "#54a24b", "idle": "#eeca3b", "planned_stop": "#72b7b2", "unplanned_stop": "#e45756",
                 "micro_stop": "#ff9da6", "unknown (collector gap)": "#9d9d9d", "unknown": "#bab0ac"}


def render() -> None:
    st.title("Equipment")
    first, last = data.kpi_days_range()
    if first is None:
        st.info("gold.kpi_daily has no rows yet: run `plantlake run` after landing some data.")
        return
    machines = data.machines()
    lines = sorted(machines["line_id"].unique().to_list())
    top = st.columns(3)
    line = top[0].selectbox("Line", lines, index=ui.index_of(lines, ui.param("line")), key="eq_line")
    start = top[1].date_input("From", ui.param_date("from", max(first, last - timedelta(days=6))),
                              min_value=first, max_value=last, key="eq_from")
    end = top[2].date_input("To", ui.param_date("to", last), min_value=first, max_value=last, key="eq_to")
    if start > end:
        st.error(f"The period ends ({end}) before it starts ({start}).")
        return

    st.subheader(f"A, P, Q and OEE by shift · {line}")
    shifts = data.kpi(SHIFT_KPIS, scope=f"line:{line}", start=start, end=end, grain="shift")
    if shifts.is_empty():
        st.info(f"No shift rows for {line} from {start} to {end}.")
    else:
        percent = shifts.with_columns((pl.col("value") * 100).alias("percent"))
        chart = alt.Chart(percent.to_pandas()).mark_line(point=True).encode(
            x=alt.X("period:N", title="shift"), y=alt.Y("percent:Q", title="%"), color="kpi:N",
            tooltip=["kpi", "period", alt.Tooltip("percent:Q", format=".2f")])
        st.altair_chart(chart, width="stretch")
        table = shifts.pivot(on="kpi", index="period", values="value").sort("period")
        ui.numbers(table, "A, P, Q and OEE per shift (ratios)")

    st.subheader("Per machine: MTBF, MTTR and data coverage")
    per_machine = data.kpi_by_scope([name for name, _ in MACHINE_KPIS], scope="machine", start=start, end=end)
    in_line = machines.filter(pl.col("line_id") == line).select("machine_id", "machine_name")
    table = in_line.join(per_machine, left_on="machine_id", right_on="scope_id", how="left")
    st.dataframe(table.with_columns(
        *(pl.col(name) * 100 for name, unit in MACHINE_KPIS if unit == "ratio" and name in table.columns),
        *(pl.col(name) / 3600 for name, unit in MACHINE_KPIS if unit == "s" and name in table.columns)),
        hide_index=True, width="stretch",
        column_config={**{name: st.column_config.NumberColumn(name, format="%.2f %%")
                          for name, unit in MACHINE_KPIS if unit == "ratio"},
                       **{name: st.column_config.NumberColumn(name + " (h)", format="%.2f")
                          for name, unit in MACHINE_KPIS if unit == "s"}})

    st.subheader("State timeline")
    pick = st.columns(2)
    ids = in_line["machine_id"].to_list()
    machine = pick[0].selectbox("Machine", ids, index=ui.index_of(ids, ui.param("machine")), key="eq_machine")
    day = pick[1].date_input("Day (UTC)", ui.param_date("day", end), min_value=first, max_value=last, key="eq_day")
    timeline = data.state_timeline(machine, day)
    if timeline.is_empty():
        st.info(f"No MES state events for {machine} on or before {day}.")
        return
    chart = alt.Chart(timeline.to_pandas()).mark_bar(height=28).encode(
        x=alt.X("start:T", title="UTC"), x2="end:T",
        y=alt.Y("lane:N", title=None),
        color=alt.Color("state:N", scale=alt.Scale(domain=list(STATE_COLOURS), range=list(STATE_COLOURS.values()))),
        tooltip=["state", "reason", "start:T", "end:T", alt.Tooltip("minutes:Q", format=".1f")]
    ).transform_calculate(lane="datum.state === 'unknown (collector gap)' ? 'collector' : 'MES state'")
    st.altair_chart(chart, width="stretch")
    summary = timeline.group_by("state").agg(pl.col("minutes").sum().round(1), pl.len().alias("intervals"))
    st.dataframe(summary.sort("minutes", descending=True), hide_index=True)
    ui.numbers(timeline, "Every interval of the day")


ui.run_page(render, "gold.kpi_daily", "bronze.mes_equipment_states", "bronze.machine_signal_gaps")
