"""Readers for line-oriented source files: MES NDJSON and WMS CSV exports.

Files are read as bytes and split into lines, so one bad line (invalid UTF-8, broken JSON, a wrong number of
CSV fields, an over-long line) becomes a rejection with its line number and never stops the rest of the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingestion.limits import check_line_count
from ingestion.records import ParsedFile, RawRecord, Rejection, as_text, clip, parsed_from_records

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
        if inflated[:2] == b"\x1f\x8b":  # read on, it would be taken for text with odd line endings
            raise ValueError("gzip inside gzip: the file is compressed twice; deliver it compressed once")
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
    """One JSON object per line; blank lines are skipped; `_type` is the event_type.

    Clean files take a columnar path (Polars parses the whole file); a file Polars cannot read as a whole, or
    with anything the line-by-line path words more precisely (non-finite numbers, over-long lines), is read
    line by line, so every bad line becomes its own rejection."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    check_line_count(data)
    lines = _LazyLines(data)

    def raw(line: int, seq: int) -> str:
        return clip(lines[line - 1].rstrip(b"\r").decode("utf-8", errors="replace")) if 0 < line <= len(lines) else ""

    fast = _columnar_ndjson(data)
    if fast is not None:
        frame, nested_lines = fast
        if nested_lines:
            slow = _line_by_line_ndjson([(n, lines[n - 1].rstrip(b"\r")) for n in nested_lines])
            frame = pl.concat([frame, slow.frame], how="diagonal_relaxed").sort("_line", "_seq")
            return ParsedFile(frame, slow.rejections, raw=raw)
        return ParsedFile(frame, [], raw=raw)
    parsed = _line_by_line_ndjson((n, line.rstrip(b"\r")) for n, line in enumerate(lines, start=1) if line.strip())
    parsed.raw = raw
    return parsed


class _LazyLines:
    """The file's lines, split on first use: a clean file read the columnar way never needs them."""

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data
        self._lines: list[bytes] = []

    def _split(self) -> list[bytes]:
        if self._data is not None:
            self._lines, self._data = self._data.split(b"\n"), None
        return self._lines

    def __getitem__(self, index: int) -> bytes:
        return self._split()[index]

    def __len__(self) -> int:
        return len(self._split())

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._split())


def _columnar_ndjson(data: bytes) -> tuple[pl.DataFrame, list[int]] | None:
    """The whole file through Polars, or None when the line-by-line path must decide. Rows holding nested
    values (lot split/merge lists) are returned as line numbers for the line-by-line path."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # the line-by-line path names the lines that are not UTF-8
    lines = pl.Series("line", [text]).str.split("\n").explode()
    del text
    is_record = lines.str.strip_chars(" \t\n\r\x0b\x0c") != ""  # what bytes.strip() takes away
    numbers = pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True).filter(is_record)
    if numbers.is_empty() or lines.str.len_bytes().max() > MAX_LINE_BYTES:
        return None
    try:
        frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
    except Exception:  # noqa: BLE001 - any Polars parse failure means: read it line by line
        return None
    if frame.height != len(numbers) or "event_type" not in frame.columns:
        return None
    # Polars keeps the first of two equal keys; lines that may repeat a key are decided line by line
    repeated = _lines_repeating_a_key(lines.filter(is_record), numbers, frame)
    frame = frame.with_columns(numbers.alias("_line"))
    nested = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Struct, pl.Array))]
    nested_lines: list[int] = []
    if nested or repeated:
        has_nested = pl.any_horizontal([pl.col(c).is_not_null() for c in nested]) if nested else pl.lit(False)
        slow = has_nested | pl.col("_line").is_in(repeated)
        nested_lines = frame.filter(slow)["_line"].to_list()
        frame = frame.filter(~slow).drop(nested)
    texts = []
    for name, dtype in frame.schema.items():
        if name == "_line":
            continue
        if dtype.is_float() and frame.select(~pl.col(name).is_finite() & pl.col(name).is_not_null()).to_series().any():
            return None
        column = pl.col(name)
        if dtype == pl.Boolean:
            column = pl.when(column).then(pl.lit("true")).when(~column).then(pl.lit("false"))
        texts.append(column.cast(pl.String).alias(name))
    frame = frame.select(*texts, "_line", pl.lit(0, pl.Int64).alias("_seq"))
    return frame.with_columns(pl.col("event_type").alias("_type")), nested_lines


JSON_KEY_RE = r'"(?:[^"\\]|\\.)*"\s*:'


def _lines_repeating_a_key(texts: pl.Series, numbers: pl.Series, frame: pl.DataFrame) -> list[int]:
    """Line numbers whose text holds one key token twice (a duplicate key, or a key repeated in nested
    objects): a cheap columnar over-approximation; the line-by-line path then decides exactly.

    A line repeats a key token only if it holds more key tokens than Polars found values in it, so the tokens
    are compared only on lines where the two counts differ (a key with a null value, a repeated key)."""
    values = frame.select(pl.sum_horizontal(pl.col(c).is_not_null() for c in frame.columns)).to_series()
    suspect = texts.str.count_matches(JSON_KEY_RE) != values
    texts, numbers = texts.filter(suspect), numbers.filter(suspect)
    if texts.is_empty():
        return []
    keys = texts.str.extract_all(JSON_KEY_RE).list.eval(pl.element().str.strip_chars_end(": \t"))
    repeats = keys.list.len() != keys.list.unique().list.len()
    return numbers.filter(repeats.fill_null(False)).to_list()


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"duplicate key {twice[0]!r} in one object")
    return dict(pairs)


def _line_by_line_ndjson(numbered: Iterable[tuple[int, bytes]]) -> ParsedFile:
    records, rejections = [], []
    for number, line in numbered:
        if not line.strip():
            continue
        preview = line[:1024].decode("utf-8", errors="replace")
        if len(line) > MAX_LINE_BYTES:
            rejections.append(Rejection(number, 0, preview, len(line), f"line longer than {MAX_LINE_BYTES} bytes"))
            continue
        text = _decode(line, "utf-8")
        if text is None:
            rejections.append(Rejection(number, 0, preview, len(line), "invalid UTF-8"))
            continue
        try:
            obj = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
        except ValueError as exc:
            rejections.append(Rejection(number, 0, clip(text), len(line), f"invalid JSON: {exc}"))
            continue
        except RecursionError:
            rejections.append(Rejection(number, 0, clip(text), len(line), "invalid JSON: nested too deeply"))
            continue
        if not isinstance(obj, dict):
            rejections.append(Rejection(number, 0, clip(text), len(line), "JSON value is not an object"))
            continue
        fields = {str(k): _json_text(v) for k, v in obj.items()}
        records.append(RawRecord(number, 0, fields.get("event_type"), fields, clip(text)))
    return parsed_from_records(records, rejections)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_text(value: object) -> str | None:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return as_text(value)


def read_csv(data: bytes, dialect: CsvDialect, columns: tuple[str, ...],
             numeric_columns: frozenset[str] = frozenset(),
             optional_columns: frozenset[str] = frozenset()) -> ParsedFile:
    """A header row, then records; the header must name exactly `columns` (after the dialect's header map),
    except that `optional_columns` (columns added to the export later) may be absent: their values are null."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    check_line_count(data)
    if b"\r" in data and b"\n" not in data:
        return ParsedFile(file_error="CR-only line endings (classic Mac OS) are not read; write LF or CRLF")
    lines = [(n, line) for n, line in _lines(data) if line.strip()]
    if not lines:
        return ParsedFile(file_error="empty file: no header row")
    header_text = _decode(lines[0][1], dialect.encoding)
    if header_text is None:
        return ParsedFile(file_error=f"header row is not valid {dialect.encoding}")
    renames = dict(dialect.header_map)
    try:
        names = next(csv.reader([header_text], delimiter=dialect.delimiter, strict=True))
    except csv.Error as exc:
        return ParsedFile(file_error=f"malformed CSV header: {exc}")
    header = [renames.get(h.strip(), h.strip()) for h in names]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        return ParsedFile(file_error=f"header names columns more than once: {twice}")
    missing = [c for c in columns if c not in header and c not in optional_columns]
    extra = [h for h in header if h not in columns]
    if missing or extra:
        return ParsedFile(file_error=f"header does not match the contract: missing {missing}, unexpected {extra}")
    records, rejections = [], []
    for number, line in lines[1:]:
        preview = line[:1024].decode("utf-8", errors="replace")
        if len(line) > MAX_LINE_BYTES:
            rejections.append(Rejection(number, 0, preview, len(line), f"line longer than {MAX_LINE_BYTES} bytes"))
            continue
        text = _decode(line, dialect.encoding)
        if text is None:
            rejections.append(Rejection(number, 0, preview, len(line), f"invalid {dialect.encoding}"))
            continue
        try:
            values = next(csv.reader([text], delimiter=dialect.delimiter, strict=True))
        except csv.Error as exc:
            rejections.append(Rejection(number, 0, clip(text), len(line), f"malformed CSV: {exc}"))
            continue
        if len(values) != len(header):
            rejections.append(Rejection(number, 0, clip(text), len(line),
                                        f"expected {len(header)} fields, got {len(values)}"))
            continue
        fields = {}
        for name, value in zip(header, values, strict=True):
            value = value.strip()
            if dialect.decimal != "." and name in numeric_columns:
                value = value.replace(dialect.decimal, ".")
            fields[name] = value or None
        records.append(RawRecord(number, 0, fields.get("transaction_type"), fields, clip(text)))
    return parsed_from_records(records, rejections)
