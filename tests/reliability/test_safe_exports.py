"""Every CSV the command line writes escapes cells a spreadsheet would run as a formula (OWASP): stock, kpi,
trace and recall, with hostile values (defence in depth: master files are checked for formulas by their contract too)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from lakehouse.csv_safety import escape_formula, safe_write_csv
from plantlake.cli import main
from plantlake.lake import Lake
from transforms.genealogy.trace import RecallResult, TraceResult

HOSTILE = ["-1+cmd|' /C calc'!A0", '=HYPERLINK("http://x.test","click")', ' =HYPERLINK("http://x.test")',
           "@SUM(A1)", "+1+1", "\t=1", "\r=1", "LOT-7"]
ESCAPED = ["'" + v for v in HOSTILE[:-1]] + ["LOT-7"]


def cells(text: str, column: str) -> list[str]:
    return [row[column] for row in csv.DictReader(io.StringIO(text))]


def test_escape_formula_follows_the_owasp_rule() -> None:
    assert [escape_formula(v) for v in HOSTILE] == ESCAPED
    assert escape_formula(None) is None and escape_formula("a=b") == "a=b" and escape_formula("") == ""
    frame = pl.DataFrame({"text": HOSTILE, "number": [-1.5] * len(HOSTILE), "codes": [["=x", "ok"]] * len(HOSTILE)})
    text = safe_write_csv(frame)
    assert cells(text, "text") == ESCAPED
    assert set(cells(text, "number")) == {"-1.5"}  # numbers are written as they are
    assert set(cells(text, "codes")) == {"'=x; ok"}


@pytest.fixture
def hostile_lake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    nodes = pl.DataFrame({"node_id": HOSTILE, "node_kind": ["lot"] * len(HOSTILE),
                          "relation": ["ancestor"] * len(HOSTILE), "depth": [1] * len(HOSTILE),
                          "share": [0.5] * len(HOSTILE)})
    trace = TraceResult(root="LOT-7", direction="backward", nodes=nodes, edges=pl.DataFrame())
    shipments = pl.DataFrame({"lot_code": HOSTILE, "customer_id": HOSTILE, "quantity": [1.0] * len(HOSTILE)})
    monkeypatch.setattr(Lake, "stock", lambda self, *a, **k: pl.DataFrame({"material_id": HOSTILE,
                                                                           "quantity": [-2.0] * len(HOSTILE)}))
    monkeypatch.setattr(Lake, "kpi", lambda self, *a, **k: pl.DataFrame({"kpi": ["oee"] * len(HOSTILE),
                                                                         "scope_id": HOSTILE,
                                                                         "value": [0.5] * len(HOSTILE)}))
    monkeypatch.setattr(Lake, "trace_result", lambda self, *a, **k: trace)
    monkeypatch.setattr(Lake, "recall_result", lambda self, *a, **k: RecallResult("S-1", trace, shipments=shipments))
    return tmp_path / "lake"


@pytest.mark.parametrize(("arguments", "column"), [
    (["stock", "--format", "csv"], "material_id"),
    (["kpi", "--kpi", "oee", "--format", "csv"], "scope_id"),
    (["trace", "LOT-7", "--format", "csv"], "node_id"),
    (["recall", "S-1", "--format", "csv"], "customer_id"),
], ids=["stock", "kpi", "trace", "recall"])
def test_cli_csv_escapes_formulas(hostile_lake: Path, arguments: list[str], column: str) -> None:
    result = CliRunner().invoke(main, ["--lake", str(hostile_lake), *arguments])
    assert result.exit_code == 0, result.output
    assert cells(result.stdout, column) == ESCAPED
