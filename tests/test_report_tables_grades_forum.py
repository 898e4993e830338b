"""The report templates problem_grades, chapter_grades, show_answer, show_answer_stats_by_user,
show_answer_stats_by_course, forum_posts, forum_person and enrollday_all (sql/reports/) and their
schemas (sql/schemas/reports/): each header names what the SQL reads, each schema keeps simeon's
columns and describes every one, and each template, rendered, transpiled to DuckDB and run on
hand-written rows typed by the real schemas (the log tables through their own templates:
forum_events, enrollment_events), gives the schema's columns with the schema's types and the
values worked out by hand below."""

from __future__ import annotations

import json
import re

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
    run_template,
)

# In build order (each after what it reads).
OURS = [
    "problem_grades",
    "chapter_grades",
    "show_answer",
    "show_answer_stats_by_user",
    "show_answer_stats_by_course",
    "forum_posts",
    "forum_person",
    "enrollday_all",
]
TYPES = {"STRING", "INTEGER", "FLOAT", "BOOLEAN", "TIMESTAMP"}

COURSE = "TestX/GF/2031"
KEY = "course-v1:TestX+GF+2031"
BASE = "TestX__GF__2031"
LATEST = f"{BASE}_latest"
LOGS = f"{BASE}_logs"
EMPTY = f"{BASE}_empty_latest"  # a course whose show_answer_stats_by_user has no learner


@pytest.mark.parametrize("table", OURS)
def test_header_declares_what_the_sql_reads(table):
    found = check_header(table)
    text = report_template(table)
    assert ("tracklog" in found["reads"]) == ("FROM {{ tracklog }} AS l" in text)
    for name in found["optional"]:
        assert f"has_table('{name}')" in text
    # every template says where it differs from simeon (or that it does not)
    header = "\n".join(line for line in text.splitlines() if line.startswith("--"))
    assert re.search(r"differs? from simeon|No difference from simeon", header), table


@pytest.mark.parametrize("table", OURS)
def test_schema_describes_every_column(table):
    check_schema(table, TYPES)


SIMEON_COLUMNS = {
    "problem_grades": "user_id I, module_id S, grade F, max_grade F, perfect B, attempted B",
    "chapter_grades": "user_id I, chapter_mid S, user_chapter_max_grade F, chgrade F, "
    "due_date_max T, due_date_min T, median_grade F, chmax F",
    "show_answer": "time T, username S, course_id S, module_id S",
    "forum_posts": "username S, course_id S, slug_id S, slug_type S, thread_id S, parent_id S, "
    "original_poster S, responded_to S, title S, first_time T, body_preview S",
    "forum_person": "username S, course_id S, slug_id S, slug_type S, thread_id S, parent_id S, "
    "original_poster S, responded_to S, title S, wrote I, read I, pinned I, upvoted I, "
    "unvoted I, followed I, first_time T, last_time T",
    "enrollday_all": "course_id S, time T, user_id I, diff_enrollment_honor I, "
    "diff_enrollment_verified I, diff_enrollment_audit I",
}
KINDS = {"I": "INTEGER", "S": "STRING", "F": "FLOAT", "B": "BOOLEAN", "T": "TIMESTAMP"}
METRICS = ["problem_seen", "not_attempted", "attempted", "perfect", "partial"]


def test_schemas_keep_simeons_columns_and_types():
    """simeon's schema files (schema_{table}.json) are the contract: names, order and types."""
    for table, spec in SIMEON_COLUMNS.items():
        expected = [(name, KINDS[kind]) for name, kind in (c.split() for c in spec.split(", "))]
        assert [(f["name"], f["type"]) for f in report_schema(table)] == expected, table
    by_user = [(f["name"], f["type"]) for f in report_schema("show_answer_stats_by_user")]
    assert by_user[:4] == [
        ("user_id", "INTEGER"),
        ("explored", "BOOLEAN"),
        ("certified", "BOOLEAN"),
        ("verified", "BOOLEAN"),
    ]
    assert by_user[4:9] == [(f"pct_show_answer_{m}", "FLOAT") for m in METRICS]
    counts = [("n_show_answer_problem_seen", "INTEGER"), ("n_problems_seen", "INTEGER")]
    for m in METRICS[1:]:
        counts += [(f"n_show_answer_{m}", "INTEGER"), (f"n_{m}", "INTEGER")]
    assert by_user[9:] == counts
    by_course = [f["name"] for f in report_schema("show_answer_stats_by_course")]
    averages = [
        f"avg_pct_show_answer_{m}{group}"
        for group in ("", "_certified", "_explored", "_verified")
        for m in METRICS
    ]
    medians = [
        f"median_pct_show_answer_{m}{group}"
        for group in ("", "_explored", "_certified", "_verified")
        for m in METRICS
    ]
    assert by_course == ["course_id", *averages, *medians]
    assert {f["type"] for f in report_schema("show_answer_stats_by_course")[1:]} == {"FLOAT"}


def test_descriptions_say_where_we_differ_from_simeon():
    def described(table, column):
        return next(f["description"] for f in report_schema(table) if f["name"] == column)

    assert "simeon" in described("show_answer_stats_by_user", "explored")
    assert "simeon" in described("show_answer_stats_by_user", "pct_show_answer_partial")
    assert "simeon" in described(
        "show_answer_stats_by_course", "avg_pct_show_answer_perfect_certified"
    )
    assert "simeon" in described("forum_posts", "username")
    assert "simeon" in described("forum_posts", "thread_id")
    assert "simeon" in described("forum_person", "upvoted")
    assert "simeon" in described("forum_person", "first_time")
    assert "simeon" in described("enrollday_all", "diff_enrollment_verified")


# --- the hand-written course ---------------------------------------------------------------------
# chapter c1: p1 (due Feb 1), p2 (due Feb 15); chapter c2: p3 (no due date), p4 (due Mar 1).
# pX is a problem no longer in the course (studentmodule still has it).


def mid(kind: str, name: str) -> str:
    return f"{COURSE}/{kind}/{name}"


def block(index, category, name, chapter, due=None):
    return {
        "index": index,
        "category": category,
        "url_name": name,
        "name": name.upper(),
        "module_id": mid(category, name),
        "chapter_mid": mid("chapter", chapter),
        "due": due,
        "course_id": COURSE,
    }


COURSE_AXIS = [
    block(1, "chapter", "c1", "c1"),
    block(2, "problem", "p1", "c1", "2031-02-01T00:00:00Z"),
    block(3, "problem", "p2", "c1", "2031-02-15T00:00:00Z"),
    block(4, "video", "v1", "c1"),
    block(5, "chapter", "c2", "c2"),
    block(6, "problem", "p3", "c2"),
    block(7, "problem", "p4", "c2", "2031-03-01T00:00:00Z"),
]


def module(student, name, grade, max_grade, kind="problem"):
    return {
        "student_id": student,
        "module_type": kind,
        "module_id": mid(kind, name),
        "grade": grade,
        "max_grade": max_grade,
        "course_id": COURSE,
    }


STUDENTMODULE = [
    # ann (1): full marks on p1 and pX, partial credit on p2, p3 opened only, nothing right on p4
    module(1, "p1", 2.0, 2.0),
    module(1, "p2", 1.0, 3.0),
    module(1, "p3", None, 1.0),
    module(1, "p4", 0.0, 1.0),
    module(1, "pX", 1.0, 1.0),
    module(1, "v1", None, None, kind="video"),  # not a problem
    # bob (2): nothing right on p1, full marks on p2 and p3
    module(2, "p1", 0.0, 2.0),
    module(2, "p2", 3.0, 3.0),
    module(2, "p3", 1.0, 1.0),
    # cat (3): p1 opened only, partial credit on p2
    module(3, "p1", None, 2.0),
    module(3, "p2", 1.5, 3.0),
    # dan (4): a grade without points possible (neither perfect nor partial)
    module(4, "p4", 1.0, None),
    # zed (9): not in user_info_combo nor person_course
    module(9, "p1", 1.0, 2.0),
]

USER_INFO_COMBO = [
    {"user_id": 1, "username": "ann"},
    {"user_id": 2, "username": "bob"},
    {"user_id": 3, "username": "cat"},
    {"user_id": 4, "username": "dan"},
]
for _row in USER_INFO_COMBO:
    _row["enrollment_course_id"] = COURSE

# person_course as its template gives it (only the columns show_answer_stats_by_user reads).
PERSON_COURSE = [
    {"course_id": COURSE, "user_id": 1, "username": "ann", "explored": True, "certified": True,
     "mode": "verified"},
    {"course_id": COURSE, "user_id": 2, "username": "bob", "explored": True, "certified": False,
     "mode": "audit"},
    {"course_id": COURSE, "user_id": 3, "username": "cat", "explored": False, "certified": False,
     "mode": "verified"},
    {"course_id": COURSE, "user_id": 4, "username": "dan", "explored": False, "certified": False,
     "mode": None},
]  # fmt: skip


def log(when, username, event_type, payload="{}", struct=None, **more):
    row = {"time": f"2031-{when}Z", "username": username, "event_type": event_type, **more}
    row["event"] = payload if isinstance(payload, str) else json.dumps(payload)
    if struct is not None:
        row["event_struct"] = struct
    row["course_id"] = COURSE
    return row


def show(when, username, problem, event_type="showanswer"):
    block_key = f"block-v1:TestX+GF+2031+type@problem+block@{problem}"
    return log(
        when, username, event_type, {"problem_id": block_key}, module_id=mid("problem", problem)
    )


def check(when, username, problem, success):
    return log(
        when,
        username,
        "problem_check",
        {"success": success},
        {"success": success},
        module_id=mid("problem", problem),
        event_source="server",
    )


SHOW_ANSWER_EVENTS = [
    # ann: p1 answered right and never shown; p2 shown twice (one problem); p3 shown without an
    # attempt; pX shown after her right answer
    check("03-01T09:00:00", "ann", "p1", "correct"),
    show("03-01T09:10:00", "ann", "p2"),
    show("03-02T09:00:00", "ann", "p2", "show_answer"),  # simeon's other event name
    show("03-01T09:20:00", "ann", "p3"),
    check("03-01T09:30:00", "ann", "pX", "correct"),
    show("03-01T09:40:00", "ann", "pX"),
    # bob: p2 shown before his right answer
    show("03-01T10:00:00", "bob", "p2"),
    check("03-01T10:05:00", "bob", "p2", "correct"),
    # cat: p1 shown without an attempt
    show("03-01T11:00:00", "cat", "p1"),
    # zed and ghost are not in user_info_combo; the browser's problem_show is not a show-answer
    # event of simeon's; an event without a user stays in show_answer
    show("03-01T12:00:00", "zed", "p1"),
    show("03-01T12:01:00", "ghost", "p2"),
    show("03-01T12:02:00", "cat", "p2", "problem_show"),
    show("03-01T12:03:00", "", "p1"),
]

DISCUSSION = f"/courses/{KEY}/discussion"


def post(slug, kind, author, user_id, created, thread=None, parent=None, title=None, body=None):
    return {
        "mongoid": slug,
        "_type": kind,
        "course_id": COURSE,
        "author_id": user_id,
        "author_username": author,
        "created_at": f"2031-{created}Z",
        "comment_thread_id": thread,
        "parent_id": parent,
        "title": title,
        "body": body,
    }


LONG_BODY = "Ça ira? " + "x" * 120  # 128 characters, one of them not ASCII
FORUM = [
    # thread t1 by ann: responses r1 (bob) and r2 (cat), comment c1 (ann) on r1
    post("t1", "CommentThread", "ann", 1, "04-01T10:00:00", title="Exam?", body=LONG_BODY),
    post("r1", "Comment", "bob", 2, "04-01T11:00:00", thread="t1", body="Yes"),
    post("r2", "Comment", "cat", 3, "04-01T12:00:00", thread="t1", body="No"),
    post("c1", "Comment", "ann", 1, "04-01T13:00:00", thread="t1", parent="r1", body="Sure?"),
    # thread t2 by dan, without answers
    post("t2", "CommentThread", "dan", 4, "04-03T00:00:00", title="Hello", body="Hi all"),
    # a response in a thread the dump does not have
    post("o1", "Comment", "bob", 2, "04-04T08:00:00", thread="tX", body="Lost"),
    # left out: no id; an unknown type; a comment on nothing
    post(None, "Comment", "cat", 3, "04-05T00:00:00", thread="t1", body="?"),
    post("z1", "Note", "cat", 3, "04-05T00:00:00", body="?"),
    post("z2", "Comment", "cat", 3, "04-05T00:00:00", body="?"),
]

T1 = {"id": "t1"}
FORUM_EVENTS = [
    log("04-01T10:05:00", "ann", f"{DISCUSSION}/threads/t1/pin"),
    log("04-01T10:30:00", "bob", f"{DISCUSSION}/forum/d1/threads/t1"),  # reads every post of t1
    log("04-01T10:31:00", "bob", f"{DISCUSSION}/threads/t1/upvote"),  # the thread's post only
    log("04-01T10:31:01", "bob", "edx.forum.thread.voted", {"id": "t1", "vote_value": "up"}),
    log("04-01T11:00:01", "bob", "edx.forum.response.created", {"id": "r1", "discussion": T1}),
    log("04-01T12:30:00", "cat", f"{DISCUSSION}/comments/r1/upvote"),  # that response
    log("04-01T12:31:00", "cat", f"{DISCUSSION}/comments/r1/unvote"),
    log("04-02T08:00:00", "bob", f"{DISCUSSION}/forum/d1/threads/t1"),
    log("04-03T08:00:00", "dan", f"{DISCUSSION}/threads/t1/follow"),
    log("04-04T09:00:00", "ann", f"{DISCUSSION}/forum/d1/threads/tX"),  # o1's thread
    log("04-04T09:01:00", "ann", f"{DISCUSSION}/forum/search", {"GET": {"text": ["exam"]}}),
    log("04-04T09:02:00", "ann", f"{DISCUSSION}/forum/d1/threads/t9"),  # not a thread we have
    log("04-04T09:03:00", "", f"{DISCUSSION}/forum/d1/threads/t1"),  # no user
]


def enrollment(when, user_id, kind, mode, context_user=None):
    struct = {"mode": mode} if user_id is None else {"user_id": user_id, "mode": mode}
    payload = {"course_id": KEY, "mode": mode, **({} if user_id is None else {"user_id": user_id})}
    more = {"context": {"user_id": context_user}} if context_user else {}
    return log(
        when,
        f"u{user_id or context_user}",
        f"edx.course.enrollment.{kind}",
        payload,
        struct,
        **more,
    )


ENROLLMENT_EVENTS = [
    # 1: audit, upgrades to verified, unenrolls and re-enrolls in verified the next day
    enrollment("05-01T09:00:00", 1, "activated", "audit"),
    enrollment("05-01T09:30:00", 1, "mode_changed", "verified"),
    enrollment("05-01T09:30:01", 1, "upgrade.succeeded", "verified"),  # not a change of its own
    enrollment("05-02T10:00:00", 1, "deactivated", "verified"),
    enrollment("05-02T15:00:00", 1, "activated", "verified"),
    # 2: honor, unenrolls and re-enrolls in audit the same day
    enrollment("05-01T10:00:00", 2, "activated", "honor"),
    enrollment("05-01T10:05:00", 2, "deactivated", "honor"),
    enrollment("05-01T10:10:00", 2, "activated", "audit"),
    # 3: enrolled before the logs: a change to verified (its old mode unknown), then to audit twice
    enrollment("05-01T11:00:00", 3, "mode_changed", "verified"),
    enrollment("05-02T11:00:00", 3, "mode_changed", "audit"),
    enrollment("05-02T11:30:00", 3, "mode_changed", "audit"),
    # 4: enrolled before the logs, unenrolls
    enrollment("05-01T12:00:00", 4, "deactivated", "honor"),
    # 5: a mode of none of the three columns, then verified
    enrollment("05-01T13:00:00", 5, "activated", "professional"),
    enrollment("05-02T13:00:00", 5, "mode_changed", "verified"),
    # 6: edX's pair for an enrollment straight into verified, at the same time (listed in the
    # other order: the activation counts first)
    enrollment("05-03T08:00:00", 6, "mode_changed", "verified"),
    enrollment("05-03T08:00:00", 6, "activated", "verified"),
    # 7: unenrolled, changes mode (no change in the counts), re-enrolls
    enrollment("05-01T14:00:00", 7, "activated", "audit"),
    enrollment("05-01T14:10:00", 7, "deactivated", "audit"),
    enrollment("05-01T14:20:00", 7, "mode_changed", "verified"),
    enrollment("05-01T14:30:00", 7, "activated", "verified"),
    # 8: the learner only in the context
    enrollment("05-03T09:00:00", None, "activated", "honor", context_user=8),
]

TRACKLOG = SHOW_ANSWER_EVENTS + FORUM_EVENTS + ENROLLMENT_EVENTS

SOURCES = {
    "course_axis": COURSE_AXIS,
    "studentmodule": STUDENTMODULE,
    "user_info_combo": USER_INFO_COMBO,
    "forum": FORUM,
}


def run(con, table, latest=LATEST, **options) -> list[dict]:
    """Build `table` in `latest` (render, transpile, run); its rows, every value as text
    (timestamps in UTC), its columns the schema's, in order (the engine casts them to the
    schema's types: tests/test_report_bigquery.py builds them so)."""
    _, rows = built_rows(con, table, course_id=COURSE, latest=latest, logs=LOGS, **options)
    return rows


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grades_forum")
    inputs = {(LATEST, name): (shipped_schema(name), rows) for name, rows in SOURCES.items()}
    inputs[(LOGS, "tracklog")] = (shipped_schema("tracking_log"), TRACKLOG)
    inputs[(LATEST, "person_course")] = (report_schema("person_course"), PERSON_COURSE)
    con = report_warehouse(folder, LATEST, LOGS, inputs=inputs)
    built = {}
    for table in ["forum_events", "enrollment_events", *OURS]:
        built[table] = run(con, table)
    one_day = {"suffix_start": "20310302", "suffix_end": "20310302"}
    built["show_answer+day2"] = run(con, "show_answer", extra_args=one_day, target="sa_day2")
    # enrollday_all of one day: enrollment_events of that day
    one_day = {"suffix_start": "20310502", "suffix_end": "20310502"}
    run_template(
        con, "enrollment_events", course_id=COURSE, latest=LATEST, logs=LOGS, extra_args=one_day
    )
    built["enrollday_all+day2"] = run(con, "enrollday_all")
    # a course without learners in show_answer_stats_by_user
    load_rows(
        con,
        folder,
        EMPTY,
        "show_answer_stats_by_user",
        report_schema("show_answer_stats_by_user"),
        [],
    )
    built["show_answer_stats_by_course+empty"] = run(
        con, "show_answer_stats_by_course", latest=EMPTY
    )
    con.close()
    return built


def numbers(rows: list[dict], table: str) -> list[dict]:
    """`rows` with the FLOAT columns of `table` as floats (for pytest.approx)."""
    floats = {f["name"] for f in report_schema(table) if f["type"] == "FLOAT"}
    return [
        {k: (float(v) if k in floats and v is not None else v) for k, v in row.items()}
        for row in rows
    ]


def assert_rows(got: list[dict], table: str, expected: list[dict]):
    got = numbers(got, table)
    assert len(got) == len(expected), got
    for row, want in zip(got, expected):
        assert row == pytest.approx(want), (row, want)


# --- problem_grades -------------------------------------------------------------------------------


def grades(user, name, grade, max_grade, perfect, attempted):
    return {
        "user_id": str(user),
        "module_id": mid("problem", name),
        "grade": grade,
        "max_grade": max_grade,
        "perfect": perfect,
        "attempted": attempted,
    }


def test_problem_grades(tables):
    assert_rows(
        tables["problem_grades"],
        "problem_grades",
        [
            grades(1, "p1", 2.0, 2.0, "true", "true"),
            grades(1, "p2", 1.0, 3.0, "false", "true"),
            grades(1, "p3", None, 1.0, "false", "false"),
            grades(1, "p4", 0.0, 1.0, "false", "true"),
            grades(1, "pX", 1.0, 1.0, "true", "true"),
            grades(2, "p1", 0.0, 2.0, "false", "true"),
            grades(2, "p2", 3.0, 3.0, "true", "true"),
            grades(2, "p3", 1.0, 1.0, "true", "true"),
            grades(3, "p1", None, 2.0, "false", "false"),
            grades(3, "p2", 1.5, 3.0, "false", "true"),
            grades(4, "p4", 1.0, None, "false", "true"),  # no points possible: not perfect
            grades(9, "p1", 1.0, 2.0, "false", "true"),
        ],
    )


# --- chapter_grades -------------------------------------------------------------------------------


def chapter(user, name, possible, earned, due_max, due_min, median, chmax):
    day = {None: None, "02-01": "2031-02-01 00:00:00+00", "02-15": "2031-02-15 00:00:00+00"}
    day["03-01"] = "2031-03-01 00:00:00+00"
    return {
        "user_id": str(user),
        "chapter_mid": mid("chapter", name),
        "user_chapter_max_grade": possible,
        "chgrade": earned,
        "due_date_max": day[due_max],
        "due_date_min": day[due_min],
        "median_grade": median,
        "chmax": chmax,
    }


def test_chapter_grades(tables):
    # c1's chgrades 3 (ann), 3 (bob), 1.5 (cat), 1 (zed): the lower median of four is 1.5;
    # c2's 0 (ann: p3 not attempted, left out), 1 (bob), 1 (dan): 1. pX is in no chapter.
    assert_rows(
        tables["chapter_grades"],
        "chapter_grades",
        [
            chapter(1, "c1", 5.0, 3.0, "02-15", "02-01", 1.5, 5.0),
            chapter(1, "c2", 1.0, 0.0, "03-01", "03-01", 1.0, 1.0),
            chapter(2, "c1", 5.0, 3.0, "02-15", "02-01", 1.5, 5.0),
            chapter(2, "c2", 1.0, 1.0, None, None, 1.0, 1.0),  # p3 has no due date
            chapter(3, "c1", 3.0, 1.5, "02-15", "02-15", 1.5, 5.0),
            chapter(4, "c2", None, 1.0, "03-01", "03-01", 1.0, 1.0),  # no points possible
            chapter(9, "c1", 2.0, 1.0, "02-01", "02-01", 1.5, 5.0),
        ],
    )


# --- show_answer ----------------------------------------------------------------------------------


def shown(when, username, problem):
    return {
        "time": f"2031-{when}+00",
        "username": username,
        "course_id": COURSE,
        "module_id": mid("problem", problem),
    }


def test_show_answer(tables):
    assert tables["show_answer"] == [
        shown("03-01 09:10:00", "ann", "p2"),
        shown("03-01 09:20:00", "ann", "p3"),
        shown("03-01 09:40:00", "ann", "pX"),
        shown("03-01 10:00:00", "bob", "p2"),
        shown("03-01 11:00:00", "cat", "p1"),
        shown("03-01 12:00:00", "zed", "p1"),
        shown("03-01 12:01:00", "ghost", "p2"),
        shown("03-01 12:03:00", "", "p1"),
        shown("03-02 09:00:00", "ann", "p2"),
    ]


def test_show_answer_honours_the_suffix_range(tables):
    assert tables["show_answer+day2"] == [shown("03-02 09:00:00", "ann", "p2")]


# --- show_answer_stats_by_user --------------------------------------------------------------------


def stats(user, flags, *counts):
    """counts: (shown, of) for problem_seen, not_attempted, attempted, perfect, partial."""
    row = {"user_id": str(user)}
    row.update(zip(("explored", "certified", "verified"), flags))
    for metric, (n_shown, n) in zip(METRICS, counts):
        row[f"pct_show_answer_{metric}"] = n_shown / n * 100 if n else None
    for metric, (n_shown, n) in zip(METRICS, counts):
        row[f"n_show_answer_{metric}"] = str(n_shown)
        row["n_problems_seen" if metric == "problem_seen" else f"n_{metric}"] = str(n)
    return row


BY_USER = [
    # ann: shown p2 (partial credit), p3 (not attempted), pX (full marks, shown after her right
    # answer) of p1 p2 p3 p4 pX; attempted p1 p2 p4 pX; full marks p1 pX
    stats(1, ("true", "true", "true"), (3, 5), (1, 1), (2, 4), (1, 2), (1, 1)),
    # bob: shown p2 (full marks, shown before his right answer) of p1 p2 p3, all attempted;
    # p1's grade 0 is no partial credit
    stats(2, ("true", "false", "false"), (1, 3), (0, 0), (1, 3), (1, 2), (0, 0)),
    # cat: shown p1 (not attempted); p2 partial credit
    stats(3, ("false", "false", "true"), (1, 2), (1, 1), (0, 1), (0, 0), (0, 1)),
    # dan: p4's grade has no points possible: neither perfect nor partial; mode NULL: not verified
    stats(4, ("false", "false", "false"), (0, 1), (0, 0), (0, 1), (0, 0), (0, 0)),
    # zed: not in user_info_combo (his show-answer cannot be his) nor person_course (flags NULL)
    stats(9, (None, None, None), (0, 1), (0, 0), (0, 1), (0, 0), (0, 1)),
]


def test_show_answer_stats_by_user(tables):
    assert_rows(tables["show_answer_stats_by_user"], "show_answer_stats_by_user", BY_USER)


# --- show_answer_stats_by_course ------------------------------------------------------------------


def lower_median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2] if values else None


def test_show_answer_stats_by_course(tables):
    groups = {"": None, "_certified": "certified", "_explored": "explored", "_verified": "verified"}
    expected = {"course_id": COURSE}
    medians = {}
    for suffix, flag in groups.items():
        for metric in METRICS:
            values = [
                row[f"pct_show_answer_{metric}"]
                for row in BY_USER
                if (flag is None or row[flag] == "true")
                and row[f"pct_show_answer_{metric}"] is not None
            ]
            average = sum(values) / len(values) if values else None
            expected[f"avg_pct_show_answer_{metric}{suffix}"] = average
            medians[f"median_pct_show_answer_{metric}{suffix}"] = lower_median(values)
    for suffix in ("", "_explored", "_certified", "_verified"):
        for metric in METRICS:
            name = f"median_pct_show_answer_{metric}{suffix}"
            expected[name] = medians[name]
    [row] = numbers(tables["show_answer_stats_by_course"], "show_answer_stats_by_course")
    assert list(row) == list(expected)
    assert row == pytest.approx(expected)
    # worked out by hand: seen 60, 33.3, 50, 0, 0 -> average 28.7, median 33.3 (lower of five);
    # explored (ann, bob): 60 and 33.3 -> the lower, 33.3; verified (ann, cat): 60 and 50 -> 50
    assert row["avg_pct_show_answer_problem_seen"] == pytest.approx((60 + 100 / 3 + 50) / 5)
    assert row["median_pct_show_answer_problem_seen"] == pytest.approx(100 / 3)
    assert row["median_pct_show_answer_problem_seen_explored"] == pytest.approx(100 / 3)
    assert row["median_pct_show_answer_problem_seen_verified"] == pytest.approx(50.0)
    assert row["avg_pct_show_answer_attempted_certified"] == pytest.approx(50.0)  # ann alone
    assert row["median_pct_show_answer_partial"] == pytest.approx(0.0)  # 0, 0, 100
    assert row["avg_pct_show_answer_not_attempted_explored"] == pytest.approx(100.0)  # bob: none


def test_show_answer_stats_by_course_without_learners(tables):
    [row] = tables["show_answer_stats_by_course+empty"]
    assert row["course_id"] == COURSE
    assert {value for name, value in row.items() if name != "course_id"} == {None}


# --- forum_posts ----------------------------------------------------------------------------------


def forum_post(slug, kind, username, thread, parent, poster, responded, title, when, preview):
    return {
        "username": username,
        "course_id": COURSE,
        "slug_id": slug,
        "slug_type": kind,
        "thread_id": thread,
        "parent_id": parent,
        "original_poster": poster,
        "responded_to": responded,
        "title": title,
        "first_time": f"2031-{when}+00",
        "body_preview": preview,
    }


POSTS = {
    "t1": ("initial_post", "ann", "t1", None, "ann", None, "Exam?", "04-01 10:00:00"),
    "r1": ("response_post", "bob", "t1", None, "ann", None, "Exam?", "04-01 11:00:00"),
    "r2": ("response_post", "cat", "t1", None, "ann", None, "Exam?", "04-01 12:00:00"),
    "c1": ("comment", "ann", "t1", "r1", "ann", "bob", "Exam?", "04-01 13:00:00"),
    "t2": ("initial_post", "dan", "t2", None, "dan", None, "Hello", "04-03 00:00:00"),
    "o1": ("response_post", "bob", "tX", None, None, None, None, "04-04 08:00:00"),
}


def test_forum_posts(tables):
    previews = {"t1": LONG_BODY[:100], "r1": "Yes", "r2": "No", "c1": "Sure?"}
    previews.update({"t2": "Hi all", "o1": "Lost"})
    assert tables["forum_posts"] == [
        forum_post(slug, *POSTS[slug][:-1], POSTS[slug][-1], previews[slug])
        for slug in ("t1", "r1", "r2", "c1", "t2", "o1")
    ]
    assert len(tables["forum_posts"][0]["body_preview"]) == 100
    assert tables["forum_posts"][0]["body_preview"].startswith("Ça ira? x")


# --- forum_person ---------------------------------------------------------------------------------


def person(username, slug, wrote, read, pinned, upvoted, unvoted, followed, first, last):
    kind, _, thread, parent, poster, responded, title, _ = POSTS[slug]
    return {
        "username": username,
        "course_id": COURSE,
        "slug_id": slug,
        "slug_type": kind,
        "thread_id": thread,
        "parent_id": parent,
        "original_poster": poster,
        "responded_to": responded,
        "title": title,
        "wrote": str(wrote),
        "read": str(read),
        "pinned": str(pinned),
        "upvoted": str(upvoted),
        "unvoted": str(unvoted),
        "followed": str(followed),
        "first_time": f"2031-{first}+00",
        "last_time": f"2031-{last}+00",
    }


def test_forum_person(tables):
    read_t1 = ("04-01 10:30:00", "04-02 08:00:00")  # bob's two reads of t1's page
    assert tables["forum_person"] == [
        # ann wrote t1 and pinned it; wrote c1; read tX's page, which shows o1
        person("ann", "t1", 1, 0, 1, 0, 0, 0, "04-01 10:00:00", "04-01 10:05:00"),
        person("ann", "c1", 1, 0, 0, 0, 0, 0, "04-01 13:00:00", "04-01 13:00:00"),
        person("ann", "o1", 0, 1, 0, 0, 0, 0, "04-04 09:00:00", "04-04 09:00:00"),
        # bob read every post of t1 twice (r1 before he wrote it) and upvoted the thread's post
        person("bob", "c1", 0, 2, 0, 0, 0, 0, *read_t1),
        person("bob", "r1", 1, 2, 0, 0, 0, 0, *read_t1),
        person("bob", "r2", 0, 2, 0, 0, 0, 0, *read_t1),
        person("bob", "t1", 0, 2, 0, 1, 0, 0, *read_t1),
        person("bob", "o1", 1, 0, 0, 0, 0, 0, "04-04 08:00:00", "04-04 08:00:00"),
        # cat wrote r2, upvoted bob's response r1 and took the vote back
        person("cat", "r2", 1, 0, 0, 0, 0, 0, "04-01 12:00:00", "04-01 12:00:00"),
        person("cat", "r1", 0, 0, 0, 1, 1, 0, "04-01 12:30:00", "04-01 12:31:00"),
        # dan wrote t2 and followed t1
        person("dan", "t2", 1, 0, 0, 0, 0, 0, "04-03 00:00:00", "04-03 00:00:00"),
        person("dan", "t1", 0, 0, 0, 0, 0, 1, "04-03 08:00:00", "04-03 08:00:00"),
    ]


# --- enrollday_all --------------------------------------------------------------------------------


def diff(when, user, honor, verified, audit):
    return {
        "course_id": COURSE,
        "time": f"2031-{when}+00",
        "user_id": str(user),
        "diff_enrollment_honor": str(honor),
        "diff_enrollment_verified": str(verified),
        "diff_enrollment_audit": str(audit),
    }


def test_enrollday_all(tables):
    assert tables["enrollday_all"] == [
        diff("05-01 09:00:00", 1, 0, 0, 1),
        diff("05-01 09:30:00", 1, 0, 1, -1),  # audit -> verified
        diff("05-01 10:00:00", 2, 1, 0, 0),
        diff("05-01 10:05:00", 2, -1, 0, 0),
        diff("05-01 10:10:00", 2, 0, 0, 1),  # re-enrolled the same day, in audit
        diff("05-01 11:00:00", 3, 0, 1, 0),  # from a mode the logs do not show
        diff("05-01 12:00:00", 4, -1, 0, 0),
        diff("05-01 13:00:00", 5, 0, 0, 0),  # professional
        diff("05-01 14:00:00", 7, 0, 0, 1),
        diff("05-01 14:10:00", 7, 0, 0, -1),
        diff("05-01 14:20:00", 7, 0, 0, 0),  # not enrolled: its mode changes, no count does
        diff("05-01 14:30:00", 7, 0, 1, 0),
        diff("05-02 10:00:00", 1, 0, -1, 0),
        diff("05-02 11:00:00", 3, 0, -1, 1),  # verified -> audit
        diff("05-02 11:30:00", 3, 0, 0, 0),  # audit -> audit
        diff("05-02 13:00:00", 5, 0, 1, 0),  # professional -> verified
        diff("05-02 15:00:00", 1, 0, 1, 0),  # re-enrolled in verified
        diff("05-03 08:00:00", 6, 0, 1, 0),  # the activation first
        diff("05-03 08:00:00", 6, 0, 0, 0),  # then its mode change: no change
        diff("05-03 09:00:00", 8, 1, 0, 0),  # the learner from the context
    ]
    # each column sums to the change in its mode's enrollment over the logs: honor lost 4 and
    # gained 8; verified gained 1, 5, 6 and 7 (3 came and left); audit gained 2 and 3
    totals = [
        sum(int(row[f"diff_enrollment_{mode}"]) for row in tables["enrollday_all"])
        for mode in ("honor", "verified", "audit")
    ]
    assert totals == [0, 4, 2]


def test_enrollday_all_of_one_day(tables):
    """suffix_start/suffix_end limit every event (simeon's limit only the activations)."""
    assert tables["enrollday_all+day2"] == [
        diff("05-02 10:00:00", 1, 0, -1, 0),  # enrolled in verified before the day
        diff("05-02 11:00:00", 3, 0, 0, 1),  # from a mode the day does not show
        diff("05-02 11:30:00", 3, 0, 0, 0),
        diff("05-02 13:00:00", 5, 0, 1, 0),
        diff("05-02 15:00:00", 1, 0, 1, 0),
    ]
