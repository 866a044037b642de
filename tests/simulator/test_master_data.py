import csv


def rows(out, name):
    with (out / "master" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_equipment_hierarchy_is_isa95(clean_run):
    cfg, out, _ = clean_run
    equipment = {r["equipment_id"]: r for r in rows(out, "equipment")}
    levels = [r["equipment_level"] for r in equipment.values()]
    assert levels.count("enterprise") == 1 and levels.count("site") == 1 and levels.count("area") == 1
    assert levels.count("line") == cfg.lines and levels.count("work_cell") == cfg.machine_count
    order = ["enterprise", "site", "area", "line", "work_cell"]
    for row in equipment.values():
        if row["parent_equipment_id"]:
            parent = equipment[row["parent_equipment_id"]]
            assert order.index(parent["equipment_level"]) == order.index(row["equipment_level"]) - 1
    machines = rows(out, "machines")
    assert {m["machine_id"] for m in machines} == {e for e, r in equipment.items() if r["equipment_level"] == "work_cell"}


def test_codes_differ_between_systems_and_units_convert(clean_run):
    _, out, _ = clean_run
    materials = {r["material_id"]: r for r in rows(out, "materials")}
    code_map = rows(out, "material_code_map")
    mes = {r["material_id"]: r for r in code_map if r["system"] == "MES"}
    wms = {r["material_id"]: r for r in code_map if r["system"] == "WMS"}
    assert set(mes) == set(wms) == set(materials)
    assert all(mes[m]["system_material_code"] != wms[m]["system_material_code"] for m in materials)
    assert sum(mes[m]["system_unit"] != wms[m]["system_unit"] for m in materials) >= 8
    conversions = rows(out, "unit_conversions")
    pal = [c for c in conversions if c["material_id"] == "PK-2001"]
    assert {(c["from_unit"], c["to_unit"], float(c["factor"])) for c in pal} == {("PAL", "BOX", 40.0),
                                                                                  ("BOX", "EA", 25.0)}


def test_bom_has_three_levels_and_routings_cover_products(clean_run):
    cfg, out, _ = clean_run
    materials = {r["material_id"]: r["material_type"] for r in rows(out, "materials")}
    bom = rows(out, "bom")
    finished_components = {materials[r["component_material_id"]] for r in bom if r["bom_level"] == "1"}
    semi_components = {materials[r["component_material_id"]] for r in bom if r["bom_level"] == "2"}
    assert finished_components == {"semi_finished", "raw", "packaging"}
    assert semi_components == {"raw"}
    routings = rows(out, "routings")
    produced = {m for m, t in materials.items() if t in ("semi_finished", "finished")}
    assert {r["material_id"] for r in routings} == produced
    finished_ops = [r for r in routings if r["material_id"] == "FG-4001" and r["line_id"] == "LINE-01"]
    assert [int(r["operation_seq"]) for r in finished_ops] == [10, 20, 30]
    assert all(float(r["ideal_cycle_time_s"]) > 0 for r in routings)
    breaks = rows(out, "shift_breaks")
    assert len(rows(out, "shift_calendar")) == 2 and len(breaks) == 4
