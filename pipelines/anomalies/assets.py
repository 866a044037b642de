"""Sensor anomalies (gold): the per-tag robust detector (ml/anomalies.py) over bronze.machine_signals.

The detector judges each machine's tags on their own, so it runs in buckets of whole machines
(`lakehouse.buckets`: the watched tags' samples are split by machine into Arrow files on disk, then one bucket at
a time is judged), and memory holds one bucket's samples however many machines and days the lake has."""

import dagster as dg
import narwhals as nw
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.buckets import scan_in_buckets
from lakehouse.catalog import CATALOG
from ml.anomalies import ANALOG_TAGS, KINDS, DetectorSettings, detect_anomalies
from pipelines.checks import primary_key_check, table_key
from pipelines.resources import LakeResource

KEY = table_key("signal_anomalies")
SETTINGS = DetectorSettings()
SAMPLES_PER_BUCKET = 4_000_000
SIGNAL_COLUMNS = ["machine_id", "tag", "source_at", "value", "status_code"]


@dg.asset(key=KEY, deps=[table_key("machine_signals")], group_name="ml",
          description=CATALOG["signal_anomalies"].description, kinds={"delta", "polars"}, owners=["team:plant-data"])
def signal_anomalies(lake: LakeResource) -> dg.MaterializeResult:
    delta = lake.lake()
    tags = [*SETTINGS.tags, *([SETTINGS.state_tag] if SETTINGS.state_tag else [])]
    dataset = delta.table("machine_signals").to_pyarrow_dataset()
    watched = pc.field("tag").isin(pa.array(tags, pa.string()))
    samples = dataset.scanner(columns=SIGNAL_COLUMNS, filter=watched, batch_size=250_000)
    buckets, tables = scan_in_buckets(samples, _detect, group_by=["machine_id"], rows_per_bucket=SAMPLES_PER_BUCKET)
    found = [pl.from_arrow(table) for table in tables]
    events = pl.concat(found) if found else detect_anomalies(pl.DataFrame(schema=_EMPTY_SIGNALS), SETTINGS)
    events = events.sort("machine_id", "tag", "started_at", "kind")
    result = delta.overwrite("signal_anomalies", events)
    per_kind = dict(events.group_by("kind").len().iter_rows())
    return dg.MaterializeResult(metadata={**result.as_metadata(),
                                          **{f"{kind}_events": int(per_kind.get(kind, 0)) for kind in KINDS},
                                          "tags": ", ".join(SETTINGS.tags), "buckets": buckets})


_EMPTY_SIGNALS = {"machine_id": pl.String, "tag": pl.String, "source_at": pl.Datetime("us", "UTC"),
                  "value": pl.Float64, "status_code": pl.Int64}


def _detect(samples: nw.LazyFrame) -> nw.LazyFrame:
    """The detector on one bucket of machines (it is Polars only: the bucket arrives as a Polars frame)."""
    return nw.from_native(detect_anomalies(nw.to_native(samples), SETTINGS).lazy())


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
