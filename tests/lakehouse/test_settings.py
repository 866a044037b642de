"""Settings come from the environment when asked for, with overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.settings import Settings, SettingsError


def test_defaults_without_environment() -> None:
    s = Settings.from_env({})
    assert (s.lake_root, s.engine, s.source_dir) == (Path("lake"), "polars", Path("landing"))
    assert s.opcua_endpoint == "opc.tcp://127.0.0.1:4840" and s.delta_spark_jars == ()


def test_environment_and_overrides() -> None:
    env = {"PLANTLAKE_LAKE": "/data/lake", "PLANTLAKE_ENGINE": "spark", "DELTA_SPARK_JARS": "/j/a.jar,/j/b.jar"}
    s = Settings.from_env(env)
    assert (s.lake_root, s.engine, s.delta_spark_jars) == (Path("/data/lake"), "spark", ("/j/a.jar", "/j/b.jar"))
    assert Settings.from_env(env, lake_root=Path("/x"), engine=None).lake_root == Path("/x")


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(SettingsError, match="engine must be one of"):
        Settings.from_env({"PLANTLAKE_ENGINE": "pandas"})
