"""Run-time settings, read from the environment when asked for (never at import).

| variable                  | meaning                                            | default                  |
|---------------------------|----------------------------------------------------|--------------------------|
| PLANTLAKE_LAKE            | root folder of the Delta lake                      | ./lake                   |
| PLANTLAKE_ENGINE          | transform engine: polars or spark                  | polars                   |
| PLANTLAKE_SOURCE_DIR      | landing folder where source systems drop files     | ./landing                |
| PLANTLAKE_OPCUA_ENDPOINT  | OPC UA server the collector reads                  | opc.tcp://127.0.0.1:4840 |
| PLANTLAKE_SPARK_MASTER    | Spark master URL for the spark engine              | local[2]                 |
| DELTA_SPARK_JARS          | comma-separated local delta-spark jar paths (offline clusters) | unset        |
| PLANTLAKE_SPARK_DRIVER_MEMORY | driver memory of the local Spark session       | 2g                       |
| PLANTLAKE_LOSS_MAPPING    | TOML file mapping states and reasons to OEE losses | transforms/loss_mapping.toml |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

Engine = Literal["polars", "spark"]
ENGINES: tuple[str, ...] = get_args(Engine)


class SettingsError(ValueError):
    """A setting has a value the project cannot use."""


@dataclass(frozen=True)
class Settings:
    lake_root: Path
    engine: Engine = "polars"
    source_dir: Path = Path("landing")
    opcua_endpoint: str = "opc.tcp://127.0.0.1:4840"
    spark_master: str = "local[2]"
    delta_spark_jars: tuple[str, ...] = ()
    loss_mapping_path: Path | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise SettingsError(f"engine must be one of {ENGINES}, got {self.engine!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        jars = tuple(j for j in env.get("DELTA_SPARK_JARS", "").split(",") if j.strip())
        settings = cls(
            lake_root=Path(env.get("PLANTLAKE_LAKE", "lake")),
            engine=env.get("PLANTLAKE_ENGINE", "polars"),  # type: ignore[arg-type]
            source_dir=Path(env.get("PLANTLAKE_SOURCE_DIR", "landing")),
            opcua_endpoint=env.get("PLANTLAKE_OPCUA_ENDPOINT", "opc.tcp://127.0.0.1:4840"),
            spark_master=env.get("PLANTLAKE_SPARK_MASTER", "local[2]"),
            delta_spark_jars=jars,
            loss_mapping_path=Path(env["PLANTLAKE_LOSS_MAPPING"]) if env.get("PLANTLAKE_LOSS_MAPPING") else None,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given) if given else settings
