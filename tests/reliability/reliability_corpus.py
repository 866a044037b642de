"""Hostile inputs from issue 15, as hostile-corpus cases (same `Case` shape as tests/ingestion/hostile_corpus.py).

Content-only cases are `CASES`; cases that need the file system (links, FIFOs, odd names) are built by
`FS_CASES` writers; the memory bombs are in `bombs.py` (they run in a subprocess that reports its peak RSS)."""

from __future__ import annotations

import json
import os
import gzip
from datetime import datetime, timezone
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hostile_corpus import (B2MML_NS, GOOD, HEADER, MES, WMS, XML, Case, event, mes_bad, mes_file, wms_bad, wms_file,
                            wms_line)

SIGNALS = "signals/2026-01-05.parquet"


def operation_event(**fields: object) -> dict[str, object]:
    base = {"work_order_id": "WO-1", "operation_seq": "10", **fields}
    return event(event_id="E9", event_type="operation_started", state=..., reason_code=..., previous_state=...,
                 previous_reason_code=..., **base)


def consumption(quantity: str) -> str:
    return json.dumps({"event_id": "E9", "event_type": "material_consumed", "occurred_at": "2026-01-05T06:00:00Z",
                       "work_order_id": "WO-1", "machine_id": "L1-M1", "material_code": "100100",
                       "consumed_lot_code": "LOT-1", "quantity": quantity, "unit": "G", "location_code": "L1-SUPER"})


def lot_split(*quantities: int) -> str:
    items = ", ".join(f'{{"lot_code": "S{i}", "quantity": {q}}}' for i, q in enumerate(quantities))
    return ('{"event_id": "E9", "event_type": "lot_split", "occurred_at": "2026-01-05T06:00:00Z", '
            '"material_code": "100100", "lot_code": "LOT-1", "unit": "G", "location_code": "L1-SUPER", '
            f'"split_lots": [{items}]}}')


def nested_b2mml(depth: int) -> bytes:
    return (b'<ProductionSchedule xmlns="' + B2MML_NS.encode() + b'"><ID>PS-1</ID>' + b"<ProductionRequest>" * depth
            + b"</ProductionRequest>" * depth + b"</ProductionSchedule>")


CASES: list[Case] = [
    # --- poison files: each is rejected with its reason, nothing else stops -------------------------------
    Case("CSV with CR-only line endings", WMS, wms_file(GOOD).replace(b"\n", b"\r"), "rejected", (0, 0, 0, 0),
         "CR-only line endings"),
    Case("B2MML nested 5,000 deep", XML, nested_b2mml(5000), "rejected", (0, 0, 0, 0), "nested deeper than 64"),
    Case("B2MML nested 100 deep", XML, nested_b2mml(100), "rejected", (0, 0, 0, 0), "nested deeper than 64"),
    Case("empty B2MML file", XML, b"", "rejected", (0, 0, 0, 0), "malformed XML"),
    Case("CSV header naming a column twice", WMS, wms_file(GOOD + ",ALU", header=HEADER + ",material_code"),
         "rejected", (0, 0, 0, 0), "header names columns more than once: ['material_code']"),
    Case("CSV header with a broken quote", WMS, wms_file(GOOD, header='"' + HEADER), "rejected", (0, 0, 0, 0),
         "malformed CSV header"),
    # --- values that must not land as NULL: a value that does not convert is a violation ------------------
    wms_bad("Arabic-Indic digits quantity", "quantity is a finite decimal", transaction_id="T9", quantity="١٥٠"),
    wms_bad("full-width digits quantity", "quantity is a finite decimal", transaction_id="T9", quantity="１５０"),
    wms_bad("Devanagari digits ordered quantity", "ordered_quantity is a finite decimal", transaction_id="T9",
            ordered_quantity="१२"),
    wms_bad("decimal overflowing to infinity", "quantity converts to a finite decimal", transaction_id="T9",
            quantity="1e999"),
    wms_bad("Arabic-Indic digits in a timestamp", "occurred_at is ISO 8601 with a zone", transaction_id="T9",
            occurred_at="٢٠٢٦-01-05T07:00:00+01:00"),
    mes_bad("integer overflow", "operation_seq converts to a 64-bit integer",
            operation_event(operation_seq="99999999999999999999999")),
    mes_bad("full-width digits integer", "operation_seq is an integer", operation_event(operation_seq="１０")),
    mes_bad("JSON number overflow quantity", "quantity is a finite decimal",
            '{"event_id": "E9", "event_type": "material_consumed", "occurred_at": "2026-01-05T06:00:00Z", '
            '"work_order_id": "WO-1", "machine_id": "L1-M1", "material_code": "100100", "consumed_lot_code": '
            '"LOT-1", "quantity": 1e999, "unit": "G", "location_code": "L1-SUPER"}'),
    # --- duplicate keys: rejected on both read paths ------------------------------------------------------
    mes_bad("duplicate JSON key, columnar path", "duplicate key 'state'",
            json.dumps(event(event_id="E9"))[:-1] + ', "state": "down"}'),
    Case("duplicate JSON key, line-by-line path", MES,
         mes_file(event(event_id="E0"), json.dumps(event(event_id="E9"))[:-1] + ', "state": "down"}', "{broken")
         , "landed", (3, 1, 2, 0), "duplicate key 'state'"),
    mes_bad("duplicate key inside a split list", "duplicate key 'quantity'",
            '{"event_id": "E9", "event_type": "lot_split", "occurred_at": "2026-01-05T06:00:00Z", '
            '"material_code": "100100", "lot_code": "LOT-1", "unit": "G", "location_code": "L1-SUPER", '
            '"split_lots": [{"lot_code": "A", "quantity": 1, "quantity": 900}]}'),
    # --- formulas: behind blanks too, in JSON as in CSV ---------------------------------------------------
    mes_bad("formula behind a leading space in JSON", "work_order_id is not a spreadsheet formula",
            operation_event(work_order_id=" =HYPERLINK(\"http://x.test\")")),
    wms_bad("formula minus-digit DDE", "lot_code is not a spreadsheet formula", transaction_id="T9",
            lot_code="-1+cmd|' /C calc'!A0"),
    wms_bad("formula tab", "supplier_lot_code is not a spreadsheet formula", transaction_id="T9",
            supplier_lot_code='"\t=1+1"'),
    # --- second round (tried after the first fixes): more numbers that are not ASCII decimals ------------
    wms_bad("superscript digits quantity", "quantity is a finite decimal", transaction_id="T9", quantity="¹⁵⁰"),
    wms_bad("hexadecimal quantity", "quantity is a finite decimal", transaction_id="T9", quantity="0x96"),
    wms_bad("quantity with an underscore separator", "quantity is a finite decimal", transaction_id="T9",
            quantity="1_500"),
    mes_bad("JSON string quantity in Arabic-Indic digits", "quantity is a finite decimal", consumption("١٥٠")),
    mes_bad("float operation sequence", "operation_seq is an integer", operation_event(operation_seq="10.5")),
    mes_bad("exponent operation sequence", "operation_seq is an integer", operation_event(operation_seq="1e1")),
    mes_bad("JSON number operation sequence beyond 64 bits", "operation_seq converts to a 64-bit integer",
            operation_event(operation_seq=10**30)),
    # --- times that are not ISO 8601 instants --------------------------------------------------------------
    Case("Thai digits in a due date", WMS, wms_file(GOOD, wms_line(
        transaction_id="T9", transaction_type="PICK", supplier_id="", supplier_lot_code="", customer_id="CUS-01",
        shipment_id="SHP-1", ordered_quantity="12", due_at="๒๐๒๖-01-05T17:00:00+01:00")), "landed", (2, 1, 1, 0),
        "due_at is ISO 8601 with a zone"),
    wms_bad("zone offset beyond 24 hours", "occurred_at is a real date and time", transaction_id="T9",
            occurred_at="2026-01-05T07:00:00+25:00"),
    mes_bad("occurred_at as an epoch number", "occurred_at is ISO 8601 with a zone",
            event(event_id="E9", occurred_at=1767600000)),
    # --- identifiers: blank is absent, control characters are not text -------------------------------------
    mes_bad("empty event id", "event_id is present", event(event_id="")),
    mes_bad("blank event id", "event_id is present", event(event_id="   ")),
    wms_bad("NUL byte inside a lot code", "lot_code holds no control characters", transaction_id="T9",
            lot_code="LOT\x00-1"),
    wms_bad("formula behind a carriage return", "lot_code is not a spreadsheet formula", transaction_id="T9",
            lot_code='"\r=1+1"'),
    mes_bad("JSON object as a machine id", "machine_id is a known machine code",
            event(event_id="E9", machine_id={"id": "L1-M1"})),
    mes_bad("JSON scalar line", "JSON value is not an object", "42"),
    # --- a business transaction lands whole or not at all -------------------------------------------------
    Case("lot split with one negative item", MES, mes_file(event(event_id="E0"), lot_split(5, -5)), "landed",
         (3, 1, 2, 0), "the event lands whole or not at all"),
    # --- files that are not what their name says -----------------------------------------------------------
    Case("gzip inside gzip", WMS + ".gz", gzip.compress(gzip.compress(wms_file(GOOD))), "rejected", (0, 0, 0, 0),
         "gzip inside gzip"),
    Case("CSV in UTF-16", WMS, wms_file(GOOD).decode().encode("utf-16"), "rejected", (0, 0, 0, 0),
         "header row is not valid utf-8"),
    Case("CSV delimited by semicolons", WMS, wms_file(GOOD).replace(b",", b";"), "rejected", (0, 0, 0, 0),
         "header does not match the contract"),
    Case("B2MML with a DOCTYPE", XML, b'<?xml version="1.0"?><!DOCTYPE x []><ProductionSchedule xmlns="'
         + B2MML_NS.encode() + b'"><ID>PS-1</ID></ProductionSchedule>', "rejected", (0, 0, 0, 0), "DTDForbidden"),
]


@dataclass(frozen=True)
class FsCase:
    """A case that needs the file system: `make(landing)` creates the entry; `source_file` is its logged name."""

    name: str
    make: Callable[[Path], None]
    source_file: str
    reason: str
    status: str = "rejected"
    rows: tuple[int, int, int, int] = (0, 0, 0, 0)


def _link(target: str, at: str) -> Callable[[Path], None]:
    def make(landing: Path) -> None:
        path = landing / at
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target if target.startswith("/") else landing / target, path)
    return make


def _fifo(at: str, link: str | None = None) -> Callable[[Path], None]:
    def make(landing: Path) -> None:
        path = landing / at
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        if link:
            (landing / link).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, landing / link)
    return make


def _loop(landing: Path) -> None:
    folder = landing / "wms" / "receipts"
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(folder / "b.csv", folder / "a.csv")
    os.symlink(folder / "a.csv", folder / "b.csv")


def _odd_name(landing: Path) -> None:
    folder = landing / "wms" / "receipts"
    folder.mkdir(parents=True, exist_ok=True)
    with open(os.path.join(os.fsencode(folder), b"bad-\xff\xfe-name.csv"), "wb") as handle:
        handle.write(wms_file(GOOD))


def _signals_with_string_server_at(landing: Path) -> None:
    import polars as pl

    path = landing / SIGNALS
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"machine_id": ["L1-M1"], "tag": ["speed"],
                  "source_at": [datetime(2026, 1, 5, 6, tzinfo=timezone.utc)], "server_at": ["not a time"], "value": [1.0], "status_code": [0]}).write_parquet(path)


FS_CASES: list[FsCase] = [
    FsCase("symlink loop", _loop, "wms/receipts/a.csv", "symlink loop"),
    FsCase("symlink to a FIFO", _fifo("wms/fifo-target", "wms/receipts/fifo.csv"), "wms/receipts/fifo.csv",
           "not a regular file (a FIFO)"),
    FsCase("FIFO with a landing name", _fifo("mes/events/2026-01-05.ndjson"), "mes/events/2026-01-05.ndjson",
           "not a regular file (a FIFO)"),
    FsCase("symlink to a character device", _link("/dev/zero", "mes/events/zero.ndjson"), "mes/events/zero.ndjson",
           "resolves outside the landing folder"),
    FsCase("symlink leaving the folder", _link("/etc/hostname", "wms/receipts/host.csv"), "wms/receipts/host.csv",
           "resolves outside the landing folder"),
    FsCase("dangling symlink", _link("wms/receipts/missing.csv", "wms/receipts/dangling.csv"),
           "wms/receipts/dangling.csv", "dangling link"),
    FsCase("invalid UTF-8 file name", _odd_name, "wms/receipts/bad-\\xff\\xfe-name.csv", "", "landed", (1, 1, 0, 0)),
    FsCase("signals Parquet whose server_at holds strings", _signals_with_string_server_at, SIGNALS,
           "server_at must be a timestamp with a time zone, found String"),
]
