"""Smoke tests of the GCS and BigQuery test servers, through the official Google clients."""

import base64
import gzip
import hashlib
import json
import uuid

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

SCHEMA = [
    bigquery.SchemaField("username", "STRING"),
    bigquery.SchemaField("time", "TIMESTAMP"),
    bigquery.SchemaField(
        "context",
        "RECORD",
        fields=[
            bigquery.SchemaField("course_id", "STRING"),
            bigquery.SchemaField(
                "module", "RECORD", fields=[bigquery.SchemaField("display_name", "STRING")]
            ),
        ],
    ),
]

ROWS = [
    {
        "username": "ada",
        "time": "2021-01-01T10:00:00Z",
        "context": {"course_id": "c1", "module": {"display_name": "Intro"}},
    },
    {
        "username": "bob",
        "time": "2021-01-01T11:00:00Z",
        "context": {"course_id": "c1", "module": {"display_name": "Quiz"}},
    },
    {
        "username": "cy",
        "time": "2021-01-02T09:30:00Z",
        "context": {"course_id": "c2", "module": {"display_name": "Intro"}},
    },
]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def bucket(gcs_server):
    client = gcs_server.client()
    return client.create_bucket(unique("bucket").replace("_", "-"))


def upload_ndjson_gz(bucket, name, rows, tmp_path):
    path = tmp_path / name.replace("/", "_")
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    bucket.blob(name).upload_from_filename(str(path))
    return path


def load_from_gcs(bq, table_id, uri):
    config = bigquery.LoadJobConfig(
        schema=SCHEMA,
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        time_partitioning=bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field="time"
        ),
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    return bq.load_table_from_uri(uri, table_id, job_config=config)


def test_gcs_upload_list_and_md5(gcs_server, bucket, tmp_path):
    path = upload_ndjson_gz(bucket, "tracking/day1.json.gz", ROWS, tmp_path)

    blobs = list(gcs_server.client().list_blobs(bucket.name, prefix="tracking/"))

    assert [b.name for b in blobs] == ["tracking/day1.json.gz"]
    assert blobs[0].md5_hash == base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()


def test_bigquery_loads_gzip_ndjson_from_gcs(bigquery_server, bucket, tmp_path):
    upload_ndjson_gz(bucket, "tracking/day1.json.gz", ROWS, tmp_path)
    bq = bigquery_server.client()
    dataset = bq.create_dataset(unique("ds"))
    table_id = f"{dataset.dataset_id}.tracklog"

    load_from_gcs(bq, table_id, f"gs://{bucket.name}/tracking/day1.json.gz").result(timeout=60)

    table = bq.get_table(table_id)
    assert table.time_partitioning.field == "time"
    rows = bq.query(
        f"SELECT COUNT(*) AS n, COUNTIF(context.module.display_name = 'Intro') AS intro FROM `{table_id}`"
    ).result()
    assert [(r.n, r.intro) for r in rows] == [(3, 2)]


@pytest.mark.parametrize(
    "bad_row, expected",
    [
        # The emulator only counts rows whose value does not cast; it names no row or column.
        (dict(ROWS[0], time="not a timestamp"), "Rows: 2; errors: 1."),
        (
            dict(ROWS[0], context="not a record"),
            'in line 2: Expected OBJECT, but got VARCHAR: "not a record"',
        ),
    ],
    ids=["bad-timestamp", "string-for-record"],
)
def test_bigquery_load_of_a_bad_row_fails(bigquery_server, bucket, tmp_path, bad_row, expected):
    upload_ndjson_gz(bucket, "bad/rows.json.gz", [ROWS[1], bad_row], tmp_path)
    bq = bigquery_server.client()
    dataset = bq.create_dataset(unique("ds"))
    uri = f"gs://{bucket.name}/bad/rows.json.gz"

    job = load_from_gcs(bq, f"{dataset.dataset_id}.tracklog", uri)
    with pytest.raises(exceptions.BadRequest) as raised:
        job.result(timeout=60)

    print(f"{type(raised.value).__name__}: {raised.value}\njob.errors={job.errors}")
    assert expected in str(raised.value) and uri in str(raised.value)
    assert job.errors == [job.error_result]
    assert job.error_result["reason"] == "invalid" and expected in job.error_result["message"]
