"""Config validation, browse-root discovery with bounded depth, and historical backfill."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from asyncua import Client
from click.testing import CliRunner

from ingestion.opcua import Collector, CollectorConfig, CollectorError, ConfigError
from ingestion.opcua.backfill import backfill_file
from ingestion.opcua.cli import build_config, collect_command
from ingestion.opcua.config import BrowseConfig
from ingestion.opcua.demo_server import DemoServer
from ingestion.opcua.nodes import discover_targets
from ingestion.opcua.samples import to_number
from lakehouse.delta_io import DeltaLake

NODE = {"node_id": "ns=2;s=M1.temperature_c", "machine_id": "M1", "tag": "temperature_c"}


@pytest.mark.parametrize(("data", "message"), [
    ({"nodes": [NODE]}, r"^endpoint: required"),
    ({"endpoint": "http://x", "nodes": [NODE]}, r"^endpoint: expected an opc\.tcp:// URL"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840"}, r"^nodes: give at least one"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [{"machine_id": "M1", "tag": "t"}]},
     r"^nodes\[0\]: give exactly one of node_id or browse_path"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [{**NODE, "machine_id": ""}]}, r"^nodes\[0\]\.machine_id"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE, NODE]}, r"^nodes\[1\]: machine_id/tag M1/temperature_c"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "flush_interval_s": 0}, r"^flush_interval_s: must be"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "flush_intervall_s": 1}, r"^flush_intervall_s: unknown"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "security": {"policy": "Basic128"}},
     r"^security\.policy: expected one of"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "security": {"policy": "Basic256Sha256"}},
     r"^security\.client_certificate: required"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "auth": {"username": "u", "password_env": "NO_SUCH_V"}},
     r"^auth\.password_env: environment variable NO_SUCH_V is not set"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "browse": {"root": "ns=2;s=Plant", "max_depth": 50}},
     r"^browse\.max_depth: must be <= 10"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "reconnect": {"initial_s": 5, "max_s": 1}},
     r"^reconnect\.max_s: 1\.0 is below"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "reconnect": {"max_s": 0}},
     r"^reconnect\.max_s: must be > 0"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "reconnect": {"max_s": -2}},
     r"^reconnect\.max_s: must be > 0"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "reconnect": {"max_s": "5"}},
     r"^reconnect\.max_s: expected a number"),
    ({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE], "compact_every_s": -1},
     r"^compact_every_s: must be >= 0"),
])
def test_config_errors_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CollectorConfig.from_dict(data)


def test_toml_config_with_password_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPCUA_TEST_PASSWORD", "s3cret")
    (tmp_path / "c.toml").write_text('endpoint = "opc.tcp://127.0.0.1:4840"\ncollector_id = "line1"\n'
                                     'deadband_abs = 0.5\n[auth]\nusername = "u"\npassword_env = "OPCUA_TEST_PASSWORD"\n'
                                     'allow_password_without_encryption = true\n'
                                     '[[nodes]]\nbrowse_path = ["0:Objects", "2:Plant", "2:Line1", "2:M1", "2:state"]\n'
                                     'machine_id = "M1"\ntag = "state"\nstates = { STOPPED = 0, RUNNING = 1 }\n')
    config = CollectorConfig.from_toml(tmp_path / "c.toml")
    assert (config.collector_id, config.username, config.password, config.deadband_abs) == ("line1", "u", "s3cret", 0.5)
    assert config.nodes[0].browse_path == ("0:Objects", "2:Plant", "2:Line1", "2:M1", "2:state")
    assert to_number("RUNNING", config.nodes[0].states) == 1.0 and to_number("JAMMED", config.nodes[0].states) is None


async def _discover(port: int) -> dict[int, list[tuple[str, str, str]]]:
    found = {}
    async with DemoServer(port, machines=("M1", "M2")) as server, Client(server.endpoint) as client:
        for depth in (2, 3):
            targets = await discover_targets(client, BrowseConfig(root="ns=2;s=Plant", max_depth=depth))
            found[depth] = sorted((t.machine_id, t.tag, t.node_id) for t in targets)
    return found


def test_browse_root_discovery_is_bounded_by_depth(port: int) -> None:
    found = asyncio.run(_discover(port))
    assert found[2] == []  # Plant(0) -> Line1(1) -> machines(2) are not browsed below depth 2
    assert found[3] == sorted((m, t, f"ns=2;s={m}.{t}") for m in ("M1", "M2")
                              for t in ("temperature_c", "speed_rpm", "running", "state"))


async def _collect_discovered(lake: DeltaLake, port: int, max_depth: int) -> None:
    async with DemoServer(port, machines=("M1",)) as server:
        config = CollectorConfig.from_dict({"endpoint": server.endpoint, "collector_id": "browse",
                                            "flush_interval_s": 0.3, "browse": {"root": "ns=2;s=Line1",
                                                                                "max_depth": max_depth}})
        run = asyncio.create_task(Collector(config, lake).run(duration_s=1.5))
        await asyncio.sleep(0.8)
        await server.write("M1", "speed_rpm", 1200.0)
        await run


def test_collect_from_browse_root(lake: DeltaLake, port: int) -> None:
    asyncio.run(_collect_discovered(lake, port, max_depth=2))
    rows = lake.scan("machine_signals").collect()
    assert set(rows["tag"]) == {"temperature_c", "speed_rpm", "running", "state"}
    assert 1200.0 in rows.filter(pl.col("tag") == "speed_rpm")["value"].to_list()


def test_browse_finding_nothing_is_an_error(lake: DeltaLake, port: int) -> None:
    with pytest.raises(CollectorError, match="no variables to collect"):
        asyncio.run(_collect_discovered(lake, port, max_depth=1))


def test_backfill_parquet_twice_lands_rows_once(lake: DeltaLake, tmp_path: Path) -> None:
    start = datetime(2025, 3, 1, 23, 59, 58, tzinfo=UTC)
    history = pl.DataFrame({
        "machine_id": ["M1"] * 4 + ["M2"] * 2, "tag": ["temperature_c"] * 4 + ["running"] * 2,
        "source_at": [start + timedelta(seconds=i) for i in range(4)] + [start, start + timedelta(seconds=3)],
        "value": [20.0, 20.5, None, 21.0, 1.0, 0.0], "status_code": [0, 0, 0x808B0000, 0, 0, 0]})
    history.write_parquet(tmp_path / "history.parquet")
    first = backfill_file(lake, tmp_path / "history.parquet")
    second = backfill_file(lake, tmp_path / "history.parquet")
    assert (first.rows_read, first.rows_landed, first.duplicates_skipped) == (6, 6, 0)
    assert (second.rows_read, second.rows_landed, second.duplicates_skipped) == (6, 0, 6)
    rows = lake.scan("machine_signals").sort("machine_id", "source_at").collect()
    assert rows.height == 6 and set(rows["source_file"]) == {str((tmp_path / "history.parquet").resolve())}
    assert rows["source_date"].to_list().count(start.date()) == 3  # midnight crossing splits the partitions
    assert rows.filter(pl.col("status_code") != 0)["value"].to_list() == [None]


def test_backfill_csv_reads_utc_strings(lake: DeltaLake, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("machine_id,tag,source_at,value,status_code\n"
                                    "M1,temperature_c,2025-03-01T10:00:00Z,20.0,0\n"
                                    "M1,temperature_c,2025-03-01T12:00:01+02:00,21.0,0\n")
    assert backfill_file(lake, tmp_path / "h.csv").rows_landed == 2
    rows = lake.scan("machine_signals").sort("source_at").collect()
    assert rows["source_at"].to_list() == [datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
                                           datetime(2025, 3, 1, 10, 0, 1, tzinfo=UTC)]


def test_backoff_cap_and_compaction_from_toml_and_cli(tmp_path: Path) -> None:
    defaults = CollectorConfig.from_dict({"endpoint": "opc.tcp://127.0.0.1:4840", "nodes": [NODE]})
    assert (defaults.reconnect.max_s, defaults.reconnect.initial_s, defaults.compact_every_s) == (5.0, 0.5, 600.0)
    (tmp_path / "c.toml").write_text('endpoint = "opc.tcp://127.0.0.1:4840"\ncompact_every_s = 600\n'
                                     '[reconnect]\nmax_s = 2.5\n[[nodes]]\nnode_id = "ns=2;s=M1.t"\n'
                                     'machine_id = "M1"\ntag = "t"\n')
    config = CollectorConfig.from_toml(tmp_path / "c.toml")
    assert (config.reconnect.max_s, config.compact_every_s) == (2.5, 600.0)
    overridden = build_config(tmp_path / "c.toml", {"compact_every_s": 0.0}, None, 3, (), {}, {},
                              reconnect={"max_s": 0.2})
    # A cap below the default first delay (0.5 s) lowers the first delay too.
    assert (overridden.reconnect.max_s, overridden.reconnect.initial_s, overridden.compact_every_s) == (0.2, 0.2, 0.0)
    result = CliRunner().invoke(collect_command, ["--config", str(tmp_path / "c.toml"), "--reconnect-max-s", "0"])
    assert result.exit_code == 2 and "--reconnect-max-s" in result.output


def test_cli_help_and_missing_endpoint() -> None:
    runner = CliRunner()
    help_text = runner.invoke(collect_command, ["--help"]).output
    assert "--browse-root" in help_text and "PLANTLAKE_LAKE" in help_text and "Examples" in help_text
    assert "--reconnect-max-s" in help_text and "--compact-every-s" in help_text
    result = runner.invoke(collect_command, ["--node", "M1/t=ns=2;s=x"])
    assert result.exit_code == 2 and "endpoint: give --config FILE or --endpoint URL" in result.output
