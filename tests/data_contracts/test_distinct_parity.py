"""The landing's validation (distinct values, Polars certificates, GX for the rest) gives GX's own verdicts.

`validate_distinct` must name, for every row, exactly the expectations that GX's validation of the whole
frame (`validate_rows(contract.validation_frame(text), suite)`) names, in the same order, and fail the same
batches as a whole: on every record of the hostile corpus and on random batches built from hostile values.
"""

from __future__ import annotations

import importlib.util
from fnmatch import fnmatch
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from data_contracts.distinct import validate_distinct
from data_contracts.mes import MES_CONTRACTS
from data_contracts.rules import Contract
from data_contracts.runner import validate_rows
from data_contracts.wms import WMS_TRANSACTIONS
from ingestion.sources import MES_B2MML, MES_NDJSON, WMS_CSV

CONTRACTS = {"wms_transactions": WMS_TRANSACTIONS, **MES_CONTRACTS}
NOW = datetime(2026, 1, 6, tzinfo=timezone.utc)
CODES = {"wms_material": ["ALU", "PUMP"], "mes_material": ["100100", "400100"], "wms_location": ["D-01", "A-01-01"],
         "mes_location": ["L1-SUPER"], "machine": ["L1-M1", "WC-01-01"], "line": ["L1"], "supplier": ["SUP-01"],
         "customer": ["CUST-1"]}
HOSTILE_TEXT = [None, "", " ", "x", "L1-M1", "100100", "ALU", "D-01", "=1+1", "+49 170", "@SUM(A1)", " =cmd",
                "\u00a0=cmd", "\u2003-x", "-5", "-5.5", "-x", "- 5", "-", "\t1", "\r1", "a\tb", "a\nb", "x\n",
                "\x00", "\x1b[31m", "\x1cX", "\x7f", "é", "日本", "٣", "１２", "12", "0", "-0", "1e3", "1E-3",
                "1e999", "-1e999", "NaN", "inf", "1.", ".5", "1.5.5", "99999999999999999999", "10000000",
                "10000001", "9223372036854775807", "9223372036854775808", "1,5", "0x1F", "true", "EA", "KG",
                "running", "producing", "idle", "no_order", "work_order_released", "equipment_state_changed",
                "2026-01-05T06:00:00+00:00", "2026-01-05T06:00:00Z", "2026-01-05 06:00:00+0100",
                "2026-01-05T06:00:00.123456789-05:30", "2026-01-05T06:00:00", "2026-02-30T00:00:00Z",
                "2026-13-01T00:00:00Z", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", "2026-01-06T00:59:59Z",
                "2026-01-06T01:00:01Z", "2027-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2026-01-05T06:00:00+00:00\n",
                "٢٠٢٦-01-05T06:00:00Z", "2026-01-05T24:00:00Z"]


def _hostile_corpus() -> list:
    path = Path(__file__).parents[1] / "ingestion" / "hostile_corpus.py"
    spec = importlib.util.spec_from_file_location("hostile_corpus_for_parity", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.CASES


def assert_same_verdicts(contract: Contract, records: pl.DataFrame) -> None:
    text = contract.normalized(records.select(contract.column_names))
    typed = contract.typed(text)
    suite = contract.suite(CODES, NOW)
    expected = validate_rows(contract.validation_frame(text, typed), suite)
    got = validate_distinct(contract, text, typed, suite)
    assert got.table_failures == expected.table_failures
    assert got.failures == expected.failures
    assert [(o.name, o.success, o.unexpected_count) for o in got.outcomes] == \
        [(o.name, o.success, o.unexpected_count) for o in expected.outcomes]


@pytest.fixture(scope="module")
def corpus_records() -> dict[str, pl.DataFrame]:
    """Every record the hostile corpus routes to a contract, per table."""
    found: dict[str, list[pl.DataFrame]] = {}
    for case in _hostile_corpus():
        source = next((s for s in (WMS_CSV, MES_NDJSON, MES_B2MML)
                       if any(fnmatch(case.path, p) or fnmatch(case.path, p.replace("**/", "")) for p in s.patterns)),
                      None)
        if source is None:
            continue
        try:
            parsed = source.parse(case.content)
            routed, _ = source.route(parsed) if not parsed.file_error else ({}, [])
        except Exception:  # noqa: BLE001 - a file the landing rejects whole holds no records to validate
            continue
        for table, frame in routed.items():
            found.setdefault(table, []).append(frame.select(CONTRACTS[table].column_names))
    return {table: pl.concat(frames) for table, frames in found.items()}


def test_the_corpus_reaches_the_mes_and_wms_contracts(corpus_records: dict[str, pl.DataFrame]) -> None:
    assert {"wms_transactions", "mes_equipment_states"} <= set(corpus_records)
    assert sum(f.height for f in corpus_records.values()) >= 50


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_hostile_corpus_records_get_gx_verdicts(table: str, corpus_records: dict[str, pl.DataFrame]) -> None:
    if table not in corpus_records:
        pytest.skip(f"the corpus routes no record to {table}")
    assert_same_verdicts(CONTRACTS[table], corpus_records[table])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_random_hostile_batches_get_gx_verdicts(table: str, seed: int) -> None:
    """Rows mixing good values and hostile ones, with repeated keys (some with another payload)."""
    contract = CONTRACTS[table]
    rng = random.Random(seed)
    good = {"event_id": "E1", "event_type": (contract.record_types or ("",))[0], "occurred_at": "2026-01-05T06:00:00Z"}
    rows = []
    for i in range(400):
        row = {}
        for column in contract.columns:
            if column.name in contract.key:
                row[column.name] = rng.choice([f"K{i}", f"K{i}", f"K{i % 50}", "-K", None, " K1 ", "K\x1f"])
            elif rng.random() < 0.6:
                row[column.name] = rng.choice([*column.allowed, *CODES.get(column.known_codes or "", ()),
                                               good.get(column.name, "12")])
            else:
                row[column.name] = rng.choice(HOSTILE_TEXT)
        rows.append(row)
    records = pl.DataFrame(rows, schema={name: pl.String for name in contract.column_names})
    assert_same_verdicts(contract, records)


def test_a_clean_batch_needs_no_gx_validation() -> None:
    """What makes the landing fast: clean values are certified, so GX is not called (and still agrees)."""
    contract = MES_CONTRACTS["mes_equipment_states"]
    records = pl.DataFrame({"event_id": [f"E{i}" for i in range(1000)], "event_type": "equipment_state_changed",
                            "occurred_at": "2026-01-05T06:00:00+00:00", "machine_id": "L1-M1", "state": "running",
                            "reason_code": "producing", "previous_state": "idle", "previous_reason_code": None}
                           ).cast(pl.String)
    from data_contracts.distinct import doubtful_groups

    text = contract.normalized(records)
    assert doubtful_groups(contract, text, contract.typed(text), contract.suite(CODES, NOW)) == []
    assert_same_verdicts(contract, records)
