"""The tracking-log split: accounting, bad input, bounded resources, reruns."""

import base64
import errno
import gzip
import hashlib
import json
import os
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from isal import igzip

from edxflow.core.courses import course_base_name, normalize_course_id
from edxflow.logs import split as split_log
from edxflow.logs.split import SeenHashes, SplitError, line_digest, split_tracking_log
from tests.disks import fill
from tests.helpers import REPO, accounted, run_script

DAY = "2021-01-01"


def event(course="course-v1:MITx+1x+T1", number=0, **fields):
    record = {
        "username": f"u{number}",
        "time": f"{DAY}T10:00:{number % 60:02d}.000001+00:00",
        "event_type": "play_video",
        "context": {"course_id": course, "user_id": number},
        "event": {"n": number},
    }
    record.update(fields)
    return json.dumps(record).encode()


def write_log(path: Path, lines: list[bytes], compress=True) -> Path:
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def read_rows(path) -> list[dict]:
    with gzip.open(path, "rb") as handle:
        return [json.loads(line) for line in handle]


def split(path, outdir, **options):
    return split_tracking_log(path, outdir, "edx", DAY, **options)


def run_split_script(path, outdir, receipt, *more, **options):
    return run_script(
        "split_tracking_log.py",
        "--input",
        str(path),
        "--outdir",
        str(outdir),
        "--receipt",
        str(receipt),
        *more,
        **options,
    )


def course_file(outdir, base, day=DAY):
    return Path(outdir) / base / f"tracklog-{day}.edx-{DAY}.json.gz"


def test_every_kind_of_line_is_accounted_for(tmp_path):
    good = event(number=1)
    lines = [
        good,
        good,  # exact duplicate
        b"",
        b"   ",
        event("MITx/2x/T2", 2),
        b"Jan  1 10:00:01 localhost " + event(number=3),  # syslog prefix: kept
        event(number=4)[:30],  # truncated JSON
        b'{"username": "x", "time": "'
        + DAY.encode()
        + b'T10:00:00+00:00", "bad": "\xff\xfe"}',  # invalid UTF-8
        b"[1, 2, 3]",
        b'"a string"',
        json.dumps({"username": "u", "event_type": "x"}).encode(),  # no time
        json.dumps(
            {"username": "u", "time": f"{DAY}T10:00:00+00:00", "event_type": "/dashboard"}
        ).encode(),
        event("course-v1:Other+9x+T9", 5),
    ]
    receipt = split(
        write_log(tmp_path / "day.log.gz", lines),
        tmp_path / "out",
        courses=["MITx/1x/T1", "MITx/2x/T2"],
    )
    assert receipt["lines_in"] == len(lines) == accounted(receipt)
    assert receipt["blank"] == 2 and receipt["duplicates"] == 1 and receipt["filtered_out"] == 1
    assert receipt["by_course"] == {"MITx/1x/T1": 2, "MITx/2x/T2": 1}
    assert receipt["no_course"] == 1 and receipt["prefix_stripped"] == 1
    assert receipt["rejected_by_reason"] == {
        "invalid UTF-8": 1,
        "no valid time": 1,
        "not a JSON object": 2,
        "not valid JSON (truncated or malformed)": 1,
    }
    assert [
        row["username"] for row in read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))
    ] == ["u1", "u3"]
    rejects = read_rows(tmp_path / "out" / "rejects" / f"edx-{DAY}.json.gz")
    assert [r["line"] for r in rejects] == [7, 8, 9, 10, 11]
    utf8 = next(r for r in rejects if r["reason"] == "invalid UTF-8")
    assert base64.b64decode(utf8["raw_base64"]).endswith(b'"\xff\xfe"}') and "raw" not in utf8
    assert (
        read_rows(tmp_path / "out" / "no_course" / f"edx-{DAY}.json.gz")[0]["event_type"]
        == "/dashboard"
    )
    files = {o["path"]: o["lines"] for o in receipt["outputs"]}
    assert (
        sum(files.values())
        == sum(receipt["by_course"].values()) + receipt["no_course"] + receipt["rejected"]
    )
    assert (
        receipt["input"]["sha256"]
        and receipt["input"]["bytes"] == (tmp_path / "day.log.gz").stat().st_size
    )


def test_outputs_are_owner_only(tmp_path):
    receipt = split(write_log(tmp_path / "d.log.gz", [event()]), tmp_path / "out")
    path = Path(receipt["outputs"][0]["path"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_duplicates_can_be_kept(tmp_path):
    path = write_log(tmp_path / "d.log.gz", [event(number=1)] * 3)
    assert split(path, tmp_path / "a")["by_course"] == {"MITx/1x/T1": 1}
    receipt = split(path, tmp_path / "b", deduplicate=False)
    assert receipt["by_course"] == {"MITx/1x/T1": 3} and receipt["duplicates"] == 0


def test_seen_hashes_grow_without_losing_values():
    seen = SeenHashes(capacity_bits=2)
    values = [line_digest(str(i).encode()) for i in range(5000)]
    assert all(seen.add(v) for v in values)
    assert not any(seen.add(v) for v in values)
    assert seen.count == 5000


def test_seen_hashes_tell_apart_digests_whose_low_64_bits_are_equal():
    seen = SeenHashes(capacity_bits=2)
    low = 0x9E3779B97F4A7C15
    values = [low, 1 << 64 | low, 2 << 64 | low, (1 << 127) | low, 1 << 64, 0, 1]
    assert all(seen.add(v) for v in values[:-1]) and not seen.add(1)  # 0 is stored as 1
    for _ in range(5):
        seen._grow()
    assert not any(seen.add(v) for v in values) and seen.count == 6


def test_a_64_bit_hash_collision_loses_no_event(tmp_path, monkeypatch):
    """Two distinct lines whose digests agree in 64 bits (as any two lines can with a 64-bit hash)
    are two events; only an identical line is a duplicate."""
    real = split_log.line_digest
    monkeypatch.setattr(split_log, "line_digest", lambda line: real(line) >> 64 << 64 | 12345)
    lines = [event(number=1), event(number=2), event(number=1)]
    receipt = split(write_log(tmp_path / "d.log.gz", lines), tmp_path / "out")
    assert receipt["by_course"] == {"MITx/1x/T1": 2} and receipt["duplicates"] == 1
    assert [
        row["username"] for row in read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))
    ] == ["u1", "u2"]


def test_a_50_mb_line_is_kept_whole(tmp_path):
    """A line of thousands of decompressed pieces: the event to its course file, the broken line to
    the rejects file, each intact (bench/long_line.py shows the time is linear in its length)."""
    text = base64.b64encode(os.urandom(50_000_000 * 3 // 4)).decode()  # random: little compression
    long_event = event(number=1, padding=text)
    broken = long_event[:-1]
    lines = [event(number=0), long_event, event(number=2), broken, event(number=3)]
    path = tmp_path / "long.log.gz"
    path.write_bytes(igzip.compress(b"\n".join(lines) + b"\n", 1))
    receipt = split(path, tmp_path / "out")
    assert (
        receipt["lines_in"] == 5
        and receipt["by_course"] == {"MITx/1x/T1": 4}
        and receipt["rejected"] == 1
    )
    rows = read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))
    assert [row["username"] for row in rows] == ["u0", "u1", "u2", "u3"]
    assert json.loads(rows[1]["extra"])["padding"] == text
    [rejected] = read_rows(tmp_path / "out" / "rejects" / f"edx-{DAY}.json.gz")
    assert rejected["line"] == 4 and rejected["raw"].encode() == broken


def truncated_gzip(tmp_path, lines: int, keep: float) -> tuple[Path, list[bytes]]:
    body = [event(number=i, padding="x" * 200) for i in range(lines)]
    data = gzip.compress(b"\n".join(body) + b"\n")
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: int(len(data) * keep)])
    return path, body


def test_truncated_gzip_keeps_every_complete_line(tmp_path):
    path, body = truncated_gzip(tmp_path, 3000, 0.6)
    receipt = split(path, tmp_path / "out")
    kept = read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))
    assert receipt["truncated"] == "the gzip stream ends early (truncated file)"
    assert 0 < len(kept) < 3000
    # exactly the complete lines that could be decompressed, in order, nothing invented
    recoverable = zlib.decompressobj(31).decompress(path.read_bytes())
    complete = recoverable.count(b"\n")
    assert [row["username"] for row in kept] == [f"u{i}" for i in range(complete)]
    assert receipt["lines_in"] == accounted(receipt) == complete + (1 if receipt["rejected"] else 0)
    if receipt["rejected"]:
        assert receipt["rejected_by_reason"] == {
            "incomplete last line (the gzip stream breaks inside it)": 1
        }


def test_truncated_gzip_can_fail_the_job_writing_nothing(tmp_path):
    path, _ = truncated_gzip(tmp_path, 3000, 0.6)
    with pytest.raises(
        SplitError, match=r"cut.log.gz: the gzip stream ends early .*fail_on_truncated"
    ):
        split(path, tmp_path / "out", fail_on_truncated=True)
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_corrupt_gzip_keeps_the_lines_before_the_damage(tmp_path):
    body = [
        event(number=i, padding=hashlib.sha256(str(i).encode()).hexdigest() * 4)
        for i in range(3000)
    ]
    data = bytearray(gzip.compress(b"\n".join(body) + b"\n"))
    middle = len(data) // 2
    data[middle : middle + 64] = b"\x00" * 64
    path = tmp_path / "bad.log.gz"
    path.write_bytes(bytes(data))
    receipt = split(path, tmp_path / "out")
    assert receipt["truncated"].startswith("the gzip stream is corrupt")
    assert receipt["input"]["bytes"] == path.stat().st_size
    assert 0 < receipt["by_course"]["MITx/1x/T1"] < 3000
    assert receipt["lines_in"] == accounted(receipt)


def test_plain_text_and_multi_member_gzip_inputs(tmp_path):
    plain = write_log(tmp_path / "plain.log", [event(number=1), event(number=2)], compress=False)
    assert split(plain, tmp_path / "a")["by_course"] == {"MITx/1x/T1": 2}
    members = tmp_path / "members.log.gz"
    members.write_bytes(
        gzip.compress(event(number=1) + b"\n") + gzip.compress(event(number=2) + b"\n")
    )
    assert split(members, tmp_path / "b")["by_course"] == {"MITx/1x/T1": 2}


def test_i4x_keys_resolve_to_the_one_run_seen_in_the_file(tmp_path):
    lines = [
        event("course-v1:MITx+1x+T1", 1),
        event(
            None, 2, event_type="i4x://MITx/1x/problem/p1/problem_get", context={}
        ),  # one run known: MITx/1x/T1
        event("MITx/6x/A", 3),
        event("MITx/6x/B", 4),
        event(
            None, 5, event_type="i4x://MITx/6x/problem/p1/problem_get", context={}
        ),  # two runs: no course
        event(
            None, 6, event_type="i4x://HarvardX/9x/problem/p1/problem_get", context={}
        ),  # unknown: no course
    ]
    receipt = split(write_log(tmp_path / "d.log.gz", lines), tmp_path / "out")
    assert receipt["by_course"] == {"MITx/1x/T1": 2, "MITx/6x/A": 1, "MITx/6x/B": 1}
    assert receipt["no_course"] == 2
    rows = read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))
    assert [row["username"] for row in rows] == ["u1", "u2"] and rows[1][
        "course_id"
    ] == "MITx/1x/T1"


def test_dynamic_date_files_events_by_their_own_day(tmp_path):
    lines = [event(number=1), event(number=2, time="2020-12-31T23:59:59.5+00:00")]
    receipt = split(write_log(tmp_path / "d.log.gz", lines), tmp_path / "out", dynamic_date=True)
    assert receipt["by_course"] == {"MITx/1x/T1": 2}
    assert len(read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))) == 1
    previous_day = course_file(tmp_path / "out", "MITx__1x__T1", day="2020-12-31")
    assert [row["time"] for row in read_rows(previous_day)] == ["2020-12-31T23:59:59.5+00:00"]
    # the file of the previous day's own log is a different file: no two writers share one
    assert previous_day.name == f"tracklog-2020-12-31.edx-{DAY}.json.gz"


def test_rerun_replaces_the_previous_split(tmp_path):
    path = write_log(tmp_path / "d.log.gz", [event(number=1), event("MITx/2x/T2", 2)])
    split(path, tmp_path / "out")
    assert course_file(tmp_path / "out", "MITx__2x__T2").exists()
    receipt = split(path, tmp_path / "out", courses=["MITx/1x/T1"])
    assert not course_file(tmp_path / "out", "MITx__2x__T2").exists()
    assert (
        len(read_rows(course_file(tmp_path / "out", "MITx__1x__T1"))) == 1
        and receipt["filtered_out"] == 1
    )


def test_two_courses_with_one_directory_name_are_an_error_naming_both(tmp_path):
    path = write_log(tmp_path / "d.log.gz", [event("MITx/1.1x/T1", 1), event("MITx/1_1x/T1", 2)])
    with pytest.raises(
        SplitError,
        match=r"'MITx/1.1x/T1' and 'MITx/1_1x/T1' both map to the directory 'MITx__1_1x__T1'",
    ):
        split(path, tmp_path / "out")
    assert [p for p in (tmp_path / "out").rglob("*.json.gz")] == []


def test_many_courses_under_a_low_open_file_limit(tmp_path):
    lines = [event(f"course-v1:Org{i % 40}+C{i}+R", i) for i in range(600)] * 2
    lines = [
        line.replace(b'"u', b'"v', 1) if n >= 600 else line for n, line in enumerate(lines)
    ]  # no duplicates
    path = write_log(tmp_path / "mitx-edx-events-2021-01-01.log.gz", lines)

    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    done = run_split_script(
        path, tmp_path / "out", tmp_path / "receipt.json", preexec_fn=limit_files
    )
    assert done.returncode == 0, done.stderr
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert len(receipt["by_course"]) == 600 and all(
        count == 2 for count in receipt["by_course"].values()
    )
    for output in receipt["outputs"]:
        assert len(read_rows(output["path"])) == output["lines"] == 2


def test_command_line_contract(tmp_path):
    path = write_log(
        tmp_path / "mitx-edge-events-2021-01-01.log.gz", [event(number=1), event("MITx/2x/T2", 2)]
    )
    only = ("--courses", "course-v1:MITx+2x+T2")
    done = run_split_script(path, tmp_path / "out", tmp_path / "r.json", *only)
    assert done.returncode == 0, done.stderr
    receipt = json.loads((tmp_path / "r.json").read_text())
    assert receipt["input"]["site"] == "edge" and receipt["input"]["date"] == DAY
    assert receipt["by_course"] == {"MITx/2x/T2": 1} and receipt["filtered_out"] == 1
    assert (tmp_path / "out" / "MITx__2x__T2" / f"tracklog-{DAY}.edge-{DAY}.json.gz").exists()
    missing = run_split_script(
        tmp_path / "nope.log.gz", tmp_path / "out", tmp_path / "r.json", *only
    )
    assert (
        missing.returncode == 1
        and "nope.log.gz" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_a_run_with_odd_characters_lands_under_the_base_of_its_sql(tmp_path):
    """`~`, `:` and letters of any script in a course key: the log keeps the course the SQL steps name."""
    ids = [
        "course-v1:MITx+6.002x+2021_Fall~1",
        "course-v1:Org+Num+Run:x",
        "course-v1:ÉcoleX+Num+Été2021",
    ]
    lines = [event(course_id, number) for number, course_id in enumerate(ids)]
    receipt = split(
        write_log(tmp_path / "d.log.gz", lines),
        tmp_path / "out",
        courses=[normalize_course_id(i) for i in ids],
    )
    assert (
        receipt["by_course"] == {normalize_course_id(i): 1 for i in ids}
        and receipt["filtered_out"] == 0
    )
    for number, course_id in enumerate(ids):
        rows = read_rows(course_file(tmp_path / "out", course_base_name(course_id)))
        assert [row["username"] for row in rows] == [f"u{number}"]


def test_a_full_disk_fails_the_split_naming_the_file_and_keeps_the_previous_split(
    tmp_path, small_disk
):
    outdir = small_disk / "TRACKING_LOGS"
    previous = split(write_log(tmp_path / "small.log.gz", [event(number=1)]), outdir)
    fill(small_disk)
    random_lines = [
        event(number=i, padding=os.urandom(600).hex()) for i in range(2000)
    ]  # ~2 MB gzip
    with pytest.raises(OSError) as raised:
        split(write_log(tmp_path / "big.log.gz", random_lines), outdir)
    assert raised.value.errno == errno.ENOSPC and raised.value.filename.startswith(str(outdir))
    assert [row["username"] for row in read_rows(previous["outputs"][0]["path"])] == ["u1"]
    left = sorted(str(path.relative_to(outdir)) for path in outdir.rglob("*") if path.is_file())
    assert left == [
        ".index/edx-2021-01-01.json",
        "MITx__1x__T1/tracklog-2021-01-01.edx-2021-01-01.json.gz",
    ]


def test_split_outputs_are_on_the_disk_before_they_get_their_names(tmp_path, monkeypatch):
    synced, renamed = [], []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(
        os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or fsync(fd)
    )
    monkeypatch.setattr(
        os, "replace", lambda a, b: renamed.append((str(a), set(synced))) or replace(a, b)
    )
    lines = [event(number=1), event("MITx/2x/T2", 2), b"[1]"]
    receipt = split(write_log(tmp_path / "d.log.gz", lines), tmp_path / "out")
    assert len(renamed) == len(receipt["outputs"]) + 1 == 4  # two courses, the rejects, the index
    assert all(path in synced_before for path, synced_before in renamed)


def test_a_full_disk_ends_the_step_with_one_message_naming_the_file(tmp_path, small_disk):
    """As Snakemake runs the step (its job log on the full disk too): one line, no traceback, no
    `--- Logging error ---` for the log that cannot be written, exit status 1, no output."""
    results = small_disk / "results"
    random_lines = [event(number=i, padding=os.urandom(600).hex()) for i in range(2000)]
    log = write_log(tmp_path / "decrypted.log.gz", random_lines)
    (tmp_path / "version.json").write_text('{"key": "mitx-edx-events-2021-01-01.log.gz.gpg"}')
    job = dict(
        input={"log": str(log), "version": str(tmp_path / "version.json")},
        output={"receipt": str(results / "receipts" / "r.json")},
        log=[str(results / "logs" / "split.log")],
        params={"outdir": str(results / "TRACKING_LOGS"), "courses": [], "options": {}},
        wildcards={"site": "edx", "date": DAY},
    )
    (results / "logs").mkdir(parents=True)
    fill(small_disk)
    as_snakemake = (
        "import json, runpy, sys, types\n"
        f"sys.path.insert(0, {str(REPO / 'scripts')!r})\n"
        "job = {k: types.SimpleNamespace(**v) if type(v) is dict else v for k, v in json.loads(sys.argv[1]).items()}\n"
        "snakemake = types.SimpleNamespace(**job)\n"
        f"runpy.run_path({str(REPO / 'scripts' / 'split_tracking_log.py')!r}, {{'snakemake': snakemake}}, '__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", as_snakemake, json.dumps(job)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr
    [message] = done.stderr.splitlines()
    course = results / "TRACKING_LOGS" / "MITx__1x__T1" / f"tracklog-{DAY}.edx-{DAY}.json.gz"
    assert (
        f"no space left on device writing {course}: free space on {small_disk} and run again"
        in message
    )
    assert not (results / "receipts").exists()
    assert [path.name for path in (results / "TRACKING_LOGS").rglob("*") if path.is_file()] == []


@pytest.mark.parametrize("native", [True, False])
def test_a_long_split_logs_its_progress(tmp_path, monkeypatch, caplog, native):
    """Progress lines (percent of the file read, lines per second) and a final line, naming the day
    and never an event's content."""
    monkeypatch.setattr(split_log, "CHUNK", 4096)  # many reads, one progress line each
    monkeypatch.setattr("edxflow.core.progress.EVERY", 0.0)
    lines = [event(number=n, username=f"secret-user-{n}") for n in range(3000)]
    path = write_log(tmp_path / "d.log.gz", lines)
    with caplog.at_level("INFO", logger="edxflow.progress"):
        split(path, tmp_path / "out", native=native)
    said = [record.getMessage() for record in caplog.records if record.name == "edxflow.progress"]
    assert len(said) > 3, said
    assert all(line.startswith(f"split_tracking_log edx/{DAY}: ") for line in said)
    percents = [int(line.split(": ")[1].split("%")[0]) for line in said[:-1]]
    assert percents == sorted(percents) and percents[-1] <= 100
    assert " lines/s" in said[0]
    assert said[-1].split(": ")[1].startswith("done, ") and "(3,000 lines)" in said[-1]
    assert not any("secret-user" in line for line in said)
