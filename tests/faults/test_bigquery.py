"""A BigQuery load error: a course's `tracklog` table already exists with other column types (made
by hand or by another tool), so the emulator rejects the day's insert. That course's load fails
with one message naming the table and the files; the other courses' days and the email tables are
loaded."""

import json

import pytest

from tests.faults.harness import (
    DAYS,
    assert_clear_message,
    assert_left_clean,
    fault_config,
    job_log,
    run,
)

pytestmark = pytest.mark.workflow

BASE = "DemoX__DS101__2026_T1"


def drop_demo_datasets(client) -> None:
    for dataset in list(client.list_datasets()):
        if dataset.dataset_id.startswith("DemoX__"):
            client.delete_dataset(dataset.dataset_id, delete_contents=True, not_found_ok=True)


@pytest.fixture
def client(bigquery_server):
    """The emulator's client, with no demo dataset before the test nor after it (the emulator is
    shared by the session: the conflicting table made here must not meet other tests' loads)."""
    client = bigquery_server.client()
    drop_demo_datasets(client)
    yield client
    drop_demo_datasets(client)


def test_a_table_schema_conflict_fails_one_course(package, tmp_path, bigquery_server, client):
    from google.cloud import bigquery

    client.create_dataset(f"{BASE}_logs")
    table = bigquery.Table(
        f"test.{BASE}_logs.tracklog",
        schema=[
            bigquery.SchemaField("time", "TIMESTAMP"),
            bigquery.SchemaField("event_type", "INT64"),
            bigquery.SchemaField("username", "INT64"),
        ],
    )
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field="time"
    )
    client.create_table(table)

    config = fault_config(
        package,
        tmp_path,
        file_types=["log", "email"],
        warehouse={"kind": "bigquery", "project": "test", "log_tables": "partitioned"},
    )
    ran = run(tmp_path, config, "--keep-going", env={"BIGQUERY_EMULATOR_HOST": bigquery_server.url})
    results = tmp_path / "results"
    assert ran.returncode != 0 and "Not done, and why:" in ran.output
    for day in DAYS:
        assert_clear_message(
            ran.output,
            job_log(results, f"load/log/edx/{day}"),
            [f"{BASE}_logs.tracklog", f"{BASE}/tracklog-{day}.edx-{day}.json.gz"],
        )
        assert not (results / "receipts" / "load" / "log" / "edx" / f"{day}.json").exists()

    events = {}
    for path in (results / "receipts" / "split_tracking_log" / "edx").glob("*.json"):
        for course, count in json.loads(path.read_text())["by_course"].items():
            events[course] = events.get(course, 0) + count
    for course, base in (
        ("DemoX/PHY-2.1x/2025_Fall", "DemoX__PHY_2_1x__2025_Fall"),
        ("DemoX/CS.50x/1T2026", "DemoX__CS_50x__1T2026"),
    ):
        count = next(
            iter(client.query(f"SELECT COUNT(*) AS n FROM `test.{base}_logs.tracklog`").result())
        ).n
        assert count == events[course] > 0, base
    email = json.loads((results / "receipts" / "load" / "email" / "2026-11-08.json").read_text())
    assert len(email["courses"]) == 3
    assert_left_clean(tmp_path)
