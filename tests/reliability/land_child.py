"""Child process of the reliability tests: land a landing folder into a lake, print each file's outcome as JSON.

Run as a file (`python land_child.py LAKE LANDING`), not with `python -c`: pyspark, imported underneath, takes a
`__main__` without `__file__` for a doctest run and exits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ingestion.landing import Lander
from ingestion.signal_files import land_signal_files
from lakehouse.delta_io import DeltaLake


def main(lake_root: str, landing: str) -> None:
    lander = Lander(DeltaLake(Path(lake_root)), Path(landing))
    outcomes = [*lander.land_all(), *land_signal_files(lander)]
    print(json.dumps({o.source_file: [o.status, o.error, o.rows_read, o.rows_landed, o.rows_quarantined,
                                      o.rows_duplicate] for o in outcomes}))
    # this process's own peak (VmHWM is per address space, so it starts afresh at exec; the rusage maximum also
    # holds the forked copy of the parent it started as, which in a long test run is the test process's size)
    status = Path("/proc/self/status").read_text()
    print(f"peak_rss_kib={next(line.split()[1] for line in status.splitlines() if line.startswith('VmHWM:'))}",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
