"""Broker credentials come from the environment and are never shown: a Mosquitto of the test's own that
requires a password."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ingestion.mqtt.listener import MqttListener
from ingestion.mqtt.settings import MqttSettingsError, broker_settings, topics_for
from lakehouse.delta_io import DeltaLake
from tests.services import missing
from tests.realtime.conftest import MOSQUITTO, Mosquitto, events, publish, publisher, wait_for_rows, wait_published

SECRET = "s3cret-Pa55"


@pytest.fixture
def password_broker(tmp_path: Path):
    if not Path(MOSQUITTO).exists():
        missing(f"{MOSQUITTO} is not installed (Debian package mosquitto; .ci/services installs it)")
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "plant", SECRET], check=True)
    broker = Mosquitto(tmp_path / "broker", extra=f"allow_anonymous false\npassword_file {passwords}")
    broker.start()
    yield broker
    broker.stop()


def test_credentials_from_the_environment_and_never_shown(password_broker: Mosquitto, master_lake: DeltaLake,
                                                          tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    env = {"PLANTLAKE_MQTT_USERNAME": "plant", "PLANTLAKE_MQTT_PASSWORD": "wrong-" + SECRET}
    wrong = MqttListener(broker_settings(password_broker.url, env), topics_for("s1"), master_lake,
                         tmp_path / "spool", client_id="listen-creds")
    caplog.set_level(logging.INFO)
    with pytest.raises(ConnectionError, match="did not accept the connection") as refused:
        wrong.start(connect_timeout_s=3)
    assert SECRET not in str(refused.value) and SECRET not in caplog.text
    assert SECRET not in repr(broker_settings(password_broker.url, env))

    settings = broker_settings(password_broker.url, {"PLANTLAKE_MQTT_USERNAME": "plant",
                                                     "PLANTLAKE_MQTT_PASSWORD": SECRET})
    assert settings.describe() == f"mqtt://plant@127.0.0.1:{password_broker.port}"
    listener = MqttListener(settings, topics_for("s1"), master_lake, tmp_path / "spool", client_id="listen-creds",
                            batch_interval_s=0.3)
    listener.start()
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    with publisher(password_broker.url, client_id="pub-creds", username="plant", password=SECRET) as client:
        wait_published(publish(client, events(50)))
    assert len(wait_for_rows(master_lake, 50)) == 50
    time.sleep(0.5)
    stop.set()
    thread.join(10)
    listener.stop()
    assert SECRET not in caplog.text


def test_settings_refuse_a_password_in_the_url_and_half_certificates(tmp_path: Path) -> None:
    with pytest.raises(MqttSettingsError, match="PLANTLAKE_MQTT_PASSWORD"):
        broker_settings("mqtt://plant:secret@127.0.0.1:1883", {})
    with pytest.raises(MqttSettingsError, match="not a file"):
        broker_settings("mqtts://127.0.0.1", {"PLANTLAKE_MQTT_CA_FILE": str(tmp_path / "missing.pem")})
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(MqttSettingsError, match="go together"):
        broker_settings("mqtts://127.0.0.1", {"PLANTLAKE_MQTT_CERT_FILE": str(cert)})
    tls = broker_settings("mqtt://127.0.0.1", {"PLANTLAKE_MQTT_CA_FILE": str(cert)})
    assert tls.tls and tls.port == 8883 and broker_settings("mqtt://h", {}).port == 1883
    with pytest.raises(MqttSettingsError, match="is not plant/<site>/mes"):
        topics_for("s1", ("factory/s1/mes/x",))
