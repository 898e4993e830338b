"""The first report templates (sql/reports/*.sql) and their schemas (sql/schemas/reports/*.json):
headers name real tables, schemas are complete, and each template, rendered, transpiled to DuckDB
and run on a few hand-written rows of one course, gives the schema's columns and the values
worked out by hand below."""

from __future__ import annotations

import json

import pytest

from edxflow.core.jsonl import shipped_schema
from tests.helpers import (
    IPHONE,
    PERSON_COURSE_UPSTREAM,
    WINDOWS,
    built_rows,
    check_header,
    check_schema,
    load_rows,
    report_warehouse,
    tracklog_event,
    transcript_download,
)

# In build order (each after what it reads).
TABLES = ["video_axis", *PERSON_COURSE_UPSTREAM]
TYPES = {"STRING", "INTEGER", "FLOAT", "BOOLEAN", "TIMESTAMP", "DATE", "RECORD"}
# The source table name a template reads -> its schema file (tracklog rows: tracking_log.json).
SOURCE_SCHEMA = {"tracklog": "tracking_log"}

COURSE = "TestX/T1/2030"
BASE = "TestX__T1__2030"
LATEST = f"{BASE}_latest"
LOGS = f"{BASE}_logs"


@pytest.mark.parametrize("table", TABLES)
def test_header_names_real_tables(table):
    check_header(table)


@pytest.mark.parametrize("table", TABLES)
def test_schema_is_complete(table):
    check_schema(table, TYPES, modes=("NULLABLE", "REQUIRED", "REPEATED"))


# --- running the templates on DuckDB -----------------------------------------------------------


def mid(kind: str, name: str) -> str:
    return f"{COURSE}/{kind}/{name}"


COURSE_AXIS = [
    {"index": 1, "category": "course", "module_id": mid("course", "course"), "name": "T1"},
    {"index": 2, "category": "chapter", "module_id": mid("chapter", "c1"), "name": "Intro"},
    {"index": 3, "category": "video", "module_id": mid("video", "v1"), "name": "Welcome"},
    {"index": 4, "category": "video", "module_id": mid("video", "v2"), "name": "Staff"},
    {"index": 5, "category": "chapter", "module_id": mid("chapter", "c2"), "name": "Part 2"},
    {"index": 6, "category": "problem", "module_id": mid("problem", "p1"), "name": "Quiz"},
    {"index": 7, "category": "video", "module_id": mid("video", "v.3"), "name": "Recap"},
]
CHAPTER = {1: None, 2: "c1", 3: "c1", 4: "c1", 5: "c2", 6: "c2", 7: "c2"}
VIDEO_DATA = {
    3: {"ytid": "1.0:YT1", "duration": 120.0},
    4: {"ytid": "1.0:YT2", "duration": 60.0},
    7: {"ytid": None, "duration": 45.5},
}
for row in COURSE_AXIS:
    row["course_id"] = COURSE
    chapter = CHAPTER[row["index"]]
    row["chapter_mid"] = chapter and mid("chapter", chapter)
    row["visible_to_staff_only"] = {4: True, 7: None}.get(row["index"], False)
    row["data"] = VIDEO_DATA.get(row["index"])

STUDENTMODULE = [
    {"student_id": 1, "module_id": mid("video", "v1"), "module_type": "video"},
    {"student_id": 1, "module_id": mid("problem", "p1"), "module_type": "problem"},
    {"student_id": 1, "module_id": mid("chapter", "c1"), "module_type": "chapter"},
    {"student_id": 2, "module_id": mid("problem", "p1"), "module_type": "problem"},
    {"student_id": 2, "module_id": mid("problem", "gone"), "module_type": "problem"},
    {"student_id": 3, "module_id": mid("course", "course"), "module_type": "course"},
]

FORUM = [
    {"author_id": 10, "_type": "CommentThread", "pinned": True, "votes": {"count": 3}},
    {"author_id": 10, "_type": "Comment", "endorsed": True, "votes": {"count": 1}},
    {"author_id": 10, "_type": "Comment", "votes": {"count": 0}},
    {"author_id": 11, "_type": "Comment", "pinned": False, "endorsed": False},
]

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/129.0 Mobile"
XBLOCK = "/courses/course-v1:TestX+T1+2030/xblock/block-v1:TestX+T1+2030+type@video+block@v1"
DOWNLOAD = transcript_download(XBLOCK)


def event(time, username, ip, agent, event_type, event="{}", **more):
    return tracklog_event(COURSE, time, username, ip, agent, event_type, event, **more)


TRACKLOG = [
    # alice (user 1): Windows from 10.0.0.1, an iPhone from 10.0.0.2
    event("01T10:00:00", "alice", "10.0.0.1", WINDOWS, "play_video"),
    event(
        "01T10:05:00",
        "alice",
        "10.0.0.1",
        WINDOWS,
        "edx.course.enrollment.activated",
        json.dumps({"user_id": 1, "mode": "audit"}),
        event_struct={"user_id": 1, "mode": "audit"},
    ),
    event(  # the mode only in the event text
        "01T10:10:00",
        "alice",
        "10.0.0.1",
        WINDOWS,
        "edx.course.enrollment.mode_changed",
        json.dumps({"user_id": 1, "mode": "verified"}),
        event_struct={"user_id": 1},
    ),
    event(
        "02T09:00:00",
        "alice",
        "10.0.0.2",
        IPHONE,
        f"{XBLOCK}/handler/transcript/translation/es",
        "",
    ),
    event("02T09:01:00", "alice", "10.0.0.2", IPHONE, "edx.ui.lms.link_clicked", DOWNLOAD),
    event(
        "02T09:02:00", "alice", "10.0.0.1", WINDOWS, f"{XBLOCK}/handler/transcript/translation/fr"
    ),
    event("02T09:03:00", "alice", "10.0.0.1", WINDOWS, "edx.ui.lms.link_clicked", DOWNLOAD),
    event("02T09:04:00", "alice", "10.0.0.1", WINDOWS, "edx.ui.lms.link_clicked", DOWNLOAD),
    event(
        "02T12:00:00",
        "alice",
        "10.0.0.1",
        WINDOWS,
        "edx.course.enrollment.deactivated",
        event_struct={"user_id": 1, "mode": "verified"},
    ),
    # bob (user 2): Android, two IPs once each, one agent nobody knows
    event("01T08:00:00", "bob", "10.0.0.9", ANDROID, "edx.ui.lms.link_clicked", DOWNLOAD),
    event(
        "01T08:30:00",
        "bob",
        "10.0.0.10",
        ANDROID,
        "edx.course.enrollment.upgrade.succeeded",
        json.dumps({"mode": "verified"}),
        event_struct={"mode": "verified"},
        context={"user_id": 2},
    ),
    event(
        "01T09:00:00",
        "bob",
        "",
        "curl/8.0",
        "edx.ui.lms.link_clicked",
        json.dumps({"target_url": "https://lms.example/courses/x/about"}),
    ),
    # carol (user 3): no agent
    event(
        "03T00:30:00",
        "carol",
        "10.0.0.3",
        "",
        "edx.course.enrollment.mode_changed",
        event_struct={"user_id": 3, "mode": "verified"},
    ),
    # no user
    event("03T01:00:00", "", "10.0.0.5", WINDOWS, "page_close", "not json"),
]

YOUTUBE = [{"id": "YT1", "duration": 300.0}]

SOURCES = {
    (LATEST, "course_axis"): COURSE_AXIS,
    (LATEST, "studentmodule"): STUDENTMODULE,
    (LATEST, "forum"): FORUM,
    (LOGS, "tracklog"): TRACKLOG,
}
YOUTUBE_SCHEMA = [
    {"name": "id", "type": "STRING", "mode": "NULLABLE", "description": "YouTube id"},
    {"name": "duration", "type": "FLOAT", "mode": "NULLABLE", "description": "seconds"},
]


def build(con, table: str, **render_options) -> list[dict]:
    """Render, transpile and run one template into the latest dataset; its rows as dicts (every
    value as text, timestamps in UTC)."""
    _, rows = built_rows(con, table, course_id=COURSE, latest=LATEST, logs=LOGS, **render_options)
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every template built in order on the hand-written course: table -> rows."""
    tmp_path = tmp_path_factory.mktemp("reports")
    inputs = {
        (dataset, table): (shipped_schema(SOURCE_SCHEMA.get(table, table)), rows)
        for (dataset, table), rows in SOURCES.items()
    }
    con = report_warehouse(tmp_path, LATEST, LOGS, inputs=inputs)
    result = {table: build(con, table) for table in TABLES}
    load_rows(con, tmp_path, LATEST, "youtube", YOUTUBE_SCHEMA, YOUTUBE)
    result["video_axis+youtube"] = build(con, "video_axis", youtube_table=f"{LATEST}.youtube")
    one_day = {"suffix_start": "20300101", "suffix_end": "20300101"}
    result["pc_day_ip_counts+suffix"] = build(con, "pc_day_ip_counts", extra_args=one_day)
    con.close()
    return result


def by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[key] for key in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def test_video_axis(built):
    rows = built["video_axis"]
    assert [row["index_video"] for row in rows] == ["3", "7"]  # v2 is staff only
    first, second = rows
    assert first == {
        "index_chapter": "2",
        "index_video": "3",
        "category": "video",
        "course_id": COURSE,
        "name": "Welcome",
        "video_id": "v1",
        "youtube_id": "YT1",
        "chapter_name": "Intro",
        "video_length": "120.0",
    }
    assert (second["video_id"], second["youtube_id"], second["chapter_name"]) == (
        "v_3",
        None,
        "Part 2",
    )
    assert second["video_length"] == "45.5"
    with_youtube = by(built["video_axis+youtube"], "video_id")
    assert with_youtube["v1"]["video_length"] == "300.0"
    assert with_youtube["v_3"]["video_length"] == "45.5"  # not listed: OLX duration


def test_pc_nchapters(built):
    assert by(built["pc_nchapters"], "user_id") == {
        "1": {"user_id": "1", "nchapters": "2"},
        "2": {"user_id": "2", "nchapters": "1"},
    }


def test_pc_forum(built):
    rows = by(built["pc_forum"], "user_id")
    assert rows["10"] == {
        "user_id": "10",
        "nforum": "3",
        "nvotes": "4",
        "npinned": "1",
        "nendorsed": "1",
        "nthread": "1",
        "ncomment": "2",
    }
    assert rows["11"]["nforum"] == "1" and rows["11"]["nvotes"] is None
    assert rows["11"]["ncomment"] == "1" and rows["11"]["nthread"] == "0"


def test_enrollment_events(built):
    rows = built["enrollment_events"]
    assert [(row["user_id"], row["mode"], row["event_type"][22:]) for row in rows] == [
        ("2", "verified", "upgrade.succeeded"),
        ("1", "audit", "activated"),
        ("1", "verified", "mode_changed"),
        ("1", "verified", "deactivated"),
        ("3", "verified", "mode_changed"),
    ]
    flags = [
        tuple(row[k] for k in ("activated", "deactivated", "mode_changed", "upgraded"))
        for row in rows
    ]
    assert flags[0] == ("false", "false", "false", "true")
    assert flags[3] == ("false", "true", "false", "false")
    assert rows[0]["course_id"] == COURSE
    assert rows[1]["time"] == "2030-01-01 10:05:00+00"


def test_person_enrollment_verified(built):
    assert built["person_enrollment_verified"] == [
        {
            "course_id": COURSE,
            "user_id": "1",
            "verified_enroll_time": "2030-01-01 10:10:00+00",
            "verified_unenroll_time": "2030-01-02 12:00:00+00",
        },
        {
            "course_id": COURSE,
            "user_id": "3",
            "verified_enroll_time": "2030-01-03 00:30:00+00",
            "verified_unenroll_time": None,
        },
    ]


def test_pc_day_ip_counts(built):
    rows = built["pc_day_ip_counts"]
    counts = {(r["username"], r["ip"], r["date"]): r["ipcount"] for r in rows}
    assert counts == {
        ("alice", "10.0.0.1", "2030-01-01"): "3",
        ("alice", "10.0.0.2", "2030-01-02"): "2",
        ("alice", "10.0.0.1", "2030-01-02"): "4",
        ("bob", "10.0.0.9", "2030-01-01"): "1",
        ("bob", "10.0.0.10", "2030-01-01"): "1",
        ("bob", "", "2030-01-01"): "1",
        ("carol", "10.0.0.3", "2030-01-03"): "1",
    }
    assert {row["course_id"] for row in rows} == {COURSE}
    # suffix_start/suffix_end limit the log rows read
    limited = built["pc_day_ip_counts+suffix"]
    assert {row["date"] for row in limited} == {"2030-01-01"} and len(limited) == 4


def test_course_modal_ip(built):
    assert built["course_modal_ip"] == [
        {"username": "alice", "modal_ip": "10.0.0.1", "ip_count": "7", "n_different_ip": "2"},
        # a tie: the smallest address
        {"username": "bob", "modal_ip": "10.0.0.10", "ip_count": "1", "n_different_ip": "2"},
        {"username": "carol", "modal_ip": "10.0.0.3", "ip_count": "1", "n_different_ip": "1"},
    ]


def test_pc_day_agent_counts(built):
    rows = built["pc_day_agent_counts"]
    counts = {
        (r["username"], r["date"], r["agent_type"]): (r["agent_count"], r["mobile"], r["desktop"])
        for r in rows
    }
    assert counts == {
        ("alice", "2030-01-01", "Desktop"): ("3", "0", "1"),
        ("alice", "2030-01-02", "Mobile"): ("2", "1", "0"),
        ("alice", "2030-01-02", "Desktop"): ("4", "0", "1"),
        ("bob", "2030-01-01", "Mobile"): ("2", "1", "0"),  # Android, though it says Linux
        ("bob", "2030-01-01", "Unknown"): ("1", "0", "0"),
    }


def test_course_modal_agent(built):
    assert built["course_modal_agent"] == [
        {
            "username": "alice",
            "modal_agent": "Desktop",
            "agent_count": "7",
            "mobile": "1",
            "desktop": "1",
        },
        {
            "username": "bob",
            "modal_agent": "Mobile",
            "agent_count": "2",
            "mobile": "1",
            "desktop": "0",
        },
    ]


def test_pc_day_trlang(built):
    rows = built["pc_day_trlang"]
    found = {
        (r["username"], r["date"], r["resource_event_data"], r["resource_event_type"]): (
            r["langcount"],
            r["last_time"],
        )
        for r in rows
    }
    assert found == {
        ("alice", "2030-01-02", "es", "transcript_language"): ("1", "2030-01-02 09:00:00+00"),
        ("alice", "2030-01-02", "es", "transcript_download"): ("1", "2030-01-02 09:01:00+00"),
        ("alice", "2030-01-02", "fr", "transcript_language"): ("1", "2030-01-02 09:02:00+00"),
        # both downloads after loading fr are in fr
        ("alice", "2030-01-02", "fr", "transcript_download"): ("2", "2030-01-02 09:04:00+00"),
        # no language loaded before: en
        ("bob", "2030-01-01", "en", "transcript_download"): ("1", "2030-01-01 08:00:00+00"),
    }
    assert {(r["course_id"], r["resource"]) for r in rows} == {(COURSE, "video")}


def test_language_multi_transcripts(built):
    rows = by(built["language_multi_transcripts"], "username", "resource_event_data")
    picked = {
        key: tuple(
            row[k]
            for k in (
                "transcript_download",
                "n_events",
                "last_time_used_lang",
                "n_diff_lang",
                "rank_num",
            )
        )
        for key, row in rows.items()
    }
    assert picked == {
        ("alice", "fr"): ("2", "3", "2030-01-02 09:04:00+00", "2", "1"),
        ("alice", "es"): ("1", "2", "2030-01-02 09:01:00+00", "2", "2"),
        ("bob", "en"): ("1", "1", "2030-01-01 08:00:00+00", "1", "1"),
    }


def test_course_modal_language(built):
    assert built["course_modal_language"] == [
        {
            "username": "alice",
            "course_id": COURSE,
            "resource": "video",
            "language": "fr",
            "language_download": "2",
            "language_nevents": "3",
            "language_ndiff": "2",
        },
        {
            "username": "bob",
            "course_id": COURSE,
            "resource": "video",
            "language": "en",
            "language_download": "1",
            "language_nevents": "1",
            "language_ndiff": "1",
        },
    ]
