"""Loading per-course files into BigQuery, against the local-bigquery emulator (and fake-gcs-server
for gs:// sources), through the production client factories (BIGQUERY_EMULATOR_HOST,
STORAGE_EMULATOR_HOST). Each test uses its own course base name, hence its own datasets."""

import gzip
import json
import threading
import time
import uuid

import pytest

from edxflow.core.jsonl import shipped_schema, write_rows, write_schema
from edxflow.warehouse.bigquery import BigQueryWarehouse
from edxflow.warehouse.google_cloud import CloudError, bigquery_client, storage_client
from edxflow.warehouse.interface import WarehouseError
from edxflow.warehouse.load import load_course, load_files, load_units
from edxflow.warehouse.plan import STATE_TABLE
from edxflow.warehouse.publish import publish_files
from edxflow.warehouse.settings import WarehouseSettings
from tests.servers import closed_port

PROJECT = "test"
BUNDLE = "2021-06-06"


@pytest.fixture
def emulators(gcs_server, bigquery_server, monkeypatch):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bigquery_server.url)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)


@pytest.fixture
def bq(emulators):
    client = bigquery_client(PROJECT, None, None)
    yield client
    client.close()


@pytest.fixture
def base():
    return f"MITx__T{uuid.uuid4().hex[:10]}__2T2021"


@pytest.fixture
def warehouse(bq, tmp_path):
    return BigQueryWarehouse(bigquery_client(PROJECT, None, None), tmp_path, None)


@pytest.fixture
def bucket(emulators):
    client = storage_client(None, None)
    return client.create_bucket(f"edx-{uuid.uuid4().hex[:12]}").name


def settings(log_tables="partitioned", bucket=None) -> WarehouseSettings:
    return WarehouseSettings("bigquery", project=PROJECT, log_tables=log_tables, bucket=bucket)


def query(bq, sql: str) -> list[tuple]:
    return [tuple(row.values()) for row in bq.query(sql).result(timeout=60)]


def count(bq, table: str) -> int:
    return query(bq, f"SELECT COUNT(*) FROM `{PROJECT}.{table}`")[0][0]


# --- per-course files ---------------------------------------------------------------------------


def event(day: str, n: int, user: int = 7, hour: int = 10) -> dict:
    """One tracking-log row of `day`, unique by `mongoid`."""
    return {
        "time": f"{day}T{hour:02d}:{n % 60:02d}:00.000000+00:00",
        "username": f"user{user}",
        "event_type": "play_video",
        "event_source": "browser",
        "course_id": "MITx/6.002x/2T2021",
        "context": {
            "course_id": "MITx/6.002x/2T2021",
            "user_id": user,
            "org_id": "MITx",
            "module": {"display_name": f"Video {n}"},
        },
        "event_struct": {"id": f"vid{n}", "currentTime": 1.5 * n},
        "mongoid": f"{day}-{n}-{uuid.uuid4().hex[:6]}",
    }


def write_log_day(results, base: str, day: str, rows: list[dict]) -> str:
    relative = f"TRACKING_LOGS/{base}/tracklog-{day}.edx-{day}.json.gz"
    write_rows(results / relative, rows)
    return relative


def write_table(
    results, base: str, table: str, rows: list[dict], schema: list[dict] | None = None
) -> list[str]:
    """A SQL table with its schema beside it, as sql_course writes them."""
    stem = f"SQL/{base}/{BUNDLE}/{table}"
    write_rows(results / f"{stem}.json.gz", rows)
    write_schema(results / f"{stem}.schema.json", schema or shipped_schema(table))
    return [f"{stem}.json.gz", f"{stem}.schema.json"]


STUDENTMODULE = [
    {
        "id": i,
        "module_type": "problem",
        "module_id": f"MITx/6.002x/problem/p{i}",
        "student_id": 100 + i,
        "state": "{}",
        "grade": 1.0,
        "created": "2021-03-01T12:00:00.000000+00:00",
    }
    for i in range(1, 6)
]
PROBLEM_ANALYSIS = [
    {
        "course_id": "MITx/6.002x/2T2021",
        "user_id": 101,
        "problem_url_name": "p1",
        "attempts": 2,
        "done": True,
        "grade": 1.0,
        "max_grade": 2.0,
        "created": "2021-03-01T12:00:00.000000+00:00",
        "item": [
            {
                "answer_id": "p1_2_1",
                "correctness": "correct",
                "correct_bool": True,
                "npoints": 1.0,
                "response": '"42"',
            },
            {
                "answer_id": "p1_3_1",
                "correctness": "incorrect",
                "correct_bool": False,
                "npoints": 0.0,
                "response": '"7"',
            },
        ],
    },
    {
        "course_id": "MITx/6.002x/2T2021",
        "user_id": 102,
        "problem_url_name": "p1",
        "attempts": 1,
        "done": True,
        "grade": 2.0,
        "max_grade": 2.0,
        "created": "2021-03-02T12:00:00.000000+00:00",
        "item": [
            {
                "answer_id": "p1_2_1",
                "correctness": "correct",
                "correct_bool": True,
                "npoints": 1.0,
                "response": '"42"',
            }
        ],
    },
]


@pytest.fixture
def sql_files(tmp_path, base):
    return write_table(tmp_path, base, "studentmodule", STUDENTMODULE) + write_table(
        tmp_path, base, "problem_analysis", PROBLEM_ANALYSIS
    )


# --- SQL tables ----------------------------------------------------------------------------------


def test_sql_tables_load_from_local_files(bq, warehouse, tmp_path, base, sql_files):
    receipt = load_units(warehouse, "sql", base, tmp_path, sql_files)

    dataset = f"{base}_latest"
    assert bq.get_dataset(f"{PROJECT}.{dataset}").description.startswith(f"Tables of {base}")
    assert receipt["datasets"] == [dataset]
    assert receipt["loaded"] == ["problem_analysis", "studentmodule"] and receipt["unchanged"] == 0
    assert (
        receipt["tables"]["studentmodule"]["rows"] == 5
        and receipt["tables"]["problem_analysis"]["rows"] == 2
    )
    assert count(bq, f"{dataset}.studentmodule") == 5
    assert query(
        bq,
        f"SELECT SUM(student_id), MAX(created) IS NOT NULL FROM `{PROJECT}.{dataset}.studentmodule`",
    ) == [(sum(row["student_id"] for row in STUDENTMODULE), True)]
    # the REPEATED RECORD comes back whole
    items = query(
        bq,
        f"SELECT user_id, i.answer_id, i.correct_bool, i.npoints "
        f"FROM `{PROJECT}.{dataset}.problem_analysis`, UNNEST(item) AS i ORDER BY user_id, i.answer_id",
    )
    assert items == [
        (101, "p1_2_1", True, 1.0),
        (101, "p1_3_1", False, 0.0),
        (102, "p1_2_1", True, 1.0),
    ]
    schema = {
        field.name: field for field in bq.get_table(f"{PROJECT}.{dataset}.problem_analysis").schema
    }
    assert schema["item"].mode == "REPEATED" and schema["item"].field_type in ("RECORD", "STRUCT")
    state = query(bq, f"SELECT unit, `rows` FROM `{PROJECT}.{dataset}.{STATE_TABLE}` ORDER BY unit")
    assert state == [("problem_analysis", 2), ("studentmodule", 5)]


def test_second_sql_load_changes_nothing(bq, warehouse, tmp_path, base, sql_files):
    load_units(warehouse, "sql", base, tmp_path, sql_files)
    second = load_units(warehouse, "sql", base, tmp_path, sql_files)

    assert second["loaded"] == [] and second["unchanged"] == 2
    assert second["tables"]["studentmodule"]["rows"] == 5
    assert all(
        not unit["loaded"]
        for table in second["tables"].values()
        for unit in table["units"].values()
    )
    assert (
        count(bq, f"{base}_latest.studentmodule") == 5
        and count(bq, f"{base}_latest.problem_analysis") == 2
    )


def test_a_changed_sql_table_replaces_only_that_table(bq, warehouse, tmp_path, base, sql_files):
    load_units(warehouse, "sql", base, tmp_path, sql_files)
    write_table(tmp_path, base, "studentmodule", STUDENTMODULE[:3])

    receipt = load_units(warehouse, "sql", base, tmp_path, sql_files)

    assert receipt["loaded"] == ["studentmodule"] and receipt["unchanged"] == 1
    assert (
        receipt["tables"]["studentmodule"]["rows"] == 3
        and receipt["tables"]["problem_analysis"]["rows"] == 2
    )
    assert count(bq, f"{base}_latest.studentmodule") == 3


# --- tracking logs -------------------------------------------------------------------------------


def log_counts(bq, table: str) -> list[tuple]:
    """(day, rows, distinct mongoids) per day."""
    return query(
        bq,
        f"SELECT CAST(DATE(time) AS STRING) AS day, COUNT(*), COUNT(DISTINCT mongoid) "
        f"FROM `{PROJECT}.{table}` GROUP BY day ORDER BY day",
    )


def test_partitioned_logs_load_from_published_objects(bq, warehouse, tmp_path, base, bucket):
    files = [
        write_log_day(tmp_path, base, "2021-01-01", [event("2021-01-01", n) for n in range(3)]),
        write_log_day(
            tmp_path, base, "2021-01-02", [event("2021-01-02", n, user=8) for n in range(4)]
        ),
    ]
    publish_files(storage_client(None, None), bucket, "log", base, tmp_path, files)

    receipt = load_units(warehouse, "log", base, tmp_path, files, bucket=bucket)

    table = f"{base}_logs.tracklog"
    assert receipt["loaded"] == ["tracklog$20210101", "tracklog$20210102"]
    assert receipt["tables"]["tracklog"]["rows"] == 7
    assert receipt["tables"]["tracklog"]["units"]["tracklog$20210102"]["rows"] == 4
    partitioning = bq.get_table(f"{PROJECT}.{table}").time_partitioning
    assert partitioning is not None and partitioning.field == "time"
    assert log_counts(bq, table) == [("2021-01-01", 3, 3), ("2021-01-02", 4, 4)]
    assert query(
        bq,
        f"SELECT context.user_id, context.module.display_name, event_struct.currentTime "
        f"FROM `{PROJECT}.{table}` WHERE DATE(time) = '2021-01-02' ORDER BY event_struct.currentTime "
        f"LIMIT 1",
    ) == [(8, "Video 0", 0.0)]
    # the load job read the gs:// objects, not the local files
    loads = [
        job
        for job in bq.list_jobs()
        if job.job_type == "load"
        and job.destination.dataset_id == f"{base}_logs"
        and job.destination.table_id != STATE_TABLE
    ]
    assert [sorted(job.source_uris) for job in loads] == [
        [f"gs://{bucket}/TRACKING-LOGS/{base}/{name.rsplit('/', 1)[1]}" for name in files]
    ]


def test_sharded_logs_make_one_table_per_day(bq, tmp_path, base):
    files = [
        write_log_day(tmp_path, base, "2021-01-01", [event("2021-01-01", n) for n in range(2)]),
        write_log_day(tmp_path, base, "2021-01-02", [event("2021-01-02", n) for n in range(3)]),
    ]

    receipt = load_course(
        settings("sharded"), "log", base, tmp_path, files, tmp_path / "receipt.json"
    )

    tables = sorted(table.table_id for table in bq.list_tables(f"{PROJECT}.{base}_logs"))
    assert tables == [STATE_TABLE, "tracklog_20210101", "tracklog_20210102"]
    assert receipt["loaded"] == ["tracklog_20210101", "tracklog_20210102"]
    assert (
        count(bq, f"{base}_logs.tracklog_20210101") == 2
        and count(bq, f"{base}_logs.tracklog_20210102") == 3
    )
    assert (tmp_path / "receipt.json").exists()


def test_log_loads_are_incremental_and_never_duplicate(bq, warehouse, tmp_path, base):
    """Load twice (nothing happens), add a day (only it loads), change a day (it is replaced)."""
    table = f"{base}_logs.tracklog"
    days = {"2021-01-01": 3, "2021-01-02": 2}
    files = [
        write_log_day(tmp_path, base, day, [event(day, n) for n in range(rows)])
        for day, rows in days.items()
    ]
    load_units(warehouse, "log", base, tmp_path, files)

    again = load_units(warehouse, "log", base, tmp_path, files)
    assert (
        again["loaded"] == []
        and again["unchanged"] == 2
        and again["tables"]["tracklog"]["rows"] == 5
    )
    assert log_counts(bq, table) == [("2021-01-01", 3, 3), ("2021-01-02", 2, 2)]

    files.append(
        write_log_day(tmp_path, base, "2021-01-03", [event("2021-01-03", n) for n in range(4)])
    )
    added = load_units(warehouse, "log", base, tmp_path, files)
    assert added["loaded"] == ["tracklog$20210103"] and added["unchanged"] == 2
    assert added["tables"]["tracklog"]["rows"] == 3 + 2 + 4
    assert query(bq, f"SELECT COUNT(*), COUNT(DISTINCT mongoid) FROM `{PROJECT}.{table}`") == [
        (9, 9)
    ]

    write_log_day(tmp_path, base, "2021-01-01", [event("2021-01-01", n, hour=15) for n in range(5)])
    changed = load_units(warehouse, "log", base, tmp_path, files)
    assert (
        changed["loaded"] == ["tracklog$20210101"]
        and changed["tables"]["tracklog"]["rows"] == 5 + 2 + 4
    )
    assert log_counts(bq, table) == [
        ("2021-01-01", 5, 5),
        ("2021-01-02", 2, 2),
        ("2021-01-03", 4, 4),
    ]
    assert query(
        bq,
        f"SELECT COUNT(*) FROM `{PROJECT}.{table}` WHERE EXTRACT(HOUR FROM time) = 10 "
        f"AND DATE(time) = '2021-01-01'",
    ) == [(0,)]


def test_days_of_a_course_load_side_by_side(bq, tmp_path, base):
    """Day loads run in parallel (one job per daily file): each has a staging table of its own, and
    each records its day in the course's load state without erasing the other's."""
    days = {f"2021-01-0{day}": day + 1 for day in range(1, 5)}
    receipts = {}
    for day, rows in days.items():
        name = write_log_day(tmp_path, base, day, [event(day, n) for n in range(rows)])
        receipts[day] = tmp_path / "receipts" / "split_tracking_log" / "edx" / f"{day}.json"
        receipts[day].parent.mkdir(parents=True, exist_ok=True)
        receipts[day].write_text(json.dumps({"outputs": [{"path": str(tmp_path / name)}]}))
    errors = []

    def load(day):
        try:
            load_files(
                settings(),
                "log",
                tmp_path,
                receipts[day],
                tmp_path / "receipts" / "load" / f"{day}.json",
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=load, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    table = f"{base}_logs.tracklog"
    assert log_counts(bq, table) == [(day, rows, rows) for day, rows in days.items()]
    warehouse = BigQueryWarehouse(bigquery_client(PROJECT, None, None), tmp_path, None)
    assert sorted(warehouse.read_state(f"{base}_logs")) == [
        f"tracklog${day.replace('-', '')}" for day in days
    ]
    assert [
        t.table_id for t in bq.list_tables(f"{PROJECT}.{base}_logs") if "staging" in t.table_id
    ] == []
    again = load_files(settings(), "log", tmp_path, receipts["2021-01-02"], tmp_path / "again.json")
    assert again["courses"][base]["loaded"] == []


def test_a_day_file_with_another_days_event_is_refused(bq, warehouse, tmp_path, base):
    table = f"{base}_logs.tracklog"
    files = [
        write_log_day(tmp_path, base, "2021-01-01", [event("2021-01-01", n) for n in range(2)])
    ]
    load_units(warehouse, "log", base, tmp_path, files)
    write_log_day(tmp_path, base, "2021-01-01", [event("2021-01-01", 5), event("2021-01-04", 6)])

    with pytest.raises(WarehouseError) as raised:
        load_units(warehouse, "log", base, tmp_path, files)

    message = str(raised.value)
    print(message)
    assert "logs.dynamic_date" in message and "2021-01-04" in message and files[0] in message
    assert log_counts(bq, table) == [("2021-01-01", 2, 2)]  # what was loaded before stays
    assert sorted(t.table_id for t in bq.list_tables(f"{PROJECT}.{base}_logs")) == [
        STATE_TABLE,
        "tracklog",
    ]


def test_a_tracklog_table_that_is_not_partitioned_is_not_loaded_into(bq, warehouse, tmp_path, base):
    from google.cloud import bigquery

    bq.create_dataset(f"{PROJECT}.{base}_logs")
    bq.create_table(
        bigquery.Table(
            f"{PROJECT}.{base}_logs.tracklog", schema=[bigquery.SchemaField("time", "TIMESTAMP")]
        )
    )
    files = [write_log_day(tmp_path, base, "2021-01-01", [event("2021-01-01", 1)])]
    with pytest.raises(
        WarehouseError, match="is not partitioned by day on `time`.*log_tables: sharded"
    ):
        load_units(warehouse, "log", base, tmp_path, files)


# --- failures ------------------------------------------------------------------------------------


def test_a_bad_row_in_a_sql_table_fails_naming_the_file(bq, tmp_path, base):
    rows = [dict(STUDENTMODULE[0]), dict(STUDENTMODULE[1], student_id="not a number")]
    files = write_table(tmp_path, base, "studentmodule", rows)
    receipt = tmp_path / "receipts" / "load.json"

    with pytest.raises(WarehouseError) as raised:
        load_course(settings(), "sql", base, tmp_path, files, receipt)

    message = str(raised.value)
    print(message)
    assert str(tmp_path / files[0]) in message and f"{base}_latest.studentmodule" in message
    assert "Rows: 2; errors: 1" in message
    assert not receipt.exists()
    assert query(
        bq,
        f"SELECT COUNT(*) FROM `{PROJECT}.{base}_latest.INFORMATION_SCHEMA.TABLES` "
        f"WHERE table_name = '{STATE_TABLE}'",
    ) == [(0,)]


def test_a_malformed_line_in_a_published_log_fails_naming_the_uri(bq, tmp_path, base, bucket):
    relative = f"TRACKING_LOGS/{base}/tracklog-2021-01-01.edx-2021-01-01.json.gz"
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    good = '{"time": "2021-01-01T10:00:00.000000+00:00", "username": "ada", "mongoid": "m1"}\n'
    path.write_bytes(
        gzip.compress((good + '{"time": "2021-01-01T11:00:00Z", "username": \n').encode())
    )
    publish_files(storage_client(None, None), bucket, "log", base, tmp_path, [relative])
    receipt = tmp_path / "receipts" / "load.json"

    with pytest.raises(WarehouseError) as raised:
        load_course(settings(bucket=bucket), "log", base, tmp_path, [relative], receipt)

    message = str(raised.value)
    print(message)
    uri = f"gs://{bucket}/TRACKING-LOGS/{base}/tracklog-2021-01-01.edx-2021-01-01.json.gz"
    assert message.startswith(f"loading {uri} into ")
    assert f"Malformed JSON in file {uri}" in message  # the emulator's own row error
    assert not receipt.exists()


def test_bigquery_down_fails_quickly_and_clearly(monkeypatch, tmp_path, base, sql_files):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("EDXFLOW_RETRY_SECONDS", "3")  # production retries for 60 s
    receipt = tmp_path / "load.json"

    began = time.monotonic()
    with pytest.raises(CloudError) as raised:
        load_course(settings(), "sql", base, tmp_path, sql_files, receipt)
    seconds = time.monotonic() - began

    print(f"unreachable BigQuery: CloudError after {seconds:.1f}s: {raised.value}")
    assert f"cannot create the dataset {base}_latest" in str(raised.value)
    assert "cannot be reached" in str(raised.value)
    assert seconds < 30
    assert not receipt.exists()


def test_only_transient_job_errors_are_tried_again():
    from types import SimpleNamespace

    from edxflow.warehouse.bigquery import is_transient

    def job(*entries):
        return SimpleNamespace(errors=list(entries), error_result=entries[0] if entries else None)

    assert is_transient(job({"reason": "backendError", "message": "Backend error"}))
    assert is_transient(
        job({"reason": "invalid", "message": 'Catalog write-write conflict on create with "x"'})
    )
    assert not is_transient(
        job({"reason": "invalid", "message": "JSON table encountered too many errors"})
    )
    assert not is_transient(
        job(
            {"reason": "rateLimitExceeded", "message": "slow down"},
            {"reason": "invalid", "message": "bad row"},
        )
    )
    assert not is_transient(job())


# --- {BASE}_latest holds the newest bundle, and the email table ----------------------------------

EMAIL_ROWS = [
    {
        "user_id": 101,
        "username": "ada",
        "email": "ada@example.org",
        "course_id": "MITx/6.002x/2T2021",
        "is_opted_in_for_email": True,
        "preference_set_datetime": "2021-03-01 12:00:00",
    }
]


def write_email(results, base: str, rows: list[dict]) -> list[str]:
    stem = f"EMAIL/{base}/email_opt_in-{BUNDLE}"
    write_rows(results / f"{stem}.json.gz", rows)
    write_schema(results / f"{stem}.schema.json", shipped_schema("email_opt_in"))
    return [f"{stem}.json.gz", f"{stem}.schema.json"]


def latest_tables(bq, base: str) -> set[str]:
    return {table.table_id for table in bq.list_tables(f"{PROJECT}.{base}_latest")}


def test_a_table_gone_from_the_newest_bundle_is_dropped_and_the_email_table_stays(
    bq, tmp_path, base, sql_files
):
    load_course(settings(), "sql", base, tmp_path, sql_files, tmp_path / "sql1.json")
    load_course(
        settings(),
        "email",
        base,
        tmp_path,
        write_email(tmp_path, base, EMAIL_ROWS),
        tmp_path / "email.json",
    )
    assert latest_tables(bq, base) == {
        STATE_TABLE,
        "studentmodule",
        "problem_analysis",
        "email_opt_in",
    }

    receipt = load_course(settings(), "sql", base, tmp_path, sql_files[:2], tmp_path / "sql2.json")

    assert receipt["dropped"] == ["problem_analysis"] and receipt["loaded"] == []
    assert latest_tables(bq, base) == {STATE_TABLE, "studentmodule", "email_opt_in"}
    assert count(bq, f"{base}_latest.email_opt_in") == 1
    warehouse = BigQueryWarehouse(bigquery_client(PROJECT, None, None), tmp_path, None)
    assert {
        key: owner for key, (_, _, owner) in warehouse.read_state(f"{base}_latest").items()
    } == {"studentmodule": "sql", "email_opt_in": "email"}
    again = load_course(settings(), "sql", base, tmp_path, sql_files[:2], tmp_path / "sql3.json")
    assert again["dropped"] == [] and again["loaded"] == []
    back = load_course(settings(), "sql", base, tmp_path, sql_files, tmp_path / "sql4.json")
    assert (
        back["loaded"] == ["problem_analysis"] and count(bq, f"{base}_latest.problem_analysis") == 2
    )


def test_a_load_state_written_before_it_named_its_loads_is_extended(bq, tmp_path, base, sql_files):
    """A state table made by an earlier version (no file_type): the email table is known by its
    name, and the column is added by the next load."""
    from google.cloud import bigquery

    dataset = f"{PROJECT}.{base}_latest"
    bq.create_dataset(dataset)
    old = [
        bigquery.SchemaField("unit", "STRING", "REQUIRED"),
        bigquery.SchemaField("fingerprint", "STRING", "REQUIRED"),
        bigquery.SchemaField("rows", "INTEGER"),
        bigquery.SchemaField("loaded_at", "TIMESTAMP"),
    ]
    bq.create_table(bigquery.Table(f"{dataset}.{STATE_TABLE}", schema=old))
    for table in ("forum", "email_opt_in"):
        bq.create_table(bigquery.Table(f"{dataset}.{table}", schema=old[:1]))
    bq.load_table_from_json(
        [
            {"unit": table, "fingerprint": "old", "rows": 0, "loaded_at": "2021-01-01T00:00:00Z"}
            for table in ("forum", "email_opt_in")
        ],
        f"{dataset}.{STATE_TABLE}",
        job_config=bigquery.LoadJobConfig(schema=old),
    ).result(timeout=60)

    receipt = load_course(settings(), "sql", base, tmp_path, sql_files, tmp_path / "sql.json")

    assert receipt["dropped"] == ["forum"]
    assert latest_tables(bq, base) == {
        STATE_TABLE,
        "studentmodule",
        "problem_analysis",
        "email_opt_in",
    }
    assert "file_type" in {field.name for field in bq.get_table(f"{dataset}.{STATE_TABLE}").schema}


def test_the_sql_and_email_loads_of_one_course_at_once(bq, tmp_path, base, sql_files):
    """Both write `{BASE}_latest` and its load state at the same time (as two jobs of a run do):
    neither loses the other's table or state, the first time (the dataset and the state table are
    created by both) and the next (a new bundle drops a table while the email table is replaced)."""
    email = write_email(tmp_path, base, EMAIL_ROWS)

    def at_once(sql: list[str], run: str) -> dict:
        receipts, errors = {}, []

        def load(file_type, files):
            try:
                receipts[file_type] = load_course(
                    settings(),
                    file_type,
                    base,
                    tmp_path,
                    files,
                    tmp_path / f"{file_type}-{run}.json",
                )
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [
            threading.Thread(target=load, args=args) for args in (("sql", sql), ("email", email))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        return receipts

    first = at_once(sql_files, "1")
    assert first["sql"]["loaded"] == ["problem_analysis", "studentmodule"] and first["email"][
        "loaded"
    ] == ["email_opt_in"]
    warehouse = BigQueryWarehouse(bigquery_client(PROJECT, None, None), tmp_path, None)
    state = warehouse.read_state(f"{base}_latest")
    assert {key: (rows, owner) for key, (_, rows, owner) in state.items()} == {
        "problem_analysis": (2, "sql"),
        "studentmodule": (5, "sql"),
        "email_opt_in": (1, "email"),
    }

    write_email(tmp_path, base, EMAIL_ROWS * 3)
    second = at_once(sql_files[:2], "2")
    assert second["sql"]["dropped"] == ["problem_analysis"] and second["email"]["loaded"] == [
        "email_opt_in"
    ]
    state = warehouse.read_state(f"{base}_latest")
    assert {key: (rows, owner) for key, (_, rows, owner) in state.items()} == {
        "studentmodule": (5, "sql"),
        "email_opt_in": (3, "email"),
    }
    assert latest_tables(bq, base) == {STATE_TABLE, "studentmodule", "email_opt_in"}
    assert (
        count(bq, f"{base}_latest.email_opt_in") == 3
        and count(bq, f"{base}_latest.studentmodule") == 5
    )
    assert [
        t.table_id for t in bq.list_tables(f"{PROJECT}.{base}_latest") if "staging" in t.table_id
    ] == []


def test_the_bigquery_backend_is_a_warehouse(warehouse):
    from edxflow.warehouse.interface import Warehouse

    assert isinstance(warehouse, Warehouse) and warehouse.kind == "bigquery"


def test_run_query_replaces_a_table_with_the_result(bq, warehouse, tmp_path, base):
    files = [
        write_log_day(tmp_path, base, day, [event(day, n) for n in range(rows)])
        for day, rows in (("2021-01-01", 3), ("2021-01-02", 2))
    ]
    load_units(warehouse, "log", base, tmp_path, files)
    report = f"{base}_latest"
    warehouse.ensure_dataset(report, "reports")
    sql = (
        f"SELECT DATE(time) AS day, COUNT(*) AS events FROM `{PROJECT}.{base}_logs.tracklog` "
        "GROUP BY day"
    )

    assert warehouse.run_query(sql, report, "per_day") == 2
    assert sorted(
        query(bq, f"SELECT CAST(day AS STRING), events FROM `{PROJECT}.{report}.per_day`")
    ) == [
        ("2021-01-01", 3),
        ("2021-01-02", 2),
    ]
    assert warehouse.run_query(f"{sql} HAVING COUNT(*) > 2", report, "per_day") == 1
    assert count(bq, f"{report}.per_day") == 1
    with pytest.raises(WarehouseError, match=f"into {PROJECT}.{report}.per_day failed"):
        warehouse.run_query("SELECT nothing FROM nowhere", report, "per_day")
    assert count(bq, f"{report}.per_day") == 1  # as it was


def test_run_query_describes_the_columns_and_select_reads_rows(bq, warehouse, base):
    report = f"{base}_latest"
    warehouse.ensure_dataset(report, "reports")
    sql = "SELECT 'b' AS name, 5 AS events UNION ALL SELECT 'a', 3"
    descriptions = {"name": "Who, it's said", "absent": "no such column"}
    assert warehouse.run_query(sql, report, "per_name", descriptions) == 2
    fields = bq.get_table(f"{PROJECT}.{report}.per_name").schema
    assert [(field.name, field.description) for field in fields] == [
        ("name", "Who, it's said"),
        ("events", None),
    ]
    rows = warehouse.select(f"SELECT name, events FROM `{PROJECT}.{report}.per_name` ORDER BY name")
    assert rows == [{"name": "a", "events": 3}, {"name": "b", "events": 5}]
    assert isinstance(warehouse.bytes_processed, int) and warehouse.bytes_processed >= 0


def test_list_tables_names_a_datasets_tables_without_the_load_state(
    bq, warehouse, tmp_path, base, sql_files
):
    assert warehouse.list_tables(f"{base}_latest") == []  # no such dataset
    load_units(warehouse, "sql", base, tmp_path, sql_files)
    warehouse.run_query("SELECT 1 AS one", f"{base}_latest", "a_report")
    assert STATE_TABLE in latest_tables(bq, base)
    assert warehouse.list_tables(f"{base}_latest") == [
        "a_report",
        "problem_analysis",
        "studentmodule",
    ]
