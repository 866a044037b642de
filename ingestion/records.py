"""What a reader makes of a file: text records with their position, and what it could not read."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_RAW_CHARS = 65_536  # quarantine keeps the first 64 KiB of a raw record and its full length


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


@dataclass
class ParsedFile:
    records: list[RawRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    file_error: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.records) + len(self.rejections)


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
