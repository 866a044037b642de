"""Readers for line-oriented source files: MES NDJSON and WMS CSV exports.

Files are read as bytes and split into lines, so one bad line (invalid UTF-8, broken JSON, a wrong number of
CSV fields, an over-long line) becomes a rejection with its line number and never stops the rest of the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingestion.records import ParsedFile, RawRecord, Rejection, as_text, clip

MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_INFLATED_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class CsvDialect:
    """How one source writes its CSV: declared per source, never sniffed."""

    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    header_map: tuple[tuple[str, str], ...] = ()  # source header -> contract column


def read_bytes(path: Path) -> bytes:
    """File content; gzip files are decompressed (bounded, so a zip bomb is a file error, not an OOM)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            try:
                inflated = stream.read(MAX_INFLATED_BYTES + 1)
            except (OSError, EOFError) as exc:
                raise ValueError(f"broken gzip stream: {exc}") from exc
        if len(inflated) > MAX_INFLATED_BYTES:
            raise ValueError(f"gzip content larger than {MAX_INFLATED_BYTES} bytes (compression bomb?)")
        return inflated
    return data


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        yield number, line.rstrip(b"\r")


def _decode(line: bytes, encoding: str) -> str | None:
    try:
        return line.decode(encoding)
    except UnicodeDecodeError:
        return None


def read_ndjson(data: bytes) -> ParsedFile:
    """One JSON object per line; blank lines are skipped; record_type is the event_type."""
    parsed = ParsedFile()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, line in _lines(data):
        if not line.strip():
            continue
        preview = line[:1024].decode("utf-8", errors="replace")
        if len(line) > MAX_LINE_BYTES:
            parsed.rejections.append(Rejection(number, 0, preview, len(line),
                                               f"line longer than {MAX_LINE_BYTES} bytes"))
            continue
        text = _decode(line, "utf-8")
        if text is None:
            parsed.rejections.append(Rejection(number, 0, preview, len(line), "invalid UTF-8"))
            continue
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            parsed.rejections.append(Rejection(number, 0, clip(text), len(line), f"invalid JSON: {exc}"))
            continue
        except RecursionError:
            parsed.rejections.append(Rejection(number, 0, clip(text), len(line), "invalid JSON: nested too deeply"))
            continue
        if not isinstance(obj, dict):
            parsed.rejections.append(Rejection(number, 0, clip(text), len(line), "JSON value is not an object"))
            continue
        fields = {str(k): _json_text(v) for k, v in obj.items()}
        parsed.records.append(RawRecord(number, 0, fields.get("event_type"), fields, clip(text)))
    return parsed


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_text(value: object) -> str | None:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return as_text(value)


def read_csv(data: bytes, dialect: CsvDialect, columns: tuple[str, ...],
             numeric_columns: frozenset[str] = frozenset()) -> ParsedFile:
    """A header row, then records; the header must name exactly `columns` (after the dialect's header map)."""
    parsed = ParsedFile()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = [(n, line) for n, line in _lines(data) if line.strip()]
    if not lines:
        parsed.file_error = "empty file: no header row"
        return parsed
    header_text = _decode(lines[0][1], dialect.encoding)
    if header_text is None:
        parsed.file_error = f"header row is not valid {dialect.encoding}"
        return parsed
    renames = dict(dialect.header_map)
    header = [renames.get(h.strip(), h.strip()) for h in next(csv.reader([header_text], delimiter=dialect.delimiter))]
    missing = [c for c in columns if c not in header]
    extra = [h for h in header if h not in columns]
    if missing or extra:
        parsed.file_error = f"header does not match the contract: missing {missing}, unexpected {extra}"
        return parsed
    for number, line in lines[1:]:
        preview = line[:1024].decode("utf-8", errors="replace")
        if len(line) > MAX_LINE_BYTES:
            parsed.rejections.append(Rejection(number, 0, preview, len(line),
                                               f"line longer than {MAX_LINE_BYTES} bytes"))
            continue
        text = _decode(line, dialect.encoding)
        if text is None:
            parsed.rejections.append(Rejection(number, 0, preview, len(line), f"invalid {dialect.encoding}"))
            continue
        try:
            values = next(csv.reader([text], delimiter=dialect.delimiter, strict=True))
        except csv.Error as exc:
            parsed.rejections.append(Rejection(number, 0, clip(text), len(line), f"malformed CSV: {exc}"))
            continue
        if len(values) != len(header):
            parsed.rejections.append(Rejection(number, 0, clip(text), len(line),
                                               f"expected {len(header)} fields, got {len(values)}"))
            continue
        fields = {}
        for name, value in zip(header, values, strict=True):
            value = value.strip()
            if dialect.decimal != "." and name in numeric_columns:
                value = value.replace(dialect.decimal, ".")
            fields[name] = value or None
        parsed.records.append(RawRecord(number, 0, fields.get("transaction_type"), fields, clip(text)))
    return parsed
