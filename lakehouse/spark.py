"""The Spark session factory for the `spark` engine.

`spark_session(with_delta=True)` adds Delta Lake: the `io.delta:delta-spark_<spark major.minor>_2.13` Maven
package of `DELTA_SPARK_MAVEN_VERSION` (the release built for the installed PySpark), which Spark's Ivy resolves
from Maven Central at session start and caches (`~/.ivy2.5.2`, or `PLANTLAKE_SPARK_IVY_DIR`), so later sessions
start offline. This is what delta's `configure_spark_with_delta_pip` does, except that it asks for the jar of the
pip package's own version, and delta-spark 4.4.1 on PyPI has no 4.4.1 jar for Spark 4.2 on Maven Central (4.4.0
is the one built for Spark 4.2.0; the Python side is a thin wrapper over the JVM classes). Offline clusters set
`DELTA_SPARK_JARS` to local jar paths instead (delta-spark_4.2_2.13 and delta-storage of that version).
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from lakehouse.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_EXTENSIONS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # Parquet timestamps as INT64 microseconds, the lake's unit (Spark's default INT96 is legacy)
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # the table state (the log replayed) in a few partitions, not Delta's 50: on local[2] 50 tasks per
    # snapshot made an overwrite take a minute (PLANTLAKE_DELTA_SNAPSHOT_PARTITIONS for a cluster)
    "spark.databricks.delta.snapshotPartitions": os.environ.get("PLANTLAKE_DELTA_SNAPSHOT_PARTITIONS", "2"),
}
LOCAL_DEFAULTS = {
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # the lake is path-based: no metastore tables, so no ./spark-warehouse in the working directory
    "spark.sql.warehouse.dir": os.environ.get("PLANTLAKE_SPARK_WAREHOUSE",
                                              os.path.join(tempfile.gettempdir(), "plantlake-spark-warehouse")),
}
# the delta-spark release on Maven Central built for the pinned PySpark (pyproject: pyspark==4.2.0)
DELTA_SPARK_MAVEN_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
# delta-kernel's transitive dependencies that PySpark already ships in a newer version: resolving them would put
# older Jackson, Parquet, Hadoop and logging jars ahead of Spark's own on the classpath
PROVIDED_BY_SPARK = (
    "com.fasterxml.jackson.core:jackson-core", "com.fasterxml.jackson.core:jackson-databind",
    "com.fasterxml.jackson.core:jackson-annotations", "org.apache.hadoop:hadoop-client-api",
    "org.apache.hadoop:hadoop-client-runtime", "org.apache.parquet:parquet-column",
    "org.apache.parquet:parquet-common", "org.apache.parquet:parquet-encoding",
    "org.apache.parquet:parquet-format-structures", "org.apache.parquet:parquet-hadoop",
    "org.apache.parquet:parquet-jackson", "org.apache.logging.log4j:log4j-api", "org.apache.logging.log4j:log4j-core",
    "org.apache.logging.log4j:log4j-slf4j2-impl", "org.slf4j:slf4j-api", "org.xerial.snappy:snappy-java",
    "com.github.luben:zstd-jni", "io.airlift:aircompressor", "org.roaringbitmap:RoaringBitmap",
    "org.roaringbitmap:shims", "commons-logging:commons-logging", "com.google.code.findbugs:jsr305",
    "org.scala-lang:scala-library")


def delta_maven_package(spark_version: str | None = None) -> str:
    """`io.delta:delta-spark_<spark major.minor>_2.13:<version>`, the package Ivy resolves for a Delta session."""
    import pyspark

    major_minor = ".".join((spark_version or pyspark.__version__).split(".")[:2])
    version = os.environ.get("PLANTLAKE_DELTA_SPARK_VERSION", DELTA_SPARK_MAVEN_VERSION)
    return f"io.delta:delta-spark_{major_minor}_{SCALA_VERSION}:{version}"


def spark_session(settings: Settings | None = None, *, with_delta: bool = False,
                  app_name: str = "plantlake") -> SparkSession:
    """Get or create the session. `with_delta=True` needs DELTA_SPARK_JARS, Maven access or a filled Ivy cache.

    A process has one JVM: a session started without Delta cannot gain it later (the jars are loaded at start),
    so a process that may use both starts the Delta one first."""
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
            builder = (builder.config("spark.jars.packages", delta_maven_package())
                       .config("spark.jars.excludes", ",".join(PROVIDED_BY_SPARK)))
            if os.environ.get("PLANTLAKE_SPARK_IVY_DIR"):
                builder = builder.config("spark.jars.ivy", os.environ["PLANTLAKE_SPARK_IVY_DIR"])
    return builder.getOrCreate()


def _current_python() -> str:
    import sys

    return sys.executable
