"""What a reader makes of a file: a frame of text records with their position, and what it could not read.

Every reader returns the same shape, so routing, contracts and landing work on frames whatever the format:
one row per record, every field as text (null when missing), plus `_line` (1-based line, 0 for XML),
`_seq` (record number within the line or message) and `_type` (the record type, e.g. the MES event type).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

MAX_RAW_CHARS = 65_536  # quarantine keeps the first 64 KiB of a raw record and its full length
POSITION_COLUMNS = ("_line", "_seq", "_type")


@dataclass(frozen=True)
class RawRecord:
    source_line: int
    record_seq: int
    record_type: str | None
    fields: dict[str, str | None]
    raw: str


@dataclass(frozen=True)
class Rejection:
    source_line: int
    record_seq: int
    raw: str
    raw_bytes: int
    reason: str
    record_type: str | None = None


def _no_raw(line: int, seq: int) -> str:
    return ""


@dataclass
class ParsedFile:
    frame: pl.DataFrame = field(default_factory=lambda: empty_frame())
    rejections: list[Rejection] = field(default_factory=list)
    file_error: str | None = None
    raw: Callable[[int, int], str] = _no_raw  # the raw text of the record at (line, seq), for quarantine

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.rejections)


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema={"_line": pl.Int64, "_seq": pl.Int64, "_type": pl.String})


def frame_from_records(records: list[RawRecord]) -> pl.DataFrame:
    """Records (dicts of text) as a frame with the union of their fields as String columns."""
    if not records:
        return empty_frame()
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.fields))
    data: dict[str, list] = {name: [r.fields.get(name) for r in records] for name in names}
    data.update(_line=[r.source_line for r in records], _seq=[r.record_seq for r in records],
                _type=[r.record_type for r in records])
    schema = {name: pl.String for name in names} | {"_line": pl.Int64, "_seq": pl.Int64, "_type": pl.String}
    return pl.DataFrame(data, schema=schema)


def parsed_from_records(records: list[RawRecord], rejections: list[Rejection]) -> ParsedFile:
    raws = {(r.source_line, r.record_seq): r.raw for r in records}
    return ParsedFile(frame_from_records(records), rejections, raw=lambda line, seq: raws.get((line, seq), ""))


def clip(raw: str) -> str:
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS]


def as_text(value: object) -> str | None:
    """JSON/XML/CSV values as the text the contract checks; empty strings are missing values."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text if text != "" else None
