"""Bytes -> CSV records, one line decoded at a time.

Arbor exports are UTF-8 with a byte-order mark and CRLF, but a file touched by a spreadsheet
can hold a stray Windows-1252 byte. Decoding per line means one bad byte rejects one row and
the rest of the file goes on. A quoted field may span lines (RFC 4180); when such a record then
has the wrong number of fields it is more likely an unbalanced quote, so the first line is
re-read alone and reading resumes on the next line, instead of one quote swallowing the file.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from worker.errors import ImportFileError

BOM = codecs.BOM_UTF8
_SURROGATES = range(0xDC80, 0xDD00)  # what surrogateescape makes of bytes 0x80-0xFF

# Friendly names for the Windows-1252 bytes a spreadsheet most often leaves behind.
_CP1252_NAMES = {
    0x80: "euro sign",
    0x85: "ellipsis",
    0x91: "opening single quote",
    0x92: "apostrophe",
    0x93: "opening double quote",
    0x94: "closing double quote",
    0x96: "en dash",
    0x97: "em dash",
    0xA0: "no-break space",
    0xA3: "pound sign",
}


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, as an editor counts
    data: bytes  # without the line end
    text: str  # decoded; undecodable bytes as lone surrogates (surrogateescape)
    bad_bytes: bool


@dataclass(frozen=True)
class Record:
    line: int  # first physical line of the record
    fields: list[str]
    raw: str  # the line(s) as received, undecodable bytes escaped as \x92
    bad_bytes: bool


def split_lines(data: bytes) -> list[Line]:
    """Physical lines (CRLF, LF or CR), each decoded as UTF-8 on its own."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        raise ImportFileError("the file is UTF-16 text; export it again as CSV (UTF-8)")
    if data.startswith(BOM):
        data = data[len(BOM):]
    lines = []
    for number, chunk in enumerate(data.splitlines(), start=1):
        try:
            text, bad = chunk.decode("utf-8"), False
        except UnicodeDecodeError:
            text, bad = chunk.decode("utf-8", "surrogateescape"), True
        lines.append(Line(number, chunk, text, bad))
    return lines


def escaped(data: bytes) -> str:
    r"""Text for a person: valid UTF-8 as is, other bytes as \x92, a NUL byte as \x00 (which
    PostgreSQL cannot store in text)."""
    return data.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def has_bad_bytes(text: str) -> bool:
    return any(ord(ch) in _SURROGATES for ch in text)


def describe_bad_bytes(text: str) -> str:
    """'byte 0x92 (Windows-1252 apostrophe)' for the undecodable bytes in `text`."""
    seen: list[int] = []
    for ch in text:
        if ord(ch) in _SURROGATES:
            byte = ord(ch) - 0xDC00
            if byte not in seen:
                seen.append(byte)
    parts = []
    for byte in seen:
        name = _CP1252_NAMES.get(byte)
        if name is None:
            try:
                name = repr(bytes([byte]).decode("cp1252"))
            except UnicodeDecodeError:
                name = None
        parts.append(f"0x{byte:02X} (Windows-1252 {name})" if name else f"0x{byte:02X}")
    return ("byte " if len(parts) == 1 else "bytes ") + ", ".join(parts)


def clean(text: str) -> str:
    """A field with undecodable bytes made printable (for messages and stored values)."""
    return escaped(text.encode("utf-8", "surrogateescape"))


def _one(lines: list[Line], start: int) -> tuple[list[str], int]:
    """Parse one record from lines[start:]; returns the fields and how many lines it used."""
    used = 0

    def feed() -> Iterator[str]:
        # Indexing, not islice(lines, start, None): islice walks from the list's head each
        # time, which made a file of n lines cost n^2 (a 50 MB export took hours).
        nonlocal used
        for index in range(start, len(lines)):
            used += 1
            yield lines[index].text + "\n"

    try:
        fields = next(csv.reader(feed()))
    except StopIteration:
        return [], max(used, 1)
    except csv.Error:
        return _single(lines[start]), 1
    return [f.replace("\r\n", "\n") for f in fields], max(used, 1)


def _single(line: Line) -> list[str]:
    """One physical line on its own (an unbalanced quote ends at the line end)."""
    try:
        rows = list(csv.reader([line.text]))
    except csv.Error:
        return line.text.split(",")
    return rows[0] if rows else []


def records(data: bytes, expected_fields: Callable[[], int | None] = lambda: None) -> Iterator[Record]:
    """Non-blank records in file order. `expected_fields()` is asked after each record (the header sets it)."""
    lines = split_lines(data)
    index = 0
    while index < len(lines):
        fields, used = _one(lines, index)
        expected = expected_fields()
        if used > 1 and expected is not None and len(fields) != expected:
            fields, used = _single(lines[index]), 1
        span = lines[index:index + used]
        index += used
        if not fields or fields == [""]:
            continue
        raw = "\n".join(escaped(line.data) for line in span)
        yield Record(span[0].number, fields, raw, any(line.bad_bytes for line in span))
