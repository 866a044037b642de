"""Data health: per source files and rows landed and quarantined (top reasons, examples), the ingest log, late
data, collector gaps, the blocking checks' last results per table version, table versions and freshness."""

from __future__ import annotations

from datetime import datetime, timezone

import altair as alt
import polars as pl
import streamlit as st

from apps import data, ui


def render() -> None:
    st.title("Data health")
    sources_section()
    quarantine_section()
    late_and_gaps_section()
    checks_section()
    realtime_section()
    tables_section()


def sources_section() -> None:
    st.subheader("Landed per source")
    log = data.read("bronze.ingest_log")
    per_source = log.group_by("source").agg(
        pl.col("source_file").n_unique().alias("files"),
        (pl.col("status") == "landed").sum().alias("files_landed"),
        (pl.col("status") == "rejected").sum().alias("files_rejected"),
        (pl.col("status") == "duplicate_file").sum().alias("duplicate_files"),
        pl.col("rows_read").sum(), pl.col("rows_landed").sum(), pl.col("rows_quarantined").sum(),
        pl.col("rows_duplicate").sum(), pl.col("finished_at").max().alias("last_ingest_at")).sort("source")
    st.dataframe(per_source, hide_index=True, width="stretch")
    chart = alt.Chart(per_source.unpivot(index="source", on=["rows_landed", "rows_quarantined", "rows_duplicate"])
                      .to_pandas()).mark_bar().encode(x="source:N", y=alt.Y("value:Q", title="rows"),
                                                      color="variable:N", tooltip=["source", "variable", "value"])
    st.altair_chart(chart, width="stretch")
    with st.expander(f"Ingest log ({log.height} file rows, newest first)"):
        ui.table(log.sort("finished_at", descending=True).drop("event_dates"), narrow="`plantlake sql` over bronze.ingest_log "
                 "lists them all")


def quarantine_section() -> None:
    st.subheader("Quarantined rows")
    rows = data.quarantined()
    if rows.is_empty():
        st.success("Nothing quarantined.")
        return
    reasons = (rows.explode("reasons").group_by("quarantine_table", "reasons").agg(pl.len().alias("rows"))
               .sort("rows", descending=True).rename({"reasons": "reason"}))
    by_status = rows.group_by("quarantine_table", "status").agg(pl.len().alias("rows")).sort("quarantine_table")
    left, right = st.columns(2)
    left.markdown("**Top reasons**")
    left.dataframe(reasons.head(15), hide_index=True, width="stretch")
    right.markdown("**By replay status**")
    right.dataframe(by_status, hide_index=True, width="stretch")
    chosen = st.selectbox("Examples of reason", reasons["reason"].to_list(), key="health_reason")
    examples = rows.filter(pl.col("reasons").list.contains(chosen)).head(10)
    st.dataframe(examples, hide_index=True, width="stretch")


def late_and_gaps_section() -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Late data")
        marks = data.safe_read("bronze.dirty_partitions")
        late = marks.filter(pl.col("is_late")) if marks is not None else None
        if late is None or late.is_empty():
            st.success("No late rows: every ingest landed in new event dates only.")
        else:
            summary = late.group_by("table_name").agg(pl.len().alias("late_partitions"),
                                                      pl.col("event_date").min().alias("earliest"),
                                                      pl.col("event_date").max().alias("latest"))
            st.dataframe(summary.sort("table_name"), hide_index=True, width="stretch")
            ui.numbers(late.sort("marked_at", descending=True), "Every late partition")
    with right:
        st.subheader("Collector gaps")
        gaps = data.collector_gaps()
        if gaps.is_empty():
            st.success("No collector gaps recorded.")
        else:
            hours = gaps.with_columns(((pl.col("ended_at") - pl.col("started_at")).dt.total_seconds() / 3600)
                                      .alias("hours"))
            summary = hours.group_by("scope", "machine_id", "reason").agg(pl.len().alias("gaps"),
                                                                          pl.col("hours").sum().round(2))
            st.dataframe(summary.sort("hours", descending=True), hide_index=True, width="stretch")
            ui.numbers(hours.sort("started_at"), "Every gap")


def checks_section() -> None:
    st.subheader("Blocking checks: last result per table")
    log = data.safe_read("bronze.publication_log")
    if log is None or log.is_empty():
        st.info("No run has recorded check results yet (bronze.publication_log is empty).")
        return
    last = log.sort("recorded_at").group_by("table_name").last().sort("table_name")
    last = last.with_columns(pl.col("failed_checks").list.join(", ").alias("failed_checks"))
    failing = last.filter(~pl.col("is_published"))
    if failing.is_empty():
        st.success(f"Every one of {last.height} tables passed its blocking checks on its last version.")
    else:
        st.error(f"{failing.height} table(s) failed blocking checks on their last version: "
                 + ", ".join(failing["table_name"].to_list()))
    st.dataframe(last.select("table_name", "table_version", "is_published", "failed_checks", "run_id",
                             "recorded_at"), hide_index=True, width="stretch")


def realtime_section() -> None:
    """bronze.source_freshness, written by each `plantlake listen --refresh` refresh: per source and channel the
    latest refresh's lags, event time -> landed -> in gold, and the check `landed_rows_reach_gold` judges it."""
    st.subheader("Real-time freshness (MQTT and HTTP events -> stock)")
    if not data.exists("bronze.source_freshness"):
        st.info("No real-time refresh has run on this lake: `plantlake listen --refresh` lands MES and WMS events "
                "from MQTT and refreshes stock, recording each source's freshness here.")
        return
    freshness = data.read("bronze.source_freshness")
    latest = freshness.sort("refreshed_at").group_by("source", "channel").last().sort("source", "channel")
    slow = latest.filter(pl.col("landed_to_gold_p95_s") > data.LANDED_TO_GOLD_LIMIT_S)
    if slow.is_empty():
        st.success(f"Every source's latest refresh reached gold within {data.LANDED_TO_GOLD_LIMIT_S:.0f} s (p95).")
    else:
        st.error(f"{slow.height} source(s) took longer than {data.LANDED_TO_GOLD_LIMIT_S:.0f} s (p95) from landed "
                 "to gold: " + ", ".join(slow["source"].to_list()))
    st.dataframe(latest.select("source", "channel", "rows", "last_event_at", "event_to_landed_p50_s",
                               "event_to_landed_p95_s", "landed_to_gold_p50_s", "landed_to_gold_p95_s",
                               "event_to_gold_p95_s", "refreshed_at"), hide_index=True, width="stretch")
    with st.expander(f"Every refresh ({freshness.height} rows)"):
        st.dataframe(freshness.sort("refreshed_at", descending=True), hide_index=True, width="stretch")


def tables_section() -> None:
    st.subheader("Tables: versions and freshness")
    tables = data.tables()
    now = datetime.now(timezone.utc)
    tables = tables.with_columns(((pl.lit(now) - pl.col("last_write")).dt.total_seconds() / 3600).round(2)
                                 .alias("hours_since_write"),
                                 (pl.col("latest_version") > pl.col("version")).alias("has_withheld_version"))
    st.dataframe(tables.drop("description"), hide_index=True, width="stretch")


ui.run_page(render, "bronze.ingest_log", "bronze.publication_log")
