"""OPC UA collector configuration: a frozen dataclass tree read from TOML, with errors naming the bad key.

Example (relative file paths are resolved against the TOML file's folder):

    collector_id = "line1"
    endpoint = "opc.tcp://127.0.0.1:4840"
    sampling_interval_ms = 250
    flush_interval_s = 2.0
    compact_every_s = 600           # compact the partitions written since the last time; 0 = never

    [reconnect]                     # exponential backoff between connection attempts
    initial_s = 0.5
    max_s = 5.0                     # the cap: a server back online is reconnected within about this long
    factor = 2.0

    [security]                      # omit for policy None
    policy = "Basic256Sha256"
    mode = "SignAndEncrypt"
    client_certificate = "pki/client_cert.der"
    private_key = "pki/client_key.pem"
    server_certificate = "pki/server_cert.der"

    [auth]                          # omit for anonymous
    username = "collector"
    password_env = "PLANTLAKE_OPCUA_PASSWORD"   # or password_file = "opcua.secret" (mode 600), never inline
    # allow_password_without_encryption = true  # needed for a password over security policy None (sent in clear)

    [[nodes]]
    node_id = "ns=2;s=M1.temperature_c"
    machine_id = "M1"
    tag = "temperature_c"

    [[nodes]]
    browse_path = ["0:Objects", "2:Plant", "2:Line1", "2:M1", "2:state"]
    machine_id = "M1"
    tag = "state"
    states = { STOPPED = 0, RUNNING = 1, FAULT = 2 }

    [browse]                        # instead of (or in addition to) [[nodes]]
    root = "ns=2;s=Line1"
    max_depth = 3
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.opcua.errors import ConfigError

SECURITY_POLICIES = ("None", "Basic256Sha256")
SECURITY_MODES = ("Sign", "SignAndEncrypt")


@dataclass(frozen=True)
class SecurityConfig:
    policy: str = "None"
    mode: str = "SignAndEncrypt"
    client_certificate: Path | None = None
    private_key: Path | None = None
    server_certificate: Path | None = None

    @property
    def enabled(self) -> bool:
        return self.policy != "None"


DEFAULT_RECONNECT_INITIAL_S = 0.5
DEFAULT_RECONNECT_MAX_S = 5.0


@dataclass(frozen=True)
class ReconnectConfig:
    """Backoff between connection attempts: initial_s, times factor after each failed attempt, capped at max_s.

    The cap bounds how long a server that is back online waits for the collector: at most max_s (plus one
    connect) after it is reachable again, however long the outage lasted."""

    initial_s: float = DEFAULT_RECONNECT_INITIAL_S
    max_s: float = DEFAULT_RECONNECT_MAX_S
    factor: float = 2.0


@dataclass(frozen=True)
class NodeSpec:
    """One variable to collect, addressed by NodeId or by a browse path from the root folder."""

    machine_id: str
    tag: str
    node_id: str | None = None
    browse_path: tuple[str, ...] | None = None
    # String values (e.g. a machine state name) are stored as these numbers; see samples.to_number.
    states: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BrowseConfig:
    """Discover variables under `root`: machine_id = browse name of the parent object, tag = the variable's."""

    root: str
    max_depth: int = 3
    max_nodes: int = 10_000


@dataclass(frozen=True)
class CollectorConfig:
    endpoint: str
    collector_id: str = "opcua"
    nodes: tuple[NodeSpec, ...] = ()
    browse: BrowseConfig | None = None
    security: SecurityConfig = SecurityConfig()
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr or a log line
    # Over security policy None the password crosses the network in clear text: only with this explicit consent.
    allow_password_without_encryption: bool = False
    sampling_interval_ms: float = 250.0
    publishing_interval_ms: float | None = None
    deadband_abs: float | None = None
    # Server-side queue per monitored item: changes faster than the publishing interval wait here, not dropped.
    queue_size: int = 100
    flush_interval_s: float = 2.0
    flush_max_values: int = 10_000
    # Compact the Delta partitions the collector wrote (one small file per flush) this often; 0 = never.
    compact_every_s: float = 600.0
    reconnect: ReconnectConfig = ReconnectConfig()
    connect_timeout_s: float = 5.0
    start_attempts: int = 1
    node_gap_min_s: float = 0.0
    request_timeout_s: float = 4.0
    watchdog_interval_s: float = 1.0

    def __post_init__(self) -> None:
        _refuse_clear_text_password(self)

    @property
    def sends_password_in_clear(self) -> bool:
        """A password login without message security: anyone on the network path can read the password."""
        return self.password is not None and not self.security.enabled

    @property
    def publish_interval_ms(self) -> float:
        return self.publishing_interval_ms if self.publishing_interval_ms is not None else self.sampling_interval_ms

    @classmethod
    def from_toml(cls, path: Path | str) -> CollectorConfig:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, base_dir=path.parent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path | None = None) -> CollectorConfig:
        return parse_config(data, base_dir or Path.cwd())


_TOP_KEYS = {"endpoint", "collector_id", "nodes", "browse", "security", "auth", "sampling_interval_ms",
             "publishing_interval_ms", "deadband_abs", "queue_size", "flush_interval_s", "flush_max_values",
             "compact_every_s", "reconnect", "connect_timeout_s", "start_attempts", "node_gap_min_s",
             "request_timeout_s", "watchdog_interval_s"}


def parse_config(data: Mapping[str, Any], base_dir: Path) -> CollectorConfig:
    _no_unknown_keys(data, _TOP_KEYS, "")
    endpoint = _string(data, "endpoint", "endpoint", required=True)
    if not endpoint.startswith("opc.tcp://"):
        raise ConfigError(f"endpoint: expected an opc.tcp:// URL, got {endpoint!r}")
    if "@" in endpoint[len("opc.tcp://"):].split("/", 1)[0]:  # never echo it: it may hold a password
        raise ConfigError("endpoint: user info in the URL (user:password@host) is refused, it would be logged and "
                          "stored; give [auth] username with password_env or password_file")
    nodes = tuple(_node(item, f"nodes[{i}]") for i, item in enumerate(_list(data, "nodes", "nodes")))
    browse = _browse(data["browse"]) if "browse" in data else None
    if not nodes and browse is None:
        raise ConfigError("nodes: give at least one [[nodes]] entry or a [browse] root")
    _unique_targets(nodes)
    auth = data.get("auth", {})
    username, password = _auth(auth, base_dir)
    config = CollectorConfig(
        endpoint=endpoint,
        collector_id=_string(data, "collector_id", "collector_id") or "opcua",
        nodes=nodes, browse=browse,
        security=_security(data.get("security", {}), base_dir),
        username=username, password=password, allow_password_without_encryption=_allow_clear_text(auth),
        sampling_interval_ms=_number(data, "sampling_interval_ms", 250.0, minimum=0.0),
        publishing_interval_ms=_optional_number(data, "publishing_interval_ms", minimum=1.0),
        deadband_abs=_optional_number(data, "deadband_abs", minimum=0.0),
        queue_size=int(_number(data, "queue_size", 100, minimum=1, integer=True)),
        flush_interval_s=_number(data, "flush_interval_s", 2.0, minimum=0.05),
        flush_max_values=int(_number(data, "flush_max_values", 10_000, minimum=1, integer=True)),
        compact_every_s=_number(data, "compact_every_s", 600.0, minimum=0.0),
        reconnect=_reconnect(data.get("reconnect", {})),
        connect_timeout_s=_number(data, "connect_timeout_s", 5.0, minimum=0.1),
        start_attempts=int(_number(data, "start_attempts", 1, minimum=1, integer=True)),
        node_gap_min_s=_number(data, "node_gap_min_s", 0.0, minimum=0.0),
        request_timeout_s=_number(data, "request_timeout_s", 4.0, minimum=0.1),
        watchdog_interval_s=_number(data, "watchdog_interval_s", 1.0, minimum=0.1),
    )
    if not all(c.isalnum() or c in "-_." for c in config.collector_id):
        raise ConfigError(f"collector_id: only letters, digits, '-', '_' and '.' allowed, got {config.collector_id!r}")
    return config


def _node(item: Any, key: str) -> NodeSpec:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{key}: expected a table with machine_id, tag and node_id or browse_path")
    _no_unknown_keys(item, {"machine_id", "tag", "node_id", "browse_path", "states"}, key + ".")
    node_id = _string(item, "node_id", f"{key}.node_id")
    path = item.get("browse_path")
    if (node_id is None) == (path is None):
        raise ConfigError(f"{key}: give exactly one of node_id or browse_path")
    if path is not None:
        if not isinstance(path, list) or not path or not all(isinstance(p, str) and ":" in p for p in path):
            raise ConfigError(f"{key}.browse_path: expected a list of 'ns:Name' strings, got {path!r}")
    states = item.get("states", {})
    if not isinstance(states, Mapping) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in states.items()):
        raise ConfigError(f"{key}.states: expected a table of state name = number, got {states!r}")
    return NodeSpec(machine_id=_string(item, "machine_id", f"{key}.machine_id", required=True),
                    tag=_string(item, "tag", f"{key}.tag", required=True), node_id=node_id,
                    browse_path=tuple(path) if path is not None else None,
                    states={k: float(v) for k, v in states.items()})


def _unique_targets(nodes: tuple[NodeSpec, ...]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, node in enumerate(nodes):
        first = seen.setdefault((node.machine_id, node.tag), i)
        if first != i:
            raise ConfigError(f"nodes[{i}]: machine_id/tag {node.machine_id}/{node.tag} already used by nodes[{first}]")


def _browse(item: Any) -> BrowseConfig:
    if not isinstance(item, Mapping):
        raise ConfigError("browse: expected a table with root and max_depth")
    _no_unknown_keys(item, {"root", "max_depth", "max_nodes"}, "browse.")
    return BrowseConfig(root=_string(item, "root", "browse.root", required=True),
                        max_depth=int(_number(item, "max_depth", 3, minimum=1, maximum=10, integer=True,
                                              key="browse.max_depth")),
                        max_nodes=int(_number(item, "max_nodes", 10_000, minimum=1, integer=True,
                                              key="browse.max_nodes")))


def _security(item: Any, base_dir: Path) -> SecurityConfig:
    if not isinstance(item, Mapping):
        raise ConfigError("security: expected a table")
    _no_unknown_keys(item, {"policy", "mode", "client_certificate", "private_key", "server_certificate"},
                     "security.")
    policy = _string(item, "policy", "security.policy") or "None"
    if policy not in SECURITY_POLICIES:
        raise ConfigError(f"security.policy: expected one of {SECURITY_POLICIES}, got {policy!r}")
    mode = _string(item, "mode", "security.mode") or "SignAndEncrypt"
    if mode not in SECURITY_MODES:
        raise ConfigError(f"security.mode: expected one of {SECURITY_MODES}, got {mode!r}")
    paths = {}
    for name in ("client_certificate", "private_key", "server_certificate"):
        value = _string(item, name, f"security.{name}")
        paths[name] = (base_dir / value) if value else None
        if policy != "None" and name != "server_certificate" and value is None:
            raise ConfigError(f"security.{name}: required when security.policy is {policy}")
        if paths[name] is not None and not paths[name].is_file():
            raise ConfigError(f"security.{name}: file {paths[name]} does not exist")
    return SecurityConfig(policy=policy, mode=mode, **paths)


def _auth(item: Any, base_dir: Path | None = None) -> tuple[str | None, str | None]:
    """(username, password); the password only ever comes from the environment or an owner-only file."""
    if not isinstance(item, Mapping):
        raise ConfigError("auth: expected a table")
    if "password" in item:  # never echo it: the value is the secret
        raise ConfigError("auth.password: an inline password is refused, it would sit in the config file (and in "
                          "its copies and version history); give auth.password_env (an environment variable's name) "
                          "or auth.password_file (a file only its owner may read)")
    _no_unknown_keys(item, {"username", "password_env", "password_file", "allow_password_without_encryption"},
                     "auth.")
    username = _string(item, "username", "auth.username")
    password = None
    env_name = _string(item, "password_env", "auth.password_env")
    file_name = _string(item, "password_file", "auth.password_file")
    if env_name is not None and file_name is not None:
        raise ConfigError("auth: give one of password_env or password_file")
    if file_name is not None:
        password = _password_file((base_dir or Path.cwd()) / file_name)
    if env_name is not None:
        password = os.environ.get(env_name)
        if password is None:
            raise ConfigError(f"auth.password_env: environment variable {env_name} is not set")
    if password is not None and username is None:
        raise ConfigError("auth.username: required when a password is given")
    return username, password


def _allow_clear_text(item: Mapping[str, Any]) -> bool:
    value = item.get("allow_password_without_encryption", False)
    if not isinstance(value, bool):
        raise ConfigError(f"auth.allow_password_without_encryption: expected true or false, got {value!r}")
    return value


def _refuse_clear_text_password(config: CollectorConfig) -> None:
    """Security policy None encrypts nothing, the password included; asyncua would send it as plain UTF-8."""
    if config.sends_password_in_clear and not config.allow_password_without_encryption:
        raise ConfigError("auth: a password login over security.policy None is refused, "
                          "the password would cross the network in clear text; set [security] policy = "
                          '"Basic256Sha256", or auth.allow_password_without_encryption = true (CLI '
                          "--allow-password-without-encryption) to accept that on a network you trust")


def _password_file(path: Path) -> str:
    """The first line of a secrets file only its owner can read or write (mode 0600 or 0400)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"auth.password_file: cannot read {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise ConfigError(f"auth.password_file: {path} is readable or writable by others (mode "
                          f"{mode & 0o777:o}); chmod 600 it")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise ConfigError(f"auth.password_file: {path} is empty")
    return lines[0]


def _reconnect(item: Any) -> ReconnectConfig:
    if not isinstance(item, Mapping):
        raise ConfigError("reconnect: expected a table")
    _no_unknown_keys(item, {"initial_s", "max_s", "factor"}, "reconnect.")
    maximum = _number(item, "max_s", DEFAULT_RECONNECT_MAX_S, key="reconnect.max_s")
    if maximum <= 0:
        raise ConfigError(f"reconnect.max_s: must be > 0, got {maximum:g}")
    # A cap below the default first delay lowers the first delay with it, unless initial_s is given.
    initial = _number(item, "initial_s", min(DEFAULT_RECONNECT_INITIAL_S, maximum), minimum=0.01,
                      key="reconnect.initial_s")
    if maximum < initial:
        raise ConfigError(f"reconnect.max_s: {maximum} is below reconnect.initial_s {initial}")
    return ReconnectConfig(initial, maximum, _number(item, "factor", 2.0, minimum=1.0, key="reconnect.factor"))


def _no_unknown_keys(data: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _string(data: Mapping[str, Any], name: str, key: str, required: bool = False) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise ConfigError(f"{key}: required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: expected a non-empty string, got {value!r}")
    return value


def _list(data: Mapping[str, Any], name: str, key: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
    return value


def _number(data: Mapping[str, Any], name: str, default: float, *, minimum: float | None = None,
            maximum: float | None = None, integer: bool = False, key: str | None = None) -> float:
    key = key or name
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise ConfigError(f"{key}: expected {'an integer' if integer else 'a number'}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}: must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{key}: must be <= {maximum}, got {value}")
    return float(value)


def _optional_number(data: Mapping[str, Any], name: str, *, minimum: float) -> float | None:
    return None if data.get(name) is None else _number(data, name, 0.0, minimum=minimum)
