"""Daily tracking-log files: gzip JSON lines with the damage real logs show."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random


def event_line(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def syslog_prefix(when: dt.datetime) -> str:
    return f"{when:%b} {when.day:2d} {when:%H:%M:%S} localhost "


def log_file_lines(rng: random.Random, events: list[dict]) -> list[bytes]:
    """The day's lines with the damage real logs show: a syslog prefix, a truncated line, an invalid
    UTF-8 byte, a blank line and one exact duplicate."""
    lines = [event_line(record) for record in events]
    first_time = dt.datetime.fromisoformat(events[0]["time"])
    lines[0] = syslog_prefix(first_time).encode() + lines[0]
    duplicate_at = rng.randrange(1, len(lines))
    lines.insert(duplicate_at + 1, lines[duplicate_at])
    truncated = event_line(rng.choice(events))
    bad_agent = dict(rng.choice(events), agent="Mozilla/5.0 (compatible; caf\u00e9bot/1.0)")
    broken = [
        truncated[: len(truncated) * 2 // 3],
        event_line(bad_agent).replace("caf\u00e9".encode(), b"caf\xe9"),
        b"",
    ]
    for line in broken:
        lines.insert(rng.randrange(1, len(lines)), line)
    return lines


def log_file_bytes(rng: random.Random, events: list[dict]) -> bytes:
    return gzip.compress(b"\n".join(log_file_lines(rng, events)) + b"\n", mtime=0)
