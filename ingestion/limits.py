"""Per-file limits of the landing: what one file may cost before it is rejected as a whole, with the reason.

A file past a limit is rejected (ingest log status `rejected`, the error naming the limit), never partly read,
so nothing a single file holds can exhaust the machine or stop other files from landing. Limits are checked
on cheap facts first (the file's size, its line count, a Parquet footer's row count) before anything is parsed.

| limit | value | checked on |
|---|---|---|
| MAX_FILE_BYTES | 1 GiB | the file's size on disk, before reading |
| MAX_INFLATED_BYTES (readers) | 512 MiB | a gzip file's decompressed content, read bounded |
| MAX_LINES | 5,000,000 | lines of a CSV / NDJSON file (blank lines count), counted before splitting |
| MAX_LINE_BYTES (readers) | 8 MiB | one CSV / NDJSON line: that line is quarantined, the rest lands |
| MAX_XML_BYTES (b2mml) | 64 MiB | a B2MML file |
| MAX_XML_DEPTH | 64 | element nesting of a B2MML file, while parsing |
| MAX_XML_ELEMENTS | 2,000,000 | elements of a B2MML file, while parsing |
| MAX_PARQUET_ROWS | 10,000,000 | rows of a signals Parquet file, from its footer before decoding |
| MAX_REJECTIONS_PER_FILE | 10,000 | records of one file that could not be read or routed (quarantine rows) |
"""

from __future__ import annotations

MAX_FILE_BYTES = 1024 * 1024 * 1024
MAX_LINES = 5_000_000
MAX_XML_DEPTH = 64
MAX_XML_ELEMENTS = 2_000_000
MAX_PARQUET_ROWS = 10_000_000
MAX_REJECTIONS_PER_FILE = 10_000


class FileLimitExceeded(ValueError):
    """The file is past one of the per-file limits; the message names the limit."""


def check_line_count(data: bytes) -> None:
    lines = data.count(b"\n") + 1
    if lines > MAX_LINES:
        raise FileLimitExceeded(f"file has {lines:,} lines, more than the limit of {MAX_LINES:,} "
                                "(ingestion.limits.MAX_LINES); split it into smaller files")
