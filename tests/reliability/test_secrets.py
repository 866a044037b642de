"""OPC UA secrets: user info in an endpoint and an inline password are refused without echoing them, a password
file must be owner-only, a password over security policy None needs explicit consent, a config's repr never
shows the password, the password reaches no log line (asyncua's debug output included) and no lake table, and
the simulator's server takes its password from the environment, never from argv."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingestion.opcua import Collector, CollectorReport
from ingestion.opcua.cli import build_config
from ingestion.opcua.config import CollectorConfig, NodeSpec
from ingestion.opcua.demo_server import DemoServer
from ingestion.opcua.errors import ConfigError
from ingestion.opcua.redact import REDACTED, PasswordRedactor, redacting
from lakehouse.delta_io import DeltaLake
from simulator.cli import simulate_command
from simulator.opcua_server import PASSWORD_ENV as SIM_PASSWORD_ENV
from simulator.opcua_server import users_from_env

PASSWORD = "Pa55-w0rd-never-shown"
PASSWORD_ENV = "PLANTLAKE_TEST_OPCUA_PASSWORD"
NODE = {"machine_id": "L1-M1", "tag": "speed", "node_id": "ns=2;s=L1-M1.speed"}
ENV_LOGIN = {"username": "collector", "password_env": PASSWORD_ENV}


def test_an_endpoint_with_user_info_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as refused:
        CollectorConfig.from_dict({"endpoint": f"opc.tcp://collector:{PASSWORD}@127.0.0.1:4840", "nodes": [NODE]})
    assert "user info in the URL" in str(refused.value) and PASSWORD not in str(refused.value)


def test_a_password_file_must_be_owner_only(tmp_path: Path) -> None:
    secret = tmp_path / "opcua.secret"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o644)
    config = {"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE],
              "auth": {"username": "collector", "password_file": "opcua.secret",
                       "allow_password_without_encryption": True}}
    with pytest.raises(ConfigError, match="readable or writable by others"):
        CollectorConfig.from_dict(config, base_dir=tmp_path)
    secret.chmod(0o600)
    loaded = CollectorConfig.from_dict(config, base_dir=tmp_path)
    assert loaded.password == PASSWORD
    assert PASSWORD not in repr(loaded) and PASSWORD not in str(loaded)


def test_an_inline_password_is_refused_without_echoing_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a dict, from a TOML file, and from the CLI even when --password-env names another source."""
    monkeypatch.setenv(PASSWORD_ENV, "from-the-environment")
    toml = tmp_path / "opcua.toml"
    toml.write_text(f'endpoint = "opc.tcp://127.0.0.1:4840"\n[auth]\nusername = "collector"\npassword = "{PASSWORD}"\n'
                    '[[nodes]]\nnode_id = "ns=2;s=L1-M1.speed"\nmachine_id = "L1-M1"\ntag = "speed"\n')
    attempts = [lambda: CollectorConfig.from_dict({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE],
                                                   "auth": {"username": "collector", "password": PASSWORD}}),
                lambda: CollectorConfig.from_toml(toml),
                lambda: build_config(toml, {}, None, 3, (), {}, ENV_LOGIN)]
    for attempt in attempts:
        with pytest.raises(ConfigError) as refused:
            attempt()
        message = str(refused.value)
        assert message.startswith("auth.password: an inline password is refused")
        assert "auth.password_env" in message and "auth.password_file" in message and PASSWORD not in message


def test_a_password_over_policy_none_needs_explicit_consent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    plain = {"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "auth": ENV_LOGIN}
    with pytest.raises(ConfigError, match=r"^auth: a password login over security\.policy None is refused") as refused:
        CollectorConfig.from_dict(plain)
    assert "allow_password_without_encryption = true" in str(refused.value) and PASSWORD not in str(refused.value)
    with pytest.raises(ConfigError, match="in clear text"):  # the Python API is held to the same rule
        CollectorConfig(endpoint="opc.tcp://127.0.0.1:4840", nodes=(NodeSpec(**NODE),), username="u", password=PASSWORD)
    with pytest.raises(ConfigError, match=r"^auth\.allow_password_without_encryption: expected true or false"):
        CollectorConfig.from_dict({**plain, "auth": {**ENV_LOGIN, "allow_password_without_encryption": "yes"}})

    consented = CollectorConfig.from_dict({**plain, "auth": {**ENV_LOGIN, "allow_password_without_encryption": True}})
    assert consented.password == PASSWORD and consented.sends_password_in_clear
    for name in ("collector_cert.der", "collector_key.pem"):
        (tmp_path / name).write_bytes(b"not read by the config")
    encrypted = CollectorConfig.from_dict({**plain, "security": {
        "policy": "Basic256Sha256", "client_certificate": "collector_cert.der", "private_key": "collector_key.pem"}},
        base_dir=tmp_path)
    assert encrypted.password == PASSWORD and not encrypted.sends_password_in_clear
    anonymous = CollectorConfig.from_dict({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE]})
    assert not anonymous.sends_password_in_clear


def test_the_redactor_hides_the_password_from_asyncua_loggers(caplog: pytest.LogCaptureFixture) -> None:
    """Records logged on asyncua's own loggers, with the password in arguments (as bytes, like asyncua's request
    dumps), in the message, in a traceback; also for a handler attached to an asyncua logger, not the root."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="asyncua")
    ua_client = logging.getLogger("asyncua.client.ua_client.UaClient")
    own_handler = _ListHandler()
    logging.getLogger("asyncua").addHandler(own_handler)
    try:
        with redacting(PASSWORD):
            ua_client.debug("Sending: %s", {"UserName": "collector", "Password": PASSWORD.encode()})
            logging.getLogger("asyncua.client.client").warning(f"login as collector with {PASSWORD!r}")
            try:
                raise RuntimeError(f"token {PASSWORD} rejected")
            except RuntimeError:
                ua_client.exception("activate_session failed")
    finally:
        logging.getLogger("asyncua").removeHandler(own_handler)
    assert len(caplog.records) == 3 and len(own_handler.lines) == 3
    assert PASSWORD not in caplog.text and not any(PASSWORD in line for line in own_handler.lines)
    assert all(REDACTED in line for line in own_handler.lines)
    assert "token *** rejected" in caplog.text  # the traceback is kept, redacted
    guarded = [*logging.getLogger().handlers, logging.getLogger("asyncua"), ua_client]
    assert not any(isinstance(f, PasswordRedactor) for g in guarded for f in g.filters)  # removed on exit


def test_a_password_login_leaks_into_no_log_line_and_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """A real login to the demo server over policy None (consented), every logger at DEBUG: asyncua dumps the
    ActivateSession request with the password bytes in it, and the collector's redactor must have rewritten it."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="asyncua")  # another test may have quieted it (the collect CLI does)
    lake = DeltaLake(tmp_path / "lake")
    report = asyncio.run(_collect_with_login(lake, _free_port()))

    assert report.targets == 2 and report.written >= 1  # logged in and landed rows
    assert PASSWORD not in caplog.text and not any(PASSWORD in r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("asyncua") and "ActivateSession" in r.getMessage() and REDACTED in r.getMessage()
               for r in caplog.records)  # the request that carried the password was logged, redacted
    warnings = [r for r in caplog.records if r.name == "ingestion.opcua.collector" and "clear text" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    files = [p for p in lake.root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".json" for p in files)
    assert not [p for p in files if PASSWORD.encode() in p.read_bytes()]
    assert not [p for p in files if p.suffix == ".parquet" and PASSWORD in str(pq.read_table(p).to_pylist())]


def test_the_simulator_server_takes_its_password_from_the_environment_only() -> None:
    assert users_from_env("operator", {SIM_PASSWORD_ENV: PASSWORD}) == {"operator": PASSWORD}
    assert users_from_env(None, {}) is None
    for username, env in (("operator", {}), (None, {SIM_PASSWORD_ENV: PASSWORD})):
        with pytest.raises(ValueError, match=SIM_PASSWORD_ENV) as refused:
            users_from_env(username, env)
        assert PASSWORD not in str(refused.value)

    runner = CliRunner()
    help_text = runner.invoke(simulate_command, ["opcua-server", "--help"]).output
    assert "--password" not in help_text and SIM_PASSWORD_ENV in help_text.replace("\n", "").replace(" ", "")
    on_argv = runner.invoke(simulate_command, ["opcua-server", "--username", "operator", "--password", PASSWORD])
    assert on_argv.exit_code == 2 and "No such option '--password'" in on_argv.output
    missing = runner.invoke(simulate_command, ["opcua-server", "--username", "operator"], env={SIM_PASSWORD_ENV: None})
    assert missing.exit_code == 2 and f"needs its password in the environment variable {SIM_PASSWORD_ENV}" in \
        missing.output.replace("\n", " ")


async def _collect_with_login(lake: DeltaLake, port: int) -> CollectorReport:
    async with DemoServer(port, users={"collector": PASSWORD}) as server:
        config = CollectorConfig.from_dict({
            "endpoint": server.endpoint, "collector_id": "secrets", "sampling_interval_ms": 50, "flush_interval_s": 0.5,
            "connect_timeout_s": 3, "request_timeout_s": 2,
            "nodes": [{"node_id": f"ns=2;s={m}.temperature_c", "machine_id": m, "tag": "temperature_c"}
                      for m in ("M1", "M2")],
            "auth": {**ENV_LOGIN, "allow_password_without_encryption": True}})
        run = asyncio.create_task(Collector(config, lake).run(duration_s=2.0))
        await asyncio.sleep(1.0)
        await server.write("M1", "temperature_c", 42.0)
        return await run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
