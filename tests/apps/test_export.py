"""Recall CSV is safe to open in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import polars as pl

from apps.export import safe_csv


def test_text_cells_that_start_a_formula_are_quoted_and_numbers_are_not() -> None:
    frame = pl.DataFrame({"customer_id": ["=HYPERLINK(\"http://x\")", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR",
                                          "CUS-01", " =1+1", None],
                          "quantity": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 7.5, 8.0],
                          "tags": [["=1"], ["ok"], [], ["a"], ["b"], ["c"], ["d"], ["f"], ["e"]]})
    rows = list(csv.DictReader(io.StringIO(safe_csv(frame))))
    assert [r["customer_id"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+SUM(A1)", "'-2+3", "'@cmd",
                                                "'\tTAB", "'\rCR", "CUS-01", "' =1+1", ""]
    assert [r["quantity"] for r in rows][:2] == ["-1.5", "2.0"]
    assert rows[0]["tags"] == "'=1" and rows[1]["tags"] == "ok"
