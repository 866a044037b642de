"""Sensor anomalies (gold): the per-tag robust detector (ml/anomalies.py) over bronze.machine_signals."""

import dagster as dg
import polars as pl

from lakehouse.catalog import CATALOG
from ml.anomalies import ANALOG_TAGS, KINDS, DetectorSettings, detect_anomalies
from pipelines.checks import primary_key_check, table_key
from pipelines.resources import LakeResource

KEY = table_key("signal_anomalies")
SETTINGS = DetectorSettings()


@dg.asset(key=KEY, deps=[table_key("machine_signals")], group_name="ml",
          description=CATALOG["signal_anomalies"].description, kinds={"delta", "polars"}, owners=["team:plant-data"])
def signal_anomalies(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    tags = [*SETTINGS.tags, *([SETTINGS.state_tag] if SETTINGS.state_tag else [])]
    signals = delta.scan("machine_signals").filter(pl.col("tag").is_in(tags))
    events = detect_anomalies(signals, SETTINGS)
    result = delta.overwrite("signal_anomalies", events)
    per_kind = dict(events.group_by("kind").len().iter_rows())
    return dg.MaterializeResult(metadata={**result.as_metadata(),
                                          **{f"{kind}_events": int(per_kind.get(kind, 0)) for kind in KINDS},
                                          "tags": ", ".join(SETTINGS.tags)})


@dg.asset_check(asset=KEY, blocking=True,
                description="every event is a known kind on a watched tag, ends no earlier than it starts, spans at "
                            "least one sample and has a positive score")
def anomaly_events_well_formed(lake: LakeResource) -> dg.AssetCheckResult:
    events = lake.lake().scan("signal_anomalies")
    bad = events.filter(~pl.col("kind").is_in(list(KINDS)) | ~pl.col("tag").is_in(list(ANALOG_TAGS))
                        | (pl.col("ended_at") < pl.col("started_at")) | (pl.col("samples") < 1)
                        | ~(pl.col("score") > 0)).select(pl.len()).collect().item()
    return dg.AssetCheckResult(passed=bad == 0, metadata={"malformed_events": bad})


ANOMALY_ASSETS = [signal_anomalies]
ANOMALY_CHECKS = [anomaly_events_well_formed, primary_key_check(CATALOG["signal_anomalies"])]
