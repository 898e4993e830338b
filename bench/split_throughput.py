"""Benchmark of the tracking-log split: events per second on one core and MB/s of uncompressed
input, with the compiled path and with the Python code alone, beside decompression alone measured
in the same run; two days split side by side on two cores; peak memory (with `ulimit -n 256`); and
a check that every event went to the course a plain reference implementation of the rules gives.
Where simeon is installed (`--simeon CMD`, else `simeon` on PATH; not a dependency of this project:
`python3 -m venv /tmp/simeon && /tmp/simeon/bin/pip install simeon==0.0.26`), `simeon split` is
timed on the same day's first lines, on one core, and the ratio printed.

    .venv/bin/python bench/split_throughput.py [--events 300000] [--courses 150] [--mix default|rich]
        [--repeat 3] [--keep DIR] [--no-python] [--no-parallel] [--simeon CMD] [--simeon-lines 20000]

The machine's speed drifts (by up to 2x over minutes on a shared machine): decompression alone is
timed on the same core just before each compiled split, and the median of `--repeat` pairs is
reported with the ratio of each pair.

The synthetic day mixes server and browser events, implicit URL events whose course is only in the
path, i4x keys, enrolment, video, problem and forum events, events of no course, and broken lines
(truncated JSON, invalid UTF-8, syslog prefixes, non-objects, blank lines, exact duplicates).
`--mix rich` makes most events problem checks with several answers, video events and forum posts
with long bodies: larger payloads, more of them typed into event_struct.
"""

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from isal import igzip  # noqa: E402

from edxflow.logs.event_course import I4x, reference_course, resolve_i4x  # noqa: E402

DAY = "2021-03-04"
# The split's command line in a fresh process that reports its own peak RSS (VmHWM, in kB): a fork
# of this (large) benchmark process would carry the parent's high-water mark into the child.
MEASURED_SPLIT = f"""
import runpy, sys
sys.path.insert(0, "{REPO / "scripts"}")
day, root = sys.argv[1:3]
sys.argv = ["split_tracking_log.py", "--input", day, "--outdir", root + "/TRACKING_LOGS", "--receipt", root + "/receipt.json"]
try:
    runpy.run_path("{REPO / "scripts" / "split_tracking_log.py"}", run_name="__main__")
except SystemExit as stop:
    if stop.code:
        raise
print(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1])
"""


def make_courses(count: int) -> list[tuple[str, str, str]]:
    orgs = ["MITx", "HarvardX", "DemoX", "UC-BerkeleyX", "TUDelftX"]
    return [
        (
            orgs[i % len(orgs)],
            f"{i // 7 + 1}.{i % 7}{'x' if i % 3 else '-x'}",
            f"{2019 + i % 4}_T{i % 3 + 1}",
        )
        for i in range(count)
    ]


def make_event(rng: random.Random, course, number: int, mix: str = "default") -> dict:
    org, num, run = course
    key = f"course-v1:{org}+{num}+{run}" if number % 5 else f"{org}/{num}/{run}"
    user = rng.randrange(1, 50_000)
    when = f"{DAY}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**6):06d}+00:00"
    block = f"block-v1:{org}+{num}+{run}+type@problem+block@{rng.randrange(10**6):x}"
    context = {
        "course_id": key,
        "org_id": org,
        "user_id": user,
        "path": f"/courses/{key}/courseware",
        "course_user_tags": {},
        "module": {"display_name": "Problem 1", "usage_key": block},
    }
    base = {
        "username": f"user{user}",
        "time": when,
        "ip": "10.0.0.1",
        "agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "host": "courses.edx.org",
        "session": f"{rng.getrandbits(128):032x}",
        "accept_language": "en-US,en;q=0.9",
        "referer": f"https://courses.edx.org/courses/{key}/courseware/",
    }
    kind = number % 10
    if mix == "rich":  # problem checks, videos and forum posts, larger ones
        kind = (0, 0, 0, 2, 2, 2, 8, 8, 7, 5)[number % 10]
    if kind in (0, 1):
        answers = rng.randrange(1, 2 if mix == "default" else 8)
        parts = [f"{block}_{2 + part}_1" for part in range(answers)]
        return {
            **base,
            "event_source": "server",
            "event_type": "problem_check",
            "context": context,
            "page": "x_module",
            "event": {
                "problem_id": block,
                "attempts": rng.randrange(1, 4),
                "success": "correct",
                "grade": 1,
                "max_grade": 1,
                "answers": {part: f"choice_{rng.randrange(4)}" for part in parts},
                "correct_map": {
                    part: {"correctness": rng.choice(["correct", "incorrect"]), "npoints": None}
                    for part in parts
                },
                "state": {"seed": 1, "done": True},
                "submission": {},
            },
        }
    if kind in (2, 3, 4):
        payload = json.dumps(
            {"id": f"{rng.randrange(10**6):x}", "currentTime": rng.random() * 600, "code": "html5"}
        )
        return {
            **base,
            "event_source": "browser",
            "event_type": rng.choice(["play_video", "pause_video", "seek_video"]),
            "context": context,
            "page": f"https://courses.edx.org/courses/{key}/courseware/ch/seq/",
            "event": payload,
        }
    if kind == 5:  # old implicit URL event: the course only in the path
        return {
            **base,
            "event_source": "server",
            "event_type": f"/courses/{org}/{num}/{run}/discussion/threads/{number}",
            "context": {"course_id": "", "user_id": user, "path": "/"},
            "event": {"GET": {}, "POST": {"body": ["hi"]}},
        }
    if kind == 6:  # i4x key without a run
        return {
            **base,
            "event_source": "server",
            "event_type": f"i4x://{org}/{num}/problem/p{number % 97}/problem_get",
            "event": {"GET": {}, "POST": {}},
        }
    if kind == 7:
        return {
            **base,
            "event_source": "server",
            "event_type": "edx.course.enrollment.activated",
            "name": "edx.course.enrollment.activated",
            "context": {**context, "course_id": None},
            "event": {"course_id": key, "user_id": user, "mode": "audit"},
        }
    if kind == 8:
        return {
            **base,
            "event_source": "server",
            "event_type": "edx.forum.thread.created",
            "name": "edx.forum.thread.created",
            "context": context,
            "event": {
                "title": "Question",
                "body": "text " * rng.randrange(5, 60 if mix == "default" else 400),
                "id": f"{number:x}",
            },
        }
    return {
        **base,
        "event_source": "server",
        "event_type": "/dashboard",
        "context": {"user_id": user, "path": "/dashboard"},
        "event": {"GET": {}, "POST": {}},
    }


def make_day(path: Path, events: int, courses: int, seed: int = 7, mix: str = "default") -> int:
    rng = random.Random(seed)
    catalogue = make_courses(courses)
    lines, previous = [], b""
    for number in range(events):
        line = json.dumps(
            make_event(rng, rng.choice(catalogue), number, mix), separators=(",", ":")
        ).encode()
        roll = rng.random()
        if roll < 0.002:
            line = line[: len(line) // 2]  # truncated
        elif roll < 0.003:
            line = line[:40] + b"\xff\xfe" + line[40:]  # invalid UTF-8
        elif roll < 0.004:
            line = b"Mar  4 00:00:48 localhost " + line  # syslog prefix
        elif roll < 0.005:
            line = b"[1, 2, 3]"
        elif roll < 0.008:
            lines.append(b"")
        elif roll < 0.010 and previous:
            lines.append(previous)  # exact duplicate
        lines.append(line)
        previous = line
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(igzip.compress(data, 3))
    return len(data)


def reference_assignment(path: Path) -> Counter:
    """The rules applied with the standard json module to every line, i4x resolved in a second pass."""
    assigned, pending, runs, seen = Counter(), [], {}, set()
    with igzip.open(path, "rb") as handle:
        for raw in handle:
            line = raw.strip()
            if not line or line in seen:
                continue
            seen.add(line)
            start = line.find(b"{")
            try:
                record = json.loads(line[max(start, 0) :])
            except (ValueError, UnicodeDecodeError):
                continue
            if not isinstance(record, dict):
                continue
            course = reference_course(record)
            if isinstance(course, I4x):
                pending.append(course)
                continue
            if course:
                org, num, run = course.split("/")
                runs.setdefault((org, num), set()).add(run)
            assigned[course] += 1
    for course in pending:
        assigned[resolve_i4x(course, runs)] += 1
    return assigned


def measured_split(day: Path, out: Path, core: int, pure_python: bool = False) -> subprocess.Popen:
    """The split's command line in a process of its own on one core, at most 256 open files."""
    env = dict(os.environ, EDXFLOW_PURE_PYTHON="1" if pure_python else "0")

    def limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    return subprocess.Popen(
        ["taskset", "-c", str(core), sys.executable, "-c", MEASURED_SPLIT, str(day), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=limits,
    )


def finished(process: subprocess.Popen, out: Path) -> tuple[dict, float]:
    """The receipt and the peak RSS (MB) of a measured split."""
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr
    return json.loads((out / "receipt.json").read_text()), int(stdout.split()[-1]) / 1024


def simeon_split(command: str, day: Path, out: Path, lines: int) -> float:
    """Events/s of `simeon split -f log` on one core: timed on the day's first `lines` lines and on
    its first quarter of them, the difference of the two excluding simeon's start-up."""

    def timed(count: int) -> float:
        folder = out / str(count)
        folder.mkdir(parents=True, exist_ok=True)
        sample = folder / day.name  # simeon takes the date from the file's name
        with igzip.open(day, "rb") as source, igzip.open(sample, "wb") as target:
            target.writelines(itertools.islice(source, count))
        started = time.perf_counter()
        subprocess.run(
            [
                "taskset",
                "-c",
                "0",
                command,
                "split",
                "-f",
                "log",
                "--no-courses",
                "-j",
                "1",
                "-d",
                str(folder / "split"),
                str(sample),
            ],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started

    quarter = lines // 4
    return (lines - quarter) / (timed(lines) - timed(quarter))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--courses", type=int, default=150)
    parser.add_argument("--mix", choices=["default", "rich"], default="default")
    parser.add_argument("--repeat", type=int, default=3, help="compiled runs (the median is shown)")
    parser.add_argument("--keep", help="keep the generated day and outputs in this directory")
    parser.add_argument("--no-python", action="store_true", help="skip the pure-Python baseline")
    parser.add_argument("--no-parallel", action="store_true", help="skip two days on two cores")
    parser.add_argument(
        "--simeon",
        default=shutil.which("simeon"),
        help="simeon's command, to time `simeon split` on the day's first --simeon-lines lines "
        "(default: `simeon` on PATH; it is not installed with this project)",
    )
    parser.add_argument("--simeon-lines", type=int, default=20_000)
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-split", dir="/tmp"))
    root.mkdir(parents=True, exist_ok=True)
    day = root / f"mitx-edx-events-{DAY}.log.gz"
    raw_bytes = make_day(day, args.events, args.courses, mix=args.mix)

    def decompression() -> tuple[int, float]:
        """Lines/s of reading the day's lines alone, on the core the split runs on."""
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {0})
        try:
            started = time.perf_counter()
            with igzip.open(day, "rb") as handle:
                lines = sum(1 for _ in handle)
            return lines, lines / (time.perf_counter() - started)
        finally:
            os.sched_setaffinity(0, cores)

    pairs = []  # (decompression lines/s, compiled events/s, receipt, peak MB)
    for _ in range(max(args.repeat, 1)):
        lines, decompress_rate = decompression()
        receipt, peak_mb = finished(measured_split(day, root / "compiled", 0), root / "compiled")
        pairs.append((decompress_rate, receipt["lines_in"] / receipt["seconds"], receipt, peak_mb))
    pairs.sort(key=lambda pair: pair[1])
    decompress_rate, _, receipt, peak_mb = pairs[len(pairs) // 2]
    expected = reference_assignment(day)
    got = Counter(receipt["by_course"])
    got[None] = receipt["no_course"]
    identical = got == expected

    print(
        f"input ({args.mix} mix): {lines} lines, {raw_bytes / 1e6:.1f} MB uncompressed, "
        f"{day.stat().st_size / 1e6:.1f} MB gzip, {len(receipt['by_course'])} courses"
    )
    print(
        f"counts: rejected {receipt['rejected']} {receipt['rejected_by_reason']}, duplicates {receipt['duplicates']}, "
        f"blank {receipt['blank']}, no course {receipt['no_course']}, "
        f"taken by the compiled path {receipt['compiled_lines']}"
    )
    print(
        "compiled runs (events/s, x decompression alone timed just before): "
        + ", ".join(f"{rate:,.0f} ({decompress / rate:.1f}x)" for decompress, rate, *_ in pairs)
    )
    print(f"decompress only : {decompress_rate:10,.0f} lines/s (the median run's)")

    def report(name: str, receipt: dict, peak: float) -> float:
        seconds = receipt["seconds"]
        rate = receipt["lines_in"] / seconds
        print(
            f"{name}: {rate:10,.0f} events/s, {raw_bytes / 1e6 / seconds:6.1f} MB/s uncompressed "
            f"({seconds:.2f} s), {decompress_rate / rate:4.1f}x decompression alone; peak RSS {peak:.0f} MB"
        )
        return rate

    compiled_rate = report("split, compiled (1 core), median", receipt, peak_mb)
    if not args.no_python:
        python_receipt, python_peak = finished(
            measured_split(day, root / "python", 0, pure_python=True), root / "python"
        )
        python_rate = report("split, Python only (1 core)", python_receipt, python_peak)
        print(f"compiled / Python only: {compiled_rate / python_rate:.1f}x")
    if args.simeon:
        simeon_rate = simeon_split(args.simeon, day, root / "simeon", args.simeon_lines)
        print(
            f"simeon split (1 core, the first {args.simeon_lines:,} lines, start-up excluded): "
            f"{simeon_rate:10,.0f} events/s; compiled / simeon: {compiled_rate / simeon_rate:.0f}x"
        )
    if not args.no_parallel and (os.cpu_count() or 1) >= 2:
        started = time.perf_counter()
        outs = [root / f"parallel{core}" for core in (0, 1)]
        processes = [measured_split(day, out, core) for core, out in zip((0, 1), outs)]
        for process, out in zip(processes, outs):
            finished(process, out)
        wall = time.perf_counter() - started
        both = 2 * receipt["lines_in"] / wall
        print(
            f"two days side by side on 2 cores: {both:10,.0f} events/s together ({wall:.2f} s wall, "
            f"with interpreter start-up), {both / compiled_rate:.2f}x one core"
        )
    print(f"course assignment identical to the reference implementation: {identical}")
    if not identical:
        for course in sorted(set(got) | set(expected), key=str):
            if got[course] != expected[course]:
                print(f"  {course}: split {got[course]}, reference {expected[course]}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if identical else 1)


if __name__ == "__main__":
    main()
