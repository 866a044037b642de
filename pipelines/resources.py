"""Resources own all IO: the lake and the landing folder. Settings are read when a run asks for them."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import dagster as dg
import narwhals as nw
import pyarrow as pa
import pyarrow.csv as pa_csv
from pydantic import PrivateAttr

from lakehouse.delta_io import DeltaLake
from lakehouse.engines import lazy_frame
from lakehouse.lake_lock import lake_writer
from lakehouse.spark import spark_session
from lakehouse.spark_delta import SparkDeltaLake
from lakehouse.settings import Settings


class LakeResource(dg.ConfigurableResource):
    """The Delta lake; `lake_root` unset means PLANTLAKE_LAKE (default ./lake), read at run time.

    A run that uses it holds the lake's writer lock (`lakehouse.lake_lock`) from start to end, whoever started it
    (the landing sensor, a schedule, the UI, `plantlake run`): a second writer finds the lake busy. Jobs run in
    one process (the definitions' in-process executor), so a run takes the lock once; sensors never take it."""

    lake_root: str | None = None
    engine: str | None = None
    _writer: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        if run is None:  # a sensor or a schedule evaluating: it reads, it does not write
            return
        stack = ExitStack()
        stack.enter_context(lake_writer(self.settings().lake_root, f"dagster run {run.run_id[:8]} ({run.job_name})"))
        self._writer = stack

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def settings(self) -> Settings:
        return Settings.from_env(lake_root=Path(self.lake_root) if self.lake_root else None, engine=self.engine)

    def lake(self) -> DeltaLake:
        """The lake: written by delta-rs, or by delta-spark when the engine is spark (`SparkDeltaLake`)."""
        settings = self.settings()
        if settings.engine == "spark":
            return SparkDeltaLake(settings.lake_root, spark_session(settings, with_delta=True))
        return DeltaLake(settings.lake_root)

    def landing_lake(self) -> DeltaLake:
        """The lake as bronze landing writes it: delta-rs whatever the engine (file-by-file contract checks and
        bookkeeping commits, many small ones, are no Spark work)."""
        return DeltaLake(self.settings().lake_root)

    def spark(self) -> Any:
        """The Spark session (with Delta) when the engine is spark, else None."""
        settings = self.settings()
        return spark_session(settings, with_delta=True) if settings.engine == "spark" else None

    def frame(self, data: pa.Table) -> Any:
        """Arrow data as a Narwhals LazyFrame on the configured engine."""
        return lazy_frame(data, self.settings().engine, spark=self.spark())

    def frames(self, *names: str) -> dict[str, Any]:
        """Lake tables as Narwhals LazyFrames on the configured engine: Polars over delta-rs, or Spark
        DataFrames read by delta-spark (`spark.read.format("delta")`, no Arrow in between)."""
        lake = self.lake()
        if isinstance(lake, SparkDeltaLake):
            return {name: nw.from_native(lake.read_spark(name)) for name in names}
        return {name: self.frame(lake.read_arrow(name)) for name in names}


class LandingResource(dg.ConfigurableResource):
    """The folder source systems deliver into; unset means PLANTLAKE_SOURCE_DIR (default ./landing)."""

    source_dir: str | None = None

    def root(self) -> Path:
        return Path(self.source_dir) if self.source_dir else Settings.from_env().source_dir

    def read_json(self, relative_path: str) -> dict:
        path = self.root() / relative_path
        if not path.is_file():
            raise FileNotFoundError(f"expected source file {relative_path} under {self.root()}")
        return json.loads(path.read_text(encoding="utf-8"))

    def read_csv_as_text(self, relative_path: str) -> pa.Table:
        """Every column as text (empty = null); typing is the table schema's job, so nothing is guessed."""
        path = self.root() / relative_path
        if not path.is_file():
            raise FileNotFoundError(f"expected source file {relative_path} under {self.root()}")
        header = pa_csv.read_csv(path, read_options=pa_csv.ReadOptions(block_size=1 << 16)).column_names
        return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=True))
