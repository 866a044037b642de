"""The KPI registry: every definition names its transform, and docs/kpis.md documents every KPI."""

from __future__ import annotations

import importlib
from pathlib import Path

import transforms.kpi
from transforms.kpi import KPI_DEFINITIONS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "kpis.md"
UNITS = {"s", "ratio", "1/year", "days", "base unit"}


def test_every_definition_names_the_function_that_computes_it() -> None:
    for name, definition in KPI_DEFINITIONS.items():
        module, function = definition.transform.split(".")
        assert callable(getattr(importlib.import_module(f"transforms.kpi.{module}"), function)), name
        assert definition.name == name and definition.unit in UNITS and definition.scope_types


def test_each_kpi_function_of_this_package_says_which_kpi_it_computes() -> None:
    for name in transforms.kpi.__all__:
        function = getattr(transforms.kpi, name)
        if name in {d.transform.split(".")[1] for d in KPI_DEFINITIONS.values()}:
            computed = [d.name for d in KPI_DEFINITIONS.values() if d.transform.endswith(f".{name}")]
            assert function.__doc__.split(":")[0] in computed, name


def test_names_are_snake_case_and_iso_names_are_kept_where_they_exist() -> None:
    assert all(name.islower() and " " not in name for name in KPI_DEFINITIONS)
    iso_names = {n: d.iso22400_name for n, d in KPI_DEFINITIONS.items() if d.iso22400_name}
    assert iso_names.items() >= {
        "throughput_time": "Throughput time", "first_pass_yield": "First pass yield", "scrap_ratio": "Scrap ratio",
        "rework_ratio": "Rework ratio", "inventory_turns": "Inventory turns"}.items()
    assert KPI_DEFINITIONS["otif"].iso22400_name is None


def test_docs_describe_every_kpi() -> None:
    text = DOCS.read_text()
    missing = [name for name in KPI_DEFINITIONS if f"`{name}`" not in text]
    assert not missing
