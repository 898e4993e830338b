"""The six report tables simeon builds only on request (ora_events, problem_check, time_on_task,
time_on_task_totals, time_on_asset_daily, time_on_asset_totals; sql/reports/, marked
`-- on request`) and their schemas (sql/schemas/reports/): headers name what the SQL reads, schemas
keep simeon's columns and describe each, and each template, rendered, transpiled to DuckDB and run
on hand-written rows of one course, gives the values worked out by hand below (gaps on both sides
of the 5- and 30-minute timeouts, and of timeouts given as extra_args). Last, `tables: all` leaves
them out and `all_with_optional` builds them."""

from __future__ import annotations

import json
import math

import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.reports.build import BUILTIN, build_course
from edxflow.reports.extra_args import parse_extra_args
from edxflow.reports.graph import build_order, leading_comments, load_templates
from edxflow.reports.templates import RenderError, render
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.settings import WarehouseSettings
from tests.helpers import COURSE as GOLDEN_COURSE
from tests.helpers import (
    assert_column_types,
    built_rows,
    check_header,
    check_schema,
    golden_inputs,
    report_schema,
    report_template,
    report_warehouse,
)

OURS = (
    "ora_events",
    "problem_check",
    "time_on_task",
    "time_on_task_totals",
    "time_on_asset_daily",
    "time_on_asset_totals",
)
TYPES = {"STRING", "INTEGER", "FLOAT", "TIMESTAMP", "DATE"}

COURSE = "TestX/OR1/2030"
KEY = "course-v1:TestX+OR1+2030"
LATEST = "TestX__OR1__2030_latest"
LOGS = "TestX__OR1__2030_logs"


def module(kind: str, name: str) -> str:
    """The split's module_id of a block of the course."""
    return f"{COURSE}/{kind}/{name}"


def block(kind: str, name: str) -> str:
    return f"block-v1:TestX+OR1+2030+type@{kind}+block@{name}"


def ev(time: str, username: str, event_type: str, event=None, **more) -> dict:
    """A tracking-log row of the course at 2030-01-`time`Z; `event` a dict (logged as JSON text
    with spaces, as edX writes it) or text."""
    row = {
        "time": f"2030-01-{time}Z",
        "username": username,
        "event_type": event_type,
        "course_id": COURSE,
        **more,
    }
    if event is not None:
        row["event"] = event if isinstance(event, str) else json.dumps(event)
    return row


def build(con, table: str, **options) -> list[dict]:
    where, rows = built_rows(con, table, course_id=COURSE, latest=LATEST, logs=LOGS, **options)
    assert_column_types(con, where, report_schema(table), table)
    return rows


def close(text: str | None, value: float) -> bool:
    return text is not None and math.isclose(float(text), value, rel_tol=1e-12)


# --- headers and schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("table", OURS)
def test_header_is_on_request_and_names_what_the_sql_reads(table):
    found = check_header(table)
    assert found["optional"] == []
    assert "-- on request" in [line for _, line in leading_comments(report_template(table))]
    assert load_templates(BUILTIN)[table].on_request


def test_headers_follow_simeons_graph():
    # simeon.md 7.4: four from the logs only; the totals from the daily tables
    expected = {
        "ora_events": ["tracklog"],
        "problem_check": ["tracklog"],
        "time_on_task": ["tracklog"],
        "time_on_task_totals": ["time_on_task"],
        "time_on_asset_daily": ["tracklog"],
        "time_on_asset_totals": ["time_on_asset_daily", "person_course"],
    }
    assert {table: check_header(table)["reads"] for table in OURS} == expected


@pytest.mark.parametrize("table", OURS)
def test_schema_describes_every_column(table):
    check_schema(table, TYPES)


TASK = [
    f"{prefix}_{kind}time_{minutes}"
    for kind in ("", "video_", "problem_", "forum_", "text_")
    for prefix, minutes in ([("total", 5), ("total", 30)] + ([("serial", 30)] if kind else []))
]


def float_(names) -> list[tuple[str, str]]:
    return [(name, "FLOAT") for name in names]


def string(names) -> list[tuple[str, str]]:
    return [(name, "STRING") for name in names]


def test_schemas_keep_simeons_columns_and_types():
    """simeon's schema files (problem_check has none: its query's columns, typed as the log's)."""
    expected = {
        "ora_events": string(["problem_id"])
        + [("time", "TIMESTAMP")]
        + string(
            "username course_id action submission_uuid part1_points part1_feedback attempt_num "
            "module_id_sometimes event_type event event_source answer_text last_module_id "
            "module_id".split()
        ),
        "problem_check": [("time", "TIMESTAMP")]
        + string(["username", "course_id", "module_id", "student_answers"])
        + [("attempts", "INTEGER"), ("success", "STRING"), ("grade", "FLOAT")],
        "time_on_task": [("course_id", "STRING"), ("date", "DATE"), ("username", "STRING")]
        + float_(TASK),
        "time_on_task_totals": [("course_id", "STRING"), ("username", "STRING")] + float_(TASK),
        "time_on_asset_daily": [("course_id", "STRING"), ("date", "DATE")]
        + string(["username", "module_id"])
        + float_(["time_umid5", "time_umid30"]),
        "time_on_asset_totals": string(["course_id", "module_id"])
        + [("n_unique_users", "INTEGER"), ("n_unique_certified", "FLOAT")]
        + float_(
            f"{cert}{stat}_tmid{minutes}"
            for stat, minutes in [("mean", 5), ("mean", 30), ("median", 5), ("median", 30)]
            for cert in ("", "cert_")
        )
        + float_(f"{cert}total_tmid{m}" for m in (5, 30) for cert in ("", "cert_")),
    }
    assert TASK[:5] == [
        "total_time_5",
        "total_time_30",
        "total_video_time_5",
        "total_video_time_30",
        "serial_video_time_30",
    ]
    for table, columns in expected.items():
        assert [(f["name"], f["type"]) for f in report_schema(table)] == columns, table


# --- problem_check and ora_events ------------------------------------------------------------


def check(time, username, problem, attempts, success, grade, answers, **more) -> dict:
    """A server problem_check event (its payload typed in event_struct, as the split does)."""
    struct = {
        "answers": json.dumps(answers),
        "attempts": attempts,
        "success": success,
        "grade": grade,
        "max_grade": 2.0,
        "problem_id": block("problem", problem),
    }
    return ev(
        time,
        username,
        more.pop("event_type", "problem_check"),
        {**struct, "answers": answers},
        event_source="server",
        module_id=module("problem", problem),
        event_struct=struct,
        **more,
    )


PROBLEM_LOG = [
    # ann: p1 wrong, then right on her second attempt
    check("01T10:00:00", "ann", "p1", 1, "incorrect", 0.0, {"p1_2_1": "41"}),
    check("01T10:02:00", "ann", "p1", 2, "correct", 2.0, {"p1_2_1": "42"}),
    # the browser's problem_check of the same answer: a query string, not graded
    ev(
        "01T10:01:59",
        "ann",
        "problem_check",
        "input_p1_2_1=42",
        event_source="browser",
        module_id=module("problem", "p1"),
    ),
    # bob: p2 partly right, then edx2bigquery's save_problem_check, on another day
    check("02T09:00:00", "bob", "p2", 1, "incorrect", 1.0, {"p2_2_1": "a", "p2_3_1": "b"}),
    check(
        "03T09:00:00",
        "bob",
        "p2",
        2,
        "correct",
        2.0,
        {"p2_2_1": "a", "p2_3_1": "c"},
        event_type="save_problem_check",
    ),
    # neither a check nor graded
    ev("01T10:03:00", "ann", "problem_graded", "{}", event_source="server"),
    ev("01T10:03:00", "ann", "problem_check_fail", "{}", event_source="server"),
]

O1, O0 = module("openassessment", "o1"), module("openassessment", "o0")
HANDLER = f"/courses/{KEY}/xblock/{block('openassessment', 'o1')}/handler"


def assessment(points: int, feedback: str, submission: str) -> dict:
    return {
        "submission_uuid": submission,
        "feedback": "overall",
        "score_type": "PE",
        "parts": [
            {
                "option": {"name": "Good", "points": points},
                "criterion": {"name": "Ideas", "points_possible": 3},
                "feedback": feedback,
            },
            {
                "option": {"name": "Fair", "points": 1},
                "criterion": {"name": "Content", "points_possible": 2},
                "feedback": "second criterion",
            },
        ],
    }


ORA_LOG = [
    # ann submits (current ORA: the answer in parts) ...
    ev(
        "01T12:00:00",
        "ann",
        "openassessmentblock.create_submission",
        {
            "submission_uuid": "s-ann",
            "attempt_number": 1,
            "answer": {"parts": [{"text": "My essay"}, {"text": "Part two"}]},
        },
        event_source="server",
        module_id=O1,
    ),
    # ... bob gets it to assess, and assesses it (his assess event names no block)
    ev(
        "01T12:10:00",
        "bob",
        "openassessmentblock.get_peer_submission",
        {"submission_returned_uuid": "s-ann", "item_id": block("openassessment", "o1")},
        event_source="server",
        module_id=O1,
    ),
    ev(
        "01T12:20:00",
        "bob",
        "openassessmentblock.peer_assess",
        assessment(3, "Clear", "s-ann"),
        event_source="server",
    ),
    # ann assesses herself
    ev(
        "01T12:30:00",
        "ann",
        "openassessmentblock.self_assess",
        assessment(2, "Could be clearer", "s-ann"),
        event_source="server",
        module_id=O1,
    ),
    # cat submits (older ORA: answer.text); a feedback event of hers names another block, o0
    ev(
        "02T08:00:00",
        "cat",
        "openassessmentblock.create_submission",
        {"submission_uuid": "s-cat", "attempt_number": 1, "answer": {"text": "Old essay"}},
        event_source="server",
        module_id=O1,
    ),
    ev(
        "02T08:30:00",
        "cat",
        "openassessmentblock.submit_feedback_on_assessments",
        {"submission_uuid": "s-cat", "feedback_text": "Thanks", "options": []},
        event_source="server",
        module_id=O0,
    ),
    # staff fetch cat's submission and grade it (neither names a block)
    ev(
        "02T09:00:00",
        "eve",
        "openassessmentblock.get_submission_for_staff_grading",
        {"submission_returned_uuid": "s-cat", "type": "full-grade"},
        event_source="server",
    ),
    ev(
        "02T09:05:00",
        "eve",
        "openassessmentblock.staff_assess",
        assessment(1, "Needs work", "s-cat"),
        event_source="server",
    ),
    # browser: a handler call with data, an upload, and empty calls (left out, both spellings)
    ev(
        "01T11:59:00",
        "ann",
        f"{HANDLER}/render_submission",
        '{"POST": {"a": ["1"]}, "GET": {}}',
        event_source="browser",
        module_id=O1,
    ),
    ev(
        "01T11:59:30",
        "ann",
        "openassessment.upload_file",
        {"fileName": "essay.pdf", "fileSize": 10, "fileType": "application/pdf"},
        event_source="browser",
    ),
    ev("01T11:58:00", "ann", f"{HANDLER}/render_peer_assessment", '{"POST": {}, "GET": {}}'),
    ev("01T11:58:30", "ann", f"{HANDLER}/render_grade", '{"GET":{},"POST":{}}'),
    # no payload, and not ORA
    ev("01T11:57:00", "ann", "openassessmentblock.save_submission"),
    ev("01T11:56:00", "ann", "play_video", "{}"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("on_request_graded")
    log = shipped_schema("tracking_log")
    con = report_warehouse(
        folder, LATEST, LOGS, inputs={(LOGS, "tracklog"): (log, PROBLEM_LOG + ORA_LOG)}
    )
    result = {
        "problem_check": build(con, "problem_check"),
        "ora_events": build(con, "ora_events"),
        # the days 2030-01-02 .. 2030-01-03 only (simeon ignores suffix_* in problem_check)
        "window": build(
            con,
            "problem_check",
            target="problem_check_window",
            extra_args={"suffix_start": "20300102", "suffix_end": "20300103"},
        ),
    }
    con.close()
    return result


def test_problem_check(graded):
    rows = graded["problem_check"]
    assert [
        (r["time"][:19], r["username"], r["module_id"], r["attempts"], r["success"], r["grade"])
        for r in rows
    ] == [
        ("2030-01-01 10:00:00", "ann", module("problem", "p1"), "1", "incorrect", "0.0"),
        ("2030-01-01 10:02:00", "ann", module("problem", "p1"), "2", "correct", "2.0"),
        ("2030-01-02 09:00:00", "bob", module("problem", "p2"), "1", "incorrect", "1.0"),
        ("2030-01-03 09:00:00", "bob", module("problem", "p2"), "2", "correct", "2.0"),
    ]  # the browser's check, problem_graded and problem_check_fail left out
    assert {r["course_id"] for r in rows} == {COURSE}
    assert [json.loads(r["student_answers"]) for r in rows] == [
        {"p1_2_1": "41"},
        {"p1_2_1": "42"},
        {"p2_2_1": "a", "p2_3_1": "b"},
        {"p2_2_1": "a", "p2_3_1": "c"},
    ]


def test_problem_check_honours_suffix_window(graded):
    assert [(r["username"], r["attempts"]) for r in graded["window"]] == [
        ("bob", "1"),
        ("bob", "2"),
    ]


ORA_COLUMNS = [
    "username",
    "action",
    "submission_uuid",
    "part1_points",
    "part1_feedback",
    "attempt_num",
    "module_id_sometimes",
    "last_module_id",
    "module_id",
    "problem_id",
]


def test_ora_events(graded):
    rows = graded["ora_events"]
    got = [tuple(r[c] for c in ORA_COLUMNS) for r in rows]
    assert got == [
        # 2030-01-01
        ("ann", "handler/render_submission", None, None, None, None, O1, None, O1, "o1"),
        ("ann", "upload_file", None, None, None, None, None, None, None, None),
        ("ann", "create_submission", "s-ann", None, None, "1", O1, O1, O1, "o1"),
        ("bob", "get_peer_submission", "s-ann", None, None, None, O1, O1, O1, "o1"),
        # bob's assessment names no block: the submission's
        ("bob", "peer_assess", "s-ann", "3", "Clear", None, None, O1, O1, "o1"),
        ("ann", "self_assess", "s-ann", "2", "Could be clearer", None, O1, O1, O1, "o1"),
        # 2030-01-02: cat's submission names o1 and o0: the greatest, o1, for the staff's
        ("cat", "create_submission", "s-cat", None, None, "1", O1, O1, O1, "o1"),
        ("cat", "submit_feedback_on_assessments", "s-cat", None, None, None, O0, O1, O0, "o0"),
        ("eve", "get_submission_for_staff_grading", "s-cat", None, None, None, None, O1, O1, "o1"),
        ("eve", "staff_assess", "s-cat", "1", "Needs work", None, None, O1, O1, "o1"),
    ]  # the empty handler calls, the event without payload and play_video left out
    assert [r["time"][:19] for r in rows] == [
        "2030-01-01 11:59:00",
        "2030-01-01 11:59:30",
        "2030-01-01 12:00:00",
        "2030-01-01 12:10:00",
        "2030-01-01 12:20:00",
        "2030-01-01 12:30:00",
        "2030-01-02 08:00:00",
        "2030-01-02 08:30:00",
        "2030-01-02 09:00:00",
        "2030-01-02 09:05:00",
    ]
    by_action = {r["action"]: r for r in rows}
    # current ORA's answer parts (the first one's text), and older ORA's answer.text
    assert [r["answer_text"] for r in rows if r["action"] == "create_submission"] == [
        "My essay",
        "Old essay",
    ]
    assert {r["answer_text"] for r in rows if r["action"] != "create_submission"} == {None}
    peer = by_action["peer_assess"]
    assert (peer["event_type"], peer["event_source"]) == (
        "openassessmentblock.peer_assess",
        "server",
    )
    assert json.loads(peer["event"]) == assessment(3, "Clear", "s-ann")
    assert by_action["handler/render_submission"]["event"] == '{"POST": {"a": ["1"]}, "GET": {}}'
    assert {r["course_id"] for r in rows} == {COURSE}


# --- time_on_task and time_on_asset_daily ----------------------------------------------------

V1, P1, S1 = module("video", "v1"), module("problem", "p1"), module("sequential", "s1")
H1 = module("html", "h1")
XBLOCK = f"/courses/{KEY}/xblock/{block('problem', 'p1')}/handler/problem_get"
HTML = f"/courses/{KEY}/xblock/{block('html', 'h1')}/handler/publish_completion"

TIME_LOG = [
    # tim, 2030-01-05: gaps 299, 300, 301, 1799, 1800, 1801 and 0.5 seconds
    ev("05T10:00:00", "tim", "play_video", module_id=V1),  # t0 video
    ev("05T10:04:59", "tim", "pause_video", module_id=V1),  # t1 video, 299
    # an /xblock/ event: not in time_on_task (it would split the next gap), on p1 in time_on_asset
    ev("05T10:07:00", "tim", XBLOCK, module_id=P1),
    ev("05T10:09:59", "tim", "problem_check", module_id=P1),  # t2 problem, 300
    ev("05T10:15:00", "tim", "problem_show", module_id=P1),  # t3 problem, 301
    ev("05T10:44:59", "tim", "seq_goto", module_id=S1),  # t4 none of the kinds, 1799
    ev("05T11:14:59", "tim", "edx.forum.thread.created"),  # t5 forum, 1800
    ev("05T11:45:00", "tim", "textbook.pdf.page.navigated"),  # t6 text, 1801
    ev("05T11:45:00.5", "tim", f"/courses/{KEY}/wiki/intro/"),  # t7 text, 0.5
    # across midnight: the 120 seconds count on 2030-01-06
    ev("05T23:59:00", "tim", "play_video", module_id=V1),  # t8
    ev("06T00:01:00", "tim", "play_video", module_id=V1),  # t9
    # val: a video, a problem, then a video and a problem at the same time (ordered by event_type)
    ev("05T10:00:00", "val", "play_video"),
    ev("05T10:01:00", "val", "problem_check"),
    ev("05T10:02:00", "val", "problem_graded"),
    ev("05T10:02:00", "val", "pause_video"),
    # one: a single event, no gap
    ev("05T10:00:00", "one", "play_video"),
    # ada: only /xblock/ events (none in time_on_task), on h1: 300, 1800, 1799 and 0.25 seconds
    ev("05T09:00:00", "ada", HTML, module_id=H1),
    ev("05T09:05:00", "ada", HTML, module_id=H1),
    ev("05T09:35:00", "ada", HTML, module_id=H1),
    ev("05T10:04:59", "ada", HTML, module_id=H1),
    ev("05T10:04:59.25", "ada", HTML, module_id=H1),
    # no username
    ev("05T10:00:30", "", "play_video", module_id=V1),
]


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("on_request_timed")
    log = shipped_schema("tracking_log")
    con = report_warehouse(folder, LATEST, LOGS, inputs={(LOGS, "tracklog"): (log, TIME_LOG)})
    result = {table: build(con, table) for table in OURS[2:5]}  # each after what it reads
    # 6 and 20 minutes, in simeon's --extra-args form
    extra = parse_extra_args("timeout_short:i=6,timeout_long:i=20")
    assert extra == {"timeout_short": 6, "timeout_long": 20}
    for table in ("time_on_task", "time_on_asset_daily"):
        result[f"{table}_6_20"] = build(con, table, target=f"{table}_6_20", extra_args=extra)
    con.close()
    return result


def by_user_day(rows):
    return {(r["username"], r["date"]): r for r in rows}


def numbers(row: dict, names=TASK) -> dict:
    return {name: None if row[name] is None else float(row[name]) for name in names}


def task(**values) -> dict:
    return {name: values.get(name) for name in TASK}


def test_time_on_task_rows(timed):
    rows = timed["time_on_task"]
    assert [(r["username"], r["date"]) for r in rows] == [
        ("tim", "2030-01-05"),
        ("val", "2030-01-05"),
        ("tim", "2030-01-06"),
    ]  # one: no gap; ada: /xblock/ events only; '' left out
    assert {r["course_id"] for r in rows} == {COURSE}


def test_time_on_task_gaps_at_5_and_30_minutes(timed):
    tim = by_user_day(timed["time_on_task"])["tim", "2030-01-05"]
    assert numbers(tim) == task(
        # 299 and 0.5 are under 5 minutes; 300 (exactly 5 minutes) and 301 are not
        total_time_5=299.5,
        # under 30 minutes: 299, 300, 301, 1799 and 0.5; not 1800 (exactly) nor 1801
        total_time_30=2699.5,
        total_video_time_5=299.0,  # t0 -> t1 (t8: 13 hours after t1)
        total_video_time_30=299.0,
        serial_video_time_30=299.0,
        # problems: t2 (the first) has no previous problem; t3 is 301 after t2
        total_problem_time_5=None,
        total_problem_time_30=301.0,
        # serially: t2 is 300 after t1 (a video), t3 301 after t2
        serial_problem_time_30=601.0,
        # the forum event t5: no previous one; serially 3599 after t3 (t4 is no kind)
        total_forum_time_5=None,
        total_forum_time_30=None,
        serial_forum_time_30=None,
        # text: t7 is 0.5 after t6 (whole seconds would make it 0); t6 is 1801 after t5
        total_text_time_5=0.5,
        total_text_time_30=0.5,
        serial_text_time_30=0.5,
    )
    next_day = by_user_day(timed["time_on_task"])["tim", "2030-01-06"]
    assert numbers(next_day) == task(
        total_time_5=120.0,
        total_time_30=120.0,
        total_video_time_5=120.0,
        total_video_time_30=120.0,
        serial_video_time_30=120.0,
    )


def test_time_on_task_orders_events_at_the_same_time_by_event_type(timed):
    val = by_user_day(timed["time_on_task"])["val", "2030-01-05"]
    # pause_video before problem_graded, both at 10:02: the video is 60 after the problem check,
    # the graded problem 0 after the video (the other order would give 0 and 120)
    assert numbers(val) == task(
        total_time_5=120.0,
        total_time_30=120.0,
        total_video_time_5=120.0,
        total_video_time_30=120.0,
        serial_video_time_30=60.0,
        total_problem_time_5=60.0,
        total_problem_time_30=60.0,
        serial_problem_time_30=60.0,
    )


def test_time_on_task_timeouts_from_extra_args(timed):
    rows = by_user_day(timed["time_on_task_6_20"])
    tim = rows["tim", "2030-01-05"]
    # 6 minutes: 299, 300, 301 and 0.5 count; 20 minutes: the same (1799 is over 20 minutes)
    assert numbers(tim) == task(
        total_time_5=900.5,
        total_time_30=900.5,
        total_video_time_5=299.0,
        total_video_time_30=299.0,
        serial_video_time_30=299.0,
        total_problem_time_5=301.0,
        total_problem_time_30=301.0,
        serial_problem_time_30=601.0,
        total_text_time_5=0.5,
        total_text_time_30=0.5,
        serial_text_time_30=0.5,
    )
    # the column names stay simeon's whatever the timeouts
    assert list(tim)[3:] == TASK


def test_time_on_task_totals(timed):
    rows = timed["time_on_task_totals"]
    assert [r["username"] for r in rows] == ["tim", "val"]
    tim, val = rows
    assert tim["course_id"] == COURSE
    assert numbers(tim) == task(
        total_time_5=419.5,
        total_time_30=2819.5,
        total_video_time_5=419.0,
        total_video_time_30=419.0,
        serial_video_time_30=419.0,
        total_problem_time_30=301.0,
        serial_problem_time_30=601.0,
        total_text_time_5=0.5,
        total_text_time_30=0.5,
        serial_text_time_30=0.5,
    )
    assert numbers(val) == numbers(by_user_day(timed["time_on_task"])["val", "2030-01-05"])


def assets(rows) -> dict:
    return {
        (r["username"], r["date"], r["module_id"]): (
            None if r["time_umid5"] is None else float(r["time_umid5"]),
            None if r["time_umid30"] is None else float(r["time_umid30"]),
        )
        for r in rows
    }


def test_time_on_asset_daily(timed):
    rows = timed["time_on_asset_daily"]
    assert {r["course_id"] for r in rows} == {COURSE}
    assert [(r["date"], r["module_id"], r["username"]) for r in rows] == sorted(
        (r["date"], r["module_id"], r["username"]) for r in rows
    )
    assert assets(rows) == {
        # ada on h1: 300 (exactly 5 minutes), 1800 (exactly 30), 1799 and 0.25 seconds
        ("ada", "2030-01-05", H1): (0.25, 2099.25),
        # tim on p1: the /xblock/ event, then 179 and 301 seconds
        ("tim", "2030-01-05", P1): (179.0, 480.0),
        # tim on s1: one event
        ("tim", "2030-01-05", S1): (None, None),
        # tim on v1: 299 seconds, then 13 hours; then 120 seconds across midnight
        ("tim", "2030-01-05", V1): (299.0, 299.0),
        ("tim", "2030-01-06", V1): (120.0, 120.0),
    }  # events without a module, and without a username, left out


def test_time_on_asset_daily_timeouts_from_extra_args(timed):
    rows = assets(timed["time_on_asset_daily_6_20"])
    # 6 minutes: 300 and 0.25 count; 20 minutes: the same (1799 and 1800 are over)
    assert rows["ada", "2030-01-05", H1] == (300.25, 300.25)
    assert rows["tim", "2030-01-05", P1] == (480.0, 480.0)
    assert rows["tim", "2030-01-05", V1] == (299.0, 299.0)


@pytest.mark.parametrize(
    "value, message",
    [
        ("x", "extra_args timeout_short is 'x': expected a whole number of minutes from 1"),
        (0, "extra_args timeout_short is 0: expected a whole number of minutes from 1"),
        (2.5, "extra_args timeout_short is 2.5: expected a whole number of minutes from 1"),
        (True, "extra_args timeout_short is True: expected a whole number of minutes from 1"),
    ],
)
def test_bad_timeouts_are_named(value, message):
    with pytest.raises(RenderError) as raised:
        render(
            report_template("time_on_task"),
            name="time_on_task.sql",
            course_id=COURSE,
            latest_dataset=LATEST,
            log_dataset=LOGS,
            tables=["tracklog"],
            extra_args={"timeout_short": value},
        )
    assert str(raised.value) == f"time_on_task.sql: {message}"


def test_timeouts_as_digits_and_defaults():
    def sql(extra):
        return render(
            report_template("time_on_task"),
            name="time_on_task.sql",
            course_id=COURSE,
            latest_dataset=LATEST,
            log_dataset=LOGS,
            tables=["tracklog"],
            extra_args=extra,
        )

    assert sql({"timeout_short": "6"}) == sql({"timeout_short": 6})
    default = sql({})
    assert default == sql({"timeout_short": 5, "timeout_long": 30})
    assert "g.dt < 300," in default and "g.dt < 1800," in default
    assert "g.dt < 360," in sql({"timeout_short": 6})


# --- time_on_asset_totals, from time_on_asset_daily rows written by hand ----------------------


def day(username, module_id, t5, t30, date="2030-01-05") -> dict:
    return {
        "course_id": COURSE,
        "date": date,
        "username": username,
        "module_id": module_id,
        "time_umid5": t5,
        "time_umid30": t30,
    }


M1, M2 = module("problem", "m1"), module("video", "m2")
ASSET_DAYS = [
    day("u1", M1, 10.0, 10.0),
    day("u1", M1, 20.0, 50.0, "2030-01-06"),
    day("u2", M1, None, 100.0),  # only gaps between 5 and 30 minutes
    day("u3", M1, 5.0, 5.0),
    day("u4", M1, 15.0, 15.0),
    day("u5", M1, 1000.0, 1000.0),  # no problem check
    day("u6", M1, 1000.0, 1000.0),  # not in person_course
    day("u7", M1, None, None),  # a single event on m1
    day("u2", M2, 7.0, 7.0),
]


def learner(username, certified, nproblem_check) -> dict:
    return {"username": username, "certified": certified, "nproblem_check": nproblem_check}


PERSON_COURSE = [
    learner("u1", True, 1),
    learner("u2", False, 2),
    learner("u3", True, 3),
    learner("u4", False, 1),
    learner("u5", True, 0),
    learner("u7", None, 1),  # no certificate status: not certified
]


@pytest.fixture(scope="module")
def totals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("on_request_totals")
    inputs = {
        (LATEST, "time_on_asset_daily"): (report_schema("time_on_asset_daily"), ASSET_DAYS),
        (LATEST, "person_course"): (report_schema("person_course"), PERSON_COURSE),
    }
    con = report_warehouse(folder, LATEST, LOGS, inputs=inputs)
    rows = build(con, "time_on_asset_totals")
    con.close()
    return rows


def test_time_on_asset_totals(totals):
    assert [r["module_id"] for r in totals] == [M1, M2]
    m1, m2 = totals
    assert m1["course_id"] == COURSE
    # u1 (certified) 30 and 60, u2 None and 100, u3 (certified) 5 and 5, u4 15 and 15, u7 None
    # and None; u5 (no problem check) and u6 (not in person_course) left out
    assert (m1["n_unique_users"], m1["n_unique_certified"]) == ("5", "2.0")
    assert close(m1["mean_tmid5"], 50 / 3) and m1["cert_mean_tmid5"] == "17.5"
    assert (m1["mean_tmid30"], m1["cert_mean_tmid30"]) == ("45.0", "32.5")
    # medians of the learners' times (simeon: of their daily times, 12.5 for the 5 minutes)
    assert (m1["median_tmid5"], m1["cert_median_tmid5"]) == ("15.0", "17.5")
    assert (m1["median_tmid30"], m1["cert_median_tmid30"]) == ("37.5", "32.5")
    assert (m1["total_tmid5"], m1["cert_total_tmid5"]) == ("50.0", "35.0")
    # u2's 100 counts (simeon drops the day: its time_umid5 is NULL)
    assert (m1["total_tmid30"], m1["cert_total_tmid30"]) == ("180.0", "65.0")
    assert (m2["n_unique_users"], m2["n_unique_certified"]) == ("1", "0.0")
    # u2 alone, not certified
    stats = [f"{stat}_tmid{m}" for stat in ("mean", "median", "total") for m in (5, 30)]
    assert {m2[name] for name in stats} == {"7.0"}
    assert {m2[f"cert_{name}"] for name in stats} == {None}


# --- built only on request -------------------------------------------------------------------


def test_all_leaves_them_out_and_all_with_optional_builds_them(tmp_path):
    """build_course on the golden course (tests/helpers.py): `all` builds no on-request table,
    `all_with_optional` builds the six, and a name builds it and what it reads."""
    templates = load_templates(BUILTIN)
    # person_course and what it reads, and the six (other tables are not needed here)
    wanted = build_order(templates, ["person_course", *OURS])
    templates = {name: templates[name] for name in wanted}
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    report_warehouse(tmp_path, inputs=golden_inputs()).close()

    def run(tables) -> dict:
        with warehouse_session(settings, tmp_path) as warehouse:
            return build_course(
                warehouse,
                course_id=GOLDEN_COURSE,
                templates=templates,
                wanted=tables,
                receipt_path=tmp_path / "receipt.json",
            )

    everything = run("all")
    assert everything["order"] == [name for name in wanted if name not in OURS]
    assert not set(OURS) & set(everything["tables"])
    with_optional = run("all_with_optional")
    assert sorted(with_optional["order"]) == sorted(wanted)
    assert {with_optional["tables"][name]["status"] for name in OURS} == {"rebuilt"}
    # time_on_asset_totals reads person_course, built before it
    order = with_optional["order"]
    assert order.index("person_course") < order.index("time_on_asset_totals")
    named = run(["time_on_task_totals"])
    assert named["order"] == ["time_on_task", "time_on_task_totals"]


def test_command_line_tables_argument():
    from report import tables_argument

    assert tables_argument("") == tables_argument("all") == "all"
    assert tables_argument(" all_with_optional ") == "all_with_optional"
    assert tables_argument("time_on_task, ora_events") == ["time_on_task", "ora_events"]
