"""Overview (executives): headline KPIs with their change, a trend, the OEE loss waterfall, where the loss is."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import polars as pl
import streamlit as st

from apps import data, ui

# (kpi, label, unit, scope kind: "equipment" follows the chosen scope, "site" is kept per site only)
HEADLINE = [("oee", "OEE", "ratio", "equipment"), ("teep", "TEEP", "ratio", "equipment"),
            ("first_pass_yield", "First-pass yield", "ratio", "equipment"), ("otif", "OTIF", "ratio", "site"),
            ("inventory_accuracy", "Inventory accuracy", "ratio", "site"),
            ("inventory_turns", "Inventory turns", "1/year", "site")]


def scope_picker() -> str:
    tree = data.equipment()
    levels = {level: sorted(tree.filter(pl.col("equipment_level") == level)["equipment_id"].to_list())
              for level in ("area", "line")}
    start_kind, _, start_id = (ui.param("scope", "site") or "site").partition(":")
    kinds = ["site", "area", "line"]
    kind = st.selectbox("Scope", kinds, index=ui.index_of(kinds, start_kind), key="ov_scope_kind")
    if kind == "site":
        return "site"
    options = levels[kind]
    chosen = st.selectbox(kind.capitalize(), options, index=ui.index_of(options, start_id), key="ov_scope_id")
    return f"{kind}:{chosen}"


def render() -> None:
    st.title("Overview")
    first, last = data.kpi_days_range()
    if first is None:
        st.info("gold.kpi_daily has no rows yet: run `plantlake run` after landing some data.")
        return
    filters = st.columns(4)
    with filters[0]:
        scope = scope_picker()
    start = filters[1].date_input("From", ui.param_date("from", max(first, last - timedelta(days=6))),
                                  min_value=first, max_value=last, key="ov_from")
    end = filters[2].date_input("To", ui.param_date("to", last), min_value=first, max_value=last, key="ov_to")
    grains = ["day", "week", "month"]
    grain = filters[3].radio("Trend by", grains, index=ui.index_of(grains, ui.param("grain"), 0), horizontal=True,
                             key="ov_grain")
    if start > end:
        st.error(f"The period ends ({end}) before it starts ({start}).")
        return
    days = (end - start).days + 1
    before_end = start - timedelta(days=1)
    before_start = before_end - timedelta(days=days - 1)
    st.caption(f"{scope} · {start} to {end} ({days} days) · change against {before_start} to {before_end}")

    cards = st.columns(len(HEADLINE))
    scoped = [h[0] for h in HEADLINE if h[3] == "equipment"]
    site_only = [h[0] for h in HEADLINE if h[3] == "site"]
    now = {**data.kpi_totals(scoped, scope=scope, start=start, end=end),
           **data.kpi_totals(site_only, scope="site", start=start, end=end)}
    previous = {**data.kpi_totals(scoped, scope=scope, start=before_start, end=before_end),
                **data.kpi_totals(site_only, scope="site", start=before_start, end=before_end)}
    for card, (name, label, unit, kind) in zip(cards, HEADLINE, strict=True):
        suffix = "" if kind == "equipment" or scope == "site" else " (site)"
        card.metric(label + suffix, ui.shown(now[name], unit), ui.change(now[name], previous[name], unit),
                    delta_color="normal")

    st.subheader(f"Trend by {grain}")
    trend_scope = {h[0]: (scope if h[3] == "equipment" else "site") for h in HEADLINE}
    trend = pl.concat([data.kpi([name], scope=trend_scope[name], start=start, end=end, grain=grain)
                       for name, *_ in HEADLINE], how="vertical")
    ratios = trend.filter(pl.col("unit") == "ratio").with_columns((pl.col("value") * 100).alias("percent"))
    chart = alt.Chart(ratios.to_pandas()).mark_line(point=True).encode(
        x=alt.X("period:N", title=grain), y=alt.Y("percent:Q", title="%"), color=alt.Color("kpi:N"),
        tooltip=["kpi", "period", alt.Tooltip("percent:Q", format=".2f"), "numerator", "denominator"])
    st.altair_chart(chart, width="stretch")
    ui.numbers(trend)

    lines = data.lines_under(scope)
    shifts = data.oee_shifts(start, end, lines=lines)
    left, right = st.columns(2)
    with left:
        st.subheader("OEE loss waterfall")
        steps = data.loss_waterfall(shifts)
        st.altair_chart(waterfall_chart(steps), width="stretch")
        ui.numbers(steps)
    with right:
        st.subheader("Where is the loss")
        st.dataframe(data.largest_losses(shifts), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(c, format="%.2f h")
                                    for c in ("availability_loss_h", "performance_loss_h", "quality_loss_h",
                                              "total_loss_h", "planned_h")})


def waterfall_chart(steps: pl.DataFrame) -> alt.Chart:
    """Bars from planned time down through each loss to fully productive time (hours)."""
    top, rows = 0.0, []
    for step, hours, kind in steps.iter_rows():
        if kind == "total":
            rows.append({"step": step, "from": 0.0, "to": hours, "hours": hours, "kind": kind})
            top = hours
        else:
            rows.append({"step": step, "from": top + hours, "to": top, "hours": hours, "kind": kind})
            top += hours
    order = steps["step"].to_list()
    return alt.Chart(pl.DataFrame(rows).to_pandas()).mark_bar().encode(
        x=alt.X("step:N", sort=order, title=None), y=alt.Y("from:Q", title="hours"), y2="to:Q",
        color=alt.Color("kind:N", scale=alt.Scale(domain=["total", "loss"], range=["#4c78a8", "#e45756"]),
                        legend=None),
        tooltip=["step", alt.Tooltip("hours:Q", format=".2f")])


ui.run_page(render, "gold.kpi_daily", "gold.oee_by_machine_shift")
