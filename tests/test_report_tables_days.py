"""The report templates person_course_day and pc_day_totals (sql/reports/) and their schemas
(sql/schemas/reports/): headers name real tables, schemas are complete and follow simeon's columns,
and each template, rendered, transpiled to DuckDB and run on a few hand-written rows of one course,
gives the schema's columns and the values worked out by hand below.

The report tables person_course_day reads (video_stats_day, forum_events, person_problem,
course_problem) are loaded here from hand-written rows typed by their schemas in
sql/schemas/reports/, not built by their templates."""

from __future__ import annotations

import math
import statistics

import pytest

from edxflow.core.jsonl import shipped_schema
from tests.helpers import (
    DAY_COUNTS,
    SCHEMAS,
    assert_column_types,
    built_rows,
    check_header,
    check_schema,
    report_schema,
    report_warehouse,
    template_header,
)

TABLES = ["person_course_day", "pc_day_totals"]
TYPES = {"STRING", "INTEGER", "FLOAT", "BOOLEAN", "TIMESTAMP", "DATE", "RECORD"}

# A `_` in the course id: simeon's LIKE would read it as a wildcard.
COURSE = "TestX/T_1/2030"
COURSE_V1 = "course-v1:TestX+T_1+2030"
BASE = "TestX__T_1__2030"
LATEST = f"{BASE}_latest"
LOGS = f"{BASE}_logs"


def input_schema(table: str) -> list[dict]:
    """The schema of a table a template reads: a loaded table's or a report table's."""
    if table == "tracklog":
        return shipped_schema("tracking_log")
    if (SCHEMAS / f"{table}.json").is_file():
        return shipped_schema(table)
    return report_schema(table)


@pytest.mark.parametrize("table", TABLES)
def test_header_names_real_tables(table):
    check_header(table)


def test_headers_follow_simeons_graph():
    # simeon.md 7.4; person_problem/course_problem optional: a course without problem_analysis
    # still gets person_course_day (and so pc_day_totals and person_course).
    pcd = template_header("person_course_day")
    assert set(pcd["reads"]) == {
        "tracklog",
        "video_stats_day",
        "forum_events",
        "course_axis",
        "user_info_combo",
    }
    assert set(pcd["optional"]) == {"person_problem", "course_problem"}
    assert template_header("pc_day_totals")["reads"] == ["person_course_day"]


@pytest.mark.parametrize("table", TABLES)
def test_schema_is_complete(table):
    check_schema(table, TYPES)


ITYPES = [
    "multiplechoice",
    "choice",
    "numerical",
    "option",
    "custom",
    "string",
    "mixed",
    "forumula",
    "other",
]
DT = [("avg_dt", "FLOAT"), ("sdv_dt", "FLOAT"), ("max_dt", "FLOAT"), ("n_dt", "INTEGER")]
DT.append(("sum_dt", "FLOAT"))


def test_columns_are_simeons():
    """Names, order and types of simeon's schema_person_course_day/_pc_day_totals."""
    head = [("username", "STRING"), ("course_id", "STRING")]
    times = [("first_event", "TIMESTAMP"), ("last_event", "TIMESTAMP")]
    pcd = (
        head
        + [("date", "DATE")]
        + [(name, "INTEGER") for name in DAY_COUNTS]
        + [("nvideos_viewed", "INTEGER"), ("nvideos_watched_sec", "FLOAT")]
        + [(f"nforum_{k}", "INTEGER") for k in ("reads", "posts", "threads")]
        + [("nproblems_answered", "INTEGER"), ("nproblems_attempted", "INTEGER")]
        + [(f"nproblems_{k}", "INTEGER") for k in ITYPES]
        + times
        + DT
    )
    totals = head + [("ndays_act", "INTEGER")] + [(n, "INTEGER") for n in DAY_COUNTS] + times + DT
    assert [(f["name"], f["type"]) for f in report_schema("person_course_day")] == pcd
    assert [(f["name"], f["type"]) for f in report_schema("pc_day_totals")] == totals


# --- running the templates on DuckDB -----------------------------------------------------------

XBLOCK = f"/courses/{COURSE_V1}/xblock/block-v1:TestX+T_1+2030+type@problem+block@p1/handler/x"


def ev(time: str, username: str, event_type: str) -> dict:
    return {"time": f"2030-01-{time}Z", "username": username, "event_type": event_type}


TRACKLOG = [
    # alice, day 1: dt 60, 30, 30, (xblock left out), (480: over 5 min), 10, 30, (13 hours), 0
    ev("01T10:00:00", "alice", "play_video"),
    ev("01T10:01:00", "alice", "pause_video"),
    ev("01T10:01:30", "alice", f"/courses/{COURSE}/discussion/forum/general/threads/T1"),
    ev("01T10:02:00", "alice", f"/courses/{COURSE_V1}/progress"),
    ev("01T10:02:10", "alice", XBLOCK),
    ev("01T10:10:00", "alice", "problem_check"),
    ev("01T10:10:10", "alice", "showanswer"),
    ev("01T10:10:40", "alice", "seq_goto"),
    ev("01T23:58:00", "alice", "show_transcript"),
    # not this course's forum: `_` is no wildcard
    ev("01T23:58:00", "alice", "/courses/TestX/TZ1/2030/discussion/forum"),
    # alice, day 2: 180 (from 23:58 the day before), 20, 0
    ev("02T00:01:00", "alice", "seek_video"),
    ev("02T00:01:20", "alice", "play_video"),
    ev("02T00:01:20", "alice", "play_video"),
    # bob: one event
    ev("01T08:00:00", "bob", "play_video"),
    # carol: only xblock events, no row
    ev("01T09:00:00", "carol", XBLOCK),
    # no user
    ev("01T10:00:30", "", "play_video"),
]
for _row in TRACKLOG:
    _row["course_id"] = COURSE

VIDEO_STATS_DAY = [
    {"date": "2030-01-01", "username": "alice", "video_id": "v1", "position": 30.0},
    {"date": "2030-01-01", "username": "alice", "video_id": "v2", "position": 12.5},
    {"date": "2030-01-03", "username": "alice", "video_id": "v1", "position": 90.0},
    {"date": "2030-01-01", "username": "", "video_id": "v1", "position": 10.0},
]


def forum(time: str, action: str, thread_id: str | None, username: str = "alice") -> dict:
    return {
        "time": f"2030-01-{time}Z",
        "username": username,
        "course_id": COURSE,
        "forum_action": action,
        "thread_id": thread_id,
    }


FORUM_EVENTS = [
    forum("01T10:01:30", "read", "T1"),
    forum("01T10:05:00", "reply", "T1"),
    forum("01T10:06:00", "created_thread", None),
    forum("01T10:07:00", "read_inline", ""),
    forum("01T10:08:00", "upvote", "T3"),  # neither read nor post
    forum("01T08:00:00", "created_comment", "T9", "bob"),
]

COURSE_AXIS = [
    {"index": 1, "category": "course", "url_name": "course"},
    # a vertical sharing p1's url_name: its type must not count
    {"index": 2, "category": "vertical", "url_name": "p1", "data": {"itype": "customresponse"}},
    {"index": 3, "category": "problem", "url_name": "p1"},
    {"index": 4, "category": "problem", "url_name": "p2"},
    {"index": 5, "category": "problem", "url_name": "p3", "data": {"itype": None}},
]
COURSE_AXIS[2]["data"] = {"itype": "multiplechoiceresponse"}
COURSE_AXIS[3]["data"] = {"itype": "formularesponse"}
for _row in COURSE_AXIS:
    _row["course_id"] = COURSE
    _row["module_id"] = f"{COURSE}/{_row['category']}/{_row['url_name']}"

USER_INFO_COMBO = [{"user_id": 1, "username": "alice"}, {"user_id": 2, "username": "bob"}]

COURSE_PROBLEM = [
    {"course_id": COURSE, "problem_nid": 1, "problem_id": "p1"},
    {"course_id": COURSE, "problem_nid": 2, "problem_id": "p2"},
    {"course_id": COURSE, "problem_nid": 3, "problem_id": "p3"},
    {"course_id": COURSE, "problem_nid": 4, "problem_id": "gone"},  # not in course_axis
]


def answered(user_id: int, nid: int, attempts: int, date: str | None) -> dict:
    return {
        "user_id": user_id,
        "course_id": COURSE,
        "problem_nid": nid,
        "n_attempts": attempts,
        "date": date and f"2030-01-{date}Z",
    }


PERSON_PROBLEM = [
    answered(1, 1, 2, "01T10:10:00"),
    answered(1, 2, 1, "01T11:00:00"),
    answered(1, 3, 3, "04T09:00:00"),  # a day with problems only
    answered(1, 4, 1, "04T09:30:00"),
    answered(99, 1, 1, "01T10:00:00"),  # not in user_info_combo
    answered(2, 1, 1, None),
]

SOURCES = {
    (LOGS, "tracklog"): TRACKLOG,
    (LATEST, "course_axis"): COURSE_AXIS,
    (LATEST, "user_info_combo"): USER_INFO_COMBO,
    (LATEST, "video_stats_day"): VIDEO_STATS_DAY,
    (LATEST, "forum_events"): FORUM_EVENTS,
    (LATEST, "person_problem"): PERSON_PROBLEM,
    (LATEST, "course_problem"): COURSE_PROBLEM,
}


def build(con, table: str, target: str | None = None, without=(), **render_options) -> list[dict]:
    """Render, transpile and run one template into the latest dataset (as `target`, default the
    table), as if the course lacked the tables `without`; its rows as dicts (values as text)."""
    where, rows = built_rows(
        con,
        table,
        course_id=COURSE,
        latest=LATEST,
        logs=LOGS,
        target=target,
        without=without,
        **render_options,
    )
    assert_column_types(con, where, report_schema(table), table)
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("days")
    inputs = {key: (input_schema(key[1]), rows) for key, rows in SOURCES.items()}
    con = report_warehouse(tmp_path, LATEST, LOGS, inputs=inputs)
    result = {table: build(con, table) for table in TABLES}
    one_window = {"suffix_start": "20300102", "suffix_end": "20300103"}
    result["window"] = build(
        con, "person_course_day", "pcd_window", extra_args=one_window
    )  # read by nothing
    no_items = ("person_problem", "course_problem")
    result["no_items"] = build(con, "person_course_day", "pcd_no_items", without=no_items)
    con.close()
    return result


def by_day(rows: list[dict]) -> dict:
    return {(row["username"], row["date"]): row for row in rows}


def numbers(row: dict, names) -> dict:
    return {name: row[name] for name in names}


def close(text: str | None, value: float) -> bool:
    return text is not None and math.isclose(float(text), value, rel_tol=1e-9)


def test_person_course_day_rows(built):
    rows = built["person_course_day"]
    assert [(r["username"], r["date"]) for r in rows] == [
        ("alice", "2030-01-01"),
        ("bob", "2030-01-01"),
        ("alice", "2030-01-02"),
        ("alice", "2030-01-03"),  # a video only
        ("alice", "2030-01-04"),  # problems only
    ]  # carol: xblock events only; '' and user 99 left out
    assert {r["course_id"] for r in rows} == {COURSE}


def test_person_course_day_event_counts(built):
    days = by_day(built["person_course_day"])
    names = DAY_COUNTS
    assert numbers(days["alice", "2030-01-01"], names) == dict(
        zip(names, ["9", "1", "1", "1", "1", "1", "1", "1", "0", "1"])
    )
    assert numbers(days["alice", "2030-01-02"], names) == dict(
        zip(names, ["3", "0", "0", "2", "0", "0", "0", "0", "1", "0"])
    )
    assert numbers(days["bob", "2030-01-01"], names) == dict(
        zip(names, ["1"] + ["0"] * 2 + ["1"] + ["0"] * 6)
    )
    for day in ("2030-01-03", "2030-01-04"):
        assert set(numbers(days["alice", day], names).values()) == {"0"}


# alice's inter-event times up to 5 minutes
DAY1_DT = [60, 30, 30, 10, 30, 0]
DAY2_DT = [180, 20, 0]  # 180: from 23:58 the day before


def test_person_course_day_times(built):
    days = by_day(built["person_course_day"])
    first = days["alice", "2030-01-01"]
    assert (first["first_event"], first["last_event"]) == (
        "2030-01-01 10:00:00+00",
        "2030-01-01 23:58:00+00",
    )
    assert (first["n_dt"], first["max_dt"], first["sum_dt"]) == ("6", "60.0", "160.0")
    assert close(first["avg_dt"], 160 / 6) and close(first["sdv_dt"], statistics.stdev(DAY1_DT))
    second = days["alice", "2030-01-02"]
    assert (second["n_dt"], second["max_dt"], second["sum_dt"]) == ("3", "180.0", "200.0")
    assert close(second["avg_dt"], 200 / 3) and close(second["sdv_dt"], statistics.stdev(DAY2_DT))
    bob = days["bob", "2030-01-01"]
    assert (bob["n_dt"], bob["avg_dt"], bob["sdv_dt"], bob["max_dt"], bob["sum_dt"]) == (
        "0",
        None,
        None,
        None,
        None,
    )
    # no tracking log event: no times (simeon: midnight from the video row)
    for day in ("2030-01-03", "2030-01-04"):
        row = days["alice", day]
        assert (row["first_event"], row["last_event"], row["n_dt"]) == (None, None, "0")


def test_person_course_day_videos_and_forum(built):
    days = by_day(built["person_course_day"])
    names = ["nvideos_viewed", "nvideos_watched_sec", "nforum_reads", "nforum_posts"]
    names.append("nforum_threads")
    # threads: T1 only (None and '' are no thread; upvote is neither read nor post)
    assert numbers(days["alice", "2030-01-01"], names) == dict(
        zip(names, ["2", "42.5", "2", "2", "1"])
    )
    assert numbers(days["bob", "2030-01-01"], names) == dict(
        zip(names, ["0", "0.0", "0", "1", "1"])
    )
    assert numbers(days["alice", "2030-01-02"], names) == dict(
        zip(names, ["0", "0.0", "0", "0", "0"])
    )
    assert numbers(days["alice", "2030-01-03"], names) == dict(
        zip(names, ["1", "90.0", "0", "0", "0"])
    )


def problems(row: dict) -> list[str]:
    return [row["nproblems_answered"], row["nproblems_attempted"]] + [
        row[f"nproblems_{k}"] for k in ITYPES
    ]


def test_person_course_day_problems(built):
    days = by_day(built["person_course_day"])
    # p1 multiplechoice (not the vertical's customresponse), p2 formularesponse
    assert problems(days["alice", "2030-01-01"]) == [
        "2",
        "3",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "1",
        "0",
    ]
    # p3 has no type, nid 4 is not in course_axis: both other
    assert problems(days["alice", "2030-01-04"]) == [
        "2",
        "4",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "2",
    ]
    for key in (("bob", "2030-01-01"), ("alice", "2030-01-02"), ("alice", "2030-01-03")):
        assert set(problems(days[key])) == {"0"}


def test_person_course_day_without_item_tables(built):
    rows = built["no_items"]
    assert [(r["username"], r["date"]) for r in rows] == [
        ("alice", "2030-01-01"),
        ("bob", "2030-01-01"),
        ("alice", "2030-01-02"),
        ("alice", "2030-01-03"),
    ]
    assert {value for row in rows for value in problems(row)} == {"0"}
    full = by_day(built["person_course_day"])
    for row in rows:
        same = {k: v for k, v in row.items() if not k.startswith("nproblems_")}
        assert same == {k: v for k, v in full[row["username"], row["date"]].items() if k in same}


def test_person_course_day_suffix_window(built):
    days = by_day(built["window"])
    assert sorted(days) == [("alice", "2030-01-02"), ("alice", "2030-01-03")]
    second = days["alice", "2030-01-02"]
    # the first event of the window has no previous one: dt 20, 0
    assert (second["nevents"], second["n_dt"], second["sum_dt"]) == ("3", "2", "20.0")
    assert days["alice", "2030-01-03"]["nvideos_viewed"] == "1"


def test_pc_day_totals(built):
    rows = built["pc_day_totals"]
    assert [r["username"] for r in rows] == ["alice", "bob"]  # by sum_dt, descending
    alice, bob = rows
    assert alice["course_id"] == COURSE
    assert numbers(alice, ["ndays_act"] + DAY_COUNTS) == dict(
        zip(["ndays_act"] + DAY_COUNTS, ["4", "12", "1", "1", "3", "1", "1", "1", "1", "1", "1"])
    )
    assert (alice["first_event"], alice["last_event"]) == (
        "2030-01-01 10:00:00+00",
        "2030-01-02 00:01:20+00",
    )
    # all her dt values together (simeon: avg_dt the mean of the daily means, 46.67)
    assert (alice["n_dt"], alice["sum_dt"], alice["max_dt"]) == ("9", "360.0", "180.0")
    assert close(alice["avg_dt"], 40.0) and close(
        alice["sdv_dt"], statistics.stdev(DAY1_DT + DAY2_DT)
    )
    assert numbers(bob, ["ndays_act", "nevents", "nvideo", "n_dt"]) == {
        "ndays_act": "1",
        "nevents": "1",
        "nvideo": "1",
        "n_dt": "0",
    }
    assert (bob["avg_dt"], bob["sdv_dt"], bob["max_dt"], bob["sum_dt"]) == (None,) * 4
