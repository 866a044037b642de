"""Where the broker is and how to log in: a URL for host and port (mqtt:// plain, mqtts:// TLS), credentials and
certificates from the environment, never from the command line (so they stay out of shell history and `ps`).

| variable | meaning |
|---|---|
| PLANTLAKE_MQTT_USERNAME / PLANTLAKE_MQTT_PASSWORD | broker login (the password is never logged or shown) |
| PLANTLAKE_MQTT_CA_FILE | CA certificate that signed the broker's certificate (implies TLS) |
| PLANTLAKE_MQTT_CERT_FILE / PLANTLAKE_MQTT_KEY_FILE | client certificate and key, for brokers that require one |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lakehouse.errors import PlantlakeError

TOPIC = re.compile(r"^plant/([^/#+]+|\+)/(mes|wms)/([^/#+]+|\+)$")


class MqttSettingsError(PlantlakeError):
    """The broker URL, a topic or the TLS/credential environment is not usable."""


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def describe(self) -> str:
        """Where and how, without the password."""
        login = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{login}{self.host}:{self.port}"


def broker_settings(url: str, env: Mapping[str, str] | None = None) -> BrokerSettings:
    env = os.environ if env is None else env
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise MqttSettingsError(f"broker URL must look like mqtt://host:port or mqtts://host:port, not {url!r}")
    if parts.password:
        raise MqttSettingsError("put the broker password in PLANTLAKE_MQTT_PASSWORD, not in the URL")
    ca_file = env.get("PLANTLAKE_MQTT_CA_FILE") or None
    cert_file, key_file = env.get("PLANTLAKE_MQTT_CERT_FILE") or None, env.get("PLANTLAKE_MQTT_KEY_FILE") or None
    for name, path in (("PLANTLAKE_MQTT_CA_FILE", ca_file), ("PLANTLAKE_MQTT_CERT_FILE", cert_file),
                       ("PLANTLAKE_MQTT_KEY_FILE", key_file)):
        if path and not os.path.isfile(path):
            raise MqttSettingsError(f"{name} names {path}, which is not a file")
    if bool(cert_file) != bool(key_file):
        raise MqttSettingsError("PLANTLAKE_MQTT_CERT_FILE and PLANTLAKE_MQTT_KEY_FILE go together")
    tls = parts.scheme == "mqtts" or bool(ca_file)
    username = env.get("PLANTLAKE_MQTT_USERNAME") or parts.username or None
    password = env.get("PLANTLAKE_MQTT_PASSWORD") or None
    if password and not username:
        raise MqttSettingsError("PLANTLAKE_MQTT_PASSWORD is set without PLANTLAKE_MQTT_USERNAME")
    return BrokerSettings(parts.hostname, parts.port or (8883 if tls else 1883), tls, username, password, ca_file,
                          cert_file, key_file)


def topics_for(site: str, topics: tuple[str, ...] = ()) -> list[str]:
    """The topics to subscribe: those given (each `plant/<site>/mes|wms/<type>`, `+` allowed for site and type),
    else every MES and WMS topic of the site."""
    chosen = list(topics) or [f"plant/{site}/mes/+", f"plant/{site}/wms/+"]
    for topic in chosen:
        if not TOPIC.match(topic):
            raise MqttSettingsError(f"topic {topic!r} is not plant/<site>/mes/<event_type> or "
                                    "plant/<site>/wms/<transaction_type> (+ allowed for site and type)")
    return chosen
