"""docs/api.md is the API reference rendered from the code, and it is current."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from plantlake.cli import main
from plantlake.reference import api_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_docs_api_md_is_current() -> None:
    on_disk = (ROOT / "docs" / "api.md").read_text()
    assert on_disk == api_markdown(), "docs/api.md is stale: run `plantlake api-reference > docs/api.md`"


def test_every_public_method_is_documented_with_its_signature() -> None:
    text = CliRunner().invoke(main, ["api-reference"]).output
    for method in ("read", "sql", "kpi", "stock", "trace", "trace_graph", "recall", "history", "tables"):
        assert f"#### `Lake.{method}`" in text and f"Lake.{method}(" in text
    assert "(no docstring)" not in text
    assert "VersionNotFoundError(PlantlakeError, ValueError)" in text
