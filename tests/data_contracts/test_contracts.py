"""Every contract on real simulator records: a clean record passes, and breaking it fails the right expectation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from data_contracts.mes import MES_CONTRACTS
from data_contracts.rules import Contract
from data_contracts.runner import validate_rows
from data_contracts.wms import WMS_TRANSACTIONS
from ingestion.sources import MES_B2MML, MES_NDJSON, WMS_CSV
from simulator.master_data import build_master_data
from simulator import FaultRates, PlantConfig

CONTRACTS = {"wms_transactions": WMS_TRANSACTIONS, **MES_CONTRACTS}
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def records(clean_plant: Path) -> dict[str, pl.DataFrame]:
    """Every routed record of the clean plant, per contract table."""
    found: dict[str, list[pl.DataFrame]] = {}
    for source in (WMS_CSV, MES_NDJSON, MES_B2MML):
        for pattern in source.patterns:
            for path in sorted(clean_plant.glob(pattern)):
                routed, rejections = source.route(source.parse(path.read_bytes()))
                assert rejections == [], (path, rejections[:2])
                for table, frame in routed.items():
                    found.setdefault(table, []).append(frame)
    # a fact reported twice (B2MML start and completion messages) counts once, as the lander counts it
    return {t: pl.concat(f).unique(subset=list(CONTRACTS[t].column_names), maintain_order=True)
            for t, f in found.items()}


@pytest.fixture(scope="module")
def code_sets() -> dict[str, list[str]]:
    master = build_master_data(PlantConfig(days=3, lines=1, machines_per_line=2, seed=3,
                                           fault_rates=FaultRates.none())).tables
    codes = master["material_code_map"]
    locations = master["locations"]
    return {
        "wms_material": [r["system_material_code"] for r in codes if r["system"] == "WMS"],
        "mes_material": [r["system_material_code"] for r in codes if r["system"] == "MES"],
        "wms_location": [r["wms_location_code"] for r in locations if r["wms_location_code"]],
        "mes_location": [r["mes_location_code"] for r in locations if r["mes_location_code"]],
        "machine": [r["machine_id"] for r in master["machines"]],
        "line": sorted({r["line_id"] for r in master["machines"]}),
        "supplier": [r["supplier_id"] for r in master["suppliers"]],
        "customer": [r["customer_id"] for r in master["customers"]],
    }


def failures(contract: Contract, text: pl.DataFrame, code_sets: dict[str, list[str]]) -> dict[int, list[str]]:
    return validate_rows(contract.validation_frame(text), contract.suite(code_sets, NOW)).failures


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_clean_simulator_records_pass_and_broken_ones_fail(table: str, records: dict[str, pl.DataFrame],
                                                           code_sets: dict[str, list[str]]) -> None:
    contract = CONTRACTS[table]
    text = records[table].select(contract.column_names)
    assert text.height > 0
    assert failures(contract, text, code_sets) == {}

    key = contract.key[0]
    sample = pl.concat([text.head(1)] * 3).with_columns(pl.col(key) + pl.int_range(pl.len()).cast(pl.String))
    broken = sample.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(None).otherwise(pl.col(key)).alias(key),
                                 pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("2026-01-05T06:00:00"))
                                 .otherwise(pl.col("occurred_at")).alias("occurred_at"))
    found = failures(contract, broken, code_sets)
    assert found == {1: [f"{key} is present"], 2: ["occurred_at is ISO 8601 with a zone"]}


def test_every_contract_is_exercised_by_the_simulator(records: dict[str, pl.DataFrame]) -> None:
    assert set(records) == set(CONTRACTS)


def test_signals_contract_quarantines_bad_samples_and_keeps_bad_status_nans(tmp_path: Path) -> None:
    from data_contracts.signals import signal_suite, signal_validation_frame

    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    frame = pl.DataFrame({
        "machine_id": ["M1", "M1", "M9", "M1", None],
        "tag": ["t", "u", "t", "v", "t"],
        "source_at": [at, at, at, at, at],
        "value": [1.0, float("nan"), 2.0, float("nan"), 3.0],
        "status_code": [0, 0x80000000, 0, 0, 0],
    })
    verdicts = validate_rows(signal_validation_frame(frame), signal_suite(["M1"], NOW))
    assert verdicts.failures == {2: ["machine_id is a known machine code"],
                                 3: ["value is finite (or the sample is Bad)"],
                                 4: ["machine_id is present"]}


@pytest.mark.parametrize(("table", "record_type", "type_column"), [
    ("mes_work_order_events", "work_order_released", "event_type"),
    ("wms_transactions", "PICK", "transaction_type")])
def test_due_dates_may_lie_ahead_within_the_horizon(table: str, record_type: str, type_column: str,
                                                    records: dict[str, pl.DataFrame],
                                                    code_sets: dict[str, list[str]]) -> None:
    contract = CONTRACTS[table]
    text = records[table].filter(pl.col(type_column) == record_type).select(contract.column_names)
    assert text.height > 0 and text["due_at"].is_not_null().all()
    soon, late = (NOW + timedelta(days=30)).isoformat(), (NOW + timedelta(days=400)).isoformat()
    key = contract.key[0]
    sample = pl.concat([text.head(1)] * 3).with_columns(pl.col(key) + pl.int_range(pl.len()).cast(pl.String))
    dated = sample.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(soon))
        .when(pl.int_range(pl.len()) == 1).then(pl.lit(late)).otherwise(pl.col("due_at")).alias("due_at"),
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(soon)).otherwise(pl.col("occurred_at")).alias("occurred_at"))
    assert failures(contract, dated, code_sets) == {1: ["due_at is after 2000 and at most 366 days ahead"],
                                                     2: ["occurred_at is after 2000 and not in the future"]}
