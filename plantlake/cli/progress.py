"""Progress and logging of the long commands (`run`, `ingest`, `demo`).

Progress goes to standard error: a tqdm bar when standard error is a terminal, otherwise a log line now and
then (`[ingest] 12/456 files, mes/events/... (3 s)`), and a heartbeat line when nothing moved for a while, so a
run is never silent for a minute. Answers stay on standard output.

`run` materializes the Dagster job in-process (`Lake.run`); its progress per asset comes from watching the
lake: every asset writes its Delta table, so a new commit in `layer/table/_delta_log` is that asset done.

`configure_logging` sets the level of the `plantlake` Python logger (from `--verbose` / `--log-level` /
PLANTLAKE_LOG_LEVEL) and exports it as PLANTLAKE_LOG_LEVEL for the in-process Dagster run.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

LOG_LEVELS = ("debug", "info", "warning", "error")
log = logging.getLogger("plantlake")


class _StderrHandler(logging.Handler):
    """Writes records to the current standard error (through click, so a test runner's stream is used)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


_HANDLER = _StderrHandler()
_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def configure_logging(level: str, ctx: click.Context | None = None) -> None:
    """Set the `plantlake` logger to `level` (debug, info, warning, error) with one handler on standard error,
    and PLANTLAKE_LOG_LEVEL for the Dagster console log of in-process runs; all restored when `ctx` closes."""
    logger = logging.getLogger("plantlake")
    previous_level, previous_env = logger.level, os.environ.get("PLANTLAKE_LOG_LEVEL")
    added = _HANDLER not in logger.handlers
    logger.setLevel(getattr(logging, level.upper()))
    if added:
        logger.addHandler(_HANDLER)
    os.environ["PLANTLAKE_LOG_LEVEL"] = level.upper()
    if ctx is None:
        return

    def restore() -> None:
        logger.setLevel(previous_level)
        if added:
            logger.removeHandler(_HANDLER)
        if previous_env is None:
            os.environ.pop("PLANTLAKE_LOG_LEVEL", None)
        else:
            os.environ["PLANTLAKE_LOG_LEVEL"] = previous_env

    ctx.call_on_close(restore)


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Progress of one step on standard error: a bar on a terminal, log lines otherwise.

    `advance(detail)` counts one item done; `tick()` (called about once a second) refreshes the bar or, when no
    line was written for `heartbeat` seconds, writes one; `echo(text)` prints a line of the answer to standard
    output without breaking the bar."""

    def __init__(self, label: str, total: int | None, unit: str, *, every: float = 2.0,
                 heartbeat: float = 15.0, terminal: bool | None = None) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.every, self.heartbeat = every, heartbeat
        self.done = 0
        self.started = self._last_line = time.monotonic()
        self._lock = threading.Lock()
        self._pending = False  # items done since the last line
        self._reported = -1  # the count the last line showed
        self._bar: Any = None
        if stderr_is_terminal() if terminal is None else terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True)

    def line(self, text: str) -> None:
        """A message about the step (`[label] text`), on standard error."""
        with self._lock:
            self._write(text)

    def echo(self, text: str) -> None:
        """A line of the command's answer, on standard output."""
        with self._lock:
            if self._bar is not None:
                self._bar.write(text, file=sys.stdout)
            else:
                click.echo(text)

    def advance(self, detail: str = "", *, force: bool = False) -> None:
        with self._lock:
            self.done += 1
            if self._bar is not None:
                self._bar.set_postfix_str(detail[-60:], refresh=False)
                self._bar.update(1)
                return
            now = time.monotonic()
            finished = self.total is not None and self.done >= self.total
            if force or finished or self.done == 1 or now - self._last_line >= self.every:
                self._write(self._count() + (f", {detail}" if detail else "") + f" ({self._elapsed(now)})")
                self._pending = False
            else:
                self._pending = True

    def tick(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.refresh()
                return
            now = time.monotonic()
            if now - self._last_line >= self.heartbeat:
                self._write(f"{self._count()} so far, still working ({self._elapsed(now)})")
                self._pending = False

    def finish(self, done: int, what: str) -> None:
        """The step is over: `done` items (`what`: materialized, landed ...) whatever was counted on the way."""
        with self._lock:
            if self._bar is not None:
                self._bar.n = done
                self._bar.refresh()
            if self._bar is None and done == self.done == self._reported:
                return  # the last line already said so
            self.done, self._pending = done, False
            self._write(f"{self._count()} {what} ({self._elapsed(time.monotonic())})")

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            elif self._pending:
                self._write(self._count() + f" ({self._elapsed(time.monotonic())})")
                self._pending = False

    def _count(self) -> str:
        plural = self.unit if self.unit.endswith("s") else self.unit + "s"
        return f"{self.done}/{self.total} {plural}" if self.total is not None else f"{self.done} {plural}"

    def _elapsed(self, now: float) -> str:
        seconds = now - self.started
        return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"

    def _write(self, text: str) -> None:
        self._last_line, self._reported = time.monotonic(), self.done
        text = f"[{self.label}] {text}"
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            click.echo(text, err=True)


class LakeWatcher:
    """While a run writes to the lake, calls `on_commit("layer.table")` for every table that gets a new Delta
    commit, and `on_tick()` about once a second (a background thread; used as a context manager)."""

    def __init__(self, root: Path, on_commit: Callable[[str], None], on_tick: Callable[[], None] = lambda: None,
                 interval: float = 0.5) -> None:
        self.root, self.on_commit, self.on_tick, self.interval = Path(root), on_commit, on_tick, interval
        self._seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="plantlake-lake-watcher", daemon=True)

    def __enter__(self) -> LakeWatcher:
        self._seen = self.versions()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._poll()

    def versions(self) -> dict[str, int]:
        """The newest committed version of every table under the root, by `layer.table`."""
        found: dict[str, int] = {}
        try:
            layers = [e for e in os.scandir(self.root) if e.is_dir() and not e.name.startswith(("_", "."))]
        except OSError:
            return found
        for layer in layers:
            try:
                tables = [e for e in os.scandir(layer.path) if e.is_dir()]
            except OSError:
                continue
            for table in tables:
                try:
                    names = os.listdir(os.path.join(table.path, "_delta_log"))
                except OSError:
                    continue
                versions = [int(n[:20]) for n in names if n.endswith(".json") and n[:20].isdigit()]
                if versions:
                    found[f"{layer.name}.{table.name}"] = max(versions)
        return found

    def _loop(self) -> None:
        last_tick = time.monotonic()
        while not self._stop.wait(self.interval):
            self._poll()
            if time.monotonic() - last_tick >= 1.0:
                last_tick = time.monotonic()
                self.on_tick()

    def _poll(self) -> None:
        for name, version in sorted(self.versions().items()):
            if version > self._seen.get(name, -1):
                self._seen[name] = version
                try:
                    self.on_commit(name)
                except Exception:  # noqa: BLE001 - progress must never break the run
                    log.debug("progress callback failed", exc_info=True)


def asset_tables() -> set[str]:
    """`layer.table` of every asset `materialize_everything` materializes (its key is `layer/table`)."""
    try:
        import dagster as dg

        from pipelines.definitions import ALL_ASSETS
    except Exception:  # noqa: BLE001 - without the count the bar just has no total
        log.debug("could not count the assets", exc_info=True)
        return set()
    keys = [key for item in ALL_ASSETS if isinstance(item, dg.AssetsDefinition) for key in item.keys]
    return {".".join(key.path) for key in keys}


def run_with_progress(lake: Any, source_dir: Path, label: str = "run", *, full_refresh: bool = False) -> Any:
    """`lake.run(source_dir)` with progress per asset on standard error; the run's summary line on standard
    output. Returns the run's outcome."""
    assets = asset_tables()
    progress = Progress(label, len(assets) or None, "asset", every=0.0)
    progress.line(f"materializing {len(assets) or 'every'} assets from {source_dir} into {lake.root} "
                  "(in-process Dagster run)")
    done: set[str] = set()

    def on_commit(name: str) -> None:
        if name in assets and name not in done:
            done.add(name)
            progress.advance(f"{name} written")
        else:
            log.debug(f"new commit in {name}")

    try:
        with LakeWatcher(lake.root, on_commit, progress.tick):
            outcome = lake.run(source_dir, echo=progress.echo, full_refresh=full_refresh)
        progress.finish(len(outcome.materialized), "materialized")
    finally:
        progress.close()
    return outcome


def landing_file_count(source_dir: Path, lake_root: Path | None = None) -> int | None:
    """How many files `ingest` will read (each is landed, rejected, or found a duplicate delivery); with the
    lake, files its ingest log already holds unchanged are not counted (they are not read again)."""
    try:
        from ingestion.signal_files import PATTERNS
        from ingestion.sources import SOURCES

        root = source_dir.resolve()
        found = {p for source in SOURCES for pattern in source.patterns for p in root.glob(pattern)
                 if p.is_file() or p.is_symlink()} | {p for pattern in PATTERNS for p in root.glob(pattern)
                                                      if p.is_file()}
        if lake_root is not None and found:
            from ingestion.landing import Lander
            from lakehouse.delta_io import DeltaLake

            lander = Lander(DeltaLake(lake_root), root)
            found = {p for p in found if not lander.logged_unchanged(p)}
        return len(found)
    except Exception:  # noqa: BLE001 - without the count the progress just has no total
        log.debug("could not count the landing files", exc_info=True)
        return None
