"""The Spark session factory for the `spark` engine.

On a cluster (spark-submit, Databricks) Delta support comes from delta-spark: `configure_spark_with_delta_pip`
adds the `io.delta:delta-spark` Maven package, resolved at session start. Machines without Maven access set
`DELTA_SPARK_JARS` to local jar paths instead (delta-spark and delta-storage jars of the installed
delta-spark version). Without either, `spark_session(with_delta=False)` gives a plain session: transforms
run on Spark DataFrames built from the lake's Arrow data, which is how the tests run here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lakehouse.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_EXTENSIONS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


def spark_session(settings: Settings | None = None, *, with_delta: bool = False,
                  app_name: str = "plantlake") -> SparkSession:
    """Get or create the session. `with_delta=True` needs DELTA_SPARK_JARS or Maven access."""
    from pyspark.sql import SparkSession

    settings = settings or Settings.from_env()
    os.environ.setdefault("PYSPARK_PYTHON", _current_python())
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(settings.spark_master).appName(app_name)
    for key, value in LOCAL_DEFAULTS.items():
        builder = builder.config(key, value)
    builder = builder.config("spark.driver.memory", os.environ.get("PLANTLAKE_SPARK_DRIVER_MEMORY", "2g"))
    if with_delta:
        for key, value in DELTA_EXTENSIONS.items():
            builder = builder.config(key, value)
        if settings.delta_spark_jars:
            builder = builder.config("spark.jars", ",".join(settings.delta_spark_jars))
        else:
            from delta import configure_spark_with_delta_pip

            builder = configure_spark_with_delta_pip(builder)
    return builder.getOrCreate()


def _current_python() -> str:
    import sys

    return sys.executable
