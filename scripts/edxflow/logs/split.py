"""Split one daily tracking log per course, losslessly, in one streaming pass with bounded memory
and a bounded number of open files.

Every input line ends in exactly one place (a course file, the no-course file, the rejects file)
or is counted as blank, duplicate or filtered out; the receipt's counts add up to the input lines.
Lines are buffered per output file and appended as gzip members when the buffers fill, so at most
one output file is open at a time whatever the number of courses. Outputs are written under
temporary names and renamed only when the whole file has been read.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import itertools
import os
import tempfile
import time
from array import array
from collections import defaultdict
from pathlib import Path

import orjson
from isal import igzip, isal_zlib

from edxflow.core.atomic import naming, sync, write_json
from edxflow.core.coerce import json_text
from edxflow.core.courses import course_base_name
from edxflow.core.errors import UserError
from edxflow.core.progress import Progress
from edxflow.logs import compiled
from edxflow.logs.event_course import CourseFinder, I4x, module_of, resolve_i4x
from edxflow.logs.tracklog import normalise, payload_of, valid_time

CHUNK = 1 << 20
PIECE = 16 << 10
GZIP_MAGIC = b"\x1f\x8b"
_LOW_64 = (1 << 64) - 1


class SplitError(UserError, RuntimeError):
    pass


class InputLines:
    """The lines of a gzip (multi-member) or plain file, read in chunks. A gzip stream that ends
    early or breaks keeps every complete line before the break; the broken tail is `self.tail`."""

    def __init__(self, path: str | Path, progress: Progress | None = None):
        self.path = Path(path)
        self.progress = progress  # counts the file's bytes as they are read
        self.bytes = 0
        self.sha256 = hashlib.sha256()
        self.truncated: str | None = None
        self.tail = b""

    def _raw_chunks(self):
        with open(self.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                self.bytes += len(chunk)
                self.sha256.update(chunk)
                if self.progress is not None:
                    self.progress.add(len(chunk))
                yield chunk

    def _plain_chunks(self):
        chunks = self._raw_chunks()
        first = next(chunks, b"")
        if first[:2] != GZIP_MAGIC:
            yield first
            yield from chunks
            return
        decompressor = isal_zlib.decompressobj(wbits=31)
        for chunk in itertools.chain([first], chunks):
            # Small pieces: when the stream is damaged, only the piece holding the damage is lost.
            for start in range(0, len(chunk), PIECE):
                pending = chunk[start : start + PIECE]
                while pending:
                    if decompressor.eof:  # the data after a member is the next member
                        decompressor = isal_zlib.decompressobj(wbits=31)
                    try:
                        yield decompressor.decompress(pending)
                    except isal_zlib.error as error:
                        self.truncated = f"the gzip stream is corrupt ({error})"
                        for _ in chunks:  # the receipt's size and checksum are of the whole file
                            pass
                        return
                    pending = decompressor.unused_data if decompressor.eof else b""
        if not decompressor.eof:
            self.truncated = "the gzip stream ends early (truncated file)"

    def blocks(self):
        """The text in blocks of whole lines, as bytes-like objects (most are views of the
        decompressed chunks, not copies): each block's lines are split on b"\\n" (no newline at
        its end). The last line of the file comes even without a newline, unless the gzip stream
        broke inside it (then it is `self.tail`)."""
        carry = []  # the line under way, in pieces: joined once, when its newline comes (a 50 MB line spans thousands)
        for chunk in self._plain_chunks():
            cut = chunk.rfind(b"\n")
            if cut < 0:
                carry.append(chunk)
                continue
            start = 0
            if carry:  # the line across chunks, alone
                start = chunk.find(b"\n") + 1
                carry.append(chunk[: start - 1])
                yield b"".join(carry)
            if start <= cut:
                yield memoryview(chunk)[start:cut]
            carry = [chunk[cut + 1 :]]
        rest = b"".join(carry)
        if self.truncated:
            self.tail = rest
        elif rest:
            yield rest

    def batches(self):
        """Lists of lines without their newline (see blocks)."""
        for block in self.blocks():
            yield bytes(block).split(b"\n")


def line_digest(line: bytes) -> int:
    """A 128-bit digest: lines with one digest are taken as one duplicate line. With 64 bits, two
    of the millions of lines of a day could share one and an event be lost; with 128, never.
    Two 64-bit SipHash values (Python's hash, keyed at random per process) of the line and of the
    line behind a newline: no line holds one, so for two lines these are four distinct inputs.
    BLAKE2b-128 would cost 4 us a line, a tenth of the split; this costs 1."""
    return hash(line) & _LOW_64 | (hash(b"\n" + line) & _LOW_64) << 64


class SeenHashes:
    """A set of 128-bit line digests in two flat arrays of halves (16 bytes a slot, where a Python
    set of ints costs about 90): open addressing on the low half, grown at two-thirds full."""

    def __init__(self, capacity_bits: int = 20):
        self.mask = (1 << capacity_bits) - 1
        self.lows = array("Q", bytes(8 << capacity_bits))
        self.highs = array("Q", bytes(8 << capacity_bits))
        self.count = 0

    def add(self, value: int) -> bool:
        """True if the value is new."""
        value = value or 1  # zero marks an empty slot
        low, high = value & _LOW_64, value >> 64
        lows, highs, mask = self.lows, self.highs, self.mask
        slot = low & mask
        while True:
            stored = lows[slot]
            if stored == low and highs[slot] == high:
                return False
            if stored == 0 and highs[slot] == 0:
                break
            slot = (slot + 1) & mask
        lows[slot] = low
        highs[slot] = high
        self.count += 1
        if self.count * 3 > mask * 2:
            self._grow()
        return True

    def _grow(self):
        lows, highs = self.lows, self.highs
        self.mask = self.mask * 2 + 1
        self.lows = array("Q", bytes(8 * (self.mask + 1)))
        self.highs = array("Q", bytes(8 * (self.mask + 1)))
        self.count = 0
        for low, high in zip(lows, highs):
            if low or high:
                self.add(high << 64 | low)


class BufferedOutputs:
    """Per-file line buffers flushed as appended gzip members; one file open at a time.
    Files are named by str paths: this sits on the per-event path, where Path hashing shows."""

    def __init__(self, flush_bytes: int = 32 << 20, compress_level: int = 1):
        self.flush_bytes = flush_bytes
        self.level = compress_level
        self.buffers: dict[str, list[bytes]] = {}
        self.buffered = 0
        self.lines: dict[str, int] = defaultdict(int)
        self.digests: dict[str, hashlib._Hash] = {}
        self.sizes: dict[str, int] = defaultdict(int)

    @staticmethod
    def temporary(path: str) -> str:
        directory, name = os.path.split(path)
        return os.path.join(directory, f".{name}.part")

    def add(self, path: str, line: bytes) -> None:
        buffer = self.buffers.get(path)
        if buffer is None:
            buffer = self.buffers[path] = []
        buffer.append(line)
        self.buffered += len(line)
        if self.buffered >= self.flush_bytes:
            self.flush()

    def flush(self) -> None:
        for path, lines in self.buffers.items():
            member = igzip.compress(b"".join(lines), self.level, mtime=0)  # same lines, same bytes
            started = path in self.digests
            if not started:
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
                self.digests[path] = hashlib.sha256()
            mode = "ab" if started else "wb"
            with naming(path), open(self.temporary(path), mode, opener=_owner_only) as handle:
                handle.write(member)
            self.digests[path].update(member)
            self.sizes[path] += len(member)
            self.lines[path] += len(lines)
        self.buffers.clear()
        self.buffered = 0

    def commit(self) -> dict[str, dict]:
        self.flush()
        for path in self.digests:  # every file whole on the disk before any gets its name
            with naming(path):
                sync(self.temporary(path))
        written = {}
        for path in sorted(self.digests):
            os.replace(self.temporary(path), path)
            written[path] = {
                "lines": self.lines[path],
                "bytes": self.sizes[path],
                "sha256": self.digests[path].hexdigest(),
            }
        return written

    def abort(self) -> None:
        self.buffers.clear()
        for path in self.digests:
            Path(self.temporary(path)).unlink(missing_ok=True)


def _owner_only(path, flags):
    return os.open(path, flags, 0o600)


def _reject_row(number: int, raw: bytes, reason: str) -> bytes:
    row = {"line": number, "reason": reason}
    try:
        row["raw"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        row["raw_base64"] = base64.b64encode(raw).decode()
    return orjson.dumps(row) + b"\n"


def _recover(line: bytes):
    """A line that did not parse: a dict when a prefix (syslog, logger) hides a JSON object, else
    the reason to reject it."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    start = line.find(b"{")
    if start > 0:
        try:
            candidate = orjson.loads(line[start:])
        except orjson.JSONDecodeError:
            candidate = None
        if type(candidate) is dict:
            return candidate
    return "not valid JSON (truncated or malformed)"


class Layout:
    """Where a split writes: TRACKING_LOGS/{BASE}/tracklog-{day}.{site}-{file_date}.json.gz per
    course and day, and one no-course and one rejects file per input, under the same root.
    Course directories always contain `__`, so `no_course/` and `rejects/` never clash with one."""

    def __init__(self, outdir: str | Path, site: str, file_date: str):
        self.outdir = Path(outdir)
        self.suffix = f"{site}-{file_date}"
        self.no_course = str(self.outdir / "no_course" / f"{self.suffix}.json.gz")
        self.rejects = str(self.outdir / "rejects" / f"{self.suffix}.json.gz")
        self.index = self.outdir / ".index" / f"{self.suffix}.json"
        self._paths: dict[tuple[str, str], str] = {}
        self._bases: dict[str, str] = {}

    def course_file(self, course_id: str, day: str) -> str:
        path = self._paths.get((course_id, day))
        if path is None:
            base = course_base_name(course_id)
            other = self._bases.setdefault(base, course_id)
            if other != course_id:
                raise SplitError(
                    f"courses {other!r} and {course_id!r} both map to the directory {base!r}; "
                    "exclude one of them with the course filter (courses / course_list_file)"
                )
            path = self._paths[(course_id, day)] = str(
                self.outdir / base / f"tracklog-{day}.{self.suffix}.json.gz"
            )
        return path


def split_tracking_log(
    input_path: str | Path,
    outdir: str | Path,
    site: str,
    file_date: str,
    courses: list[str] | None = None,
    deduplicate: bool = True,
    dynamic_date: bool = False,
    fail_on_truncated: bool = False,
    flush_bytes: int = 32 << 20,
    native: bool | None = None,
) -> dict:
    """Split one daily log; returns the receipt (see the README for its keys). `native`: take the
    common lines in the compiled path (None: when it is installed and not disabled; False: the
    Python code alone). The output is the same either way."""
    started = time.monotonic()
    layout = Layout(outdir, site, file_date)
    progress = Progress(
        "split_tracking_log", f"{site}/{file_date}", os.path.getsize(input_path), items="lines"
    )
    reader = InputLines(input_path, progress)
    outputs = BufferedOutputs(flush_bytes)
    finder = CourseFinder()
    module_memo: dict = {}
    keep = set(courses) if courses else None
    seen = SeenHashes() if deduplicate else None
    counts = {
        "lines_in": 0,
        "blank": 0,
        "no_course": 0,
        "rejected": 0,
        "duplicates": 0,
        "filtered_out": 0,
        "prefix_stripped": 0,
    }
    rejected_by_reason: dict[str, int] = defaultdict(int)
    by_course: dict[str, int] = defaultdict(int)
    runs_by_org_num: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen_courses: set[str] = set()
    routes: dict[
        str, str | None
    ] = {}  # course -> its file (None: filtered out), for the compiled path
    loads, dumps, add = orjson.loads, orjson.dumps, outputs.add
    layout.outdir.mkdir(parents=True, exist_ok=True)
    pending = tempfile.TemporaryFile(dir=layout.outdir)
    if native is None:
        native = compiled.available()
    # The compiled path writes under the file's date only; it de-duplicates every line itself.
    fast = None
    if native and not dynamic_date:
        fast = compiled.compiled_splitter(
            finder, module_memo, routes, by_course, layout.no_course, outputs, deduplicate, pending
        )
        seen = None

    def reject(number, raw, reason):
        counts["rejected"] += 1
        rejected_by_reason[reason] += 1
        outputs.add(layout.rejects, _reject_row(number, raw, reason))

    course_files = {}  # course -> its file, when every event goes under the file's date

    def route(course, time):
        """The file of an event of this course at this time, counted; None: filtered out."""
        if course is None:
            counts["no_course"] += 1
            return layout.no_course
        if keep is not None and course not in keep:
            counts["filtered_out"] += 1
            routes[course] = None
            return None
        by_course[course] += 1
        if dynamic_date:
            return layout.course_file(course, time[:10])
        path = routes[course] = course_files.get(course) or course_files.setdefault(
            course, layout.course_file(course, file_date)
        )
        return path

    def write(record, course):
        path = route(course, record["time"])
        if path is None:
            return
        payload = payload_of(record.get("event"))
        row = normalise(record, course, module_of(record, payload, module_memo), payload)
        add(path, dumps(row) + b"\n")  # a copy of exact size: orjson's own buffer keeps ~16 KB

    def take(number, raw, line):
        """A line that is not blank and not a duplicate."""
        try:
            record = loads(line)
        except orjson.JSONDecodeError:
            record = _recover(line)
            if type(record) is str:
                reject(number, raw, record)
                return
            counts["prefix_stripped"] += 1
        if type(record) is not dict:
            reject(number, raw, "not a JSON object")
            return
        if not valid_time(record.get("time")):
            reject(number, raw, "no valid time")
            return
        course = finder.find(record)
        if type(course) is str:
            if course not in seen_courses:
                seen_courses.add(course)
                org, num, run = course.split("/")
                runs_by_org_num[(org, num)].add(run)
            write(record, course)
        elif course is None:
            write(record, None)
        else:  # an i4x key without a run: decided once the whole file has been seen
            with naming(layout.outdir):  # the temporary file of these events has no name to give
                pending.write(f"{json_text([course.org, course.num, record])}\n".encode())

    number = 0
    # Each event allocates a few short-lived dicts: collecting every 700 allocations costs ~10%.
    gc_thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        if fast is not None:  # the common lines; it stops at a line for take()
            for block in reader.blocks():
                offset, size = 0, len(block)
                while offset <= size:
                    with naming(layout.outdir):  # the pending file has no name to give
                        offset, end, done = fast.run(block, offset)
                    number += done
                    if offset > size:
                        break
                    raw = bytes(block[offset:end])
                    number += 1
                    take(number, raw, raw.strip())
                    offset = end + 1
                progress.add(items=number - progress.items)
        else:
            for batch in reader.batches():
                for raw in batch:
                    number += 1
                    line = raw.strip()
                    if not line:
                        counts["blank"] += 1
                        continue
                    if seen is not None and not seen.add(line_digest(line)):
                        counts["duplicates"] += 1
                        continue
                    take(number, raw, line)
                progress.add(items=len(batch))
        if reader.tail:
            number += 1
            reject(number, reader.tail, "incomplete last line (the gzip stream breaks inside it)")
        with naming(layout.outdir):
            pending.seek(0)
        for line in pending:
            org, num, *row = loads(line)
            course = resolve_i4x(I4x(org, num), runs_by_org_num)
            if len(row) == 1:
                write(row[0], course)
            else:  # the compiled path's row, but for its course_id
                head, tail = row
                path = route(course, None)
                if path is not None:
                    middle = f',"course_id":{dumps(course).decode()}' if course else ""
                    add(path, f"{head}{middle}{tail}\n".encode())
        if reader.truncated and fail_on_truncated:
            raise SplitError(
                f"{input_path}: {reader.truncated} after {number} lines; the complete lines were not kept "
                "because logs.fail_on_truncated is true (set it to false to keep them and reject the rest)"
            )
        written = outputs.commit()
        progress.finish()
    except BaseException:
        outputs.abort()
        raise
    finally:
        pending.close()
        gc.set_threshold(*gc_thresholds)

    counts["lines_in"] = number
    taken = fast.counts() if fast is not None else {}
    for name in ("blank", "duplicates", "no_course", "filtered_out"):
        counts[name] += taken.get(name, 0)
    _remove_stale_outputs(layout, set(written))
    receipt = {
        "input": {
            "path": str(input_path),
            "bytes": reader.bytes,
            "sha256": reader.sha256.hexdigest(),
            "site": site,
            "date": file_date,
        },
        **counts,
        "truncated": reader.truncated,
        # lines the compiled path took whole (the others: the Python code)
        "compiled_lines": taken.get("lines", 0),
        "rejected_by_reason": dict(sorted(rejected_by_reason.items())),
        "by_course": dict(sorted(by_course.items())),
        "outputs": [{"path": path, **info} for path, info in written.items()],
        "settings": {
            "deduplicate": deduplicate,
            "dynamic_date": dynamic_date,
            "courses": sorted(keep) if keep else [],
        },
        "seconds": round(time.monotonic() - started, 3),
    }
    accounted = sum(by_course.values()) + sum(
        counts[k] for k in ("blank", "no_course", "rejected", "duplicates", "filtered_out")
    )
    if accounted != number:
        raise AssertionError(f"{input_path}: {number} lines read but {accounted} accounted for")
    write_json(layout.index, sorted(written))
    return receipt


def _remove_stale_outputs(layout: Layout, written: set[str]) -> None:
    """A rerun replaces the previous split of the same input: files it wrote then but not now go."""
    if layout.index.exists():
        for previous in orjson.loads(layout.index.read_bytes()):
            if previous not in written:
                Path(previous).unlink(missing_ok=True)
