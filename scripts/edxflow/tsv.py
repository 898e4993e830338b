"""The research package's `.sql` table dumps: tab-separated, a header row, MySQL-style escapes
(`\\t`, `\\n`, `\\r`, `\\\\`, `\\0`) and the literal `NULL` (or `\\N`) for null.

A row with the wrong number of fields is not guessed at: it is kept aside with its line number
(`TsvReader.rejects`). Bytes that are not UTF-8 are replaced and the line is reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "0": "\0", "Z": "\x1a", "b": "\b", "'": "'", '"': '"'}
_ESCAPE = re.compile(r"\\(.)", re.S)
NULLS = frozenset({"NULL", "\\N"})


def _replace(match: re.Match) -> str:
    return _ESCAPES.get(match.group(1), match.group(0))


def unescape(field: str) -> str:
    """Undo the dump's escapes; an unknown escape keeps its backslash."""
    return _ESCAPE.sub(_replace, field) if "\\" in field else field


def value_of(field: str) -> str | None:
    return None if field in NULLS else unescape(field)


class TsvReader:
    """Rows of one table dump as dicts of column -> str or None."""

    def __init__(self, lines: Iterable[bytes], source: str):
        self.source = source
        self._lines = iter(lines)
        self.rejects: list[dict] = []
        self.bad_utf8_lines: list[int] = []
        self.rows_read = 0
        header = next(self._lines, b"")
        self.columns = [name.strip() for name in self._decode(header, 1).rstrip("\r\n").split("\t")] if header.strip() else []

    def _decode(self, line: bytes, number: int) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.bad_utf8_lines.append(number)
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
            self.rejects.append({"line": number, "reason": f"expected {len(self.columns)} fields, found {len(fields)}",
                                 "raw": text})
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
