"""OPC UA secrets: user info in an endpoint is refused without echoing it, a password file must be owner-only,
and a config's repr never shows the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.opcua.config import CollectorConfig
from ingestion.opcua.errors import ConfigError

PASSWORD = "Pa55-w0rd-never-shown"
NODE = {"machine_id": "L1-M1", "tag": "speed", "node_id": "ns=2;s=L1-M1.speed"}


def test_an_endpoint_with_user_info_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as refused:
        CollectorConfig.from_dict({"endpoint": f"opc.tcp://collector:{PASSWORD}@127.0.0.1:4840", "nodes": [NODE]})
    assert "user info in the URL" in str(refused.value) and PASSWORD not in str(refused.value)


def test_a_password_file_must_be_owner_only(tmp_path: Path) -> None:
    secret = tmp_path / "opcua.secret"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o644)
    config = {"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE],
              "auth": {"username": "collector", "password_file": "opcua.secret"}}
    with pytest.raises(ConfigError, match="readable or writable by others"):
        CollectorConfig.from_dict(config, base_dir=tmp_path)
    secret.chmod(0o600)
    loaded = CollectorConfig.from_dict(config, base_dir=tmp_path)
    assert loaded.password == PASSWORD
    assert PASSWORD not in repr(loaded) and PASSWORD not in str(loaded)
