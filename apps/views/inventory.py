"""Inventory (logistics): stock now or as of a moment by material, lot and location with units; negative
balances and reconciliation differences with a drill-down to the ledger lines and movements behind them."""

from __future__ import annotations

from datetime import datetime, time, timezone

import altair as alt
import polars as pl
import streamlit as st

from apps import data, ui

ALL = "(all)"


def render() -> None:
    st.title("Inventory")
    row = st.columns(4)
    materials = [ALL] + sorted(data.read("silver.dim_material", columns=["material_id"])["material_id"].to_list())
    material = row[0].selectbox("Material", materials, index=ui.index_of(materials, ui.param("material")),
                                key="inv_material")
    locations = [ALL] + sorted(data.read("silver.dim_location", columns=["location_id"])["location_id"].to_list())
    location = row[1].selectbox("Location", locations, index=ui.index_of(locations, ui.param("location")),
                                key="inv_location")
    lot = row[2].text_input("Lot", value=ui.param("lot", "") or "", key="inv_lot").strip()
    as_of_text = ui.param("as_of")
    moment = None
    with row[3]:
        use_as_of = st.toggle("As of a moment", value=bool(as_of_text), key="inv_use_as_of")
        if use_as_of:
            start = _parse(as_of_text) or datetime.now(timezone.utc)
            day = st.date_input("Day (UTC)", start.date(), key="inv_day")
            clock = st.time_input("Time (UTC)", start.time().replace(microsecond=0), key="inv_time", step=60)
            moment = datetime.combine(day, clock or time(0), tzinfo=timezone.utc)
    chosen = {"material": None if material == ALL else material, "location": None if location == ALL else location,
              "lot": lot or None}
    rows = data.stock(moment, **chosen)
    when = f"as of {moment:%Y-%m-%d %H:%M} UTC" if moment else "now"
    st.subheader(f"Stock {when}")
    if rows.is_empty():
        st.info(f"No balances {when} for this selection.")
    else:
        by_material = rows.group_by("material_id", "unit").agg(pl.col("quantity").sum(), pl.len().alias("balances"))
        if chosen["material"]:
            total = by_material.row(0, named=True)
            st.metric(f"Stock of {chosen['material']}", f"{total['quantity']:,.3f} {total['unit'] or ''}".strip())
        chart = alt.Chart(by_material.to_pandas()).mark_bar().encode(
            x=alt.X("material_id:N", sort="-y"), y=alt.Y("quantity:Q"), color="unit:N",
            tooltip=["material_id", "unit", alt.Tooltip("quantity:Q", format=",.3f"), "balances"])
        st.altair_chart(chart, width="stretch")
        ui.numbers(by_material.sort("material_id"), "Stock per material (numbers)")
        ui.table(rows, narrow="choose a material, location or lot for the others")
    negative_section(rows)
    reconciliation_section()
    shortages_section()


def negative_section(rows: pl.DataFrame) -> None:
    st.subheader("Negative balances")
    negative = rows.filter(pl.col("is_negative")) if not rows.is_empty() else rows
    if negative.is_empty():
        st.success("No negative balance in this selection.")
        return
    ui.table(negative, narrow="choose a material, location or lot for the others")
    keys = [f"{m} · {lot} · {loc}" for m, lot, loc in
            negative.head(ui.OPTIONS_SHOWN).select("material_id", "lot_id", "location_id").iter_rows()]
    pick = st.selectbox("Ledger lines behind", keys, key="inv_negative_pick")
    material, lot, location = pick.split(" · ")
    st.caption("Newest first")
    ui.table(data.ledger_lines(material=material, lot=lot, location=location).reverse(),
             narrow="`plantlake sql` over gold.fct_inventory_ledger lists them all")


def reconciliation_section() -> None:
    st.subheader("Reconciliation differences (MES consumption vs WMS issues vs BOM)")
    differences = data.reconciliation()
    if differences.is_empty():
        st.success("No reconciliation differences.")
        return
    by_type = differences.group_by("difference_type").agg(
        pl.len().alias("differences"), pl.col("difference_quantity").abs().sum().alias("absolute_quantity"))
    chart = alt.Chart(by_type.to_pandas()).mark_bar().encode(
        x=alt.X("difference_type:N", sort="-y"), y="differences:Q",
        tooltip=["difference_type", "differences", alt.Tooltip("absolute_quantity:Q", format=",.3f")])
    st.altair_chart(chart, width="stretch")
    ui.numbers(by_type.sort("difference_type"), "Differences per type (numbers)")
    types = sorted(by_type["difference_type"].to_list())
    kind = st.selectbox("Type", types, key="inv_difference_type")
    chosen = differences.filter(pl.col("difference_type") == kind).sort("occurred_at", nulls_last=True)
    ui.table(chosen, narrow="`plantlake sql` over gold.reconciliation_differences lists them all")
    ids = ui.choices(chosen["difference_id"].to_list())
    difference_id = st.selectbox("Movements behind difference", ids, key="inv_difference_id")
    picked = chosen.filter(pl.col("difference_id") == difference_id).row(0, named=True)
    ui.table(data.movements_behind(material=picked["material_id"], lot=picked["lot_id"],
                                   work_order=picked["work_order_id"]), narrow="pick a difference with a lot for fewer")


def shortages_section() -> None:
    """gold.shortage_forecast and gold.pick_suggestions as the last run prepared them (what `plantlake shortages`
    answers as of the latest event): when each line side runs short, and the picks that cover it."""
    st.subheader("Line-side shortages ahead (forecast)")
    if not (data.exists("gold.shortage_forecast") and data.exists("gold.pick_suggestions")):
        st.info("No shortage forecast in this lake yet: `plantlake run` prepares gold.shortage_forecast and "
                "gold.pick_suggestions from released orders, routings, BOMs and line-side stock.")
        return
    shortages = data.read("gold.shortage_forecast").sort("short_at", "line_id", "material_id")
    picks = data.read("gold.pick_suggestions").sort("pick_by_at", "line_id", "material_id")
    if shortages.is_empty():
        st.success("No line side runs short within the forecast horizon.")
        return
    forecast_at = shortages["forecast_at"].max()
    st.caption(f"Forecast as of {forecast_at:%Y-%m-%d %H:%M} UTC (the latest event the lake held at the last run); "
               "`plantlake shortages --line L --horizon 8h` forecasts again from the lake as it is.")
    per_line = shortages.group_by("line_id").agg(pl.len().alias("materials_short"),
                                                 pl.col("short_at").min().alias("first_short_at")).sort("line_id")
    st.dataframe(per_line, hide_index=True, width="stretch")
    st.dataframe(shortages, hide_index=True, width="stretch")
    st.markdown(f"**Pick suggestions** ({picks.height}): oldest receipt first, to be picked by `pick_by_at`")
    st.dataframe(picks, hide_index=True, width="stretch")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        st.warning(f"?as_of={text} is not an ISO 8601 time; showing now")
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


ui.run_page(render, "gold.fct_inventory_ledger", "gold.reconciliation_differences")
