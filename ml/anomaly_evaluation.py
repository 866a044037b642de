"""Event-level recall and precision of detected signal anomalies against known windows (the simulator's
`truth/signal_anomalies.parquet`), per kind.

A known window is found when a detected event of the same kind, machine and tag overlaps it (both taken as
closed intervals, the detected one widened by `slack` on each side); a detected event is right when it overlaps
a known window of the same kind, machine and tag. Recall = found windows / known windows, precision = right
events / detected events. `min_size_in_noise_sd` leaves out spikes and drifts smaller than the documented size
from the known windows (and the events that match only those from the detected ones).

The simulator's windows: `simulator/signal_anomalies.py`; the command: `plantlake anomalies evaluate`."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ml.anomalies import KINDS

KEYS = ["machine_id", "tag", "kind"]


def _overlaps(known: pl.DataFrame, detected: pl.DataFrame, slack: timedelta) -> pl.DataFrame:
    pairs = known.join(detected, on=KEYS, suffix="_detected")
    return pairs.filter((pl.col("started_at") <= pl.col("ended_at_detected") + slack)
                        & (pl.col("started_at_detected") - slack <= pl.col("ended_at")))


def event_scores(detected: pl.DataFrame, known: pl.DataFrame, *, slack: timedelta = timedelta(minutes=2),
                 min_size_in_noise_sd: dict[str, float] | None = None) -> pl.DataFrame:
    """One row per kind: known, found, recall, detected, right, precision; `min_size_in_noise_sd` per kind
    (e.g. {"spike": 8, "drift": 30}) leaves the smaller known windows out."""
    known = known.with_row_index("known_id")
    detected = detected.with_row_index("event_id")
    pairs = _overlaps(known, detected, slack)
    if min_size_in_noise_sd:
        floor = pl.col("kind").replace_strict(min_size_in_noise_sd, default=None, return_dtype=pl.Float64)
        small = (floor.is_not_null() & pl.col("size_in_noise_sd").is_not_null()
                 & (pl.col("size_in_noise_sd") < floor))
        small_ids = known.filter(small)["known_id"]
        matched_small_only = (pairs.group_by("event_id").agg(pl.col("known_id").is_in(small_ids.implode()).all())
                              .filter(pl.col("known_id"))["event_id"])
        known = known.filter(~small)
        detected = detected.filter(~pl.col("event_id").is_in(matched_small_only.implode()))
        pairs = pairs.filter(pl.col("known_id").is_in(known["known_id"].implode())
                             & pl.col("event_id").is_in(detected["event_id"].implode()))
    rows = []
    for kind in KINDS:
        known_n = known.filter(pl.col("kind") == kind).height
        detected_n = detected.filter(pl.col("kind") == kind).height
        kind_pairs = pairs.filter(pl.col("kind") == kind)
        found, right = kind_pairs["known_id"].n_unique(), kind_pairs["event_id"].n_unique()
        rows.append({"kind": kind, "known": known_n, "found": found,
                     "recall": found / known_n if known_n else None, "detected": detected_n, "right": right,
                     "precision": right / detected_n if detected_n else None})
    return pl.DataFrame(rows, schema={"kind": pl.String, "known": pl.Int64, "found": pl.Int64,
                                      "recall": pl.Float64, "detected": pl.Int64, "right": pl.Int64,
                                      "precision": pl.Float64})


def recall_by_size(detected: pl.DataFrame, known: pl.DataFrame, kind: str, edges: list[float], *,
                   slack: timedelta = timedelta(minutes=2)) -> pl.DataFrame:
    """Recall of one kind's known windows per size band (size_in_noise_sd between consecutive edges)."""
    known = known.filter(pl.col("kind") == kind).with_row_index("known_id")
    found = _overlaps(known, detected.with_row_index("event_id"), slack)["known_id"].unique()
    bounds = [-float("inf"), *edges, float("inf")]
    labels = [f"[{low:g}, {high:g})" for low, high in zip(bounds[:-1], bounds[1:])]
    band_index = pl.lit(0, pl.Int64)
    for edge in edges:
        band_index = band_index + (pl.col("size_in_noise_sd") >= edge).cast(pl.Int64)
    banded = known.with_columns(band_index=band_index, is_found=pl.col("known_id").is_in(found.implode()))
    return (banded.group_by("band_index").agg(known=pl.len(), found=pl.col("is_found").sum())
            .sort("band_index")
            .select(band=pl.col("band_index").map_elements(labels.__getitem__, return_dtype=pl.String),
                    known="known", found="found", recall=pl.col("found") / pl.col("known")))
