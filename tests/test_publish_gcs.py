"""Publishing per-course files to Cloud Storage, against a real GCS JSON API server
(fake-gcs-server) reached through the production client factory (STORAGE_EMULATOR_HOST)."""

import base64
import hashlib
import json
import random
import time
import uuid

import pytest

from edxflow.core.jsonl import write_rows, write_schema
from edxflow.warehouse.google_cloud import CloudError, storage_client
from edxflow.warehouse.publish import CHUNK, RESUMABLE_ABOVE, publish_course, publish_files
from tests.servers import closed_port

BASE = "MITx__6_002x__2T2021"
LOG_FILES = [
    f"TRACKING_LOGS/{BASE}/tracklog-2021-01-01.edx-2021-01-01.json.gz",
    f"TRACKING_LOGS/{BASE}/tracklog-2021-01-02.edx-2021-01-02.json.gz",
]
SQL_FILES = [
    f"SQL/{BASE}/2021-06-06/studentmodule.json.gz",
    f"SQL/{BASE}/2021-06-06/studentmodule.schema.json",
]
EMAIL_FILES = [
    f"EMAIL/{BASE}/email_opt_in-2021-06-06.json.gz",
    f"EMAIL/{BASE}/email_opt_in-2021-06-06.schema.json",
]


def md5_of(path) -> str:
    return base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()


@pytest.fixture
def gcs_env(gcs_server, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)


@pytest.fixture
def client(gcs_env):
    """The production factory's client, on the emulator."""
    return storage_client(None, None)


@pytest.fixture
def bucket(client):
    return client.create_bucket(f"edx-{uuid.uuid4().hex[:12]}").name


@pytest.fixture
def results(tmp_path):
    """One course's log, SQL and email files, as the workflow leaves them."""
    for day, name in zip(("2021-01-01", "2021-01-02"), LOG_FILES):
        write_rows(
            tmp_path / name,
            [{"username": f"u{i}", "time": f"{day}T10:00:0{i}.000000+00:00"} for i in range(3)],
        )
    write_rows(
        tmp_path / SQL_FILES[0],
        [{"id": 1, "module_type": "problem"}, {"id": 2, "module_type": "video"}],
    )
    write_schema(
        tmp_path / SQL_FILES[1],
        [{"name": "id", "type": "INTEGER"}, {"name": "module_type", "type": "STRING"}],
    )
    write_rows(tmp_path / EMAIL_FILES[0], [{"user_id": 1, "is_opted_in_for_email": True}])
    write_schema(tmp_path / EMAIL_FILES[1], [{"name": "user_id", "type": "INTEGER"}])
    return tmp_path


def by_name(receipt) -> dict:
    return {item["name"]: item for item in receipt["objects"]}


def test_publish_uploads_in_simeons_layout(client, bucket, results):
    receipts = {
        "log": publish_files(client, bucket, "log", BASE, results, LOG_FILES),
        "sql": publish_files(client, bucket, "sql", BASE, results, SQL_FILES),
        "email": publish_files(client, bucket, "email", BASE, results, EMAIL_FILES),
    }

    listed = {blob.name: blob for blob in client.list_blobs(bucket)}
    assert sorted(listed) == sorted(
        [
            f"EMAIL/{BASE}/email_opt_in-2021-06-06.json.gz",
            f"EMAIL/{BASE}/email_opt_in-2021-06-06.schema.json",
            f"SQL/{BASE}/2021-06-06/studentmodule.json.gz",
            f"SQL/{BASE}/2021-06-06/studentmodule.schema.json",
            f"TRACKING-LOGS/{BASE}/tracklog-2021-01-01.edx-2021-01-01.json.gz",
            f"TRACKING-LOGS/{BASE}/tracklog-2021-01-02.edx-2021-01-02.json.gz",
        ]
    )
    for file_type, files in (("log", LOG_FILES), ("sql", SQL_FILES), ("email", EMAIL_FILES)):
        receipt = receipts[file_type]
        assert receipt["uploaded"] == len(files) and receipt["unchanged"] == 0
        for relative, item in zip(files, receipt["objects"]):
            blob = listed[item["name"]]
            assert item["uploaded"] is True
            assert item["md5"] == blob.md5_hash == md5_of(results / relative)
            assert item["generation"] == blob.generation
    assert receipts["log"]["prefix"] == f"TRACKING-LOGS/{BASE}/"
    gz = listed[f"SQL/{BASE}/2021-06-06/studentmodule.json.gz"]
    assert gz.content_type == "application/gzip"
    assert gz.download_as_bytes(raw_download=True) == (results / SQL_FILES[0]).read_bytes()


def test_second_publish_uploads_nothing(client, bucket, results):
    first = publish_files(client, bucket, "log", BASE, results, LOG_FILES)
    second = publish_files(client, bucket, "log", BASE, results, LOG_FILES)

    assert (
        second["uploaded"] == 0
        and second["unchanged"] == len(LOG_FILES)
        and second["uploaded_bytes"] == 0
    )
    assert [item["uploaded"] for item in second["objects"]] == [False, False]
    assert {n: i["generation"] for n, i in by_name(second).items()} == {
        n: i["generation"] for n, i in by_name(first).items()
    }
    assert {b.name: b.generation for b in client.list_blobs(bucket)} == {
        n: i["generation"] for n, i in by_name(first).items()
    }


def test_only_the_changed_file_is_uploaded_again(client, bucket, results):
    first = by_name(publish_files(client, bucket, "log", BASE, results, LOG_FILES))
    write_rows(
        results / LOG_FILES[1], [{"username": "late", "time": "2021-01-02T23:00:00.000000+00:00"}]
    )

    second = publish_files(client, bucket, "log", BASE, results, LOG_FILES)

    changed, same = (
        f"TRACKING-LOGS/{BASE}/" + name.rsplit("/", 1)[1] for name in (LOG_FILES[1], LOG_FILES[0])
    )
    objects = by_name(second)
    assert second["uploaded"] == 1 and second["unchanged"] == 1
    assert objects[changed]["uploaded"] is True
    assert objects[changed]["generation"] != first[changed]["generation"]
    assert objects[changed]["md5"] != first[changed]["md5"]
    assert objects[changed]["md5"] == md5_of(results / LOG_FILES[1])
    assert objects[same] == first[same] | {"uploaded": False}
    stored = client.bucket(bucket).get_blob(changed)
    assert (
        stored.md5_hash == md5_of(results / LOG_FILES[1])
        and stored.generation == objects[changed]["generation"]
    )


def test_missing_bucket_names_it_and_writes_no_receipt(client, results, tmp_path):
    receipt = tmp_path / "receipts" / "publish.json"
    with pytest.raises(CloudError) as raised:
        publish_course(client, "no-such-bucket-here", "log", BASE, results, LOG_FILES, receipt)

    message = str(raised.value)
    assert "gs://no-such-bucket-here does not exist" in message and "storage.bucket" in message
    assert not receipt.exists()


def test_emulator_down_fails_quickly_and_clearly(monkeypatch, results, tmp_path):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("EDXFLOW_RETRY_SECONDS", "3")  # production retries for 60 s
    client = storage_client(None, None)
    receipt = tmp_path / "publish.json"

    began = time.monotonic()
    with pytest.raises(CloudError) as raised:
        publish_course(client, "some-bucket", "log", BASE, results, LOG_FILES, receipt)
    seconds = time.monotonic() - began

    print(f"unreachable emulator: CloudError after {seconds:.1f}s: {raised.value}")
    assert "cannot look up the bucket gs://some-bucket" in str(raised.value)
    assert "cannot be reached" in str(raised.value) and "STORAGE_EMULATOR_HOST" in str(raised.value)
    assert seconds < 30
    assert not receipt.exists()


@pytest.fixture
def no_google_credentials(monkeypatch, tmp_path):
    """No emulator, no key, no gcloud config, and a metadata server that is not there."""
    home = tmp_path / "home"
    home.mkdir()
    for name in (
        "STORAGE_EMULATOR_HOST",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(home / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("GCE_METADATA_IP", f"127.0.0.1:{closed_port()}")


def test_missing_credentials_say_what_to_provide(no_google_credentials):
    began = time.monotonic()
    with pytest.raises(CloudError) as raised:
        storage_client("some-project", None)

    message = str(raised.value)
    assert message.startswith("no Google credentials found")
    assert "storage.service_account_file" in message and "GOOGLE_APPLICATION_CREDENTIALS" in message
    assert time.monotonic() - began < 30


def test_missing_service_account_file_is_named(no_google_credentials, tmp_path):
    key = tmp_path / "keys" / "absent-key.json"
    with pytest.raises(CloudError) as raised:
        storage_client("some-project", str(key))

    message = str(raised.value)
    assert f"{key} does not exist" in message and message.startswith("storage.service_account_file")


def test_service_account_file_that_is_not_a_key_is_named(no_google_credentials, tmp_path):
    key = tmp_path / "not-a-key.json"
    key.write_text(json.dumps({"type": "authorized_user"}))
    with pytest.raises(CloudError, match=rf"{key} is not a service account key file"):
        storage_client("some-project", str(key))


def test_large_file_goes_up_resumably_with_the_right_md5(client, bucket, tmp_path):
    """The resumable path (chunk_size set) is taken above RESUMABLE_ABOVE; only its result is visible here."""
    relative = f"TRACKING_LOGS/{BASE}/tracklog-2021-02-01.edx-2021-02-01.json.gz"
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    # > RESUMABLE_ABOVE (8 MiB), and more than one CHUNK (16 MiB) so the upload is resumed once
    size = CHUNK + (1 << 20) + 123
    assert size > RESUMABLE_ABOVE
    path.write_bytes(random.Random(7).randbytes(size))

    receipt = publish_files(client, bucket, "log", BASE, tmp_path, [relative])

    [item] = receipt["objects"]
    blob = client.bucket(bucket).get_blob(item["name"])
    assert item["uploaded"] is True and item["md5"] == md5_of(path)
    assert blob.md5_hash == md5_of(path) and blob.size == path.stat().st_size == item["size"]
    assert receipt["uploaded_bytes"] == size
