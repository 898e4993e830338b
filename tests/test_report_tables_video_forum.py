"""The report templates forum_events, video_stats_day and pc_video_watched (sql/reports/) and their
schemas (sql/schemas/reports/): each header names what the SQL reads, each schema describes every
column, and each template, rendered, transpiled to DuckDB and run on hand-written rows typed by the
real schemas, gives the schema's columns in order and the values worked out by hand below."""

from __future__ import annotations

import json

import pytest

from edxflow.core.jsonl import shipped_schema
from tests.helpers import (
    built_rows,
    check_header,
    check_schema,
    load_rows,
    report_schema,
    report_template,
    report_warehouse,
)

OURS = ("forum_events", "video_stats_day", "pc_video_watched")

COURSE = "VidX/F1/2031"
KEY = "course-v1:VidX+F1+2031"
LATEST = "VidX__F1__2031_latest"
LOGS = "VidX__F1__2031_logs"


@pytest.mark.parametrize("table", OURS)
def test_header_declares_what_the_sql_reads(table):
    found = check_header(table)
    text = report_template(table)
    # tracklog is read as the events `l`
    assert ("tracklog" in found["reads"] + found["optional"]) == (
        "FROM {{ tracklog }} AS l" in text
    )
    # optional inputs are tested in the SQL
    for name in found["optional"]:
        assert f"has_table('{name}')" in text


@pytest.mark.parametrize("table", OURS)
def test_schema_describes_every_column(table):
    check_schema(table, {"STRING", "INTEGER", "FLOAT", "BOOLEAN", "TIMESTAMP", "DATE"})


def test_schemas_keep_simeons_columns_and_types():
    """simeon's schema files are the compatibility contract: names, order and types."""
    expected = {
        "forum_events": [
            ("time", "TIMESTAMP"),
            ("username", "STRING"),
            ("course_id", "STRING"),
            ("forum_action", "STRING"),
            ("thread_id", "STRING"),
            ("subject", "STRING"),
            ("target_user_id", "STRING"),
            ("search_query", "STRING"),
            ("event_GET", "STRING"),
        ],
        "video_stats_day": [
            ("date", "DATE"),
            ("username", "STRING"),
            ("video_id", "STRING"),
            ("position", "FLOAT"),
        ],
        "pc_video_watched": [
            ("user_id", "INTEGER"),
            ("course_id", "STRING"),
            ("n_unique_videos_watched", "INTEGER"),
            ("fract_total_videos_watched", "FLOAT"),
            ("certified", "BOOLEAN"),
            ("verified", "BOOLEAN"),
        ],
    }
    for table, columns in expected.items():
        assert [(f["name"], f["type"]) for f in report_schema(table)] == columns


# --- the hand-written course -------------------------------------------------------------------


def log(when, username, event_type, payload=None, struct=None, **more):
    row = {"time": f"2031-03-{when}Z", "username": username, "event_type": event_type, **more}
    if payload is not None:
        row["event"] = payload if isinstance(payload, str) else json.dumps(payload)
    if struct is not None:
        row["event_struct"] = struct
    row["course_id"] = COURSE
    return row


def video(when, username, event_type, **fields):
    """A browser video event: its payload, typed in event_struct as the loader does."""
    return log(when, username, event_type, fields, fields)


BLOCK = "block-v1:VidX+F1+2031+type@video+block@"
URL = f"/courses/{KEY}/discussion"

VIDEO_EVENTS = [
    # alice, day 1, video v1: play 10, pause 30.5, a seek from 50 to 100 (50 reached, not 100)
    video("01T10:00:00", "alice", "play_video", id="v1", currentTime=10.0, code="html5"),
    video("01T10:01:00", "alice", "pause_video", id="v1", currentTime=30.5),
    video("01T10:02:00", "alice", "seek_video", id="v1", old_time=50.0, new_time=100.0),
    video("01T10:03:00", "alice", "load_video", id="v1", currentTime=400.0),  # not counted
    # alice, day 2: a block key with a dot in the block id, at speed 1.5 (simeon's speed factor)
    video("02T09:00:00", "alice", "play_video", id=f"{BLOCK}v.3", currentTime=5.0, speed=1.5),
    # bob: an i4x element id, and the mobile app's event (no event_struct: read from the JSON)
    video("01T11:00:00", "bob", "stop_video", id="i4x-VidX-F1-video-v1", currentTime=20.0),
    log("01T11:05:00", "bob", "edx.video.played", {"id": f"{BLOCK}v1", "currentTime": 40.0}),
    # carol: the staff-only video v2 (not in video_axis)
    video("01T12:00:00", "carol", "play_video", id=f"{BLOCK}v2", currentTime=12.0),
    # dave (staff): a stop without a time
    video("01T13:00:00", "dave", "stop_video", id="v1"),
    # erin (no roles row): an i4x:// key
    video("01T14:00:00", "erin", "pause_video", id="i4x://VidX/F1/video/v1", currentTime=3.25),
    # left out: no user, no video id
    video("01T15:00:00", "", "play_video", id="v1", currentTime=90.0),
    video("01T15:01:00", "bob", "play_video", currentTime=90.0),
]

FORUM_EVENTS = [
    log("05T08:00:00", "alice", f"{URL}/threads/t1/reply", {"GET": {}, "POST": {}}, {"GET": "{}"}),
    log(
        "05T08:00:01",
        "alice",
        "edx.forum.response.created",
        {"id": "r1", "discussion": {"id": "t1"}},
    ),
    log("05T08:10:00", "bob", f"{URL}/forum/d1/threads/t1", {"GET": {}}),
    log("05T08:11:00", "bob", f"{URL}/forum/users/42/followed", "{}"),
    log("05T08:12:00", "bob", f"{URL}/forum/users/42", "{}"),
    log("05T08:13:00", "bob", f"{URL}/forum", "{}"),
    log("05T08:14:00", "bob", f"{URL}/forum/", "{}"),
    log(
        "05T08:15:00",
        "bob",
        f"{URL}/forum/search",
        {"GET": {"text": ["exam"]}},
        {"GET": '{"text":["exam"]}'},
    ),
    log("05T08:16:00", "bob", f"{URL}/forum/d1/inline", "{}"),
    log("06T09:00:00", "carol", "edx.forum.searched", {"query": "exam"}, {"query": "exam"}),
    log("06T09:01:00", "carol", f"{URL}/comments/c9/unvote", "{}"),
    log("06T09:02:00", "carol", f"/courses/{KEY}/instructor/api/list_forum_members", "{}"),
    log("06T09:03:00", "carol", f"{URL}/threads/t1/unfollow", "{}"),
    log("06T09:04:00", "carol", f"{URL}/threads/t1/follow", "{}"),
    log("06T09:05:00", "carol", "edx.forum.thread.created", {"id": "t2", "title": "Hi"}),
    log("06T09:06:00", "carol", "edx.forum.thread.voted", {"id": "t1", "vote_value": "up"}),
    log("06T09:07:00", "carol", "edx.forum.comment.created", "not json"),
    # an old-style course id in the URL
    log("06T09:08:00", "carol", "/courses/VidX/F1/2031/discussion/threads/t3/upvote", "{}"),
    # not forum events of the table
    log("06T09:09:00", "", f"{URL}/threads/t1/reply", "{}"),
    log("06T09:10:00", "carol", f"{URL}/forum/d1/threads/t1", None),
    log("06T09:11:00", "carol", f"{URL}/d1/threads/create", "{}"),
    log("06T09:12:00", "carol", "page_close", "{}"),
]

USERS = [
    {"user_id": 1, "username": "alice", "certificate_status": "downloadable"},
    {"user_id": 2, "username": "bob", "certificate_status": "notpassing"},
    {"user_id": 3, "username": "carol"},
    {"user_id": 4, "username": "dave"},
    {"user_id": 5, "username": "erin"},
]
MODES = {1: "verified ", 2: "audit", 3: "honor", 4: "verified", 5: None}
for user in USERS:
    user["enrollment_mode"] = MODES[user["user_id"]]
    user["enrollment_course_id"] = COURSE

ROLES = [
    {"course_id": COURSE, "user_id": 1, "roles": "Student", "forumRoles_isStudent": 1},
    {"course_id": COURSE, "user_id": 2, "roles": "Student", "forumRoles_isModerator": 1},
    {"course_id": COURSE, "user_id": 4, "roles": "Staff", "roles_isStaff": 1},
]

VIDEO_AXIS = [  # as the video_axis template gives them (v2 is staff only: not there)
    {"index_video": 3, "category": "video", "course_id": COURSE, "video_id": "v1"},
    {"index_video": 7, "category": "video", "course_id": COURSE, "video_id": "v_3"},
]


def run(con, table: str, *, without=(), **options) -> list[dict]:
    """Render `table`'s template for the course (the tables it has: those in the warehouse, less
    `without`), transpile, build it in the latest dataset, and return its rows with every value
    as text (timestamps in UTC); its columns must be the schema's, in order."""
    _, rows = built_rows(
        con, table, course_id=COURSE, latest=LATEST, logs=LOGS, without=without, **options
    )
    return rows


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("video_forum")
    con = report_warehouse(folder, LATEST, LOGS)
    logs = VIDEO_EVENTS + FORUM_EVENTS
    load_rows(con, folder, LOGS, "tracklog", shipped_schema("tracking_log"), logs)
    load_rows(con, folder, LATEST, "user_info_combo", shipped_schema("user_info_combo"), USERS)
    load_rows(con, folder, LATEST, "roles", shipped_schema("roles"), ROLES)
    load_rows(con, folder, LATEST, "video_axis", report_schema("video_axis"), VIDEO_AXIS)
    built = {}
    built["forum_events+day5"] = run(
        con, "forum_events", extra_args={"suffix_start": "20310305", "suffix_end": "20310305"}
    )
    for table in OURS:
        built[table] = run(con, table)
    built["pc_video_watched-roles"] = run(con, "pc_video_watched", without={"roles"})
    con.close()
    return built


# --- video_stats_day ---------------------------------------------------------------------------


def test_video_stats_day(tables):
    assert tables["video_stats_day"] == [
        {"date": "2031-03-01", "username": "alice", "video_id": "v1", "position": "50.0"},
        {"date": "2031-03-01", "username": "bob", "video_id": "v1", "position": "40.0"},
        {"date": "2031-03-01", "username": "carol", "video_id": "v2", "position": "12.0"},
        {"date": "2031-03-01", "username": "dave", "video_id": "v1", "position": None},
        {"date": "2031-03-01", "username": "erin", "video_id": "v1", "position": "3.25"},
        {"date": "2031-03-02", "username": "alice", "video_id": "v_3", "position": "7.5"},
    ]


# --- pc_video_watched --------------------------------------------------------------------------


def watched(user_id, count, fraction, certified="false", verified="false"):
    return {
        "user_id": str(user_id),
        "course_id": COURSE,
        "n_unique_videos_watched": str(count),
        "fract_total_videos_watched": fraction,
        "certified": certified,
        "verified": verified,
    }


def test_pc_video_watched_students_by_roles(tables):
    assert tables["pc_video_watched"] == [
        watched(1, 2, "1.0", "true", "true"),  # mode 'verified ' trimmed
        watched(2, 1, "0.5"),  # a forum moderator is a student
        # carol watched only the staff-only v2: not a video of video_axis
        # dave is staff
        watched(5, 1, "0.5"),  # no roles row: a student (simeon drops erin)
    ]


def test_pc_video_watched_without_roles_counts_everyone(tables):
    rows = tables["pc_video_watched-roles"]
    assert [row["user_id"] for row in rows] == ["1", "2", "4", "5"]
    assert rows[2] == watched(4, 1, "0.5", "false", "true")


# --- forum_events ------------------------------------------------------------------------------


def test_forum_events_actions_and_ids(tables):
    rows = tables["forum_events"]
    picked = [
        (r["username"], r["forum_action"], r["thread_id"], r["subject"], r["target_user_id"])
        for r in rows
    ]
    assert picked == [
        ("alice", "reply", "t1", None, None),
        ("alice", "created_response", "t1", None, None),  # its discussion, not its own id
        ("bob", "read", "t1", "d1", None),
        ("bob", "follow_user", None, "users", "42"),
        ("bob", "target_user", None, "users", "42"),
        ("bob", "enter_forum", None, None, None),
        ("bob", "enter_forum", None, None, None),
        ("bob", "search", None, None, None),
        ("bob", "read_inline", None, "d1", None),
        ("carol", "searched", None, None, None),
        ("carol", "comment_unvote", "c9", None, None),
        ("carol", "list_forum_members", None, None, None),
        ("carol", "unfollow_thread", "t1", None, None),
        ("carol", "follow_thread", "t1", None, None),
        ("carol", "created_thread", "t2", None, None),
        ("carol", "edx.forum.thread.voted", "t1", None, None),
        ("carol", "created_comment", None, None, None),  # its event is no JSON
        ("carol", "upvote", "t3", None, None),
    ]
    assert {row["course_id"] for row in rows} == {COURSE}
    assert rows[0]["time"] == "2031-03-05 08:00:00+00"


def test_forum_events_search_and_get(tables):
    rows = {row["forum_action"]: row for row in tables["forum_events"]}
    assert rows["searched"]["search_query"] == "exam"
    assert json.loads(rows["search"]["event_GET"]) == {"text": ["exam"]}
    assert rows["reply"]["event_GET"] == "{}"
    assert rows["read"]["event_GET"] is None and rows["read"]["search_query"] is None


def test_forum_events_honour_the_suffix_range(tables):
    rows = tables["forum_events+day5"]
    assert len(rows) == 9 and {row["time"][:10] for row in rows} == {"2031-03-05"}
