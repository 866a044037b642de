import csv
import json

import polars as pl
from defusedxml import ElementTree as SafeET

from simulator.b2mml import NAMESPACES
from simulator.mes_events import EVENT_FIELDS
from simulator.wms_transactions import WMS_COLUMNS, WMS_TYPE_DIRECTORIES

ALL_FAULT_TYPES = {"malformed_record", "unknown_code", "unit_mismatch", "duplicate_file", "duplicate_event",
                   "late_event", "unreported_consumption", "over_issue", "wrong_lot"}


def master(out, name):
    with (out / "master" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def convertible_units(out):
    """(system, code) -> set of units convertible to the material's base unit."""
    base = {r["material_id"]: r["base_unit"] for r in master(out, "materials")}
    edges = [(r["material_id"], r["from_unit"], r["to_unit"]) for r in master(out, "unit_conversions")]
    reachable = {m: {u} for m, u in base.items()}
    for _ in range(4):
        for material, from_unit, to_unit in edges:
            if to_unit in reachable[material]:
                reachable[material].add(from_unit)
    return {(r["system"], r["system_material_code"]): reachable[r["material_id"]]
            for r in master(out, "material_code_map")}


def wms_rows(out):
    for directory in WMS_TYPE_DIRECTORIES.values():
        for path in sorted((out / "wms" / directory).glob("*.csv")):
            with path.open(encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                assert tuple(reader.fieldnames) == WMS_COLUMNS
                for row in reader:
                    yield path, row


def mes_lines(out):
    for path in sorted((out / "mes" / "events").glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield path, line


def test_clean_run_has_no_faults_and_all_codes_map(clean_run):
    _, out, result = clean_run
    assert result.faults == 0
    assert pl.read_parquet(out / "truth" / "faults.parquet").height == 0
    units = convertible_units(out)
    wms_locations = {r["wms_location_code"] for r in master(out, "locations") if r["wms_location_code"]}
    mes_locations = {r["mes_location_code"] for r in master(out, "locations") if r["mes_location_code"]}
    machines = {r["machine_id"] for r in master(out, "machines")}
    rows = list(wms_rows(out))
    assert len({row["transaction_type"] for _, row in rows}) == 8
    for _, row in rows:
        assert row["unit"] in units[("WMS", row["material_code"])]
        for column in ("from_location_code", "to_location_code"):
            assert row[column] == "" or row[column] in wms_locations
    events = [json.loads(line) for _, line in mes_lines(out)]
    assert {e["event_type"] for e in events} == set(EVENT_FIELDS)
    assert len({e["event_id"] for e in events}) == len(events)
    for event in events:
        assert set(event) == {"event_id", "event_type", "occurred_at"} | set(EVENT_FIELDS[event["event_type"]])
        if "material_code" in event:
            assert event["unit"] in units[("MES", event["material_code"])]
        if "machine_id" in event:
            assert event["machine_id"] in machines
        if "location_code" in event:
            assert event["location_code"] in mes_locations
    assert not list(out.rglob("*_redelivery.*"))


def test_b2mml_messages_parse_with_expected_namespaces(clean_run):
    _, out, _ = clean_run
    roots = {}
    for path in sorted((out / "mes" / "b2mml").rglob("*.xml")):
        root = SafeET.parse(path).getroot()
        namespace, local = root.tag[1:].split("}")
        assert namespace in NAMESPACES
        assert path.name.startswith(local + "_")
        roots.setdefault(local, []).append((namespace, root))
    assert set(roots) == {"ProductionSchedule", "ProductionPerformance", "MaterialInformation"}
    assert {ns for ns, _ in roots["ProductionSchedule"]} == set(NAMESPACES)
    b2mml_orders = {path.stem.split("_", 1)[1] for path in (out / "mes" / "b2mml").rglob("ProductionSchedule_*.xml")}
    order_event_types = {"work_order_released", "work_order_started", "work_order_completed", "operation_started",
                         "operation_completed", "material_consumed", "lot_produced"}
    ndjson_orders = {event["work_order_id"] for event in map(json.loads, (line for _, line in mes_lines(out)))
                     if event["event_type"] in order_event_types}
    assert b2mml_orders and ndjson_orders and not b2mml_orders & ndjson_orders
    namespace, performance = roots["ProductionPerformance"][0]
    actual = performance.find(f"{{{namespace}}}ProductionResponse/{{{namespace}}}SegmentResponse/"
                              f"{{{namespace}}}MaterialConsumedActual")
    assert actual.find(f"{{{namespace}}}MaterialLotID").text.startswith("LOT-")
    assert float(actual.find(f"{{{namespace}}}Quantity/{{{namespace}}}QuantityString").text) > 0


def test_signals_schema_and_values(clean_run):
    cfg, out, _ = clean_run
    signals = pl.read_parquet(out / "signals" / "2026-01-06.parquet")
    assert signals.columns == ["machine_id", "tag", "source_at", "value", "status_code"]
    assert signals.height == 6 * 9 * 86400 // cfg.signal_interval_s
    assert str(signals.schema["source_at"]) == "Datetime(time_unit='us', time_zone='UTC')"
    good = signals.filter(pl.col("tag") == "good_count").sort("machine_id", "source_at")
    assert good.group_by("machine_id").agg((pl.col("value").diff().drop_nulls() >= 0).all())["value"].all()
    running_share = signals.filter(pl.col("tag") == "state")["value"].eq(1).mean()
    assert 0.2 < running_share < 0.7


def test_faulty_run_lists_every_fault_type_and_records_exist(faulty_run):
    _, out, result = faulty_run
    faults = pl.read_parquet(out / "truth" / "faults.parquet")
    assert set(faults["fault_type"]) == ALL_FAULT_TYPES
    assert faults.height == result.faults
    assert faults["fault_id"].n_unique() == faults.height
    for fault in faults.iter_rows(named=True):
        path = out / fault["source_file"]
        assert path.exists(), fault
        text = path.read_text(encoding="utf-8")
        key = fault["record_key"]
        kind = fault["fault_type"]
        if kind == "unreported_consumption":
            assert key not in text
        elif kind == "duplicate_file":
            assert text == (out / key).read_text(encoding="utf-8")
        elif kind == "duplicate_event":
            assert sum(1 for line in text.splitlines() if key in line) >= 2
        else:
            assert key in text, fault


def test_faulty_records_are_really_broken(faulty_run):
    _, out, _ = faulty_run
    faults = pl.read_parquet(out / "truth" / "faults.parquet")
    malformed = set(faults.filter((pl.col("fault_type") == "malformed_record")
                                  & (pl.col("source_system") == "MES"))["record_key"])
    broken = set()
    for _, line in mes_lines(out):
        try:
            json.loads(line)
        except json.JSONDecodeError:
            broken.add(line[13:24])
    assert malformed and broken == malformed
    units = convertible_units(out)
    unit_faults = set(faults.filter(pl.col("fault_type") == "unit_mismatch")["record_key"])
    for _, row in wms_rows(out):
        if row["transaction_id"] in unit_faults:
            assert row["unit"] not in units.get(("WMS", row["material_code"]), {row["unit"]})
    late = faults.filter(pl.col("fault_type") == "late_event")
    for fault in late.iter_rows(named=True):
        file_date = fault["source_file"].rsplit("/", 1)[1][:10]
        assert fault["description"].split(" ")[3][:10] < file_date
