"""The B2MML test messages and the simulator's messages are valid against MESA's (and, for V0401, WBF's) schemas.

The schemas are the published ones reduced to what the messages use (tests/ingestion/b2mml/xsd/README.md): a
message valid against a reduced schema is valid against the published one.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import pytest
import xmlschema

from ingestion.b2mml import LEGACY_NAMESPACES, NAMESPACES, read_b2mml
from simulator import FaultRates, PlantConfig, simulate
from simulator import b2mml as simulated

B2MML = Path(__file__).parent / "b2mml"
SCHEMA_VERSION = {"http://www.wbf.org/xml/B2MML-V0401": "V0401", "http://www.mesa.org/xml/B2MML-V0600": "V0600",
                  "http://www.mesa.org/xml/B2MML": "V0700"}
FIXTURES = sorted((B2MML / "messages").glob("*/*.xml"))


@functools.cache
def schema(version: str) -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(B2MML / "xsd" / version / "all.xsd")


def errors(xml: bytes | str | Path, version: str) -> list[str]:
    source = str(xml) if isinstance(xml, Path) else xml
    return [str(e).splitlines()[0] + " " + str(e.path) for e in schema(version).iter_errors(source)]


def test_the_schemas_declare_the_namespaces_the_reader_accepts() -> None:
    for version in ("V0401", "V0600", "V0700"):
        assert schema(version).target_namespace in NAMESPACES
    assert set(SCHEMA_VERSION) <= set(NAMESPACES) and not set(LEGACY_NAMESPACES) & set(NAMESPACES)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_message_is_valid_b2mml(path: Path) -> None:
    assert errors(path, path.parent.name) == []


@pytest.mark.parametrize("version", ["V0401", "V0600", "V0700"])
def test_the_validator_refuses_what_the_published_schema_refuses(version: str) -> None:
    valid = (B2MML / "messages" / version / "ProductionPerformance.xml").read_text()
    legacy = valid.replace("http://www.wbf.org/xml/B2MML-V0401", "http://www.mesa.org/xml/B2MML-V0401")
    out_of_order = valid.replace("<ID>WO-7</ID>\n    <ProductionRequestID>WO-7</ProductionRequestID>",
                                 "<ProductionRequestID>WO-7</ProductionRequestID>\n    <ID>WO-7</ID>")
    wrong_use = valid.replace("<MaterialUse>Consumed</MaterialUse>", "<MaterialUse>Eaten</MaterialUse>")
    for invalid in ([legacy] if version == "V0401" else []) + [out_of_order, wrong_use]:
        assert errors(invalid, version)


def test_the_simulators_messages_are_valid_b2mml(tmp_path: Path) -> None:
    cfg = PlantConfig(days=2, lines=1, machines_per_line=2, seed=3, start_date=date(2026, 1, 5),
                      fault_rates=FaultRates.none(), signal_interval_s=3600, b2mml_share=1.0)
    simulate(cfg, tmp_path)
    paths = sorted((tmp_path / "mes" / "b2mml").rglob("*.xml"))
    kinds, namespaces = set(), set()
    for path in paths:
        data = path.read_bytes()
        namespace = data.split(b'xmlns="', 1)[1].split(b'"', 1)[0].decode()
        namespaces.add(namespace)
        kinds.add(path.stem.split("_", 1)[0])
        assert errors(path, SCHEMA_VERSION[namespace]) == [], path.name
        parsed = read_b2mml(data)
        assert (parsed.file_error, parsed.rejections, parsed.frame.height > 0) == (None, [], True), path.name
    assert namespaces == set(simulated.NAMESPACES) == {"http://www.wbf.org/xml/B2MML-V0401",
                                                       "http://www.mesa.org/xml/B2MML"}
    assert kinds == {"ProductionSchedule", "ProductionPerformance", "MaterialInformation"}


def test_a_continued_simulation_of_the_old_namespace_writes_the_published_one() -> None:
    xml = simulated.material_information(simulated.LEGACY_V0401, "MI-1", "2026-01-05T10:00:00+01:00",
                                         [("LOT-1", "400100", 3, "EA")])
    assert b'xmlns="http://www.wbf.org/xml/B2MML-V0401"' in xml
    assert errors(xml, "V0401") == []
