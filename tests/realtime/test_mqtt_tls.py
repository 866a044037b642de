"""TLS to the broker, configured from the environment: a Mosquitto of the test's own with a TLS listener (a CA and a
server certificate made at test time, in tmp_path, never committed) and a password. Events land once in bronze
through `mqtts://` with PLANTLAKE_MQTT_CA_FILE; without the CA, or with the wrong one, the listener stops at once
with one clear error instead of hanging or retrying."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ingestion.mqtt.listener import MqttListener
from ingestion.mqtt.settings import broker_settings, topics_for
from lakehouse.delta_io import DeltaLake
from tests.services import missing
from tests.realtime.conftest import (
    MOSQUITTO,
    Mosquitto,
    bronze_event_ids,
    events,
    publish,
    publisher,
    wait_for_rows,
    wait_published,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tls-s3cret-Pa55"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def make_ca(folder: Path, common_name: str) -> tuple[Path, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A throwaway self-signed CA, valid for a day: its certificate in folder/<name>.pem, its key only in memory."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    path = folder / f"{common_name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, cert, key


def make_server_cert(folder: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 and localhost signed by the CA: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_file)
    return cert_file, key_file


@dataclass
class TlsBroker:
    broker: Mosquitto
    ca_file: Path  # the CA that signed the broker's certificate
    wrong_ca_file: Path  # a CA that did not

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.broker.port}"


def _missing(what: str) -> None:
    missing(f"{what} is not installed (Debian package mosquitto; .ci/services installs it)")


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[TlsBroker]:
    for program in (MOSQUITTO, MOSQUITTO_PASSWD):
        if not Path(program).exists():
            _missing(program)
    pki = tmp_path / "pki"
    pki.mkdir()
    ca_file, ca_cert, ca_key = make_ca(pki, "plantlake-test-ca")
    wrong_ca_file, _, _ = make_ca(pki, "some-other-ca")
    cert_file, key_file = make_server_cert(pki, ca_cert, ca_key)
    passwords = tmp_path / "passwords"
    subprocess.run([MOSQUITTO_PASSWD, "-b", "-c", str(passwords), "plant", SECRET], check=True)
    broker = Mosquitto(tmp_path / "broker", extra=f"allow_anonymous false\npassword_file {passwords}")
    # the TLS options belong to the listener, so they follow its `listener` line (the last line Mosquitto wrote)
    with broker.config.open("a") as config:
        config.write(f"cafile {ca_file}\ncertfile {cert_file}\nkeyfile {key_file}\nrequire_certificate false\n")
    broker.start()
    yield TlsBroker(broker, ca_file, wrong_ca_file)
    broker.stop()


LOGIN = {"PLANTLAKE_MQTT_USERNAME": "plant", "PLANTLAKE_MQTT_PASSWORD": SECRET}


def test_events_land_once_over_tls_configured_from_the_environment(tls_broker: TlsBroker, master_lake: DeltaLake,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    for variable, value in {**LOGIN, "PLANTLAKE_MQTT_CA_FILE": str(tls_broker.ca_file)}.items():
        monkeypatch.setenv(variable, value)
    settings = broker_settings(tls_broker.url)  # from os.environ, as `plantlake listen` reads it
    assert settings.tls and settings.ca_file == str(tls_broker.ca_file) and settings.port == tls_broker.broker.port
    assert settings.describe() == f"mqtts://plant@127.0.0.1:{tls_broker.broker.port}"
    caplog.set_level(logging.INFO)
    listener = MqttListener(settings, topics_for("s1"), master_lake, tmp_path / "spool", client_id="listen-tls",
                            batch_size=500, batch_interval_s=0.3)
    listener.start()
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    records = events(200, prefix="T")
    with publisher(tls_broker.url, client_id="pub-tls", username="plant",
                   password=SECRET, ca_file=str(tls_broker.ca_file)) as client:
        wait_published(publish(client, records + records[:20]))  # 20 sent twice
    wait_for_rows(master_lake, 200, timeout_s=30)
    deadline = time.monotonic() + 10  # the 20 sent again land (as duplicates) after the first copies
    while listener.stats.received < 220 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(10)
    listener.stop()
    ids = bronze_event_ids(master_lake)
    assert len(ids) == 200 and set(ids) == {r["event_id"] for r in records}
    log = master_lake.scan("ingest_log").filter(pl.col("source") == "messages_mes").collect()
    assert log["rows_read"].sum() == 220
    assert log["rows_landed"].sum() == 200 and log["rows_duplicate"].sum() == 20
    assert log["rows_quarantined"].sum() == 0
    assert listener.stats.received == 220 and listener.stats.reconnects == 0
    assert SECRET not in caplog.text


@pytest.mark.parametrize("ca", ["none", "wrong"])
def test_a_broker_certificate_that_does_not_verify_is_one_clear_error(ca: str, tls_broker: TlsBroker,
                                                                      master_lake: DeltaLake, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    for variable, value in LOGIN.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("PLANTLAKE_MQTT_CA_FILE", raising=False)
    if ca == "wrong":
        monkeypatch.setenv("PLANTLAKE_MQTT_CA_FILE", str(tls_broker.wrong_ca_file))
    settings = broker_settings(tls_broker.url)
    assert settings.tls
    caplog.set_level(logging.INFO)
    listener = MqttListener(settings, topics_for("s1"), master_lake, tmp_path / "spool", client_id=f"listen-{ca}")
    with pytest.raises(ConnectionError) as failed:  # the verification error, not the 20 s connect timeout's
        listener.start(connect_timeout_s=20)
    trusted = str(tls_broker.wrong_ca_file) if ca == "wrong" else "the system's CA certificates"
    assert str(failed.value).startswith(f"the broker at mqtts://plant@127.0.0.1:{tls_broker.broker.port} presented "
                                        f"a TLS certificate that does not verify against {trusted}")
    assert "certificate" in str(failed.value).split(": ", 1)[1]  # OpenSSL's reason follows
    assert str(failed.value).endswith("set PLANTLAKE_MQTT_CA_FILE to the CA that signed it")
    assert not listener.client.is_connected() and not bronze_event_ids(master_lake)
    assert SECRET not in str(failed.value) and SECRET not in caplog.text


def test_plantlake_listen_with_the_wrong_ca_exits_with_the_error(tls_broker: TlsBroker, master_lake: DeltaLake,
                                                                 tmp_path: Path) -> None:
    """The command, configured only through the environment: an error line and exit status 1, within seconds."""
    command = [str(ROOT / ".venv/bin/plantlake") if (ROOT / ".venv/bin/plantlake").exists() else "plantlake",
               "--lake", str(master_lake.root), "listen", "--site", "s1", "--client-id", "listen-wrong-ca",
               "--spool", str(tmp_path / "spool")]
    env = {**os.environ, **LOGIN, "PLANTLAKE_MQTT_URL": tls_broker.url,
           "PLANTLAKE_MQTT_CA_FILE": str(tls_broker.wrong_ca_file)}
    # a hang fails here (TimeoutExpired); the exit status is asserted below
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and "listening on" not in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"Error: the broker at mqtts://plant@127.0.0.1:{tls_broker.broker.port} presented a TLS certificate that "
        f"does not verify against {tls_broker.wrong_ca_file}")
    assert SECRET not in done.stdout + done.stderr
