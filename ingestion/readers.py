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

import numpy as np
import polars as pl
import pyarrow as pa

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
    lines = data.split(b"\n")

    def raw(line: int, seq: int) -> str:
        return clip(lines[line - 1].rstrip(b"\r").decode("utf-8", errors="replace")) if 0 < line <= len(lines) else ""

    fast = _columnar_ndjson(data, lines)
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


def _columnar_ndjson(data: bytes, lines: list[bytes]) -> tuple[pl.DataFrame, list[int]] | None:
    """The whole file through Polars, or None when the line-by-line path must decide. Rows holding nested
    values (lot split/merge lists) are returned as line numbers for the line-by-line path."""
    lengths = np.fromiter(map(len, lines), np.int64, len(lines))
    if lengths.max() > MAX_LINE_BYTES:
        return None
    line_texts = _line_texts(data, lengths)
    if line_texts is None:
        return None  # the line-by-line path names the lines that are not UTF-8
    is_record = line_texts.str.strip_chars(" \t\n\r\x0b\x0c") != ""  # what bytes.strip() takes away
    numbers = pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True).filter(is_record)
    if numbers.is_empty():
        return None
    records = line_texts.filter(is_record)
    frame, suspect = _typed_frame(data, records, full_inference=False)
    if frame is None or frame.height != len(numbers) or not _holds_every_key(frame, records.filter(suspect)):
        frame, suspect = _typed_frame(data, records, full_inference=True)
    if frame is None or frame.height != len(numbers) or "event_type" not in frame.columns:
        return None
    # Polars keeps the first of two equal keys; lines that may repeat a key are decided line by line
    repeated = _lines_repeating_a_key(records.filter(suspect), numbers.filter(suspect))
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


def _line_texts(data: bytes, lengths: np.ndarray) -> pl.Series | None:
    """The lines (of these byte lengths) as one Polars string column over the file's bytes, each with its
    `\\n`; None when the file is not UTF-8."""
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths + 1, out=offsets[1:])
    offsets[-1] = len(data)
    texts = pa.LargeStringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        texts.validate(full=True)
    except pa.ArrowInvalid:
        return None
    series = pl.from_arrow(texts)
    assert isinstance(series, pl.Series)
    return series


JSON_KEY_RE = r'"(?:[^"\\]|\\.)*"\s*:'


def _typed_frame(data: bytes, records: pl.Series, *,
                 full_inference: bool) -> tuple[pl.DataFrame | None, pl.Series]:
    """The file as Polars reads it, with the lines whose number of key tokens may differ from the values Polars
    found in them (a key with a null value, a repeated key, a key outside the schema, nested objects).

    The key tokens are bounded by a count a regex of one character class makes cheaply (4x faster than
    counting the tokens themselves): an object of k members holds k - 1 commas and one `{`, so commas + `{`
    >= keys >= the values Polars found, and a line where the count equals the values holds exactly one key per
    value. Commas or braces inside strings only add lines to the suspects, which the callers then read key
    token by key token.

    Polars infers the types from the first rows unless `full_inference`: a later value of another type fails
    the read (or is read as the wider type would read it), and a key first met later is dropped, which the
    caller finds among the suspect lines."""
    try:
        frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None if full_inference else 100)
    except Exception:  # noqa: BLE001 - any Polars parse failure means: read it line by line
        return None, records.is_null()
    if frame.height != records.len() or not frame.width:  # no keys at all: the line-by-line path decides
        return frame, records.is_null()
    values = frame.select(pl.sum_horizontal(pl.col(c).is_not_null() for c in frame.columns)).to_series()
    return frame, records.str.count_matches(r"[,{]") != values


def _key_tokens(texts: pl.Series) -> pl.Series:
    """The key tokens of each line (`"name"` with the colon and blanks after it taken away)."""
    return texts.str.extract_all(JSON_KEY_RE).list.eval(pl.element().str.strip_chars_end(": \t"))


def _holds_every_key(frame: pl.DataFrame, texts: pl.Series) -> bool:
    """True when every key token of `texts` names a column of `frame` (a token with an escape counts as
    unknown)."""
    tokens = _key_tokens(texts).explode().drop_nulls().unique()
    return all("\\" not in token and token[1:-1] in frame.columns for token in tokens)


def _lines_repeating_a_key(texts: pl.Series, numbers: pl.Series) -> list[int]:
    """Line numbers whose text holds one key token twice (a duplicate key, or a key repeated in nested
    objects): a cheap columnar over-approximation; the line-by-line path then decides exactly.

    A line repeats a key token only if it holds more key tokens than Polars found values in it, so the caller
    passes only those lines (a key with a null value, a repeated key)."""
    if texts.is_empty():
        return []
    keys = _key_tokens(texts)
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
