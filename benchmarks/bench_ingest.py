"""Landing MES NDJSON events with full contract validation, against a raw `polars.read_ndjson` +
`write_deltalake` of the same file (no validation, no quarantine, no dedup, no lineage)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from deltalake import write_deltalake

from benchmarks.harness import Measurement, peak_rss_mb
from ingestion.landing import Lander
from lakehouse.delta_io import DeltaLake

MACHINES = [f"WC-0{line}-0{m}" for line in (1, 2) for m in (1, 2, 3, 4)]
STATES = [("running", "producing"), ("idle", "no_order"), ("unplanned_stop", "breakdown"),
          ("planned_stop", "break"), ("unplanned_stop", "micro_stop")]


def write_events(path: Path, events: int, seed: int = 0) -> None:
    """Equipment state changes (the bulk of MES traffic) and material consumption, one JSON per line."""
    rng = np.random.default_rng(seed)
    start = 1_767_600_000
    offsets = np.sort(rng.integers(0, 14 * 86_400, events))
    machine = rng.integers(0, len(MACHINES), events)
    state = rng.integers(0, len(STATES), events)
    consumption = rng.random(events) < 0.2
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for i in range(events):
            at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + int(offsets[i]))) + ".000+00:00"
            if consumption[i]:
                event = {"event_id": f"EV{i:09d}", "event_type": "material_consumed", "occurred_at": at,
                         "work_order_id": f"WO-{i // 50:06d}", "machine_id": MACHINES[machine[i]],
                         "material_code": "100100", "consumed_lot_code": f"LOT-{i // 200:07d}",
                         "quantity": int(machine[i]) * 10 + 5, "unit": "G", "location_code": "L1-SUPER"}
            else:
                s, r = STATES[state[i]]
                event = {"event_id": f"EV{i:09d}", "event_type": "equipment_state_changed", "occurred_at": at,
                         "machine_id": MACHINES[machine[i]], "state": s, "reason_code": r,
                         "previous_state": "idle", "previous_reason_code": "no_order"}
            out.write(json.dumps(event) + "\n")


def master_data(lake: DeltaLake) -> None:
    import pyarrow as pa

    lake.overwrite("map_material_code", pa.table({"material_id": ["RM-1"], "system": ["MES"],
                                                  "system_material_code": ["100100"], "system_unit": ["G"]}))
    lake.overwrite("dim_location", pa.table({"location_id": ["LS-1"], "location_type": ["line_side"],
                                             "zone_id": ["L1"], "wms_location_code": ["LS-1"],
                                             "mes_location_code": ["L1-SUPER"], "line_id": ["WC-01"]}))
    lake.overwrite("dim_machine", pa.table({"machine_id": MACHINES, "line_id": [m[:5] for m in MACHINES],
                                            "machine_name": MACHINES, "opcua_browse_name": MACHINES}))


def run(events: int = 1_000_000) -> tuple[Measurement, Measurement]:
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        landing = work / "landing"
        write_events(landing / "mes" / "events" / "2026-01-05.ndjson", events)
        lake = DeltaLake(work / "lake")
        master_data(lake)
        start = time.perf_counter()
        lander = Lander(lake, landing)
        [outcome] = lander.land_all()
        ours = time.perf_counter() - start
        split = {step: round(seconds, 2) for step, seconds in sorted(lander.step_seconds.items())}
        split["other"] = round(ours - sum(lander.step_seconds.values()), 2)
        assert outcome.conserved and outcome.rows_landed == events, outcome

        start = time.perf_counter()
        raw = pl.read_ndjson(landing / "mes" / "events" / "2026-01-05.ndjson", infer_schema_length=events)
        write_deltalake(str(work / "raw"), raw.to_arrow(), mode="overwrite")
        peer = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return (Measurement("ingest_ndjson", "plantlake Lander (parse, GX contract, dedup, lineage, Delta)", ours,
                        events, "events", {"process_peak_rss_mb": round(peak_rss_mb()), "split_s": split}),
            Measurement("ingest_ndjson", "polars.read_ndjson + write_deltalake (no checks)", peer, events, "events"))


def split_line(ours: Measurement) -> str:
    """Where the Lander's time went, in seconds per step (`other`: opening the run, finding files)."""
    return "Lander split (s): " + ", ".join(f"{step} {seconds:.2f}" for step, seconds in ours.notes["split_s"].items())


if __name__ == "__main__":
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    ours, peer = run(size)
    print(f"{ours.subject}: {ours.seconds:.2f} s, {ours.rate:,.0f} events/s")
    print(f"{peer.subject}: {peer.seconds:.2f} s, {peer.rate:,.0f} events/s")
    print(f"throughput ratio (ours / raw): {peer.seconds / ours.seconds:.2f}x")
    print(split_line(ours))
