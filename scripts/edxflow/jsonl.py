"""Tables as gzip JSON lines, written atomically and owner-only, with a BigQuery schema beside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import orjson
from isal import igzip

from .atomic import atomic_path, write_json

SCHEMAS = Path(__file__).resolve().parents[2] / "sql" / "schemas"
_BUFFER = 1 << 20


def write_rows(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as gzip JSON lines; returns how many. Nothing stands under `path` until done."""
    dumps = orjson.dumps
    count = 0
    with atomic_path(path, mode=0o600) as temporary:
        with igzip.open(temporary, "wb", compresslevel=1) as handle:
            # Copy each line into one buffer at once: orjson's result holds a large allocation,
            # and keeping thousands of them alive costs more than the copy.
            buffer = bytearray()
            for row in rows:
                buffer += dumps(row)
                buffer += b"\n"
                count += 1
                if len(buffer) > _BUFFER:
                    handle.write(buffer)
                    buffer.clear()
            handle.write(buffer)
    return count


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
