"""Lake tables as Spark DataFrames: through delta-spark when its jars are configured (`DELTA_SPARK_JARS`, or a
session that already has the Delta extension, as on a cluster), otherwise built from the Arrow data delta-rs
reads, with a warning that says so."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakehouse.delta_io import DeltaLake
from lakehouse.settings import Settings
from plantlake.errors import PlantlakeWarning
from plantlake.filters import Filter, arrow_filters

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("plantlake")
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"


def read_spark(lake: DeltaLake, name: str, *, version: int | datetime | None, columns: list[str] | None,
               filters: Sequence[Filter] | None) -> DataFrame:
    from pyspark.sql import functions as F

    from lakehouse.spark import spark_session

    settings = Settings.from_env()
    session = _active_delta_session()
    if session is None and settings.delta_spark_jars:
        session = spark_session(settings, with_delta=True)
    if session is not None:
        reader = session.read.format("delta")
        if isinstance(version, int):
            reader = reader.option("versionAsOf", version)
        elif version is not None:
            reader = reader.option("timestampAsOf", version.isoformat())
        frame = reader.load(lake.uri(name))
        for column, op, value in arrow_filters(filters) or []:
            frame = frame.filter(_spark_condition(F.col(column), op, value))
        log.info("plantlake: %s read through delta-spark", name)
        frame = frame.select(*columns) if columns else frame
        frame.plantlake_source = "delta-spark"  # type: ignore[attr-defined]
        return frame
    warnings.warn(f"{name}: delta-spark is not configured (set DELTA_SPARK_JARS or start a session with the Delta "
                  "extension), so the Spark DataFrame was built from the Arrow data delta-rs read",
                  PlantlakeWarning, stacklevel=3)
    from lakehouse.engines import _spark_safe

    table = lake.read_arrow(name, version=version, columns=columns, filters=arrow_filters(filters))
    frame = spark_session(settings).createDataFrame(_spark_safe(table))
    frame.plantlake_source = "arrow"  # type: ignore[attr-defined]
    return frame


def _active_delta_session() -> SparkSession | None:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        return None
    extensions = session.conf.get("spark.sql.extensions", "") or ""
    return session if DELTA_EXTENSION in extensions else None


def _spark_condition(column: Any, op: str, value: Any) -> Any:
    return {"=": lambda: column == value, "!=": lambda: column != value, "<": lambda: column < value,
            "<=": lambda: column <= value, ">": lambda: column > value, ">=": lambda: column >= value,
            "in": lambda: column.isin(value), "not in": lambda: ~column.isin(value)}[op]()
