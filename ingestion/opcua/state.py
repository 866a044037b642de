"""The collector's small state file: lets a restarted collector tell a crash from a graceful stop.

`<lake_root>/_state/opcua/<collector_id>.json` is rewritten atomically (temp file + rename) at start, after each
successful flush and at a graceful stop. If a new run finds `running: true`, the previous process died without
stopping; everything after its `last_flush_at` is lost and booked as a `collector_restart` gap."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class CollectorState:
    collector_id: str
    run_id: str
    running: bool
    started_at: datetime
    last_flush_at: datetime | None = None
    stopped_at: datetime | None = None


def state_path(lake_root: Path, collector_id: str) -> Path:
    return Path(lake_root) / "_state" / "opcua" / f"{collector_id}.json"


def read_state(path: Path) -> CollectorState | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    for key in ("started_at", "last_flush_at", "stopped_at"):
        raw[key] = datetime.fromisoformat(raw[key]) if raw.get(key) else None
    return CollectorState(**raw)


def write_state(path: Path, state: CollectorState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(state).items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def crash_gap_start(previous: CollectorState | None) -> datetime | None:
    """When the previous run crashed, the last moment its data is known to be in the lake."""
    if previous is None or not previous.running:
        return None
    return previous.last_flush_at or previous.started_at
