"""The research package's `.sql` table dumps: tab-separated, a header row, MySQL-style escapes
(`\\t`, `\\n`, `\\r`, `\\\\`, `\\0`) and the literal `NULL` (or `\\N`) for null.

A row with the wrong number of fields is not guessed at: it is kept aside with its line number
(`TsvReader.rejects`). Bytes that are not UTF-8 are replaced and counted (`TsvReader.non_utf8()`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

_ESCAPES = {
    "t": "\t",
    "n": "\n",
    "r": "\r",
    "\\": "\\",
    "0": "\0",
    "Z": "\x1a",
    "b": "\b",
    "'": "'",
    '"': '"',
}
_ESCAPE = re.compile(r"\\(.)", re.S)
NULLS = frozenset({"NULL", "\\N"})
# A header is a row of column names: a first line longer than this is not one (a schema inferred
# from it would be as big as the line), and it is never read whole.
MAX_HEADER_BYTES = 64 * 1024
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _replace(match: re.Match) -> str:
    return _ESCAPES.get(match.group(1), match.group(0))


def unescape(field: str) -> str:
    """Undo the dump's escapes; an unknown escape keeps its backslash."""
    return _ESCAPE.sub(_replace, field) if "\\" in field else field


def value_of(field: str) -> str | None:
    return None if field in NULLS else unescape(field)


def non_utf8_bytes(raw: bytes) -> int:
    """How many bytes of `raw` are not UTF-8 (each one becomes U+FFFD or part of one)."""
    try:
        raw.decode("utf-8")
        return 0
    except UnicodeDecodeError:
        return len(_ESCAPED_BYTE.findall(raw.decode("utf-8", "surrogateescape")))


class NonUtf8Count:
    """Lines and bytes that were not UTF-8, with the first few line numbers, for the receipt."""

    FIRST = 10

    def __init__(self):
        self.bytes = 0
        self.lines = 0
        self.first_lines: list[int] = []

    def add(self, number: int, raw: bytes) -> int:
        count = non_utf8_bytes(raw)
        if count:
            self.bytes += count
            self.lines += 1
            if len(self.first_lines) < self.FIRST:
                self.first_lines.append(number)
        return count

    def counted(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        """`lines` as they are, counted (line numbers from 1)."""
        for number, line in enumerate(lines, start=1):
            if not line.isascii():
                self.add(number, line)
            yield line

    def receipt(self) -> dict:
        return {"bytes": self.bytes, "lines": self.lines, "first_lines": self.first_lines}


def _header_line(lines: Iterator[bytes]) -> bytes:
    """The first line; from a file, no more than MAX_HEADER_BYTES + 1 bytes of it are read."""
    return lines.readline(MAX_HEADER_BYTES + 1) if hasattr(lines, "readline") else next(lines, b"")


class TsvReader:
    """Rows of one table dump as dicts of column -> str or None."""

    def __init__(self, lines: Iterable[bytes], source: str):
        self.source = source
        self._lines = iter(lines)
        header = _header_line(self._lines)
        if len(header.rstrip(b"\r\n")) > MAX_HEADER_BYTES:
            raise ValueError(
                f"{source}: the first line is longer than {MAX_HEADER_BYTES} bytes, so it is not a table "
                "dump's header (a row of column names)"
            )
        self.rejects: list[dict] = []
        self.non_utf8_count = NonUtf8Count()
        self.rows_read = 0
        self.columns = (
            [name.strip() for name in self._decode(header, 1).rstrip("\r\n").split("\t")]
            if header.strip()
            else []
        )

    @property
    def bad_utf8_lines(self) -> list[int]:
        """The first lines (numbers from 1) with bytes that are not UTF-8."""
        return self.non_utf8_count.first_lines

    def non_utf8(self) -> dict:
        return self.non_utf8_count.receipt()

    def _decode(self, line: bytes, number: int) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.non_utf8_count.add(number, line)
            return line.decode("utf-8", errors="replace")

    def record(self, number: int, raw: bytes) -> list | None:
        """Line `number` as a list of values in the order of `columns`; None when it is empty, or
        rejected for its number of fields (kept in `rejects`)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = self._decode(raw, number)
        text = text.rstrip("\r\n")
        if not text:
            return None
        fields = text.split("\t")
        if len(fields) != len(self.columns):
            self.rejects.append(
                {
                    "line": number,
                    "reason": f"expected {len(self.columns)} fields, found {len(fields)}",
                    "raw": text,
                }
            )
            return None
        self.rows_read += 1
        if "\\" in text:
            return [None if field in NULLS else unescape(field) for field in fields]
        if "NULL" in text:
            while "NULL" in fields:  # C-level scans: faster than a per-field comprehension
                fields[fields.index("NULL")] = None
        return fields

    def records(self) -> Iterator[list]:
        """Rows as lists of values in the order of `columns` (faster than dicts for big tables)."""
        record = self.record
        for number, raw in enumerate(self._lines, start=2):
            values = record(number, raw)
            if values is not None:
                yield values

    def __iter__(self) -> Iterator[dict]:
        columns = self.columns
        for values in self.records():
            yield dict(zip(columns, values))


def read_tsv(path: str | Path) -> TsvReader:
    """A reader over a plaintext dump file (the file stays open until the rows are consumed)."""
    return TsvReader(open(path, "rb"), str(path))
