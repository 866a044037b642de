"""A short text summary of the lake: every existing table with rows, version and file count."""

from __future__ import annotations

from pathlib import Path

from lakehouse.delta_io import DeltaLake


def lake_summary(lake_root: Path | str) -> str:
    lake = DeltaLake(lake_root)
    specs = lake.tables()
    if not specs:
        return f"The lake at {lake_root} has no tables yet."
    width = max(len(s.qualified_name) for s in specs)
    lines = [f"{'table':<{width}}  {'rows':>12}  {'version':>7}  {'files':>5}"]
    for spec in specs:
        dt = lake.table(spec.name)
        lines.append(f"{spec.qualified_name:<{width}}  {dt.count():>12,}  {dt.version():>7}  {len(dt.file_uris()):>5}")
    return "\n".join(lines)
