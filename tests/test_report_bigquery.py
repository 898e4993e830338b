"""The report templates give the same rows on BigQuery as on DuckDB (issue 13 item 4): the inputs
of the small golden course of tests/helpers.py (learners, courseware, grades, forum, roles, a
tracking log and a geo table) are loaded into the local BigQuery emulator and into DuckDB, every
report table is built by build_course on each, one table at a time in build order (a table that
fails on one backend does not stop the others), and each table's rows are compared, order-
insensitive, floats rounded to 9 digits, timestamps as UTC ISO strings."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from pathlib import Path

import duckdb
import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.reports.build import BUILTIN, COUNTED, build_course, qualified
from edxflow.reports.graph import build_order, load_templates
from edxflow.warehouse.bigquery import BigQueryWarehouse, schema_fields
from edxflow.warehouse.duckdb import quote
from edxflow.warehouse.google_cloud import bigquery_client
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.settings import WarehouseSettings
from tests.helpers import (
    COURSE,
    GEO,
    IPHONE,
    LATEST,
    LOGS,
    REPORT_SCHEMAS,
    WINDOWS,
    event,
    golden_inputs,
    mid,
    report_warehouse,
)

PROJECT = "test"
TEMPLATES = load_templates(BUILTIN)
ORDER = build_order(TEMPLATES, "all_with_optional")  # those built on request too


def answer(answer_id: str, correct: bool, response: str) -> dict:
    return {
        "answer_id": answer_id,
        "correctness": "correct" if correct else "incorrect",
        "correct_bool": correct,
        "npoints": 1.0 if correct else 0.0,
        "response": response,
    }


# problem_analysis (not in the golden course of person_course): cat answers both problems, dan p1.
PROBLEM_ANALYSIS = [
    {
        "course_id": COURSE,
        "user_id": user_id,
        "problem_url_name": problem,
        "attempts": attempts,
        "done": True,
        "grade": grade,
        "max_grade": 2.0,
        "created": f"2030-01-0{day}T12:00:00Z",
        "item": [
            answer(f"{problem}_2_1", grade >= 1.0, '"42"'),
            answer(f"{problem}_3_1", grade >= 2.0, '"choice_1"'),
        ],
    }
    for user_id, problem, attempts, grade, day in (
        (3, "p1", 2, 2.0, 1),
        (3, "p2", 1, 1.0, 2),
        (4, "p1", 3, 0.0, 4),
    )
]


def graded(time, username, attempts, success, grade) -> dict:
    """A server problem_check of p1 (its payload typed in event_struct, as the split does)."""
    struct = {"answers": '{"p1_2_1": "42"}', "attempts": attempts, "success": success}
    struct["grade"] = grade
    return event(
        time,
        username,
        "10.0.0.3",
        WINDOWS,
        "problem_check",
        json.dumps(struct),
        event_source="server",
        module_id=mid("problem", "p1"),
        event_struct=struct,
    )


# Log rows the golden course lacks, for the tables built on request (checks, ORA, module times).
ON_REQUEST_EVENTS = [
    graded("06T09:00:00", "cat", 1, "incorrect", 0.0),
    graded("06T09:02:30.5", "cat", 2, "correct", 2.0),
    graded("06T10:01:00", "dan", 1, "incorrect", 1.0),
    graded("06T10:03:00", "dan", 2, "correct", 2.0),
    event("06T09:10:00", "cat", "10.0.0.3", WINDOWS, "play_video", module_id=mid("video", "v1")),
    event("06T09:12:00", "cat", "10.0.0.3", WINDOWS, "pause_video", module_id=mid("video", "v1")),
    event(
        "06T10:00:00",
        "dan",
        "10.0.0.5",
        WINDOWS,
        "openassessmentblock.create_submission",
        json.dumps(
            {"submission_uuid": "s1", "attempt_number": 1, "answer": {"parts": [{"text": "x"}]}}
        ),
        event_source="server",
        module_id=mid("openassessment", "o1"),
    ),
    event(
        "06T10:05:00",
        "cat",
        "10.0.0.3",
        WINDOWS,
        "openassessmentblock.peer_assess",
        json.dumps(
            {"submission_uuid": "s1", "parts": [{"option": {"points": 2}, "feedback": "ok"}]}
        ),
        event_source="server",
    ),
]

# (dataset, table) -> (schema, rows): the golden course's loaded inputs (its log with
# ON_REQUEST_EVENTS); its report tables (pc_day_totals and pc_video_watched too) are built from
# them by their templates.
INPUTS = {
    **golden_inputs(),
    (LATEST, "problem_analysis"): (shipped_schema("problem_analysis"), PROBLEM_ANALYSIS),
}
INPUTS[LOGS, "tracklog"] = (
    INPUTS[LOGS, "tracklog"][0],
    INPUTS[LOGS, "tracklog"][1] + ON_REQUEST_EVENTS,
)

# What the golden course lacks for the grade, show-answer and forum tables: grades on its
# studentmodule problems, show-answer events, ids and threads on its forum posts (and a comment
# on the response), and reads and votes of the thread.
GRADES = {
    (3, "p1"): (2.0, 2.0),
    (3, "p2"): (1.0, 2.0),
    (5, "ps"): (0.0, 1.0),
    (9, "p1"): (None, 2.0),
}
FORUM_IDS = [
    {"mongoid": "t1", "author_username": "cat", "title": "Exam?", "body": "When is it?"},
    {"mongoid": "r1", "author_username": "cat", "comment_thread_id": "t1", "body": "Friday"},
    {"mongoid": "t2", "author_username": "eve", "title": "Pinned", "body": "Read me"},
]
FORUM_COMMENT = {
    "mongoid": "c1",
    "_type": "Comment",
    "author_id": 5,
    "author_username": "eve",
    "comment_thread_id": "t1",
    "parent_id": "r1",
    "body": "Yes, Friday",
    "pinned": False,
    "endorsed": False,
    "votes": {"count": 0},
}
DISCUSSION = "/courses/course-v1:TestX+PC1+2030/discussion"
GRADE_FORUM_EVENTS = [
    event("07T09:00:00", "cat", "10.0.0.3", WINDOWS, "showanswer", module_id=mid("problem", "p2")),
    event("07T09:05:00", "eve", "10.0.0.3", WINDOWS, "showanswer", module_id=mid("problem", "ps")),
    event("07T09:06:00", "zed", "10.0.0.9", IPHONE, "show_answer", module_id=mid("problem", "p1")),
    event("07T10:00:00", "ben", "10.0.0.7", WINDOWS, f"{DISCUSSION}/forum/d1/threads/t1"),
    event("07T10:01:00", "ben", "10.0.0.7", WINDOWS, f"{DISCUSSION}/threads/t1/upvote"),
    event("07T10:02:00", "eve", "10.0.0.3", WINDOWS, f"{DISCUSSION}/comments/r1/upvote"),
]


def graded_module(row: dict) -> dict:
    problem = row["module_id"].rsplit("/", 1)[1]
    grade, max_grade = GRADES.get((row["student_id"], problem), (None, None))
    return dict(row, grade=grade, max_grade=max_grade)


SCHEMA, ROWS = INPUTS[LATEST, "studentmodule"]
INPUTS[LATEST, "studentmodule"] = (SCHEMA, [graded_module(row) for row in ROWS])
SCHEMA, ROWS = INPUTS[LATEST, "forum"]
POSTS = [
    {**row, **ids, "created_at": f"2030-01-0{number}T12:00:00Z"}
    for number, (row, ids) in enumerate(zip(ROWS, FORUM_IDS), start=1)
]
INPUTS[LATEST, "forum"] = (SCHEMA, [*POSTS, dict(FORUM_COMMENT, created_at="2030-01-04T12:00:00Z")])
SCHEMA, ROWS = INPUTS[LOGS, "tracklog"]
INPUTS[LOGS, "tracklog"] = (SCHEMA, ROWS + GRADE_FORUM_EVENTS)

# Tables the emulator cannot build or builds differently: table -> the construct, and whether it is
# the emulator's limit or the SQL's (marked strict xfail). None so far: every template runs.
EMULATOR_LIMITS: dict[str, str] = {}


# --- loading -------------------------------------------------------------------------------------


def load_bigquery(client) -> None:
    from google.cloud import bigquery

    for dataset in sorted({dataset for dataset, _ in INPUTS}):
        client.create_dataset(f"{PROJECT}.{dataset}", exists_ok=True)
    for (dataset, table), (fields, rows) in INPUTS.items():
        config = bigquery.LoadJobConfig(
            schema=schema_fields(fields),
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        if table == "tracklog":
            config.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field="time"
            )
        client.load_table_from_json(rows, f"{PROJECT}.{dataset}.{table}", job_config=config).result(
            timeout=120
        )


# --- building ------------------------------------------------------------------------------------


def build_each(warehouse, receipts: Path) -> dict[str, dict]:
    """Every report table, one build_course at a time in build order (the tables it reads as
    loaded ones): name -> its receipt entry, or {"status": "failed", "error": ...}."""
    entries = {}
    for name in ORDER:
        try:
            receipt = build_course(
                warehouse,
                course_id=COURSE,
                templates={name: TEMPLATES[name]},
                wanted=[name],
                receipt_path=receipts / f"{name}.json",
                geo_table=GEO,
                force=True,
            )
            entries[name] = dict(receipt["tables"][name], counts=receipt.get("person_course"))
        except Exception as error:  # the error names the construct; the next tables go on
            entries[name] = {"status": "failed", "error": str(error)}
    return entries


def normal(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, decimal.Decimal):
        return round(float(value), 9)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return tuple(sorted((key, normal(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(normal(item) for item in value)
    return value


def canonical(rows: list[tuple]) -> list[tuple]:
    return sorted((tuple(normal(value) for value in row) for row in rows), key=repr)


@pytest.fixture(scope="module")
def built(bigquery_server, tmp_path_factory):
    """(DuckDB entries, DuckDB tables, BigQuery entries, BigQuery tables, BigQuery row counts,
    BigQuery column descriptions): table -> (column names, canonical rows)."""
    tmp = tmp_path_factory.mktemp("report_bigquery")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BIGQUERY_EMULATOR_HOST", bigquery_server.url)
        duck = WarehouseSettings("duckdb", path=str(tmp / "warehouse.duckdb"))
        report_warehouse(Path(duck.path).parent, inputs=INPUTS).close()  # its warehouse.duckdb
        with warehouse_session(duck, tmp) as warehouse:
            duck_entries = build_each(warehouse, tmp / "duckdb")
        con = duckdb.connect(duck.path, read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        duck_tables = {}
        for name, entry in duck_entries.items():
            if entry["status"] == "rebuilt":
                where = f"{quote(LATEST)}.{quote(name)}"
                described = con.execute(f"DESCRIBE {where}").fetchall()
                # (TIMESTAMPTZ as the naive UTC timestamp: its Python value would need pytz.)
                columns = ", ".join(
                    f"CAST({quote(column)} AS TIMESTAMP)" if "TIME ZONE" in kind else quote(column)
                    for column, kind, *_ in described
                )
                rows = con.execute(f"SELECT {columns} FROM {where}").fetchall()
                duck_tables[name] = ([row[0] for row in described], canonical(rows))
        con.close()

        client = bigquery_client(PROJECT, None, None)
        load_bigquery(client)
        bq = WarehouseSettings("bigquery", project=PROJECT)
        with warehouse_session(bq, tmp) as warehouse:
            assert isinstance(warehouse, BigQueryWarehouse)
            bq_entries = build_each(warehouse, tmp / "bigquery")
        bq_tables, counts, descriptions = {}, {}, {}
        for name, entry in bq_entries.items():
            if entry["status"] == "rebuilt":
                table = client.get_table(f"{PROJECT}.{LATEST}.{name}")
                rows = [tuple(row.values()) for row in client.list_rows(table)]
                bq_tables[name] = ([field.name for field in table.schema], canonical(rows))
                counts[name] = len(rows)
                descriptions[name] = {field.name: field.description for field in table.schema}
        client.close()
    return duck_entries, duck_tables, bq_entries, bq_tables, counts, descriptions


def test_the_golden_course_builds_person_course_on_duckdb(built):
    duck_entries, duck_tables, *_ = built
    assert duck_entries["person_course"]["status"] == "rebuilt"
    assert len(duck_tables["person_course"][1]) == 5
    assert {entry["status"] for entry in duck_entries.values()} == {"rebuilt"}


def params() -> list:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=EMULATOR_LIMITS[name])]
            if name in EMULATOR_LIMITS
            else [],
            id=name,
        )
        for name in ORDER
    ]


@pytest.mark.parametrize("name", params())
def test_same_rows_on_bigquery(built, name):
    duck_entries, duck_tables, bq_entries, bq_tables, counts, _ = built
    duck, bq = duck_entries[name], bq_entries[name]
    assert bq["status"] == duck["status"], bq.get("error") or bq.get("reason")
    if duck["status"] == "skipped":
        assert bq["reason"] == duck["reason"]
        return
    assert bq_tables[name][0] == duck_tables[name][0]  # the columns, in order
    assert bq_tables[name][1] == duck_tables[name][1]
    assert bq["rows"] == counts[name] == duck["rows"]  # run_query's count is the table's


def test_bigquery_tables_have_their_schemas_descriptions_and_the_receipt_their_bytes(built):
    duck_entries, _, bq_entries, _, _, descriptions = built
    for name, described in descriptions.items():
        schema = json.loads((REPORT_SCHEMAS / f"{name}.json").read_text())
        assert described == {field["name"]: field["description"] for field in schema}, name
        assert isinstance(bq_entries[name]["bytes_processed"], int), name
        assert "bytes_processed" not in duck_entries[name]
    # person_course's counts, the same on both: the golden course's five learners
    counts = bq_entries["person_course"]["counts"]
    assert counts == duck_entries["person_course"]["counts"]
    assert counts["learners"] == 5 and set(counts) == {"learners", *COUNTED}


def test_templates_name_bigquery_datasets_with_their_project():
    class Fake:
        kind = "bigquery"

        class client:
            project = "my-project-1"

    assert qualified(Fake(), LATEST) == f"my-project-1.{LATEST}"


def test_what_the_comparison_covers(built):
    """Every table is built on both; these hold rows (the item tables and the video ones are
    compared empty: the golden course's axis has no graded problems nor video lengths)."""
    duck_entries, *_ = built
    assert {name for name, entry in duck_entries.items() if entry["rows"]} == {
        "video_axis",
        "forum_events",
        "person_course_day",
        "pc_day_totals",
        "pc_day_trlang",
        "pc_day_ip_counts",
        "language_multi_transcripts",
        "pc_nchapters",
        "pc_forum",
        "course_modal_language",
        "course_modal_ip",
        "enrollment_events",
        "person_enrollment_verified",
        "pc_day_agent_counts",
        "course_modal_agent",
        "person_course",
        *("ora_events", "problem_check", "time_on_task", "time_on_task_totals"),
        *("time_on_asset_daily", "time_on_asset_totals"),
        *("problem_grades", "chapter_grades", "show_answer", "show_answer_stats_by_user"),
        *("show_answer_stats_by_course", "forum_posts", "forum_person", "enrollday_all"),
    }
