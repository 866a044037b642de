"""The catalog: declarations are consistent, names follow the house style, and the docs are generated from it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.catalog import CATALOG, Catalog, TableSpec

ROOT = Path(__file__).resolve().parents[2]


def test_docs_catalog_is_generated_from_the_catalog() -> None:
    on_disk = (ROOT / "docs" / "catalog.md").read_text()
    assert on_disk == CATALOG.to_markdown() + "\n", "docs/catalog.md is stale: run `plantlake catalog > docs/catalog.md`"


def test_names_follow_the_house_style() -> None:
    for spec in CATALOG:
        for field in spec.schema:
            if pa.types.is_timestamp(field.type):
                assert field.name.endswith("_at"), f"{spec.name}.{field.name}: timestamps end in _at"
                assert field.type.tz == "UTC", f"{spec.name}.{field.name}: timestamps are UTC"
            if pa.types.is_date(field.type):
                assert field.name.endswith("_date"), f"{spec.name}.{field.name}: dates end in _date"
        for key in spec.primary_key:
            assert not spec.schema.field(key).nullable, f"{spec.name}.{key}: key columns are not nullable"


def test_a_table_is_declared_once_and_keys_must_exist() -> None:
    spec = TableSpec("t", "silver", pa.schema([("a_id", pa.string())]), "t", ("a_id",))
    with pytest.raises(ValueError, match="declared twice"):
        Catalog([spec, spec])
    with pytest.raises(ValueError, match=r"primary key columns \['b_id'\]"):
        TableSpec("t", "silver", pa.schema([("a_id", pa.string())]), "t", ("b_id",))
    with pytest.raises(ValueError, match="layer"):
        TableSpec("t", "platinum", pa.schema([("a_id", pa.string())]), "t", ("a_id",))  # type: ignore[arg-type]


def test_merge_keys_default_to_the_primary_key_and_paths_follow_the_layer() -> None:
    spec = CATALOG["machine_signals"]
    assert spec.merge_keys == spec.primary_key
    assert spec.path("/lake") == Path("/lake/bronze/machine_signals")
    with pytest.raises(KeyError, match="no table 'nope'"):
        CATALOG["nope"]
