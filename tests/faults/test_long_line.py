"""A daily log with a 50 MB line (a real event with a huge field of random text, which gzip hardly
shrinks, so it arrives in thousands of pieces) and a 5 MB line that is not JSON: the split reads
them in linear time, keeps the event whole in its course's file, rejects the
other with its line number, and the day is loaded."""

import base64
import gzip
import json
import random

import pytest

from tests.faults.harness import (
    DAYS,
    assert_completed,
    assert_left_clean,
    fault_config,
    log_object,
    run,
)
from tests.helpers import warehouse_counts

pytestmark = pytest.mark.workflow

LONG = 50 << 20
GARBAGE = 5 << 20
DAY = DAYS[1]
COURSE_BASE = "DemoX__DS101__2026_T1"
# The split reads 40 MB/s and more; a reader that copies the line for every chunk takes minutes.
SPLIT_SECONDS = 20


def test_a_50_mb_line_is_split_in_linear_time(package, clean, tmp_path):
    damaged = package.copy(tmp_path)
    lines = gzip.decompress(damaged.plain[log_object(DAY)]).splitlines(keepends=True)
    event = next(
        json.loads(line)
        for line in lines
        if b"course-v1:DemoX+DS101+2026_T1" in line
        and json.loads(line).get("event_type") == "play_video"
    )
    text = base64.b64encode(random.Random(1).randbytes(LONG * 3 // 4)).decode()
    event["event"] = json.dumps({"id": "huge", "currentTime": 1, "code": text})
    long_event = json.dumps(event).encode() + b"\n"
    garbage = b"{" + base64.b64encode(random.Random(2).randbytes(GARBAGE * 3 // 4)) + b"\n"
    damaged.path(log_object(DAY)).write_bytes(
        damaged.encrypt(
            gzip.compress(b"".join(lines[:10]) + long_event + garbage + b"".join(lines[10:]), 1)
        )
    )

    ran = run(tmp_path, fault_config(damaged, tmp_path, file_types=["log"]), timeout=200)
    results = tmp_path / "results"
    assert ran.returncode == 0, ran.output[-5000:]
    receipt = json.loads(
        (results / "receipts" / "split_tracking_log" / "edx" / f"{DAY}.json").read_text()
    )
    assert receipt["seconds"] < SPLIT_SECONDS, f"the split of {DAY} took {receipt['seconds']} s"
    assert receipt["lines_in"] == len(lines) + 2
    assert receipt["rejected_by_reason"].get("not valid JSON (truncated or malformed)", 0) >= 1
    rejects = [
        json.loads(line)
        for line in gzip.decompress(
            (results / "TRACKING_LOGS" / "rejects" / f"edx-{DAY}.json.gz").read_bytes()
        ).splitlines()
    ]
    assert any(row["line"] == 12 and len(row["raw"]) == len(garbage) - 1 for row in rejects)
    course_file = results / "TRACKING_LOGS" / COURSE_BASE / f"tracklog-{DAY}.edx-{DAY}.json.gz"
    rows = [json.loads(line) for line in gzip.decompress(course_file.read_bytes()).splitlines()]
    assert any(len(row["event"]) > LONG for row in rows), (
        "the long event is not whole in its course's file"
    )

    assert_completed(results, bases=[], email=False)
    clean_receipt = json.loads(
        (clean / "results" / "receipts" / "split_tracking_log" / "edx" / f"{DAY}.json").read_text()
    )
    expected = sum(
        count for course, count in clean_receipt["by_course"].items() if "DS101" in course
    )
    day_rows = sum(
        json.loads(path.read_text())["by_course"].get("DemoX/DS101/2026_T1", 0)
        for path in (results / "receipts" / "split_tracking_log" / "edx").glob("*.json")
    )
    assert warehouse_counts(results)[f"{COURSE_BASE}_logs.tracklog"] == day_rows
    assert receipt["by_course"]["DemoX/DS101/2026_T1"] == expected + 1
    assert_left_clean(tmp_path)
