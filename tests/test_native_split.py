"""The compiled tracking-log split (native/tracklog.c) writes exactly what the Python code writes:
the same bytes in every output file (compressed too: the same rows reach the same buffers) and
the same receipt, on the real fixtures, on every odd form of every field, on randomly damaged
lines, and whatever the chunk and flush boundaries."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import sys
from pathlib import Path

import pytest

import edxflow_native  # noqa: F401  (CI builds it: without it these tests would compare Python with itself)
from edxflow.core.courses import module_id
from edxflow.logs import split
from edxflow.logs.split import split_tracking_log
from tests.helpers import REPO

sys.path.insert(0, str(REPO / "bench"))
from split_throughput import make_courses, make_event  # noqa: E402

REAL = REPO / "tests" / "fixtures" / "real" / "events.jsonl.gz"
KEY = "course-v1:MITx+6.002x+2T2021"
BLOCK = "block-v1:MITx+6.002x+2T2021+type@problem+block@p1"
TIME = "2021-03-04T10:00:00.123456+00:00"


def outputs(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.gz"))
    }


def split_both(tmp_path: Path, lines: list[bytes], **options) -> tuple[dict, dict]:
    """Split the same file with and without the compiled path; returns the native receipt and
    outputs after checking both are the same."""
    day = tmp_path / "day.log.gz"
    day.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", 1))
    results = {}
    for native in (False, True):
        folder = tmp_path / f"native-{native}"
        receipt = split_tracking_log(day, folder, "edx", "2021-03-04", native=native, **options)
        receipt.pop("seconds")
        receipt["compiled"] = receipt.pop("compiled_lines")
        receipt["outputs"] = [
            {**item, "path": str(Path(item["path"]).relative_to(folder))}
            for item in receipt["outputs"]
        ]
        results[native] = (receipt, outputs(folder))
    assert results[False][0].pop("compiled") == 0
    compiled = results[True][0].pop("compiled")
    assert results[True][0] == results[False][0]
    assert results[True][1] == results[False][1]
    results[True][0]["compiled"] = compiled
    return results[True]


def event(**fields) -> dict:
    base = {
        "username": "ann",
        "time": TIME,
        "event_type": "problem_check",
        "event_source": "server",
        "context": {"course_id": KEY, "user_id": 7, "path": "/x", "module": {"usage_key": BLOCK}},
        "event": {"problem_id": BLOCK, "attempts": 2, "grade": 1, "max_grade": 2},
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not ...}


def dumped(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# Every odd form of the fields the row is made of: each is one event line.
ODD_VALUES = [
    None,
    True,
    False,
    0,
    -0.0,
    7,
    -12,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    10**30,
    1.5,
    0.1,
    1e16,
    1e-7,
    123456789.125,
    "",
    " 12 ",
    "12",
    "1e3",
    "1.0",
    "true",
    "T",
    "no",
    "abc",
    "é\u2028\x7f",
    '\x00\x1f"\\/',
    "😀",
    [],
    [1, "a", None, {"b": 2.5}],
    {},
    {"nested": {"deeper": [1, 2, {"x": "y"}]}},
]
FIELDS = [
    ("username",),
    ("page",),
    ("event_type",),
    ("name",),
    ("context", "user_id"),
    ("context", "course_id"),
    ("context", "path"),
    ("context", "org_id"),
    ("context", "course_user_tags"),
    ("context", "module"),
    ("context", "unknown_field"),
    ("event", "attempts"),
    ("event", "grade"),
    ("event", "success"),
    ("event", "answers"),
    ("event", "currentTime"),
    ("event", "id"),
    ("event", "done"),
    ("event", "child-id"),
    ("event",),
    ("context",),
    ("_id",),
    ("extra_top_level",),
    ("course_id",),
    ("module_id",),
]


def odd_lines() -> list[bytes]:
    lines = []
    for field in FIELDS:
        for value in ODD_VALUES:
            record = event()
            if len(field) == 1:
                record[field[0]] = value
            else:
                outer = dict(record.get(field[0]) or {})
                outer[field[1]] = value
                record[field[0]] = outer
            lines.append(json.dumps(record).encode())  # ASCII with \u escapes
            lines.append(dumped(record))  # raw UTF-8
    return lines


SPECIAL_LINES = [
    # browser events: the payload a JSON string, parsed for event_struct and the block
    dumped(
        event(
            event_type="play_video",
            event_source="browser",
            event=json.dumps({"id": "v1", "currentTime": 12.5, "code": "html5"}),
        )
    ),
    dumped(event(event_type="seek_video", event="{not json")),
    dumped(event(event_type="seek_video", event="[1, 2]")),
    dumped(event(event_type="seek_video", event=' {"id": "v1"}')),
    dumped(event(event_type="seek_video", event='{"id": "v\\u00e9", "currentTime": 1e400}')),
    dumped(event(event_type="/courses/MITx/6.002x/2T2021/courseware", event={"GET": {}})),
    dumped(event(event_type="x", event={"GET": {"a": ["1"]}, "POST": {}, "query": "q=1"})),
    dumped(event(event={"child-id": "a", "child_id": "b"})),
    dumped(event(_id={"$oid": "5f1d"})),
    dumped(event(_id={"$oid": 5})),
    # times the Python regular expression takes and the compiled check leaves to it
    dumped(event(time="2021-03-04T10:00:00\n")),
    dumped(event(time="２０２１-03-04T10:00:00")),
    dumped(event(time="2021-03-04 10:00:00 UTC")),
    dumped(event(time="2021-03-04T10:00:00.1234567890")),
    dumped(event(time="2021-03-04T10:00:00+0100")),
    dumped(event(time=20210304)),
    dumped(event(time=...)),
    # courses: i4x keys with and without a run seen, no course, an empty course id
    dumped(event(context={"path": "/"}, event_type="i4x://MITx/6.002x/problem/p1/problem_get")),
    dumped(event(context={"path": "/"}, event_type="i4x://OrgX/N1/problem/p1/problem_get")),
    dumped(event(context={}, event_type="/dashboard", event={})),
    dumped(event(context={"course_id": " "}, event_type="/dashboard")),
    # keys written twice, deep nesting, a number orjson reads as a float
    b'{"time":"2021-03-04T10:00:00","username":"a","username":"b","context":{"course_id":"'
    + KEY.encode()
    + b'"}}',
    b'{"time":"2021-03-04T10:00:00","context":{"course_id":"'
    + KEY.encode()
    + b'","user_id":1,"user_id":2}}',
    dumped(event(event={"deep": json.loads("[" * 300 + "]" * 300)})),
    b'{"time":"2021-03-04T10:00:00","context":{"course_id":"'
    + KEY.encode()
    + b'"},"event":{"attempts":123456789012345678901234567890}}',
    # whitespace, escapes in keys, a prefix, broken lines, blank lines, duplicates
    b'  { "time" : "2021-03-04T10:00:00" , "context" : { "course_id" : "'
    + KEY.encode()
    + b'" } }  ',
    b'{"ti\\u006de":"2021-03-04T10:00:00","context":{"course_id":"' + KEY.encode() + b'"}}',
    b"Mar  4 00:00:48 localhost " + dumped(event()),
    dumped(event())[:50],
    b'{"time":"2021-03-04T10:00:00","username":"\xff\xfe"}',
    b'{"time":"2021-03-04T10:00:00","username":"\\ud800"}',
    b"[1, 2, 3]",
    b"",
    b"   ",
    dumped(event()),
    dumped(event()),
]


def test_odd_forms_of_every_field(tmp_path):
    receipt, _ = split_both(tmp_path, odd_lines() + SPECIAL_LINES)
    assert receipt["by_course"]["MITx/6.002x/2T2021"] > 1000
    assert receipt["compiled"] > receipt["lines_in"] / 2
    assert receipt["rejected"] and receipt["duplicates"] and receipt["blank"]


def test_real_fixture_events(tmp_path):
    lines = gzip.decompress(REAL.read_bytes()).splitlines()
    receipt, found = split_both(tmp_path, lines)
    assert receipt["lines_in"] == len(lines) > 2000 and len(found) > 10
    assert receipt["compiled"] > receipt["lines_in"] / 2


def bench_lines(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    catalogue = make_courses(40)
    return [
        json.dumps(make_event(rng, rng.choice(catalogue), n), separators=(",", ":")).encode()
        for n in range(count)
    ]


def damaged(line: bytes, rng: random.Random) -> bytes:
    pieces = [b"\\", b'"', b"\\u00e9", b"\\ud83d", b"\xc3", b"\xe2\x80\xa8", b"{", b"}", b",", b"0"]
    position = rng.randrange(len(line) + 1)
    kind = rng.randrange(4)
    if kind == 0:
        return line[:position] + line[position + 1 :]
    if kind == 1:
        return line[:position] + rng.choice(pieces) + line[position:]
    if kind == 2:
        return line[:position] + bytes([rng.randrange(256)]) + line[position + 1 :]
    return line[:position]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_randomly_damaged_lines(tmp_path, seed):
    rng = random.Random(seed)
    lines = [damaged(line, rng) if rng.random() < 0.3 else line for line in bench_lines(3000, seed)]
    split_both(tmp_path, lines)


def test_flushes_inside_the_compiled_path_and_long_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(split, "CHUNK", 4096)  # lines across chunks
    lines = bench_lines(2000, 9)
    lines.insert(500, dumped(event(event={"body": "x" * 200_000})))
    split_both(tmp_path, lines, flush_bytes=5000)


def test_course_filter_and_no_deduplication(tmp_path):
    lines = bench_lines(1500, 4)
    lines += lines[:100]
    keep = [f"{org}/{num}/{run}" for org, num, run in make_courses(40)[:5]]
    receipt, _ = split_both(tmp_path, lines, courses=keep)
    assert receipt["filtered_out"] > 500 and set(receipt["by_course"]) <= set(keep)
    (tmp_path / "again").mkdir()
    receipt, _ = split_both(tmp_path / "again", lines, deduplicate=False)
    assert receipt["duplicates"] == 0


def mutated(texts: list[str], alphabet: str, seed: int, each: int = 200) -> list[str]:
    """Each text with one character replaced or added, `each` times, at random."""
    rng = random.Random(seed)
    found = []
    for text in texts:
        for _ in range(each):
            position = rng.randrange(len(text) + 1)
            found.append(text[:position] + rng.choice(alphabet) + text[position + 1 :])
    return found


BLOCK_TEXTS = [
    BLOCK,
    "block-v1:MITx+6.002x+2T2021+branch@draft+version@abc+type@video+block@v1",
    "block-v1:MITx+6.002x+2T2021+type@a+type@b+block@c",
    "block-v1:MITx+6.002x+2T2021+type@problem+block@",
    "block-v1:MITx+6.002x++type@problem+block@p",
    "xx block-v1:A+B+C+type@t+block@id/handler/xmodule_handler/problem_check",
    "block-v1:A+B block-v1:A+B+C+type@t+block@d",
    "i4x://MITx/6.002x/problem/p1",
    "i4x://MITx/6.002x/problem/p1/problem_get",
    "i4x://MITx/6.002x/problem",
    "/courses/x/i4x://A/B/C/D",
    "i4x-MITx-6_002x-problem-p1",
    "i4x-MITx-6_002x-problem-p1\n",
    "i4x-MITx-6_002x-problem-p1\n\n",
    "i4x-MITx-6_002x-problem-p 1",
    "i4x-MITx-6_002x-problem-p1-x",
    "i4x-a\x1cb-c-d-e",
    "https://courses.edx.org/courses/course-v1:A+B+C/xblock/block-v1:A+B+C+type@html+block@h/",
    "",
]


def test_the_compiled_module_id_reads_what_courses_module_id_reads():
    texts = BLOCK_TEXTS + mutated(BLOCK_TEXTS[:8], "ab+@/:-._~ \n\x1ci4xblock-v1type", seed=5)
    for text in texts:
        assert edxflow_native.module_id(text) == module_id(text), text
    assert edxflow_native.module_id("block-v1:é+B+C+type@t+block@d") is None  # Python's to read


def float_literals(rng: random.Random) -> list[str]:
    fixed = ["1.500", "0.00012", "0.0001", "0.00001", "100.10", "1234567890123456.5", "-0.0", "0.0"]
    fixed += ["1.0e2", "1E5", "-0", "12", "123456789012345", "1234567890123456", "9007199254740993"]
    fixed += ["0.1000000000000000055511151231257827", "5e-324", "1.7976931348623157e308"]
    for _ in range(300):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 19)))
        point = rng.randrange(len(digits) + 1)
        whole, fraction = digits[:point].lstrip("0") or "0", digits[point:]
        fixed.append(f"{rng.choice(['', '-'])}{whole}" + (f".{fraction}" if fraction else ".0"))
    return fixed


def test_numbers_are_written_as_python_and_orjson_write_them(tmp_path):
    """Floats in a FLOAT column, a STRING column (str(float)) and extra (orjson), from literals
    of every length and form; integers into FLOAT and INTEGER columns."""
    lines = []
    for literal in float_literals(random.Random(3)):
        text = (
            f'{{"time":"{TIME}","event_type":"play_video","context":{{"course_id":"{KEY}",'
            f'"user_id":{literal}}},"event":{{"currentTime":{literal},"attempts":{literal}}},'
            f'"extra_number":{literal}}}'
        )
        lines.append(text.encode())
    receipt, _ = split_both(tmp_path, lines)
    assert receipt["compiled"] > len(lines) / 2


COURSE_TEXTS = [
    KEY,
    " MITx/6.002x/2T2021 ",
    "MITx/6.002x/2T2021\n",
    "MITx/6.002x",
    "MITx/6.002x/2T2021/extra",
    "ccx-v1:MITx+6.002x+2T2021+ccx@3",
    "https://x/courses/course-v1:MITx+6.002x+2T2021/courseware/",
    "/courses/MITx/6.002x/2T2021/courseware",
    "/courses/MITx/6.002x/2T2021+x/courseware",
    "/courses/a:b/6.002x/2T2021/ /courses/MITx/6.002x/2T2021/",
    "/courses/MITx/6.002x/2T2021",
    "i4x://MITx/6.002x/course/2T2021",
    "i4x://MITx/6.002x/problem/p1/problem_get",
    "/xblock/i4x:;_;_MITx;_6.002x;_problem;_p1/handler",
    "i4x://MITx/6.002x",
    "block-v1:MITx+6.002x+2T2021+type@problem+block@p1",
    "course-v1:MITx+6.002x",
    "\x1cMITx/6.002x/2T2021\x1f",
    "",
    "/dashboard",
]


def test_the_compiled_course_readers_read_what_event_course_reads():
    from edxflow.logs.event_course import I4x, course_in_id, course_in_url

    texts = COURSE_TEXTS + mutated(COURSE_TEXTS[:17], "ab+@/:-._~ \n\x1ci4xcourse-v1;_%", seed=8)
    compared = 0
    for text in texts:
        for kind, read in (("id", course_in_id), ("url", course_in_url)):
            found = edxflow_native.course_of(kind, text, I4x)
            if found is not NotImplemented:
                assert found == read(text) and type(found) is type(read(text)), (kind, text)
                compared += 1
    assert compared > len(texts)
