"""Scoring assets (gold.machine_risk, gold.quality_risk) with the champion model, and the drift check.

Each row names the registry model version that scored it. Without a champion (too little history so far)
the tables are written empty and the metadata says why.
"""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
import pandas as pd
import polars as pl

from lakehouse.catalog import CATALOG
from ml.drift import PSI_WARNING, feature_drift
from ml.registry import ModelRegistry
from ml.training import risk_and_top_reasons
from pipelines.checks import primary_key_check, table_key
from pipelines.models.inputs import feature_rows
from pipelines.models.training import MAINTENANCE_MODEL, QUALITY_MODEL, model_key
from pipelines.resources import LakeResource

RECENT_DAYS = 7


def _write(lake: LakeResource, table: str, rows: pd.DataFrame, **metadata) -> dg.MaterializeResult:
    overrides = {"top_reasons": pl.String, **({"produced_lot_ids": pl.List(pl.String)}
                                               if "produced_lot_ids" in rows else {})}
    frame = pl.from_pandas(rows, schema_overrides=overrides) if len(rows) else \
        pl.from_arrow(CATALOG[table].schema.empty_table())
    result = lake.lake().overwrite(table, frame.select(CATALOG[table].schema.names))
    return dg.MaterializeResult(metadata={**result.as_metadata(), **metadata})


def _reference(frame: pd.DataFrame, predicted_at: pd.Series) -> pd.DataFrame:
    return frame[predicted_at < predicted_at.max() - pd.Timedelta(days=RECENT_DAYS)]


@dg.asset(key=table_key("machine_risk"), deps=[table_key("machine_hour_features"), model_key(MAINTENANCE_MODEL)],
          group_name="models", description=CATALOG["machine_risk"].description, kinds={"delta", "sklearn"},
          owners=["team:plant-data"])
def machine_risk(lake: LakeResource) -> dg.MaterializeResult:
    registry = ModelRegistry(lake.settings().lake_root)
    champion = registry.champion(MAINTENANCE_MODEL)
    hours = feature_rows(lake.lake(), "machine_hour_features")
    if champion is None or hours.empty:
        return _write(lake, "machine_risk", pd.DataFrame(), scored=0, reason="no champion model yet")
    model, version = champion
    features = list(model.feature_names_in_)
    latest = hours.sort_values("hour_start_at").groupby("machine_id").tail(1).reset_index(drop=True)
    reference = _reference(hours, hours["predicted_at"])
    risk, reasons = risk_and_top_reasons(model, latest, reference if len(reference) else hours, features=features)
    rows = pd.DataFrame({
        "machine_id": latest["machine_id"], "predicted_at": latest["predicted_at"],
        "breakdown_risk": risk, "horizon_h": 24, "top_reasons": reasons,
        "model_name": MAINTENANCE_MODEL, "model_version": str(version),
        "scored_at": datetime.now(timezone.utc)})
    return _write(lake, "machine_risk", rows, scored=len(rows), model_version=str(version))


@dg.asset(key=table_key("quality_risk"), deps=[table_key("work_order_quality_features"), model_key(QUALITY_MODEL),
                                               table_key("mes_work_order_events"), table_key("fct_genealogy_edges")],
          group_name="models", description=CATALOG["quality_risk"].description, kinds={"delta", "sklearn"},
          owners=["team:plant-data"])
def quality_risk(lake: LakeResource) -> dg.MaterializeResult:
    registry = ModelRegistry(lake.settings().lake_root)
    champion = registry.champion(QUALITY_MODEL)
    delta = lake.lake()
    orders = feature_rows(delta, "work_order_quality_features")
    if champion is None or orders.empty:
        return _write(lake, "quality_risk", pd.DataFrame(), scored=0, reason="no champion model yet")
    model, version = champion
    features = list(model.feature_names_in_)
    completed = set(delta.scan("mes_work_order_events").filter(pl.col("event_type") == "work_order_completed")
                    .select("work_order_id").collect()["work_order_id"].to_list())
    is_open = ~orders["work_order_id"].isin(completed)
    recent = orders["predicted_at"] >= orders["predicted_at"].max() - pd.Timedelta(days=RECENT_DAYS)
    scored = orders[is_open | recent].reset_index(drop=True)
    reference = _reference(orders, orders["predicted_at"])
    risk, reasons = risk_and_top_reasons(model, scored, reference if len(reference) else orders, features=features)
    rows = pd.DataFrame({
        "work_order_id": scored["work_order_id"], "predicted_at": scored["predicted_at"],
        "is_open": ~scored["work_order_id"].isin(completed), "high_scrap_risk": risk,
        "riskiest_supplier_lot": scored["riskiest_supplier_lot"], "top_reasons": reasons,
        "produced_lot_ids": scored["work_order_id"].map(produced_lots(delta, scored["work_order_id"])),
        "model_name": QUALITY_MODEL, "model_version": str(version), "scored_at": datetime.now(timezone.utc)})
    return _write(lake, "quality_risk", rows, scored=len(rows), open_orders=int(rows["is_open"].sum()),
                  model_version=str(version))


def produced_lots(delta, work_orders: pd.Series) -> dict[str, list[str]]:  # noqa: ANN001
    """Per work order, the lots it produced so far, sorted: those the MES reported (`lot_produced` events) and the
    children of its consumption edges in the genealogy (an order whose consumption went unreported has no edge, and
    its lots are still at risk)."""
    wanted = list(work_orders)
    found = []
    if delta.exists("mes_lot_events"):
        found.append(delta.scan("mes_lot_events").filter(
            (pl.col("event_type") == "lot_produced") & pl.col("work_order_id").is_in(wanted)).select(
            "work_order_id", "lot_code"))
    if delta.exists("fct_genealogy_edges"):
        found.append(delta.scan("fct_genealogy_edges").filter(
            (pl.col("edge_type") == "consumption") & pl.col("work_order_id").is_in(wanted)).select(
            "work_order_id", pl.col("child_node_id").alias("lot_code")))
    if not found:
        return {}
    lots = (pl.concat(found).filter(pl.col("lot_code").is_not_null()).group_by("work_order_id")
            .agg(pl.col("lot_code").unique().sort()).collect())
    return dict(zip(lots["work_order_id"].to_list(), lots["lot_code"].to_list()))


def _drift_check(table: str, features_table: str, model_name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=table_key(table), name="feature_drift_psi", blocking=False,
                    description=f"PSI per feature between the training window and the last {RECENT_DAYS} days; "
                                f"warns above {PSI_WARNING}, naming the features.")
    def _check(lake: LakeResource) -> dg.AssetCheckResult:
        champion = ModelRegistry(lake.settings().lake_root).champion(model_name)
        rows = feature_rows(lake.lake(), features_table)
        if champion is None or rows.empty:
            return dg.AssetCheckResult(passed=True, metadata={"note": "no champion model yet"})
        features = [f for f in champion[0].feature_names_in_ if pd.api.types.is_numeric_dtype(rows[f])]
        cut = rows["predicted_at"].max() - pd.Timedelta(days=RECENT_DAYS)
        psi = feature_drift(rows[rows["predicted_at"] < cut], rows[rows["predicted_at"] >= cut], features)
        drifted = psi[psi > PSI_WARNING]
        return dg.AssetCheckResult(
            passed=drifted.empty, severity=dg.AssetCheckSeverity.WARN,
            description=("drifted: " + ", ".join(f"{k} (PSI {v:.2f})" for k, v in drifted.items())) if len(drifted)
            else None,
            metadata={"drifted_features": ", ".join(drifted.index), "max_psi": float(psi.max()) if len(psi) else 0.0,
                      "psi": {k: round(float(v), 4) for k, v in psi.head(10).items()}})

    return _check


SCORING_ASSETS = [machine_risk, quality_risk]
SCORING_CHECKS = [primary_key_check(CATALOG["machine_risk"]), primary_key_check(CATALOG["quality_risk"]),
                  _drift_check("machine_risk", "machine_hour_features", MAINTENANCE_MODEL),
                  _drift_check("quality_risk", "work_order_quality_features", QUALITY_MODEL)]
