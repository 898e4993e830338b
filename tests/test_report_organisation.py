"""The organisation tables ({org}_reports): person_course_all, course_summary and
enrollment_by_day over two courses with hand-counted values, on DuckDB and on the BigQuery
emulator; a course without person_course is left out of the tables that read it; a second build
changes nothing and a course's new person_course rebuilds only what reads it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.reports.build import last_build, reports_dataset
from edxflow.reports.organisation import MAX_QUERY_CHARS, build_organisation
from edxflow.warehouse.bigquery import schema_fields
from edxflow.warehouse.google_cloud import bigquery_client
from edxflow.warehouse.load import warehouse_session
from edxflow.warehouse.settings import WarehouseSettings
from tests.helpers import report_schema, report_warehouse

PROJECT = "test"
A, B, C = "OrgX/A1/2030", "OrgX/B2/2030", "OrgX/C3/2030"


def base(course: str) -> str:
    return course.replace("/", "__").replace(".", "_")


def learner(course, user_id, grade, mode, nevents, posts, *stages, first=None, last=None):
    flags = ("registered", "viewed", "explored", "certified", "completed")
    return {
        "course_id": course,
        "user_id": user_id,
        "username": f"u{user_id}",
        **{flag: flag in stages for flag in flags},
        "grade": grade,
        "mode": mode,
        "nevents": nevents,
        "nforum_posts": posts,
        "first_event": first,
        "last_event": last,
    }


PERSON_COURSE = {
    A: [
        learner(
            A,
            1,
            0.9,
            "verified",
            10,
            2,
            "registered",
            "viewed",
            "explored",
            "certified",
            "completed",
            first="2030-01-02T10:00:00Z",
            last="2030-01-05T09:00:00Z",
        ),
        learner(
            A,
            2,
            0.3,
            "audit",
            5,
            0,
            "registered",
            "viewed",
            first="2030-01-03T08:00:00Z",
            last="2030-01-04T08:00:00Z",
        ),
        learner(A, 3, None, "audit", 0, None, "registered"),
        learner(
            A,
            4,
            0.5,
            "honor",
            1,
            1,
            "registered",
            first="2030-01-01T23:59:59Z",
            last="2030-01-01T23:59:59Z",
        ),
    ],
    B: [
        learner(
            B,
            1,
            0.6,
            "verified",
            7,
            3,
            "registered",
            "viewed",
            first="2030-02-01T00:00:00Z",
            last="2030-02-02T00:00:00Z",
        ),
        learner(
            B,
            5,
            0.2,
            "audit",
            2,
            0,
            "registered",
            "viewed",
            "explored",
            first="2030-02-03T00:00:00Z",
            last="2030-02-03T00:00:00Z",
        ),
    ],
}


def axis(course, index, category, start=None, due=None, staff_only=False):
    return {
        "course_id": course,
        "index": index,
        "category": category,
        "url_name": f"b{index}",
        "start": start,
        "due": due,
        "visible_to_staff_only": staff_only,
    }


COURSE_AXIS = {
    A: [
        axis(A, 1, "course", start="2030-01-01T00:00:00Z"),
        axis(A, 2, "chapter", start="2030-01-01T00:00:00Z", due="2030-02-01T00:00:00Z"),
        axis(A, 3, "problem", due="2030-03-01T12:00:00Z"),
        axis(A, 4, "problem"),
        axis(A, 5, "problem", staff_only=True),
    ],
    B: [axis(B, 1, "course", start="2030-01-15T00:00:00Z"), axis(B, 2, "video")],
}
VIDEO_AXIS = {A: [{"course_id": A, "video_id": f"v{n}"} for n in range(3)], B: []}


def enrolment(course, time, user_id, mode, kind):
    return {
        "course_id": course,
        "time": time,
        "user_id": user_id,
        "mode": mode,
        "activated": kind == "activated",
        "deactivated": kind == "deactivated",
        "mode_changed": kind == "mode_changed",
    }


ENROLLMENT_EVENTS = {
    A: [
        enrolment(A, "2030-01-01T10:00:00Z", 2, "audit", "activated"),
        enrolment(A, "2030-01-01T11:00:00Z", 1, "verified", "activated"),
        enrolment(A, "2030-01-02T09:00:00Z", 2, "audit", "deactivated"),
        enrolment(A, "2030-01-02T23:59:59Z", 2, "audit", "activated"),  # again, the same day
        enrolment(A, "2030-01-03T00:00:00Z", 4, "verified", "mode_changed"),  # no row
    ],
    B: [enrolment(B, "2030-02-01T00:00:00Z", 1, "verified", "activated")],
    C: [enrolment(C, "2030-03-01T00:00:00Z", 9, "honor", "deactivated")],
}


def inputs() -> dict:
    found = {}
    for course in (A, B, C):
        latest = f"{base(course)}_latest"
        found[(latest, "enrollment_events")] = (
            report_schema("enrollment_events"),
            ENROLLMENT_EVENTS[course],
        )
        if course in PERSON_COURSE:
            found[(latest, "person_course")] = (
                report_schema("person_course"),
                PERSON_COURSE[course],
            )
            found[(latest, "course_axis")] = (shipped_schema("course_axis"), COURSE_AXIS[course])
            found[(latest, "video_axis")] = (report_schema("video_axis"), VIDEO_AXIS[course])
    return found


def receipt(course: str, kind: str, person_course: str = "pc-1") -> dict:
    """A course's report receipt as report_course writes it (C's person_course was skipped)."""
    built = {"status": "rebuilt"}
    tables = {
        "enrollment_events": {**built, "fingerprint": f"ee-{course}"},
        "video_axis": {**built, "fingerprint": f"va-{course}", "inputs": {"course_axis": "ca"}},
        "person_course": {**built, "fingerprint": f"{person_course}-{course}"},
    }
    if course == C:
        tables["person_course"] = {"status": "skipped", "reason": "user_info_combo is not in"}
        del tables["video_axis"]
    return {
        "course_id": course,
        "base": base(course),
        "warehouse": kind,
        "extra_args": {},
        "log_tables": "partitioned",
        "tables": tables,
    }


def utc(text: str) -> str:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()


EXPECTED_SUMMARY = [
    # course, start, end, first, last, learners, registered, viewed, explored, certified,
    # verified, completed, median grade, events, active, forum posts, videos, problems
    (
        A,
        "2030-01-01T00:00:00Z",
        "2030-03-01T12:00:00Z",
        "2030-01-01T23:59:59Z",
        "2030-01-05T09:00:00Z",
        4,
        4,
        2,
        1,
        1,
        1,
        1,
        0.5,
        16,
        3,
        3,
        3,
        2,
    ),
    (
        B,
        "2030-01-15T00:00:00Z",
        None,
        "2030-02-01T00:00:00Z",
        "2030-02-03T00:00:00Z",
        2,
        2,
        2,
        1,
        0,
        1,
        0,
        0.4,
        9,
        2,
        3,
        0,
        0,
    ),
]
EXPECTED_ENROLLMENTS = [
    (A, "2030-01-01", "audit", 1, 0),
    (A, "2030-01-01", "verified", 1, 0),
    (A, "2030-01-02", "audit", 1, 1),
    (B, "2030-02-01", "verified", 1, 0),
    (C, "2030-03-01", "honor", 0, 1),
]


def normal(row) -> tuple:
    values = []
    for value in row:
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.timezone.utc).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, float):
            value = round(value, 9)
        values.append(value)
    return tuple(values)


def expected_summary() -> list[tuple]:
    return [
        tuple(utc(v) if isinstance(v, str) and v.endswith("Z") else v for v in row)
        for row in EXPECTED_SUMMARY
    ]


def read_back(warehouse, dataset: str) -> dict[str, list[tuple]]:
    ref = f"`{PROJECT}.{dataset}" if warehouse.kind == "bigquery" else f'"{dataset}"'
    close = "`" if warehouse.kind == "bigquery" else ""
    tables = {}
    for name in ("course_summary", "enrollment_by_day", "person_course_all"):
        where = f"{ref}.{name}{close}" if warehouse.kind == "bigquery" else f"{ref}.{name}"
        rows = warehouse.select(f"SELECT * FROM {where}")
        tables[name] = sorted((normal(row.values()) for row in rows), key=repr)
    return tables


def check(tables: dict, receipt_json: dict) -> None:
    assert tables["course_summary"] == sorted(expected_summary(), key=repr)
    assert tables["enrollment_by_day"] == sorted(
        [(c, d, m, e, u) for c, d, m, e, u in EXPECTED_ENROLLMENTS], key=repr
    )
    rows = tables["person_course_all"]
    assert len(rows) == 6 and {row[0] for row in rows} == {A, B}  # course_id first
    assert receipt_json["tables"]["person_course_all"]["courses"] == 2
    assert receipt_json["tables"]["enrollment_by_day"]["courses"] == 3


def test_organisation_tables_on_duckdb(tmp_path):
    report_warehouse(tmp_path, inputs=inputs()).close()
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    path = last_build(tmp_path / "receipts" / "report_organisation.json")
    receipts = [receipt(course, "duckdb") for course in (A, B, C)]
    with warehouse_session(settings, tmp_path) as warehouse:
        first = build_organisation(warehouse, org="orgx", receipts=receipts, receipt_path=path)
        assert first["rebuilt"] == ["course_summary", "enrollment_by_day", "person_course_all"]
        check(read_back(warehouse, "orgx_reports"), first)
        described = warehouse.select(
            "SELECT comment FROM duckdb_columns() WHERE schema_name = 'orgx_reports' "
            "AND table_name = 'course_summary' AND column_name = 'median_grade'"
        )
        assert described[0]["comment"].startswith("The median of the learners' grades")

        again = build_organisation(warehouse, org="orgx", receipts=receipts, receipt_path=path)
        assert again["rebuilt"] == [] and len(again["unchanged"]) == 3

        receipts[1] = receipt(B, "duckdb", person_course="pc-2")  # B's person_course built again
        third = build_organisation(warehouse, org="orgx", receipts=receipts, receipt_path=path)
        assert third["rebuilt"] == ["course_summary", "person_course_all"]
        assert third["unchanged"] == ["enrollment_by_day"]
    assert json.loads(path.read_text())["dataset"] == "orgx_reports"


def test_no_course_with_person_course_skips_its_tables(tmp_path):
    report_warehouse(tmp_path, inputs=inputs()).close()
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    with warehouse_session(settings, tmp_path) as warehouse:
        built = build_organisation(
            warehouse,
            org="org-x",
            receipts=[receipt(C, "duckdb")],
            receipt_path=tmp_path / "receipt.json",
        )
    assert built["dataset"] == reports_dataset("org-x") == "org_x_reports"
    assert built["rebuilt"] == ["enrollment_by_day"]
    assert built["skipped"] == ["course_summary", "person_course_all"]
    assert "no course has person_course" in built["tables"]["person_course_all"]["reason"]


@pytest.mark.parametrize("max_chars", [MAX_QUERY_CHARS, 10], ids=["one query", "in runs"])
def test_organisation_tables_on_the_bigquery_emulator(
    bigquery_server, tmp_path, monkeypatch, max_chars
):
    from google.cloud import bigquery

    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bigquery_server.url)
    client = bigquery_client(PROJECT, None, None)
    for (dataset, table), (fields, rows) in inputs().items():
        client.create_dataset(f"{PROJECT}.{dataset}", exists_ok=True)
        config = bigquery.LoadJobConfig(
            schema=schema_fields(fields),
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        client.load_table_from_json(rows, f"{PROJECT}.{dataset}.{table}", job_config=config).result(
            timeout=120
        )
    settings = WarehouseSettings("bigquery", project=PROJECT)
    receipts = [receipt(course, "bigquery") for course in (A, B, C)]
    with warehouse_session(settings, tmp_path) as warehouse:
        built = build_organisation(
            warehouse,
            org="orgx",
            receipts=receipts,
            receipt_path=tmp_path / "receipt.json",
            max_chars=max_chars,
        )
        check(read_back(warehouse, "orgx_reports"), built)
        assert warehouse.list_tables("orgx_reports") == [
            "course_summary",
            "enrollment_by_day",
            "person_course_all",
        ]
    fields = client.get_table(f"{PROJECT}.orgx_reports.course_summary").schema
    assert fields[0].name == "course_id" and fields[0].description == "The course id."
    client.close()


def test_a_failing_table_names_the_dataset_the_template_and_the_courses(tmp_path):
    from edxflow.reports.graph import load_template
    from edxflow.reports.organisation import OrganisationError

    report_warehouse(tmp_path, inputs=inputs()).close()
    broken = tmp_path / "broken_table.sql"
    broken.write_text(
        "-- broken_table: a user error.\n-- reads: person_course\n"
        "SELECT no_such_column FROM {{ latest_dataset }}.person_course\n"
    )
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    path = tmp_path / "receipt.json"
    with pytest.raises(OrganisationError, match=r"orgx_reports\.broken_table .*broken_table\.sql"):
        with warehouse_session(settings, tmp_path) as warehouse:
            build_organisation(
                warehouse,
                org="orgx",
                receipts=[receipt(A, "duckdb")],
                receipt_path=path,
                templates={"broken_table": load_template(broken)},
            )
    assert json.loads(path.read_text())["failed"] == ["broken_table"]


def test_the_command_line_builds_the_organisation_tables(tmp_path):
    from tests.helpers import run_script

    report_warehouse(tmp_path, inputs=inputs()).close()
    paths = []
    for course in (A, B, C):
        path = tmp_path / "receipts" / "report" / f"{base(course)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(receipt(course, "duckdb")))
        paths.append(str(path))
    args = ["--org", "orgx", "--results-dir", str(tmp_path)]
    done = run_script(
        "report_organisation.py", *args, "--duckdb", str(tmp_path / "warehouse.duckdb"), *paths
    )
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "receipts" / "report_organisation.json").read_text())
    assert written["rebuilt"] == ["course_summary", "enrollment_by_day", "person_course_all"]
    missing = run_script("report_organisation.py", *args, *paths)
    assert missing.returncode == 2 and "--duckdb" in missing.stderr


def test_a_union_too_long_for_one_query_is_built_in_runs_with_the_same_rows(tmp_path):
    report_warehouse(tmp_path, inputs=inputs()).close()
    settings = WarehouseSettings("duckdb", path=str(tmp_path / "warehouse.duckdb"))
    receipts = [receipt(course, "duckdb") for course in (A, B, C)]
    with warehouse_session(settings, tmp_path) as warehouse:
        built = build_organisation(
            warehouse,
            org="orgx",
            receipts=receipts,
            receipt_path=tmp_path / "receipt.json",
            max_chars=10,  # every course a run of its own
        )
        check(read_back(warehouse, "orgx_reports"), built)
        left = warehouse.select(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'orgx_reports'"
        )
    assert sorted(row["table_name"] for row in left) == [
        "course_summary",
        "enrollment_by_day",
        "person_course_all",
    ]  # no staging table stays
