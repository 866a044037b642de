"""One writer per lake: a lock file at the lake's root held by `ingest` and `run` while they write.

The lock file (`_plantlake_writer.lock`) names its owner: pid, host, the command, when it started and a
heartbeat the owner refreshes every HEARTBEAT_S seconds. A second writer finds it and stops with
`LakeBusyError` ("lake is busy ...", CLI exit code 5); a retry after the owner finishes succeeds. A lock whose
owner is gone - same host and the pid no longer runs, or no heartbeat for STALE_AFTER_S seconds (a crashed
host) - is stale: the next writer takes it over. Taking the lock is atomic (a hard link of the complete
file, which fails when the name exists), and a stale
lock is moved aside with an atomic rename, so two writers racing for it cannot both win."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from lakehouse.errors import PlantlakeError

LOCK_NAME = "_plantlake_writer.lock"
HEARTBEAT_S = 10.0
STALE_AFTER_S = 120.0


class LakeBusyError(PlantlakeError):
    """Another process is writing this lake; retry when it has finished."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_stale(owner: dict | None, lock: Path) -> bool:
    """True when the owner is gone: its pid no longer runs on this host, or its heartbeat is too old."""
    if owner is None:  # unreadable: being written right now, or garbage; judge by the file's age
        try:
            return time.time() - lock.stat().st_mtime > STALE_AFTER_S
        except OSError:
            return True
    if owner.get("host") == socket.gethostname() and not _pid_alive(int(owner.get("pid", 0))):
        return True
    try:
        beat = datetime.fromisoformat(owner["heartbeat_at"]).timestamp()
    except (KeyError, ValueError, TypeError):
        return True
    return time.time() - beat > STALE_AFTER_S


class LakeLock:
    def __init__(self, lake_root: Path | str, command: str) -> None:
        self.path = Path(lake_root) / LOCK_NAME
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                      "token": uuid.uuid4().hex, "started_at": _now(), "heartbeat_at": _now()}
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            prepared = self.path.with_name(f"{LOCK_NAME}.{self.owner['token']}")
            prepared.write_text(json.dumps(self.owner))
            try:  # a hard link appears whole and only when the name is free: nobody reads a half-written lock
                os.link(prepared, self.path)
            except FileExistsError:
                holder = _read(self.path)
                if not is_stale(holder, self.path):
                    raise LakeBusyError(_busy_message(self.path.parent, holder)) from None
                aside = self.path.with_name(f"{LOCK_NAME}.stale-{uuid.uuid4().hex[:8]}")
                try:
                    os.rename(self.path, aside)  # atomic: one racer moves it, the others find it gone
                except FileNotFoundError:
                    continue
                moved = _read(aside)
                if holder and moved and moved.get("token") != holder.get("token"):
                    try:  # another racer took the lock meanwhile: put its live lock back
                        os.link(aside, self.path)
                    except FileExistsError:
                        pass
                os.unlink(aside)
                continue
            finally:
                prepared.unlink(missing_ok=True)
            self._beat = threading.Thread(target=self._heartbeat, name="lake-lock-heartbeat", daemon=True)
            self._beat.start()
            return
        raise LakeBusyError(_busy_message(self.path.parent, _read(self.path)))

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            if not self._ours():
                return
            self.owner["heartbeat_at"] = _now()
            temporary = self.path.with_name(f"{LOCK_NAME}.{self.owner['token']}")
            temporary.write_text(json.dumps(self.owner))
            os.replace(temporary, self.path)

    def _ours(self) -> bool:
        holder = _read(self.path)
        return bool(holder) and holder.get("token") == self.owner["token"]

    def release(self) -> None:
        self._stop.set()
        if self._beat:
            self._beat.join(timeout=5)
        if self._ours():
            self.path.unlink(missing_ok=True)


def _busy_message(lake_root: Path, holder: dict | None) -> str:
    who = "another writer" if not holder else \
        f"{holder.get('command', '?')} (pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('started_at')})"
    return (f"lake is busy: {who} is writing {lake_root}; retry when it has finished (a lock whose owner died is "
            f"taken over automatically after {STALE_AFTER_S:.0f} s without a heartbeat)")


_HELD = threading.local()  # per thread: lake root -> [lock, depth]


@contextmanager
def lake_writer(lake_root: Path | str, command: str, *, wait_s: float = 0.0) -> Iterator[LakeLock]:
    """Hold the lake's writer lock for the block; `LakeBusyError` when another live writer holds it (after
    trying for `wait_s` seconds). Reentrant within one thread: the Dagster run that `plantlake run` executes
    in-process takes the lock its caller already holds."""
    key = str(Path(lake_root).absolute())
    held: dict[str, list] = _HELD.__dict__.setdefault("locks", {})
    if key in held:
        held[key][1] += 1
        try:
            yield held[key][0]
        finally:
            held[key][1] -= 1
        return
    lock = LakeLock(lake_root, command)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            lock.acquire()
            break
        except LakeBusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.25)
    held[key] = [lock, 1]
    try:
        yield lock
    finally:
        del held[key]
        lock.release()


@contextmanager
def table_write_lock(lake_root: Path | str, table: str) -> Iterator[None]:
    """Serialize read-then-append writes (insert-only landing) to one table across processes and threads on this
    host: the OPC UA collector lands signals while `ingest` may land signal files into the same table. An
    advisory `flock` on `_locks/<table>.lock`, held for one write (milliseconds to seconds), released by the kernel
    when its holder dies, so it is never stale."""
    path = Path(lake_root) / "_locks" / f"{table}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
