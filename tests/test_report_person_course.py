"""person_course (sql/reports/person_course.sql, sql/schemas/reports/person_course.json): simeon's
85 columns in simeon's names, order and types, and, on a small course written by hand (its report
inputs built by their own templates from tracking-log, studentmodule and forum rows; pc_day_totals
and pc_video_watched from hand-written rows), every column of every learner worked out by hand: a
learner with no events at all, one with events but no courseware, a certified one, a verified one
with a tie between two modal IPs and both mobile and desktop agents, staff with roles, forum
posters. A course without grades_persistent, roles, forum and pc_video_watched, and without a
geo_table, still gets person_course, those columns NULL."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.warehouse.duckdb import quote
from tests.helpers import (
    BOSTON,
    COURSE,
    DAY_COUNTS,
    FLAGS,
    GEO,
    GEO_COLUMNS,
    LATEST,
    LOGS,
    MUMBAI,
    PERSON_COURSE_UPSTREAM,
    REPORT_SCHEMAS,
    assert_column_types,
    fields,
    golden_inputs,
    load_rows,
    report_schema,
    report_template,
    report_warehouse,
    run_template,
    template_header,
    text_rows,
)

# simeon's schema_person_course.json: the compatibility contract (name and type, in order).
SIMEON_COLUMNS = """
course_id STRING, user_id INTEGER, username STRING, registered BOOLEAN, viewed BOOLEAN,
explored BOOLEAN, certified BOOLEAN, completed BOOLEAN, ip STRING, cc_by_ip STRING,
countryLabel STRING, continent STRING, city STRING, region STRING, subdivision STRING,
postalCode STRING, un_major_region STRING, un_economic_group STRING, un_developing_nation STRING,
un_special_region STRING, latitude FLOAT, longitude FLOAT, modal_agent STRING, ever_mobile INTEGER,
ever_desktop INTEGER, LoE STRING, YoB INTEGER, gender STRING, grade FLOAT, passing_grade FLOAT,
start_time TIMESTAMP, first_event TIMESTAMP, last_event TIMESTAMP, nevents INTEGER,
ndays_act INTEGER, nplay_video INTEGER, nchapters INTEGER, nforum_posts INTEGER,
nforum_votes INTEGER, nforum_endorsed INTEGER, nforum_threads INTEGER, nforum_comments INTEGER,
nforum_pinned INTEGER, roles STRING, nprogcheck INTEGER, nproblem_check INTEGER,
nforum_events INTEGER, mode STRING, is_active INTEGER, cert_created_date TIMESTAMP,
cert_modified_date TIMESTAMP, cert_status STRING, verified_enroll_time TIMESTAMP,
verified_unenroll_time TIMESTAMP, profile_country STRING, y1_anomalous INTEGER,
email_domain STRING, language STRING, language_download INTEGER, language_nevents INTEGER,
language_ndiff INTEGER, ntranscript INTEGER, nshow_answer INTEGER, nvideo INTEGER,
nvideos_unique_viewed INTEGER, nvideos_total_watched FLOAT, nseq_goto INTEGER,
nseek_video INTEGER, npause_video INTEGER, avg_dt FLOAT, sdv_dt FLOAT, max_dt FLOAT, n_dt INTEGER,
sum_dt FLOAT, roles_isBetaTester INTEGER, roles_isInstructor INTEGER, roles_isStaff INTEGER,
roles_isCCX INTEGER, roles_isFinance INTEGER, roles_isLibrary INTEGER, roles_isSales INTEGER,
forumRoles_isAdmin INTEGER, forumRoles_isCommunityTA INTEGER, forumRoles_isModerator INTEGER,
forumRoles_isStudent INTEGER
"""


def simeon_columns() -> list[tuple[str, str]]:
    return [tuple(item.split()) for item in SIMEON_COLUMNS.replace("\n", " ").split(",")]


def test_schema_is_simeons():
    fields = report_schema("person_course")
    assert [(f["name"], f["type"]) for f in fields] == simeon_columns()
    assert len(fields) == 85
    for field in fields:
        assert field["mode"] == "NULLABLE"
        assert isinstance(field.get("description"), str) and field["description"].strip()


def test_header():
    found = template_header("person_course")
    assert found["first"].startswith("person_course: ")
    assert found["reads"] == [
        "user_info_combo",
        "course_axis",
        "grading_policy",
        "course_modal_ip",
        "pc_day_totals",
        "pc_nchapters",
        "course_modal_language",
        "person_enrollment_verified",
        "course_modal_agent",
    ]
    assert found["optional"] == ["grades_persistent", "pc_forum", "roles", "pc_video_watched"]
    text = report_template("person_course")
    used = set(re.findall(r"\{\{ latest_dataset \}\}\.([A-Za-z0-9_]+)", text))
    assert used == set(found["reads"]) | set(found["optional"])
    for name in found["optional"]:  # each optional input only behind its has_table test
        assert f"{{%- if has_table('{name}') %}}" in text


# --- the course (its inputs in tests/helpers.py) ---------------------------------------------------

# pc_day_totals, written by hand: (username, ndays_act, nevents, nprogcheck, nshow_answer, nvideo,
# nproblem_check, nforum, ntranscript, nseq_goto, nseek_video, npause_video, first_event,
# last_event, avg_dt, sdv_dt, max_dt, n_dt, sum_dt)
PC_DAY_TOTALS_ROWS = [
    (
        "ben",
        1,
        2,
        1,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        "01T08:00:00",
        "01T08:01:00",
        60.0,
        None,
        60.0,
        1,
        60.0,
    ),
    (
        "cat",
        2,
        30,
        2,
        3,
        4,
        5,
        6,
        1,
        7,
        8,
        9,
        "01T09:00:00",
        "02T10:00:00",
        20.5,
        3.25,
        250.0,
        28,
        574.0,
    ),
    (
        "dan",
        4,
        4,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        "02T10:00:00",
        "05T10:00:00",
        None,
        None,
        None,
        0,
        0.0,
    ),
    (
        "eve",
        1,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        "03T12:00:00",
        "03T12:00:00",
        None,
        None,
        None,
        0,
        0.0,
    ),
    (
        "zed",
        1,
        1,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        "03T13:00:00",
        "03T13:00:00",
        None,
        None,
        None,
        0,
        0.0,
    ),
]
PC_DAY_TOTALS_NAMES = [
    "username",
    "ndays_act",
    *DAY_COUNTS,
    "first_event",
    "last_event",
    "avg_dt",
    "sdv_dt",
    "max_dt",
    "n_dt",
    "sum_dt",
]
PC_DAY_TOTALS = []
for values in PC_DAY_TOTALS_ROWS:
    row = dict(zip(PC_DAY_TOTALS_NAMES, values))
    row["course_id"] = COURSE
    for key in ("first_event", "last_event"):
        row[key] = f"2030-01-{row[key]}Z"
    PC_DAY_TOTALS.append(row)


# simeon's schema_pc_day_totals.json.
PC_DAY_TOTALS_SCHEMA = fields(
    "username STRING, course_id STRING, ndays_act INTEGER, nevents INTEGER, nprogcheck INTEGER, "
    "nshow_answer INTEGER, nvideo INTEGER, nproblem_check INTEGER, nforum INTEGER, "
    "ntranscript INTEGER, nseq_goto INTEGER, nseek_video INTEGER, npause_video INTEGER, "
    "first_event TIMESTAMP, last_event TIMESTAMP, avg_dt FLOAT, sdv_dt FLOAT, max_dt FLOAT, "
    "n_dt INTEGER, sum_dt FLOAT"
)
# simeon's schema_pc_video_watched.json.
PC_VIDEO_WATCHED_SCHEMA = fields(
    "user_id INTEGER, course_id STRING, n_unique_videos_watched INTEGER, "
    "fract_total_videos_watched FLOAT, certified BOOLEAN, verified BOOLEAN"
)
PC_VIDEO_WATCHED = [
    {"user_id": 3, "n_unique_videos_watched": 2, "fract_total_videos_watched": 0.5},
    {"user_id": 4, "n_unique_videos_watched": 1, "fract_total_videos_watched": 0.25},
    {"user_id": 9, "n_unique_videos_watched": 1, "fract_total_videos_watched": 0.25},
]


def shipped_or_simeons(table: str, fallback: list[dict]) -> list[dict]:
    """The shipped schema of a report table person_course reads, or simeon's while there is none."""
    return report_schema(table) if (REPORT_SCHEMAS / f"{table}.json").is_file() else fallback


# (dataset, table) -> (schema, rows); the optional inputs are left out of the smaller course.
FULL = {
    **golden_inputs(),
    (LATEST, "pc_day_totals"): (
        shipped_or_simeons("pc_day_totals", PC_DAY_TOTALS_SCHEMA),
        PC_DAY_TOTALS,
    ),
    (LATEST, "pc_video_watched"): (
        shipped_or_simeons("pc_video_watched", PC_VIDEO_WATCHED_SCHEMA),
        PC_VIDEO_WATCHED,
    ),
}
OPTIONAL = {"grades_persistent", "forum", "roles", "pc_video_watched"}


def run(con, table: str, **render_options) -> str:
    """Render, transpile and run one template into the latest dataset."""
    return run_template(con, table, course_id=COURSE, latest=LATEST, logs=LOGS, **render_options)


def person_course(con, **render_options) -> dict[str, dict]:
    """person_course built with `render_options`: username -> row (values as text)."""
    table = run(con, "person_course", **render_options)
    assert_column_types(con, table, report_schema("person_course"))
    _, rows = text_rows(con, table)
    assert [row["user_id"] for row in rows] == ["1", "2", "3", "4", "5"]  # ordered by user_id
    return {row["username"]: row for row in rows}


def course(tmp_path: Path, *, optional: bool) -> duckdb.DuckDBPyConnection:
    inputs = {key: value for key, value in FULL.items() if optional or key[1] not in OPTIONAL}
    con = report_warehouse(tmp_path, inputs=inputs)
    for table in PERSON_COURSE_UPSTREAM:
        if optional or table != "pc_forum":
            run(con, table)
    return con


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """person_course of the full course with and without geo_table, and of the smaller course."""
    con = course(tmp_path_factory.mktemp("full"), optional=True)
    result = {"geo": person_course(con, geo_table=GEO), "no_geo": person_course(con)}
    con.close()
    con = course(tmp_path_factory.mktemp("small"), optional=False)
    result["small"] = person_course(con, geo_table=None)
    con.close()
    return result


# --- every column of every learner, by hand ------------------------------------------------------

LEARNERS = ("ann", "ben", "cat", "dan", "eve")
F, T, N = "false", "true", None


def same(value):
    return (value,) * len(LEARNERS)


def ts(day_time: str | None) -> str | None:
    return None if day_time is None else f"20{day_time}+00"


def geo(column: str) -> tuple:
    """A geo column: ann has no IP, ben's is not in the table, cat and eve share 10.0.0.3 (Boston,
    listed before Nowhere by country code), dan's modal IP is 10.0.0.40 (Mumbai)."""
    index = GEO_COLUMNS.index(column)
    text = [None if place[index] is None else str(place[index]) for place in (BOSTON, MUMBAI)]
    return (None, None, text[0], text[1], text[0])


# column -> the values of (ann, ben, cat, dan, eve), as DuckDB writes them as text.
EXPECTED = {
    "course_id": same(COURSE),
    "user_id": ("1", "2", "3", "4", "5"),
    "username": LEARNERS,
    "registered": same(T),
    # a pc_nchapters row; ben has events but no studentmodule row
    "viewed": (F, F, T, T, T),
    # chapters touched over the 3 visible ones: cat 2/3; dan 1/3; eve 1/3 (the staff chapter)
    "explored": (F, F, T, F, F),
    "certified": (F, F, T, F, F),
    # grade >= 0.5: ann has no grade; eve exactly 0.5
    "completed": (F, F, T, F, T),
    # dan: 10.0.0.5 and 10.0.0.40 twice each: the smaller string
    "ip": (N, "10.0.0.7", "10.0.0.3", "10.0.0.40", "10.0.0.3"),
    **{column: geo(column) for column in GEO_COLUMNS},
    # dan: three mobile events, one desktop
    "modal_agent": (N, "Desktop", "Desktop", "Mobile", "Desktop"),
    "ever_mobile": (N, "0", "0", "1", "0"),
    "ever_desktop": (N, "1", "1", "1", "1"),
    "LoE": ("b", N, "m", "hs", "p"),
    "YoB": ("1990", N, "1985", "2000", "1970"),
    "gender": ("f", "m", "o", "m", "f"),
    "grade": (N, "0.0", "0.9", "0.4", "0.5"),
    "passing_grade": same("0.5"),
    "start_time": (
        ts("29-12-01 00:00:00"),
        ts("29-12-02 00:00:00"),
        ts("29-12-03 00:00:00"),
        ts("29-12-04 00:00:00"),
        ts("29-11-30 00:00:00"),
    ),
    "first_event": (
        N,
        ts("30-01-01 08:00:00"),
        ts("30-01-01 09:00:00"),
        ts("30-01-02 10:00:00"),
        ts("30-01-03 12:00:00"),
    ),
    "last_event": (
        N,
        ts("30-01-01 08:01:00"),
        ts("30-01-02 10:00:00"),
        ts("30-01-05 10:00:00"),
        ts("30-01-03 12:00:00"),
    ),
    "nevents": (N, "2", "30", "4", "1"),
    "ndays_act": (N, "1", "2", "4", "1"),
    "nplay_video": (N, "0", "4", "1", "0"),
    "nchapters": (N, N, "2", "1", "1"),
    # pc_forum: cat a thread (2 votes) and an endorsed comment (1 vote); eve a pinned thread
    "nforum_posts": (N, N, "2", N, "1"),
    "nforum_votes": (N, N, "3", N, "0"),
    "nforum_endorsed": (N, N, "1", N, "0"),
    "nforum_threads": (N, N, "1", N, "1"),
    "nforum_comments": (N, N, "1", N, "0"),
    "nforum_pinned": (N, N, "0", N, "1"),
    "roles": (N, N, "Student", N, "Staff"),
    "nprogcheck": (N, "1", "2", "0", "0"),
    "nproblem_check": (N, "0", "5", "0", "0"),
    # the forum events of the logs (pc_day_totals.nforum), not pc_forum's posts
    "nforum_events": (N, "1", "6", "0", "0"),
    "mode": ("audit", "honor", "verified", "verified", "honor"),
    "is_active": ("1", "1", "1", "1", "0"),
    "cert_created_date": (N, N, ts("30-02-01 12:00:00"), ts("30-02-01 13:00:00"), N),
    "cert_modified_date": (N, N, ts("30-02-02 12:00:00"), ts("30-02-01 13:00:00"), N),
    "cert_status": (N, N, "downloadable", "notpassing", N),
    "verified_enroll_time": (N, N, N, ts("30-01-02 10:00:00"), N),
    "verified_unenroll_time": (N, N, N, ts("30-01-05 10:00:00"), N),
    "profile_country": ("US", N, "FR", "IN", "US"),
    "y1_anomalous": same(N),
    # after the last '@'; none in ben's
    "email_domain": ("mail.example.org", N, "b.edu", "x.org", "mitx.edu"),
    # cat loaded fr and downloaded once; dan downloaded without loading a language: en
    "language": (N, N, "fr", "en", N),
    "language_download": (N, N, "1", "1", N),
    "language_nevents": (N, N, "2", "1", N),
    "language_ndiff": (N, N, "1", "1", N),
    "ntranscript": (N, "0", "1", "0", "0"),
    "nshow_answer": (N, "0", "3", "0", "0"),
    "nvideo": (N, "0", "4", "1", "0"),
    "nvideos_unique_viewed": (N, N, "2", "1", N),
    "nvideos_total_watched": (N, N, "0.5", "0.25", N),
    "nseq_goto": (N, "0", "7", "0", "0"),
    "nseek_video": (N, "0", "8", "0", "0"),
    "npause_video": (N, "0", "9", "0", "0"),
    "avg_dt": (N, "60.0", "20.5", N, N),
    "sdv_dt": (N, N, "3.25", N, N),
    "max_dt": (N, "60.0", "250.0", N, N),
    "n_dt": (N, "1", "28", "0", "0"),
    "sum_dt": (N, "60.0", "574.0", "0.0", "0.0"),
    "roles_isBetaTester": (N, N, "0", N, "0"),
    "roles_isInstructor": (N, N, "0", N, "1"),
    "roles_isStaff": (N, N, "0", N, "1"),
    "roles_isCCX": (N, N, "0", N, "0"),
    "roles_isFinance": (N, N, "0", N, "0"),
    "roles_isLibrary": (N, N, "0", N, "0"),
    "roles_isSales": (N, N, "0", N, "0"),
    "forumRoles_isAdmin": (N, N, "0", N, "1"),
    "forumRoles_isCommunityTA": (N, N, "0", N, "0"),
    "forumRoles_isModerator": (N, N, "0", N, "0"),
    "forumRoles_isStudent": (N, N, "1", N, "1"),
}


def expected(learner: str, **changes: tuple) -> dict:
    index = LEARNERS.index(learner)
    columns = {**EXPECTED, **changes}
    return {column: values[index] for column, values in columns.items()}


def test_expectation_covers_every_column():
    assert list(EXPECTED) == [field["name"] for field in report_schema("person_course")]


@pytest.mark.parametrize("learner", LEARNERS)
def test_every_column_with_geo(built, learner):
    assert built["geo"][learner] == expected(learner)
    assert set(built["geo"]) == set(LEARNERS)  # zed, not in user_info_combo, is not


@pytest.mark.parametrize("learner", LEARNERS)
def test_without_geo_table_geo_columns_are_null(built, learner):
    assert built["no_geo"][learner] == expected(
        learner, **{column: same(N) for column in GEO_COLUMNS}
    )


OPTIONAL_COLUMNS = [
    "completed",
    "grade",
    "nforum_posts",
    "nforum_votes",
    "nforum_endorsed",
    "nforum_threads",
    "nforum_comments",
    "nforum_pinned",
    "roles",
    "nvideos_unique_viewed",
    "nvideos_total_watched",
    *FLAGS,
]


@pytest.mark.parametrize("learner", LEARNERS)
def test_course_without_optional_inputs(built, learner):
    """No grades_persistent, forum (so no pc_forum), roles, pc_video_watched, geo_table: those
    columns are NULL (completed too), every other one as in the full course."""
    assert built["small"][learner] == expected(
        learner, **{column: same(N) for column in OPTIONAL_COLUMNS + GEO_COLUMNS}
    )


def test_forum_count_of_a_flag_nobody_set_is_zero(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load_rows(
        con,
        tmp_path,
        LATEST,
        "forum",
        shipped_schema("forum"),
        [{"author_id": 7, "_type": "Comment"}],
    )
    run(con, "pc_forum")
    assert con.execute(f"SELECT npinned FROM {quote(LATEST)}.pc_forum").fetchall() == [(0,)]
