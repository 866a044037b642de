"""End-to-end lead time through the genealogy, on a hand-made graph (numpy index, no engine parity to prove)."""

from __future__ import annotations

import polars as pl
import pytest
from kpi_support import MATERIAL_CODES, PLANT_TZ, at, by_scope_day, day

from lakehouse.engines import collect_arrow
from transforms.genealogy import GenealogyIndex, trace
from transforms.kpi import end_to_end_lead_time
from transforms.kpi.traceability import NEVER, earliest_receipt_us, shipped_lots

CODES = pl.from_arrow(MATERIAL_CODES)
EDGE_ROWS = [  # parent, child, edge_type, material_code, occurred_at
    ("SUP:S1", "RM-LOT-1", "receipt", "RM-100", at(1, 8)),
    ("SUP:S2", "RM-LOT-2", "receipt", "RM-200", at(2, 8)),
    ("SUP:S3", "RM-LOT-2", "receipt", "RM-200", at(3, 8)),        # a later second receipt of the lot
    ("RM-LOT-1", "SEMI-1", "consumption", "RM-100", at(3, 10)),
    ("RM-LOT-2", "SEMI-1", "consumption", "RM-200", at(3, 10)),
    ("SEMI-1", "SEMI-1a", "split", "SEMI-100", at(4, 6)),
    ("SEMI-1a", "FG-LOT-1", "consumption", "SEMI-100", at(5, 6)),
    ("FG-LOT-1", "SHP:X1", "shipment", "FG-100", at(6, 10)),
    ("FG-LOT-1", "SHP:X1", "shipment", "FG-100", at(6, 11)),        # same lot, same shipment: counted once
    ("FG-LOT-1", "SHP:X2", "shipment", "FG-100", at(7, 23, 30)),    # plant day 01-08
    ("RM-LOT-2", "SHP:X3", "shipment", "RM-200", at(4, 8)),         # a purchased lot sold as it is
    ("FG-LOT-9", "SHP:X4", "shipment", "FG-100", at(6, 12)),        # no supplier receipt behind it
]


def edges(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame({
        "parent_node_id": [r[0] for r in rows], "child_node_id": [r[1] for r in rows],
        "edge_type": [r[2] for r in rows], "work_order_id": [None] * len(rows), "material_code": [r[3] for r in rows],
        "quantity": [10.0] * len(rows), "occurred_at": [r[4] for r in rows]},
        schema_overrides={"work_order_id": pl.String, "occurred_at": pl.Datetime("us", "UTC")})


def test_lead_time_runs_from_the_earliest_receipt_behind_the_shipped_lot() -> None:
    rows = collect_arrow(end_to_end_lead_time(edges(EDGE_ROWS), CODES, plant_timezone=PLANT_TZ)).to_pylist()
    assert {(r["kpi"], r["scope_type"]) for r in rows} == {("end_to_end_lead_time", "material")}
    assert by_scope_day(rows) == {
        ("MAT-FG1", day(6)): (5 * 86_400 + 3 * 3600.0, 1.0),            # 01-01 08:00 -> 01-06 11:00
        ("MAT-FG1", day(8)): (6 * 86_400 + 15.5 * 3600, 1.0),           # 01-01 08:00 -> 01-07 23:30
        ("MAT-RM2", day(4)): (2 * 86_400.0, 1.0)}                       # 01-02 08:00 -> 01-04 08:00


def test_a_lot_without_supplier_receipt_is_listed_but_not_measured() -> None:
    lots = shipped_lots(GenealogyIndex.build(edges(EDGE_ROWS))).sort("lot", "shipment")
    assert lots.select("lot", "shipment").rows() == [("FG-LOT-1", "SHP:X1"), ("FG-LOT-1", "SHP:X2"),
                                                     ("FG-LOT-9", "SHP:X4"), ("RM-LOT-2", "SHP:X3")]
    assert lots.filter(pl.col("lot") == "FG-LOT-9")["first_receipt_at"].to_list() == [None]


def test_earliest_receipt_equals_the_backward_trace_of_every_lot() -> None:
    index = GenealogyIndex.build(edges(EDGE_ROWS))
    earliest = earliest_receipt_us(index)
    receipts = {r[1]: [] for r in EDGE_ROWS if r[2] == "receipt"}
    for parent, child, kind, _, when in EDGE_ROWS:
        if kind == "receipt":
            receipts[child].append(int(when.timestamp() * 1_000_000))
    for lot in ("RM-LOT-1", "RM-LOT-2", "SEMI-1", "SEMI-1a", "FG-LOT-1", "FG-LOT-9"):
        behind = (trace(index, lot, "backward").ancestors() | {lot}) & set(receipts)
        expected = min((min(receipts[node]) for node in behind), default=NEVER)
        assert earliest[index.node_id(lot)] == expected, lot


def test_a_cycle_in_bad_data_terminates() -> None:
    cyclic = EDGE_ROWS[:1] + [("RM-LOT-1", "LOT-X", "merge", "RM-100", at(2, 9)),
                              ("LOT-X", "LOT-Y", "split", "RM-100", at(2, 10)),
                              ("LOT-Y", "LOT-X", "merge", "RM-100", at(2, 11)),
                              ("LOT-Y", "SHP:Z", "shipment", "RM-100", at(3, 8))]
    rows = collect_arrow(end_to_end_lead_time(edges(cyclic), CODES, plant_timezone=PLANT_TZ)).to_pylist()
    assert by_scope_day(rows) == {("MAT-RM1", day(3)): (2 * 86_400.0, 1.0)}


def test_no_shipments_give_no_rows() -> None:
    assert collect_arrow(end_to_end_lead_time(edges(EDGE_ROWS[:7]), CODES, plant_timezone=PLANT_TZ)).num_rows == 0


@pytest.mark.parametrize("extended", [False, True])
def test_an_extended_index_gives_the_same_lead_times(extended: bool) -> None:
    full = edges(EDGE_ROWS)
    index = GenealogyIndex.build(full.head(6))
    index = index.extend(full.slice(6)) if extended else GenealogyIndex.build(full)
    rows = collect_arrow(end_to_end_lead_time(index, CODES, plant_timezone=PLANT_TZ)).to_pylist()
    expected_s = (5 * 86_400 + 3 * 3600) + (6 * 86_400 + 15.5 * 3600) + 2 * 86_400
    assert len(rows) == 3 and sum(r["numerator"] for r in rows) == expected_s
