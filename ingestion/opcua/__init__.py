"""OPC UA collector: machine signals from OPC UA servers into the bronze `machine_signals` Delta table.

Public API: `CollectorConfig` (TOML config), `Collector(config, lake).run(...)`, `run_collectors(configs, lake)`
(several endpoints, one shared writer), `backfill_file(...)`,
`generate_pki(...)`, `CollectorError`, `ConfigError`; the CLI is `ingestion.opcua.cli.collect_command`."""

from ingestion.opcua.collector import Collector, CollectorReport, run_collectors
from ingestion.opcua.config import BrowseConfig, CollectorConfig, NodeSpec, ReconnectConfig, SecurityConfig
from ingestion.opcua.errors import CollectorError, ConfigError
from ingestion.opcua.security import generate_certificate, generate_pki

__all__ = ["BrowseConfig", "Collector", "CollectorConfig", "CollectorError", "CollectorReport", "ConfigError",
           "NodeSpec", "ReconnectConfig", "SecurityConfig", "generate_certificate", "generate_pki", "run_collectors"]
