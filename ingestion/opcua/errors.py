"""The two ways the OPC UA collector refuses to go on: a bad configuration or an unusable server."""


class ConfigError(ValueError):
    """The collector configuration is invalid; the message starts with the offending key."""


class CollectorError(RuntimeError):
    """The collector cannot collect (endpoint unreachable, login or security rejected, no nodes found)."""
