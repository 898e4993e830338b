"""The generated demo package: object keys, real gpg round trips and joins between tables and events."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import gnupg
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from edxflow import demo  # noqa: E402
from edxflow.core.courses import normalize_course_id  # noqa: E402
from edxflow.core.naming import email_key, log_key, sql_key  # noqa: E402
from edxflow.sql import email_opt_in  # noqa: E402

END = dt.date(2026, 11, 8)
DAYS = 7
COURSES = (
    "course-v1:DemoX+DS101+2026_T1",
    "DemoX/PHY-2.1x/2025_Fall",
    "course-v1:DemoX+CS.50x+1T2026",
)
BUNDLE_DIR = f"demox-{END.isoformat()}"


def short_tmpdir() -> Path:
    # gpg-agent sockets live in GNUPGHOME, so keep the path short whatever pytest's basetemp is.
    return Path(tempfile.mkdtemp(prefix="demo-", dir="/tmp"))


def kill_agent(gnupghome: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(gnupghome), "--kill", "gpg-agent"],
        capture_output=True,
        check=False,
    )


@pytest.fixture(scope="module")
def package():
    root = short_tmpdir()
    outdir = root / "demo"
    summary = demo.write_demo_package(outdir, seed=3, days=DAYS, end_date=END)
    yield outdir, summary
    kill_agent(outdir / "gnupg")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def decrypt(package):
    gpg = gnupg.GPG(gnupghome=str(package[0] / "gnupg"))

    def decrypt_bytes(data: bytes) -> bytes:
        result = gpg.decrypt(data)
        assert result.ok, result.stderr
        return result.data

    return decrypt_bytes


@pytest.fixture(scope="module")
def sql_bundle(package, decrypt) -> dict[str, bytes]:
    """Member name -> decrypted content of the weekly SQL zip."""
    path = package[0] / "source" / "course-data" / sql_key("demox", END)
    with zipfile.ZipFile(path) as archive:
        return {name: decrypt(archive.read(name)) for name in archive.namelist()}


@pytest.fixture(scope="module")
def log_lines(package, decrypt) -> dict[dt.date, list[bytes]]:
    days = [END - dt.timedelta(days=offset) for offset in range(DAYS)]
    source = package[0] / "source" / "edx-course-data"
    return {
        day: gzip.decompress(decrypt((source / log_key("demox", "edx", day)).read_bytes())).split(
            b"\n"
        )
        for day in days
    }


def parsed_events(lines: list[bytes]) -> list[dict]:
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def read_tsv(content: bytes) -> tuple[list[str], list[list[str]]]:
    lines = content.decode("utf-8").rstrip("\n").split("\n")
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


def member(course_id: str, table: str) -> str:
    return f"{BUNDLE_DIR}/{demo.member_prefix(course_id)}-{table}-prod-analytics.sql.gpg"


def test_every_object_is_at_its_exact_key(package):
    outdir, summary = package
    expected = {
        f"edx-course-data/{log_key('demox', 'edx', END - dt.timedelta(days=n))}"
        for n in range(DAYS)
    }
    expected |= {f"course-data/{sql_key('demox', END)}", f"course-data/{email_key('demox', END)}"}
    found = {
        str(path.relative_to(outdir / "source"))
        for path in (outdir / "source").rglob("*")
        if path.is_file()
    }
    assert found == expected
    assert {f"source/{key}" for key in expected} == set(summary["files"])
    assert "edx-course-data/demox/edx/events/2026/demox-edx-events-2026-11-02.log.gz.gpg" in found
    assert (outdir / demo.MARKER_NAME).is_file()
    assert summary["geoip_database"] == str(outdir / "geoip-demo.mmdb")
    assert not list(outdir.rglob(".*.tmp-*"))


def test_gnupghome_is_private_and_holds_the_unprotected_key(package):
    outdir, summary = package
    gnupghome = outdir / "gnupg"
    assert stat.S_IMODE(gnupghome.stat().st_mode) == 0o700
    assert "allow-loopback-pinentry" in (gnupghome / "gpg-agent.conf").read_text()
    secret = gnupg.GPG(gnupghome=str(gnupghome)).list_keys(secret=True)
    assert [key["fingerprint"] for key in secret] == [summary["fingerprint"]]
    assert demo.KEY_EMAIL in secret[0]["uids"][0]
    assert secret[0]["length"] == "2048"


def test_logs_are_gzip_json_lines_of_that_day_with_the_three_courses(log_lines, package):
    courses_seen = set()
    for day, lines in log_lines.items():
        events = parsed_events(lines)
        assert len(events) >= 150
        assert all(
            event["time"].startswith(day.isoformat()) and event["time"].endswith("+00:00")
            for event in events
        )
        courses_seen |= {event["context"]["course_id"] for event in events if event.get("context")}
        # The damage real logs show: blank, truncated, invalid UTF-8, syslog prefix, a duplicate.
        assert b"" in lines[:-1]
        assert any(b"\xe9" in line for line in lines)
        assert any(
            re.match(rb"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d localhost \{", line) for line in lines
        )
        non_blank = [line for line in lines if line]
        assert len(set(non_blank)) == len(non_blank) - 1
        # The duplicate parses twice and the syslog-prefixed event not at all.
        assert package[1]["events_per_day"][day.isoformat()] == len(events) - 1 + 1
    assert set(COURSES) <= courses_seen


def test_logs_have_the_event_shapes_downstream_needs(log_lines):
    events = [event for lines in log_lines.values() for event in parsed_events(lines)]
    types = {event["event_type"] for event in events}
    assert {
        "play_video",
        "pause_video",
        "seek_video",
        "load_video",
        "problem_check",
        "edx.forum.thread.created",
        "edx.forum.response.created",
        "/dashboard",
    } <= types
    assert "edx.course.enrollment.activated" in types
    browser = [
        event
        for event in events
        if event["event_source"] == "browser" and event["event_type"] != "page_close"
    ]
    assert all(isinstance(event["event"], str) for event in browser)
    assert all(isinstance(json.loads(event["event"]), (dict, str)) for event in browser)
    server_checks = [
        e for e in events if e["event_type"] == "problem_check" and e["event_source"] == "server"
    ]
    assert server_checks and all(
        {"answers", "attempts", "correct_map", "grade", "max_grade", "problem_id", "success"}
        <= set(e["event"])
        for e in server_checks
    )
    seeks = [json.loads(e["event"]) for e in events if e["event_type"] == "seek_video"]
    assert all({"old_time", "new_time"} <= set(seek) for seek in seeks)
    implicit = [
        e
        for e in events
        if e["event_type"].startswith("/courses/course-v1:DemoX+DS101+2026_T1/courseware/")
    ]
    assert implicit and all(set(e["event"]) == {"GET", "POST"} for e in implicit)
    without_context = [e for e in events if "context" not in e]
    assert without_context and all(
        normalize_course_id(e["page"]) == "DemoX/PHY-2.1x/2025_Fall" for e in without_context
    )
    assert any("referer" in e and "accept_language" in e for e in events)
    assert any("referer" not in e for e in events)


def test_sql_bundle_members_follow_the_package_naming(sql_bundle):
    tables = "|".join(demo.SQL_TABLES)
    prefixes = "|".join(re.escape(demo.member_prefix(c)) for c in COURSES)
    pattern = re.compile(
        rf"{BUNDLE_DIR}/(?:(?:{prefixes})-(?:{tables})-prod-analytics\.sql"
        rf"|(?:{prefixes})-prod\.mongo"
        rf"|(?:{prefixes})-course_structure-prod-analytics\.json"
        rf"|(?:{prefixes})-course-prod-analytics\.xml\.tar\.gz"
        rf"|ora/DemoX-DS101-2026_T1-submissions_submission-prod-analytics\.sql"
        rf"|DemoX-DS101-2026_T1-auth_user-prod-edge-analytics\.sql)\.gpg"
    )
    assert [name for name in sql_bundle if not pattern.fullmatch(name)] == []
    assert len(sql_bundle) == len(COURSES) * (len(demo.SQL_TABLES) + 3) + 2
    for course_id in COURSES:
        for table in demo.SQL_TABLES:
            assert member(course_id, table) in sql_bundle
    assert f"{BUNDLE_DIR}/DemoX-PHY-2.1x-2025_Fall-prod.mongo.gpg" in sql_bundle


def test_sql_members_decrypt_to_tab_separated_tables_with_headers(sql_bundle):
    sql_members = {
        name: content for name, content in sql_bundle.items() if name.endswith(".sql.gpg")
    }
    assert len(sql_members) == len(COURSES) * len(demo.SQL_TABLES) + 2
    for name, content in sql_members.items():
        header, rows = read_tsv(content)
        assert len(header) > 1 and all(re.fullmatch(r"[a-z_]+", column) for column in header), name
        assert all(len(row) == len(header) for row in rows), name
    header, _ = read_tsv(sql_bundle[member(COURSES[0], "auth_user")])
    assert header[:4] == ["id", "username", "first_name", "last_name"] and len(header) == 22
    assert read_tsv(sql_bundle[member(COURSES[0], "user_id_map")])[0] == [
        "hash_id",
        "id",
        "username",
    ]
    profiles = b"".join(sql_bundle[member(course_id, "auth_userprofile")] for course_id in COURSES)
    assert b"Pass the course\\nand then:\\tget a job" in profiles
    assert b"\tNULL\t" in profiles


def test_tables_use_the_course_id_form_of_the_course(sql_bundle):
    for course_id in COURSES:
        header, rows = read_tsv(sql_bundle[member(course_id, "student_courseenrollment")])
        assert rows and {row[header.index("course_id")] for row in rows} == {course_id}
        for row in rows:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[header.index("created")])
            assert row[header.index("is_active")] in ("0", "1")


def test_enrolled_and_graded_users_exist_in_auth_user(sql_bundle):
    for course_id in COURSES:
        user_header, users = read_tsv(sql_bundle[member(course_id, "auth_user")])
        user_ids = {row[0] for row in users}
        for table, column in (
            ("student_courseenrollment", "user_id"),
            ("courseware_studentmodule", "student_id"),
            ("grades_persistentcoursegrade", "user_id"),
            ("auth_userprofile", "user_id"),
            ("certificates_generatedcertificate", "user_id"),
            ("django_comment_client_role_users", "user_id"),
        ):
            header, rows = read_tsv(sql_bundle[member(course_id, table)])
            assert rows, (course_id, table)
            assert {row[header.index(column)] for row in rows} <= user_ids, (course_id, table)


def course_structure(sql_bundle, course_id: str) -> dict:
    name = f"{BUNDLE_DIR}/{demo.member_prefix(course_id)}-course_structure-prod-analytics.json.gpg"
    return json.loads(sql_bundle[name])


def test_course_structure_is_a_block_tree(sql_bundle):
    for course_id in COURSES:
        blocks = course_structure(sql_bundle, course_id)
        roots = [key for key, block in blocks.items() if block["category"] == "course"]
        assert len(roots) == 1
        children = {child for block in blocks.values() for child in block["children"]}
        assert children == set(blocks) - set(roots)
        categories = {block["category"] for block in blocks.values()}
        assert {"chapter", "sequential", "vertical", "problem", "video", "html"} <= categories
        graded = [
            b
            for b in blocks.values()
            if b["category"] == "sequential" and b["metadata"].get("graded")
        ]
        assert graded and all(
            {"format", "due", "display_name"} <= set(b["metadata"]) for b in graded
        )
    assert all(
        key.startswith("i4x://DemoX/PHY-2.1x/") for key in course_structure(sql_bundle, COURSES[1])
    )


def test_problem_ids_in_events_and_studentmodule_exist_in_the_course_structure(
    sql_bundle, log_lines
):
    problems = {
        course_id: {
            key
            for key, block in course_structure(sql_bundle, course_id).items()
            if block["category"] == "problem"
        }
        for course_id in COURSES
    }
    checked = set()
    for lines in log_lines.values():
        for event in parsed_events(lines):
            if event["event_type"] == "problem_check" and event["event_source"] == "server":
                course_id = event["context"]["course_id"]
                assert event["event"]["problem_id"] in problems[course_id]
                checked.add(course_id)
    assert checked == set(COURSES)
    for course_id in COURSES:
        header, rows = read_tsv(sql_bundle[member(course_id, "courseware_studentmodule")])
        problem_rows = [row for row in rows if row[header.index("module_type")] == "problem"]
        assert problem_rows
        assert {row[header.index("module_id")] for row in problem_rows} <= problems[course_id]
        state = json.loads(problem_rows[0][header.index("state")].replace("\\\\", "\\"))
        assert {"correct_map", "student_answers", "attempts"} <= set(state)


def test_forum_dump_matches_the_forum_events(sql_bundle, log_lines):
    documents = [
        json.loads(line)
        for course_id in COURSES
        for line in sql_bundle[f"{BUNDLE_DIR}/{demo.member_prefix(course_id)}-prod.mongo.gpg"]
        .decode()
        .splitlines()
    ]
    assert {doc["_type"] for doc in documents} == {"CommentThread", "Comment"}
    assert all(re.fullmatch(r"[0-9a-f]{24}", doc["_id"]["$oid"]) for doc in documents)
    oids = {doc["_id"]["$oid"] for doc in documents}
    created = [
        event["event"]["id"]
        for lines in log_lines.values()
        for event in parsed_events(lines)
        if event["event_type"].startswith("edx.forum.")
    ]
    assert created and set(created) <= oids


def test_olx_tarball_has_course_policies_and_components(sql_bundle):
    name = f"{BUNDLE_DIR}/DemoX-PHY-2.1x-2025_Fall-course-prod-analytics.xml.tar.gz.gpg"
    with tarfile.open(fileobj=io.BytesIO(sql_bundle[name])) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        assert {
            f"{top}/course.xml",
            f"{top}/course/2025_Fall.xml",
            f"{top}/policies/2025_Fall/policy.json",
            f"{top}/policies/2025_Fall/grading_policy.json",
        } <= set(names)
        problem_files = [n for n in names if n.startswith(f"{top}/problem/") and n.endswith(".xml")]
        assert problem_files and any(n.startswith(f"{top}/video/") for n in names)
        problem = tar.extractfile(problem_files[0]).read().decode()
        assert re.search(r"<(multiplechoice|choice|option|numerical|string)response", problem)


def test_email_opt_in_zip_holds_one_encrypted_csv(package, decrypt, sql_bundle):
    path = package[0] / "source" / "course-data" / email_key("demox", END)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["demox-email_opt_in-prod-analytics.csv.gpg"]
        rows = list(
            csv.DictReader(
                io.StringIO(decrypt(archive.read(archive.namelist()[0])).decode("utf-8"))
            )
        )
    assert tuple(rows[0]) == email_opt_in.COLUMNS
    assert {row["is_opted_in_for_email"] for row in rows} == {"True", "False"}
    assert all(
        re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00", row["preference_set_datetime"]
        )
        for row in rows
    )
    assert any("," in row["full_name"] for row in rows)
    auth_user_ids = {
        row[0]
        for course_id in COURSES
        for row in read_tsv(sql_bundle[member(course_id, "auth_user")])[1]
    }
    assert {row["user_id"] for row in rows} <= auth_user_ids
    assert {row["course_id"] for row in rows} == set(COURSES)


def test_plan_is_deterministic_given_the_seed():
    def contents(plan):
        return [(o.path, o.plaintext, o.zip_members) for o in plan.objects]

    assert contents(demo.build_package(5, END, 2)) == contents(demo.build_package(5, END, 2))
    assert contents(demo.build_package(5, END, 2)) != contents(demo.build_package(6, END, 2))


def test_a_larger_world_has_more_users_and_proportionally_more_sessions():
    from edxflow.demo.world import build_world

    small, large = build_world(5, END, 2), build_world(5, END, 2, users=120)
    assert len(small.users) == demo.USER_COUNT and len(large.users) == 120
    assert len({user.username for user in large.users}) == 120
    events = [sum(len(day) for day in world.events_by_day.values()) for world in (small, large)]
    assert events[1] > 2 * events[0]
    with pytest.raises(ValueError, match=f"users must be at least {demo.MIN_USERS}"):
        build_world(5, END, 2, users=demo.MIN_USERS - 1)


def test_regenerating_replaces_the_package():
    root = short_tmpdir()
    outdir = root / "demo"
    try:
        first = demo.write_demo_package(outdir, seed=1, days=1, end_date=END)
        (outdir / "source" / "stray-file").write_text("left over")
        second = demo.write_demo_package(outdir, seed=1, days=1, end_date=END)
        assert not (outdir / "source" / "stray-file").exists()
        assert second["fingerprint"] != first["fingerprint"]
        gpg = gnupg.GPG(gnupghome=str(outdir / "gnupg"))
        log = outdir / "source" / "edx-course-data" / log_key("demox", "edx", END)
        assert gpg.decrypt(log.read_bytes()).ok
    finally:
        kill_agent(outdir / "gnupg")
        shutil.rmtree(root, ignore_errors=True)


def test_refuses_to_replace_a_directory_that_is_not_a_demo_package():
    root = short_tmpdir()
    try:
        (root / "precious.txt").write_text("keep me")
        with pytest.raises(demo.DemoPackageError, match="not a demo package"):
            demo.write_demo_package(root, days=1, end_date=END)
        assert (root / "precious.txt").read_text() == "keep me"
        assert not (root / "gnupg").exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_refuses_a_gnupghome_path_too_long_for_gpg_sockets():
    with pytest.raises(demo.DemoPackageError, match="characters"):
        demo.write_demo_package(Path("/tmp") / ("x" * 90), days=1, end_date=END)
    assert not (Path("/tmp") / ("x" * 90)).exists()


def test_cli_help_and_refusal():
    script = str(SCRIPTS / "make_demo_package.py")
    shown = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "--end-date" in shown.stdout and "--users" in shown.stdout
    too_few = subprocess.run([sys.executable, script, "x", "--users", "3"], capture_output=True)
    assert too_few.returncode == 2 and b"--users must be at least" in too_few.stderr
    root = short_tmpdir()
    try:
        (root / "precious.txt").write_text("keep me")
        refused = subprocess.run(
            [sys.executable, script, str(root), "--days", "1"], capture_output=True, text=True
        )
        assert refused.returncode == 1 and "not a demo package" in refused.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
