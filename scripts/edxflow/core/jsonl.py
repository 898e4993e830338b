"""Tables as gzip JSON lines, written atomically and owner-only, with a BigQuery schema beside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import orjson
from isal import igzip

from edxflow.core.atomic import atomic_path, write_json

SCHEMAS = Path(__file__).resolve().parents[3] / "sql" / "schemas"
_BUFFER = 1 << 20


class TableWriter:
    """Rows to a gzip JSON-lines file, appended one at a time; the file appears on close."""

    def __init__(self, path: str | Path):
        self._atomic = atomic_path(path, mode=0o600)
        # No time or name in the gzip header: the same rows give the same bytes, so a rerun does
        # not look like a change to the load step.
        self._file = open(self._atomic.__enter__(), "wb")
        self._handle = igzip.IGzipFile("", "wb", compresslevel=1, fileobj=self._file, mtime=0)
        # Copy each line into one buffer at once: orjson's result holds a large allocation,
        # and keeping thousands of them alive costs more than the copy.
        self._buffer = bytearray()
        self.count = 0

    def write(self, row: dict) -> None:
        self.write_lines(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE), 1)

    def write_lines(self, lines: bytes, rows: int) -> None:
        """Rows already serialised as JSON lines."""
        self._buffer += lines
        self.count += rows
        if len(self._buffer) >= _BUFFER:
            # Whole buffers only: the compressed bytes then depend on the rows, not on how they came in batches.
            end = len(self._buffer) - len(self._buffer) % _BUFFER
            self._handle.write(memoryview(self._buffer)[:end])
            del self._buffer[:end]

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        try:
            try:
                self._handle.write(self._buffer)
                self._handle.close()
            finally:
                self._file.close()
        except (
            BaseException
        ) as failure:  # the last write or close failed (a full disk): the file gets no name
            self._atomic.__exit__(type(failure), failure, failure.__traceback__)
            raise
        self._atomic.__exit__(kind, error, trace)


def write_rows(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as gzip JSON lines; returns how many. Nothing stands under `path` until done."""
    with TableWriter(path) as writer:
        write = writer.write
        for row in rows:
            write(row)
    return writer.count


def read_rows(path: str | Path) -> list[dict]:
    with igzip.open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def string_schema(columns: list[str]) -> list[dict]:
    """The schema of a table dump whose columns are only known from its header: all STRING."""
    return [{"name": column, "type": "STRING", "mode": "NULLABLE"} for column in columns]


def shipped_schema(table: str) -> list[dict]:
    return json.loads((SCHEMAS / f"{table}.json").read_text())


def write_schema(path: str | Path, schema: list[dict]) -> None:
    write_json(path, schema)
