"""A course's report tables on a real DuckDB: built in the order of what they read, rebuilt only
when a template or what it reads changed, skipped without their sources, and a failure keeps what
was built before it."""

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from edxflow.core.jsonl import write_rows, write_schema
from edxflow.reports.build import (
    BUILTIN,
    build_course,
    receipt_file,
    report_course,
    source_fingerprint,
)
from edxflow.reports.graph import load_templates
from edxflow.reports.templates import RenderError
from edxflow.warehouse.interface import WarehouseError
from edxflow.warehouse.load import load_course, warehouse_session
from edxflow.warehouse.settings import WarehouseSettings
from tests.helpers import REPO, run_script

COURSE = "MITx/6.002x/2T2021"
BASE = "MITx__6_002x__2T2021"
DAY1, DAY2 = dt.date(2021, 1, 1), dt.date(2021, 1, 2)

USERS_SCHEMA = [
    {"name": "user_id", "type": "INTEGER", "mode": "NULLABLE", "description": "id"},
    {"name": "username", "type": "STRING", "mode": "NULLABLE", "description": "name"},
    {"name": "active", "type": "BOOLEAN", "mode": "NULLABLE", "description": "active"},
]
USERS = [
    {"user_id": 1, "username": "ann", "active": True},
    {"user_id": 2, "username": "bob", "active": True},
    {"user_id": 3, "username": "cy", "active": False},
]

TEMPLATES = {
    "people": """-- people: the active learners.
-- reads: users
SELECT user_id, username FROM {{ latest_dataset }}.users WHERE active
""",
    "daily_events": """-- daily_events: events per learner and day.
-- reads: tracklog
SELECT l.username AS username, DATE(l.time) AS date, COUNT(*) AS events
FROM {{ tracklog }} AS l
GROUP BY 1, 2
""",
    "person_totals": """-- person_totals: days and events of each learner.
-- reads: people, daily_events
SELECT
  p.username AS username,
  COUNT(d.date) AS days,
  COALESCE(SUM(d.events), 0) AS events,
  '{{ course_id }}' AS course_id
FROM {{ latest_dataset }}.people AS p
LEFT JOIN {{ latest_dataset }}.daily_events AS d ON d.username = p.username
GROUP BY 1
""",
}


def write_templates(directory: Path, templates: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (directory / f"{name}.sql").write_text(text)
    return directory


def settings(results: Path, log_tables: str = "partitioned") -> WarehouseSettings:
    return WarehouseSettings(
        "duckdb", path=str(results / "warehouse.duckdb"), log_tables=log_tables
    )


def load_users(results: Path, users=USERS, log_tables: str = "partitioned") -> None:
    directory = results / "SQL" / BASE / "2021-06-06"
    write_rows(directory / "users.json.gz", users)
    write_schema(directory / "users.schema.json", USERS_SCHEMA)
    files = [f"SQL/{BASE}/2021-06-06/users.json.gz", f"SQL/{BASE}/2021-06-06/users.schema.json"]
    load_course(
        settings(results, log_tables), "sql", BASE, results, files, results / "load-sql.json"
    )


def load_day(results: Path, day: dt.date, events: list[str], log_tables="partitioned") -> None:
    """A split log day of the course: one event for each username in `events`."""
    name = f"TRACKING_LOGS/{BASE}/tracklog-{day}.edx-{day}.json.gz"
    rows = [
        {
            "time": f"{day}T{n:02d}:00:00+00:00",
            "username": username,
            "ip": f"10.0.0.{n}",
            "event_type": "page_view",
            "course_id": COURSE,
        }
        for n, username in enumerate(events)
    ]
    write_rows(results / name, rows)
    load_course(
        settings(results, log_tables), "log", BASE, results, [name], results / f"load-{day}.json"
    )


def build(results: Path, templates_dir: Path, log_tables="partitioned", **options) -> dict:
    templates = load_templates(templates_dir)
    with warehouse_session(settings(results, log_tables), results) as warehouse:
        return build_course(
            warehouse,
            course_id=COURSE,
            templates=templates,
            receipt_path=receipt_file(results, BASE),
            log_tables=log_tables,
            **options,
        )


def rows(results: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(f'SELECT * FROM "{BASE}_latest".{table} ORDER BY ALL').fetchall()


def statuses(receipt: dict) -> dict[str, str]:
    return {name: receipt["tables"][name]["status"] for name in receipt["order"]}


@pytest.fixture
def course(tmp_path):
    """A course with its users and one log day, and the three templates."""
    results = tmp_path / "results"
    load_users(results)
    load_day(results, DAY1, ["ann", "ann", "bob"])
    return results, write_templates(tmp_path / "templates", TEMPLATES)


def test_first_build_builds_all_in_order_then_nothing_changes(course):
    results, templates = course
    first = build(results, templates)
    assert first["order"] == ["daily_events", "people", "person_totals"]
    assert statuses(first) == dict.fromkeys(first["order"], "rebuilt")
    assert rows(results, "people") == [(1, "ann"), (2, "bob")]
    assert rows(results, "daily_events") == [("ann", DAY1, 2), ("bob", DAY1, 1)]
    assert rows(results, "person_totals") == [("ann", 1, 2, COURSE), ("bob", 1, 1, COURSE)]
    totals = first["tables"]["person_totals"]
    assert totals["rows"] == 2 and sorted(totals["inputs"]) == ["daily_events", "people"]
    assert totals["inputs"]["people"] == first["tables"]["people"]["fingerprint"]
    assert len(totals["fingerprint"]) == 64 and len(totals["template"]) > 0
    assert first["course_id"] == COURSE and first["warehouse"] == "duckdb"
    assert json.loads(receipt_file(results, BASE).read_text()) == first

    second = build(results, templates)
    assert statuses(second) == dict.fromkeys(second["order"], "unchanged")
    assert second["tables"]["person_totals"]["rows"] == 2
    assert {name: e["fingerprint"] for name, e in second["tables"].items()} == {
        name: e["fingerprint"] for name, e in first["tables"].items()
    }

    forced = build(results, templates, force=True)
    assert statuses(forced) == dict.fromkeys(forced["order"], "rebuilt")


def test_a_new_log_day_rebuilds_the_log_tables_and_what_reads_them(course):
    results, templates = course
    build(results, templates)
    load_day(results, DAY2, ["ann"])
    receipt = build(results, templates)
    assert statuses(receipt) == {
        "people": "unchanged",
        "daily_events": "rebuilt",
        "person_totals": "rebuilt",
    }
    assert rows(results, "daily_events") == [
        ("ann", DAY1, 2),
        ("ann", DAY2, 1),
        ("bob", DAY1, 1),
    ]
    assert rows(results, "person_totals") == [("ann", 2, 3, COURSE), ("bob", 1, 1, COURSE)]


def test_an_edited_template_rebuilds_itself_and_what_reads_it(course):
    results, templates = course
    build(results, templates)
    people = templates / "people.sql"
    people.write_text(people.read_text().replace(" WHERE active", ""))
    receipt = build(results, templates)
    assert statuses(receipt) == {
        "people": "rebuilt",
        "daily_events": "unchanged",
        "person_totals": "rebuilt",
    }
    assert rows(results, "person_totals") == [
        ("ann", 1, 2, COURSE),
        ("bob", 1, 1, COURSE),
        ("cy", 0, 0, COURSE),
    ]


def test_new_source_rows_rebuild_and_a_dropped_table_is_built_again(course):
    results, templates = course
    build(results, templates)
    load_users(results, [*USERS, {"user_id": 4, "username": "dee", "active": True}])
    receipt = build(results, templates)
    assert statuses(receipt)["people"] == "rebuilt"
    assert rows(results, "people")[-1] == (4, "dee")
    with duckdb.connect(str(results / "warehouse.duckdb")) as connection:
        connection.execute(f'DROP TABLE "{BASE}_latest".daily_events')
    again = build(results, templates)
    assert statuses(again) == {
        "people": "unchanged",
        "daily_events": "rebuilt",
        "person_totals": "unchanged",
    }
    assert again["tables"]["daily_events"]["reason"] == f"not in {BASE}_latest"


def test_wanted_tables_build_what_they_read_and_keep_the_others_in_the_receipt(course):
    results, templates = course
    build(results, templates)
    receipt = build(results, templates, wanted=["people"], force=True)
    assert receipt["order"] == ["people"] and receipt["rebuilt"] == ["people"]
    assert set(receipt["tables"]) == {"people", "daily_events", "person_totals"}
    assert statuses(build(results, templates)) == dict.fromkeys(receipt["tables"], "unchanged")


def test_a_course_without_logs_skips_the_log_tables(tmp_path):
    results = tmp_path / "results"
    load_users(results)
    receipt = build(results, write_templates(tmp_path / "templates", TEMPLATES))
    assert statuses(receipt) == {
        "people": "rebuilt",
        "daily_events": "skipped",
        "person_totals": "skipped",
    }
    assert receipt["tables"]["daily_events"]["reason"] == f"tracklog is not in {BASE}_logs"
    assert receipt["tables"]["person_totals"]["reason"] == "daily_events was skipped"
    assert receipt["skipped"] == ["daily_events", "person_totals"]
    assert rows(results, "people") == [(1, "ann"), (2, "bob")]


def test_a_failing_table_is_named_and_keeps_what_was_built_before_it(course):
    results, templates = course
    broken = """-- reads: people
SELECT CAST(username AS INT64) AS n FROM {{ latest_dataset }}.people
"""
    write_templates(templates, {"broken": broken})
    with pytest.raises(WarehouseError) as failure:
        build(results, templates, wanted=["broken", "person_totals"])
    message = str(failure.value)
    assert "broken" in message and (COURSE in message or BASE in message)
    receipt = json.loads(receipt_file(results, BASE).read_text())
    assert receipt["failed"] == ["broken"]
    assert receipt["tables"]["broken"]["status"] == "failed"
    assert receipt["tables"]["people"]["status"] == "rebuilt"
    assert rows(results, "people") == [(1, "ann"), (2, "bob")]

    write_templates(templates, {"broken": broken.replace("CAST(username AS INT64)", "user_id")})
    resumed = build(results, templates, wanted=["broken", "person_totals"])
    assert statuses(resumed)["people"] == "unchanged"
    assert statuses(resumed)["broken"] == "rebuilt"
    assert rows(results, "broken") == [(1,), (2,)]


def test_a_template_that_does_not_render_names_the_course_and_table(course):
    results, templates = course
    write_templates(templates, {"person_totals": TEMPLATES["person_totals"] + "{{ nope }}\n"})
    with pytest.raises(RenderError, match=r"MITx/6\.002x/2T2021.*person_totals"):
        build(results, templates)
    receipt = json.loads(receipt_file(results, BASE).read_text())
    assert statuses(receipt) == {
        "people": "rebuilt",
        "daily_events": "rebuilt",
        "person_totals": "failed",
    }
    assert rows(results, "daily_events") == [("ann", DAY1, 2), ("bob", DAY1, 1)]


def test_sharded_logs(tmp_path):
    results = tmp_path / "results"
    load_users(results, log_tables="sharded")
    load_day(results, DAY1, ["ann", "ann", "bob"], log_tables="sharded")
    templates = write_templates(tmp_path / "templates", TEMPLATES)
    first = build(results, templates, log_tables="sharded")
    assert statuses(first) == dict.fromkeys(first["order"], "rebuilt")
    assert rows(results, "daily_events") == [("ann", DAY1, 2), ("bob", DAY1, 1)]
    load_day(results, DAY2, ["bob"], log_tables="sharded")
    second = build(results, templates, log_tables="sharded")
    assert statuses(second)["people"] == "unchanged"
    assert rows(results, "person_totals") == [("ann", 1, 2, COURSE), ("bob", 2, 2, COURSE)]


def test_source_fingerprints_come_from_the_load_state():
    state = {
        "users": ("u1", 3, "sql"),
        "tracklog$20210101": ("d1", 2, "log"),
        "tracklog$20210102": ("d2", 1, "log"),
        "tracklog_20210101": ("s1", 2, "log"),
    }
    day = source_fingerprint(state, "tracklog", "partitioned")
    assert day != source_fingerprint(
        {**state, "tracklog$20210102": ("d3", 1, "log")}, "tracklog", "partitioned"
    )
    assert day == source_fingerprint(
        {**state, "users": ("u2", 3, "sql")}, "tracklog", "partitioned"
    )
    assert source_fingerprint(state, "tracklog", "sharded") != day
    assert source_fingerprint(state, "users", "partitioned") is not None
    assert source_fingerprint(state, "missing", "partitioned") is None


def test_graph_prints_dot(tmp_path):
    templates = write_templates(tmp_path / "templates", TEMPLATES)
    done = run_script("report.py", "--graph", "--query-dir", str(templates))
    assert done.returncode == 0, done.stderr
    assert done.stdout.lstrip().startswith("digraph")
    assert "person_totals" in done.stdout and "daily_events" in done.stdout


def test_the_command_line_builds_a_course(course):
    results, templates = course
    common = ["--results-dir", str(results), "--duckdb", str(results / "warehouse.duckdb")]
    common += ["--query-dir", str(templates), "--course", "course-v1:MITx+6.002x+2T2021"]
    done = run_script("report.py", *common, "--tables", "person_totals")
    assert done.returncode == 0, done.stderr
    receipt = json.loads(receipt_file(results, BASE).read_text())
    assert receipt["rebuilt"] == ["daily_events", "people", "person_totals"]
    assert rows(results, "person_totals") == [("ann", 1, 2, COURSE), ("bob", 1, 1, COURSE)]
    again = run_script("report.py", *common, "--tables", "person_totals")
    assert again.returncode == 0, again.stderr
    assert json.loads(receipt_file(results, BASE).read_text())["unchanged"] == receipt["rebuilt"]
    unknown = run_script("report.py", *common, "--tables", "no_such_table")
    assert unknown.returncode == 1 and "no_such_table" in unknown.stderr
    usage = run_script("report.py", "--results-dir", str(results))
    assert usage.returncode == 2 and "--course" in usage.stderr


def test_a_table_edxflow_did_not_load_is_read_afresh_every_time(course):
    results, templates = course
    with duckdb.connect(str(results / "warehouse.duckdb")) as connection:
        connection.execute(f'CREATE TABLE "{BASE}_latest".bonus AS SELECT 1 AS points')
    write_templates(
        templates,
        {
            "bonus_total": "-- reads: bonus\nSELECT SUM(points) AS points "
            "FROM {{ latest_dataset }}.bonus\n"
        },
    )
    build(results, templates)
    again = build(results, templates, wanted=["bonus_total"])
    assert statuses(again) == {"bonus_total": "rebuilt"}
    assert again["tables"]["bonus_total"]["reason"] == "no load state for bonus"
    assert again["tables"]["bonus_total"]["inputs"] == {"bonus": None}


@pytest.mark.skipif(
    not (BUILTIN / "pc_day_ip_counts.sql").exists(), reason="no shipped pc_day_ip_counts"
)
def test_a_shipped_template_builds_from_the_log(course):
    results, _ = course
    receipt = report_course(settings(results), results, COURSE, tables=["pc_day_ip_counts"])
    assert receipt["rebuilt"] == ["pc_day_ip_counts"]
    assert rows(results, "pc_day_ip_counts") == [
        ("ann", "10.0.0.0", DAY1, 1, COURSE),
        ("ann", "10.0.0.1", DAY1, 1, COURSE),
        ("bob", "10.0.0.2", DAY1, 1, COURSE),
    ]


def test_a_snakemake_job_builds_with_the_reports_config(course):
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("report_script", REPO / "scripts" / "report.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    results, templates = course
    receipt = results / "receipts" / "report" / f"{BASE}.json"
    job = SimpleNamespace(
        params=SimpleNamespace(
            warehouse={"kind": "duckdb", "path": str(results / "warehouse.duckdb")},
            reports={"tables": ["people"], "query_dir": str(templates), "extra_args": "n:i=1"},
            course_id=COURSE,
        ),
        output=SimpleNamespace(receipt=str(receipt)),
    )
    done = script.from_snakemake(job)
    assert done["rebuilt"] == ["people"] and done["extra_args"] == {"n": 1}
    assert json.loads(receipt.read_text()) == done
