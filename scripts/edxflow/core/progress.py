"""Progress lines for long steps (a split of a large day, a big SQL course, a load of many courses or
days), written to the job's log at most every few seconds, and a final line:

    sql_course MITx/6.002x/2012_Fall: 42% (1.2 GB of 2.9 GB), 38.5 MB/s
    split_tracking_log edx/2021-01-03: 42% (1.2 GB of 2.9 GB), 85,000 lines/s
    sql_course MITx/6.002x/2012_Fall: done, 2.9 GB in 75.3 s, 38.5 MB/s

A line holds the step, the name its caller gives (a course id, a day, a unit: never a user's data,
a member's content or a secret), and numbers. The rate is the average since the start: the rate of
`items` (lines, rows) when the caller counts them, else of the amount.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger("edxflow.progress")

# The default interval between two progress lines of one step, in seconds.
EVERY = 5.0

_BYTE_UNITS = ("kB", "MB", "GB", "TB", "PB")


def format_bytes(count: float) -> str:
    """`1234567` -> `1.2 MB` (decimal units, as disks and networks count)."""
    if abs(count) < 1000:
        return f"{count:,.0f} B"
    for unit in _BYTE_UNITS:
        count /= 1000
        if abs(count) < 1000 or unit == _BYTE_UNITS[-1]:
            return f"{count:.1f} {unit}"
    raise AssertionError("unreachable")


def format_amount(count: float, unit: str) -> str:
    """An amount in its unit: bytes scaled (`1.2 GB`), anything else counted (`85,000 rows`)."""
    if unit == "bytes":
        return format_bytes(count)
    return f"{count:,.0f} {unit}"


def format_rate(count: float, seconds: float, unit: str) -> str:
    """`count` per second over `seconds`: `38.5 MB/s`, `85,000 lines/s` (`1.5 days/s` when small)."""
    per_second = count / seconds if seconds > 0 else 0.0
    if unit == "bytes":
        return f"{format_bytes(per_second)}/s"
    if per_second < 10:
        return f"{per_second:,.1f} {unit}/s"
    return f"{per_second:,.0f} {unit}/s"


class Progress:
    """The progress of one long step towards `total` (in `unit`: "bytes", or a counted unit such
    as "rows", "days", "courses"). Call `add` as work is done (per chunk or batch, not per line: a
    call costs a clock read and a lock); a line is written when `every` seconds have passed since
    the last one (the first after `every` seconds: a quick step writes none). `finish` writes the
    final line, once; the block of `with Progress(...)` calls it when no error left the block.

    `items` names what the caller also counts with `add(..., items=n)` (lines, rows): the rate is
    then theirs. `every` defaults to the module's EVERY (5 s). With `summary=False` the final line is written only after a progress line, for
    an inner step that runs many times in a job. `emit` (default: the `edxflow.progress` logger's
    info) and `clock` (default: time.monotonic) are there for tests. Safe to call from threads."""

    def __init__(
        self,
        step: str,
        name: str,
        total: int | float,
        unit: str = "bytes",
        *,
        items: str | None = None,
        every: float | None = None,
        summary: bool = True,
        emit: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.step = step
        self.name = name
        self.total = max(total, 0)
        self.unit = unit
        self.items_unit = items
        self.every = EVERY if every is None else every
        self.summary = summary
        self.emit = emit or log.info
        self.clock = clock
        self.done = 0
        self.items = 0
        self.lines = 0
        self.finished = False
        self.started = clock()
        self._last = self.started
        self._lock = threading.Lock()

    def add(self, amount: int | float = 0, items: int = 0) -> None:
        """`amount` more done (in the total's unit), and `items` more counted (lines, rows)."""
        with self._lock:
            self.done += amount
            self.items += items
            now = self.clock()
            if now - self._last < self.every or self.finished:
                return
            self._last = now
            line = self._line(now)
            self.lines += 1
        self.emit(line)

    def reading(self, stream) -> _CountingReader:
        """`stream` (a binary file object) whose reads add the bytes read."""
        return _CountingReader(stream, self)

    def finish(self) -> None:
        """The final line: the amount, the time and the rate (once; none with summary=False when
        the step wrote no progress line)."""
        with self._lock:
            if self.finished:
                return
            self.finished = True
            if not self.summary and not self.lines:
                return
            line = self._final_line(self.clock())
        self.emit(line)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.finish()

    def percent(self) -> int:
        """Whole percent done: 100 only when all is done, never more."""
        if self.total <= 0:
            return 100
        return min(100, int(100 * self.done / self.total))

    def _rate(self, seconds: float) -> str:
        if self.items_unit is not None:
            return format_rate(self.items, seconds, self.items_unit)
        return format_rate(self.done, seconds, self.unit)

    def _line(self, now: float) -> str:
        done, total = format_amount(self.done, self.unit), format_amount(self.total, self.unit)
        if self.unit != "bytes":  # "420 of 1,000 courses", not "420 courses of 1,000 courses"
            done = f"{self.done:,.0f}"
        return (
            f"{self.step} {self.name}: {self.percent()}% ({done} of {total}), "
            f"{self._rate(now - self.started)}"
        )

    def _final_line(self, now: float) -> str:
        seconds = now - self.started
        counted = f" ({self.items:,} {self.items_unit})" if self.items_unit is not None else ""
        return (
            f"{self.step} {self.name}: done, {format_amount(self.done, self.unit)}{counted} "
            f"in {seconds:.1f} s, {self._rate(seconds)}"
        )


class _CountingReader:
    """A binary stream whose reads add their length to a Progress."""

    def __init__(self, stream, progress: Progress):
        self._stream = stream
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._progress.add(len(data))
        return data

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(buffer)
        if count:
            self._progress.add(count)
        return count

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()

    @property
    def closed(self) -> bool:
        return self._stream.closed
