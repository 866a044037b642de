"""How many files `machine_signals` holds after an hour of collection: N simulated flushes through the writer.

No server and no waiting: each flush enqueues one new value per node into a sink (as the subscription handler
would), flushes the writer and lets it compact when due, on a simulated clock advancing `--flush-interval-s` per flush.

    python -m ingestion.opcua.compaction_figure                     # 3600 flushes at 1 s, compact every 3600 s
    python -m ingestion.opcua.compaction_figure --compact-every-s 600 --nodes 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asyncua import ua

from ingestion.opcua.samples import Target
from ingestion.opcua.sink import SignalSink
from ingestion.opcua.state import CollectorState
from ingestion.opcua.writer import SIGNALS, SignalWriter
from lakehouse.delta_io import DeltaLake

START = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)  # inside one day: one partition


@dataclass(frozen=True)
class Figure:
    flushes: int
    flush_interval_s: float
    compact_every_s: float
    nodes: int
    rows: int
    active_files: int  # after the last flush (and the compaction it made due)
    peak_active_files: int  # the most files the table held between compactions
    files_without_compaction: int  # what the table would hold with compaction off
    compactions: int
    seconds: float  # wall time of the simulation


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def simulate(lake: DeltaLake, *, flushes: int = 3600, flush_interval_s: float = 1.0,
                   compact_every_s: float = 3600.0, nodes: int = 2) -> Figure:
    """Run `flushes` flushes of one value per node each; return the table's file counts."""
    clock = _Clock()
    state_file = lake.root / "_state" / "opcua" / "figure.json"
    writer = SignalWriter(lake, flush_interval_s=flush_interval_s, compact_every_s=compact_every_s, clock=clock)
    sink = SignalSink(endpoint="opc.tcp://127.0.0.1:4840", run_id="compaction-figure", state_file=state_file,
                      state=CollectorState("figure", "compaction-figure", True, START), flush_max_values=1_000_000)
    sink.targets = [Target(f"ns=2;s=M{i + 1}.temperature_c", f"M{i + 1}", "temperature_c") for i in range(nodes)]
    started = time.perf_counter()
    peak = added_by_compaction = removed_by_compaction = 0
    for flush in range(1, flushes + 1):
        clock.now = flush * flush_interval_s
        at = START + timedelta(seconds=clock.now)
        for handle in range(nodes):
            sink.enqueue(handle, ua.DataValue(ua.Variant(20.0 + flush * 1e-3, ua.VariantType.Double),
                                              SourceTimestamp=at, ServerTimestamp=at))
        await writer.flush([sink])  # by hand: the writer's periodic task would wait for the real clock
        due = compact_every_s > 0 and clock() - writer._last_compaction >= compact_every_s
        if due:  # the table's peak is right before a compaction
            peak = max(peak, len(lake.table(SIGNALS).file_uris()))
        for done in await writer.compact_if_due():
            if done.table == SIGNALS:
                added_by_compaction += done.files_added
                removed_by_compaction += done.files_removed
    active = len(lake.table(SIGNALS).file_uris())
    return Figure(flushes, flush_interval_s, compact_every_s, nodes, lake.row_count(SIGNALS), active,
                  max(peak, active), active + removed_by_compaction - added_by_compaction, writer.compactions,
                  round(time.perf_counter() - started, 1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flushes", type=int, default=3600)
    parser.add_argument("--flush-interval-s", type=float, default=1.0)
    parser.add_argument("--compact-every-s", type=float, default=3600.0)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--lake", type=Path, help="lake root (default: a temporary folder, removed afterwards)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="plantlake-compaction-") as tmp:
        lake = DeltaLake(args.lake or Path(tmp) / "lake")
        figure = asyncio.run(simulate(lake, flushes=args.flushes, flush_interval_s=args.flush_interval_s,
                                      compact_every_s=args.compact_every_s, nodes=args.nodes))
    hours = figure.flushes * figure.flush_interval_s / 3600
    print(f"after {figure.flushes} flushes at {figure.flush_interval_s:g} s ({hours:.3g} h of collection, "
          f"{figure.nodes} nodes, compact every {figure.compact_every_s:g} s): {figure.active_files} active files "
          f"in bronze.machine_signals (peak {figure.peak_active_files}; {figure.files_without_compaction} without "
          f"compaction), {figure.rows} rows, {figure.compactions} compactions, simulated in {figure.seconds:g} s")
    print(json.dumps(asdict(figure)))


if __name__ == "__main__":
    main()
