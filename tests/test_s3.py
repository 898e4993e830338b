"""Listing and download against a real S3 protocol server (moto) on a free port."""

import datetime as dt
import hashlib
import json
import socket

import pytest

from edxflow.core import naming
from edxflow.fetch.download import download
from edxflow.fetch.manifest import build_manifest, read_listing, refresh_listing, version_path
from edxflow.fetch.source import LocalSource, S3Source, SourceError
from tests.flaky_proxy import FlakyProxy
from tests.helpers import snakemake
from tests.s3_faults import FaultyS3

D = dt.date
LOGS, SQL = "edx-course-data", "course-data"


def put(s3, bucket, key, body=b"x"):
    s3.put_object(Bucket=bucket, Key=key, Body=body)


@pytest.fixture
def package(s3):
    """Logs over two years and two sites, weekly bundles, email files, and some clutter."""
    for bucket in (LOGS, SQL):
        s3.create_bucket(Bucket=bucket)
    for day in (D(2020, 12, 30), D(2020, 12, 31), D(2021, 1, 1), D(2021, 1, 2)):
        put(s3, LOGS, naming.log_key("mitx", "edx", day), day.isoformat().encode())
    put(s3, LOGS, naming.log_key("mitx", "edge", D(2021, 1, 1)))
    put(s3, LOGS, "mitx/edx/events/2021/mitx-edx-events-README.txt")
    for day in (D(2020, 12, 27), D(2021, 1, 3), D(2021, 1, 10)):
        put(s3, SQL, naming.sql_key("mitx", day), b"bundle " + day.isoformat().encode())
        put(s3, SQL, naming.email_key("mitx", day))
    put(s3, SQL, naming.sql_key("mitx-pro", D(2021, 1, 3)))
    return s3


def source_for(endpoint):
    return S3Source(endpoint_url=endpoint)


def keys(selected):
    return [item["key"] for item in selected]


def test_log_listing_spans_years_with_an_inclusive_range(package, moto_endpoint):
    selected, passed = build_manifest(
        source_for(moto_endpoint), "mitx", "log", "edx", LOGS, D(2020, 12, 31), D(2021, 1, 1), False
    )
    assert keys(selected) == [
        naming.log_key("mitx", "edx", D(2020, 12, 31)),
        naming.log_key("mitx", "edx", D(2021, 1, 1)),
    ]
    assert (
        selected[0]["size"] == 10 and selected[0]["etag"] == hashlib.md5(b"2020-12-31").hexdigest()
    )
    assert keys(passed) == ["mitx/edx/events/2021/mitx-edx-events-README.txt"]


def test_sites_are_separate(package, moto_endpoint):
    selected, _ = build_manifest(
        source_for(moto_endpoint), "mitx", "log", "edge", LOGS, D(2020, 1, 1), D(2022, 1, 1), False
    )
    assert keys(selected) == [naming.log_key("mitx", "edge", D(2021, 1, 1))]


def test_latest_and_other_orgs(package, moto_endpoint):
    source = source_for(moto_endpoint)
    selected, passed = build_manifest(
        source, "mitx", "sql", "all", SQL, D(2020, 1, 1), D(2021, 1, 5), True
    )
    assert keys(selected) == ["mitx-2021-01-03.zip"]
    assert keys(passed) == ["mitx-pro-2021-01-03.zip"]
    selected, _ = build_manifest(
        source, "mitx", "email", "all", SQL, D(2021, 1, 3), D(2021, 1, 10), False
    )
    assert keys(selected) == [
        naming.email_key("mitx", D(2021, 1, 3)),
        naming.email_key("mitx", D(2021, 1, 10)),
    ]


def test_nothing_matches(package, moto_endpoint):
    selected, _ = build_manifest(
        source_for(moto_endpoint),
        "harvardx",
        "log",
        "edx",
        LOGS,
        D(2021, 1, 1),
        D(2021, 1, 2),
        False,
    )
    assert selected == []


def test_missing_bucket_says_what_to_configure(s3, moto_endpoint):
    with pytest.raises(
        SourceError, match=r"bucket 'nope-bucket' does not exist .*check source.buckets"
    ):
        source_for(moto_endpoint).list("nope-bucket", "mitx-")


def test_no_credentials_says_what_to_configure(moto_endpoint, aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(
        SourceError, match=r"no AWS credentials .*source.aws_profile.*AWS_ACCESS_KEY_ID"
    ):
        source_for(moto_endpoint).list(SQL, "mitx-")


def test_unknown_profile_says_what_to_configure(moto_endpoint, aws_env):
    with pytest.raises(SourceError, match=r"source.aws_profile"):
        S3Source(endpoint_url=moto_endpoint, aws_profile="no-such-profile").list(SQL, "mitx-")


def test_unreachable_endpoint_says_what_to_configure(aws_env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    source = S3Source(endpoint_url=f"http://127.0.0.1:{port}", client=client)
    with pytest.raises(
        SourceError, match=r"cannot reach the S3 endpoint .*check source.endpoint_url"
    ):
        source.list(SQL, "mitx-")


def listed_entry(source, bucket, key):
    return next(item for item in source.list(bucket, key) if item["key"] == key)


def test_download_verifies_and_writes_owner_only(package, moto_endpoint, tmp_path):
    source = source_for(moto_endpoint)
    entry = listed_entry(source, SQL, "mitx-2021-01-03.zip")
    target = tmp_path / "raw" / "mitx-2021-01-03.zip"
    result = download(source, entry, target)
    assert target.read_bytes() == b"bundle 2021-01-03"
    assert result["verified"] == "md5, crc32" and result["attempts"] == 1
    assert target.stat().st_mode & 0o777 == 0o600
    assert list(target.parent.iterdir()) == [target]


def upload_in_parts(s3, bucket, key, parts: list[bytes], **options):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **options)
    done = []
    for number, body in enumerate(parts, start=1):
        answer = s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body,
            **options,
        )
        checks = {k: v for k, v in answer.items() if k == "ETag" or k.startswith("Checksum")}
        done.append({"PartNumber": number, **checks})
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )


@pytest.mark.parametrize("options", [{}, {"ChecksumAlgorithm": "SHA256"}])
def test_multipart_object_is_verified_by_size(s3, moto_endpoint, tmp_path, options):
    """A multipart ETag ("<md5 of the parts' md5s>-2") and a composite checksum are no digest of the
    bytes: the download checks the size and says so."""
    s3.create_bucket(Bucket=SQL)
    parts = [bytes([1]) * (5 << 20), bytes([2]) * (5 << 20)]
    upload_in_parts(s3, SQL, "mitx-2021-01-03.zip", parts, **options)
    source = source_for(moto_endpoint)
    entry = listed_entry(source, SQL, "mitx-2021-01-03.zip")
    assert entry["etag"].endswith("-2")
    result = download(source, entry, tmp_path / "out.zip")
    assert (tmp_path / "out.zip").read_bytes() == b"".join(parts)
    assert result["verified"] == "size only (multipart ETag)" and result["attempts"] == 1


# AWS lists an SSE-KMS object with an ETag that is not the MD5 of its bytes; moto lists the MD5.
KMS_ETAG = "0f343b0931126a20f133d67c2b018a3b"


@pytest.mark.parametrize(
    "checksum, verified",
    [
        ({}, "crc32"),  # boto3 adds a CRC32 to every upload
        ({"ChecksumAlgorithm": "SHA256"}, "sha256"),
        (None, "size only (SSE-KMS ETag)"),  # uploaded without a checksum (older clients)
    ],
)
def test_kms_object_is_verified_by_its_checksum(s3, moto_endpoint, tmp_path, checksum, verified):
    import boto3
    from botocore.config import Config

    kms_key = boto3.client("kms", endpoint_url=moto_endpoint).create_key()["KeyMetadata"]["KeyId"]
    s3.create_bucket(Bucket=SQL)
    client = (
        s3
        if checksum is not None
        else boto3.client(
            "s3",
            endpoint_url=moto_endpoint,
            config=Config(request_checksum_calculation="when_required"),
        )
    )
    client.put_object(
        Bucket=SQL,
        Key="mitx-2021-01-03.zip",
        Body=b"bundle 2021-01-03",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=kms_key,
        **(checksum or {}),
    )
    source = source_for(moto_endpoint)
    entry = {**listed_entry(source, SQL, "mitx-2021-01-03.zip"), "etag": KMS_ETAG}
    result = download(source, entry, tmp_path / "out.zip", attempts=2, backoff=0.01)
    assert (tmp_path / "out.zip").read_bytes() == b"bundle 2021-01-03"
    assert result["verified"] == verified and result["attempts"] == 1


@pytest.mark.parametrize("checksum", [None, {"ChecksumAlgorithm": "SHA256"}])
def test_bytes_corrupted_in_transit_fail(s3, moto_endpoint, tmp_path, checksum):
    import boto3
    from botocore.config import Config

    s3.create_bucket(Bucket=SQL)
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        config=Config(request_checksum_calculation="when_required"),
    )
    client.put_object(
        Bucket=SQL, Key="mitx-2021-01-03.zip", Body=b"bundle 2021-01-03", **(checksum or {})
    )
    with FaultyS3("corrupt", upstream=moto_endpoint, objects_only=True) as faulty:
        source = source_for(faulty.url)
        entry = listed_entry(source, SQL, "mitx-2021-01-03.zip")
        with pytest.raises(
            SourceError,
            match=r"mitx-2021-01-03.zip failed after 2 attempts: .*(MD5|SHA256|checksum)",
        ):
            download(source, entry, tmp_path / "out.zip", attempts=2, backoff=0.01)
    assert faulty.faults == 2 and list(tmp_path.iterdir()) == []


def test_changed_object_is_retried_then_fails_cleanly(package, moto_endpoint, tmp_path):
    source = source_for(moto_endpoint)
    entry = listed_entry(source, SQL, "mitx-2021-01-03.zip")
    put(package, SQL, "mitx-2021-01-03.zip", b"bundle 2021-01-03 (re-exported)")
    target = tmp_path / "raw" / "mitx-2021-01-03.zip"
    with pytest.raises(
        SourceError,
        match=r"mitx-2021-01-03.zip failed after 3 attempts: .*received 31 bytes, the listing says 17",
    ):
        download(source, entry, target, attempts=3, backoff=0.01)
    assert list(target.parent.iterdir()) == []


def test_same_size_different_content_fails_on_md5(package, moto_endpoint, tmp_path):
    source = source_for(moto_endpoint)
    entry = listed_entry(source, SQL, "mitx-2021-01-03.zip")
    put(package, SQL, "mitx-2021-01-03.zip", b"bundle 2021-01-04")
    with pytest.raises(SourceError, match=r"MD5 [0-9a-f]+ differs from the listing's ETag"):
        download(source, entry, tmp_path / "x.zip", attempts=2, backoff=0.01)
    assert not (tmp_path / "x.zip").exists()


def test_interrupted_download_is_retried(package, moto_endpoint, tmp_path, aws_env):
    body = bytes(range(256)) * 4096
    put(package, SQL, "mitx-2021-01-17.zip", body)
    with FlakyProxy(moto_endpoint, cuts=2) as proxy:
        source = source_for(proxy.url)
        entry = listed_entry(source, SQL, "mitx-2021-01-17.zip")
        result = download(source, entry, tmp_path / "out.zip", attempts=4, backoff=0.01)
    assert (tmp_path / "out.zip").read_bytes() == body
    assert result["attempts"] >= 2 and proxy.cut_done == 2


def test_interrupted_every_time_fails_without_a_partial_file(
    package, moto_endpoint, tmp_path, aws_env
):
    put(package, SQL, "mitx-2021-01-17.zip", bytes(range(256)) * 4096)
    with FlakyProxy(moto_endpoint, cuts=1000) as proxy:
        source = source_for(proxy.url)
        entry = listed_entry(source, SQL, "mitx-2021-01-17.zip")
        with pytest.raises(SourceError, match="failed after 2 attempts"):
            download(source, entry, tmp_path / "out.zip", attempts=2, backoff=0.01)
    assert list(tmp_path.iterdir()) == []


def test_local_source_lists_like_s3(tmp_path):
    root = tmp_path / "mirror"
    for day in (D(2020, 12, 31), D(2021, 1, 1)):
        path = root / LOGS / naming.log_key("mitx", "edx", day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(day.isoformat().encode())
    source = LocalSource(root)
    selected, _ = build_manifest(
        source, "mitx", "log", "edx", LOGS, D(2020, 1, 1), D(2021, 12, 31), False
    )
    assert keys(selected) == [
        naming.log_key("mitx", "edx", D(2020, 12, 31)),
        naming.log_key("mitx", "edx", D(2021, 1, 1)),
    ]
    # Every plan lists the source, so a local object's version is its time and size (no read).
    stat = (root / LOGS / selected[1]["key"]).stat()
    assert selected[1]["etag"] == f"mtime-{stat.st_mtime_ns}-{stat.st_size}"
    download(source, selected[1], tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"2021-01-01"
    (root / LOGS / selected[1]["key"]).write_bytes(b"replaced upstream")
    again, _ = build_manifest(
        source, "mitx", "log", "edx", LOGS, D(2020, 1, 1), D(2021, 12, 31), False
    )
    assert again[1]["etag"] != selected[1]["etag"] and again[0] == selected[0]
    with pytest.raises(
        SourceError, match=r"bucket directory .*course-data does not exist: check source.local_root"
    ):
        source.list(SQL, "mitx-")


def test_every_plan_lists_anew_and_keeps_what_did_not_change(tmp_path):
    """The listing a plan records: a manifest rewritten only when the objects changed, a version
    file per object dated 1970 when first seen and rewritten (dated now) when the object is
    replaced, and the same listing read back by job processes."""
    root = tmp_path / "mirror"
    for day in (D(2021, 1, 1), D(2021, 1, 2)):
        path = root / LOGS / naming.log_key("mitx", "edx", day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(day.isoformat().encode())
    config = {
        "org": "mitx",
        "dates": {"begin": "2021-01-01", "end": "2021-01-31", "latest": False},
        "source": {"kind": "local", "local_root": str(root), "buckets": {"log": LOGS}},
    }
    units = [("log", "edx")]
    manifests, versions = tmp_path / "manifests", tmp_path / "versions"
    first = refresh_listing(config, units, manifests, versions_dir=versions)
    items = first[("log", "edx")]["objects"]
    assert first[("log", "edx")]["changed"] and len(items) == 2
    assert all(version_path(versions, item).stat().st_mtime == 0 for item in items)
    assert read_listing(units, manifests)[("log", "edx")]["objects"] == items

    written = (manifests / "log" / "edx.json").stat().st_mtime_ns
    again = refresh_listing(config, units, manifests, versions_dir=versions)
    assert (
        not again[("log", "edx")]["changed"]
        and (manifests / "log" / "edx.json").stat().st_mtime_ns == written
    )

    (root / LOGS / items[1]["key"]).write_bytes(b"published again, longer")
    replaced = refresh_listing(config, units, manifests, versions_dir=versions)
    assert replaced[("log", "edx")]["changed"]
    assert version_path(versions, items[0]).stat().st_mtime == 0
    assert version_path(versions, items[1]).stat().st_mtime > 0


def impatient(url, **options):
    """A source with the retries and timeouts of source.py made short, so a fault shows in seconds."""
    return S3Source(
        endpoint_url=url, **{"max_attempts": 2, "connect_timeout": 1, "read_timeout": 1, **options}
    )


@pytest.mark.parametrize(
    "fault, said",
    [
        (
            "slowdown",
            r"S3 is throttling the requests \(SlowDown\), 2 tries: run again later, or let fewer jobs",
        ),
        ("error", r"the S3 server failed \(InternalError\), 2 tries: run again later"),
        (
            "hang",
            r"no answer within 1 s, 2 tries: check the network and source.endpoint_url, then run again",
        ),
    ],
)
def test_listing_faults_are_one_clear_message(aws_env, fault, said):
    with FaultyS3(fault) as faulty:
        with pytest.raises(SourceError, match=rf"^s3://course-data at {faulty.url}: {said}"):
            impatient(faulty.url).list(SQL, "mitx-")
    assert faulty.requests == 2


@pytest.mark.parametrize(
    "fault, said",
    [
        ("slowdown", r"S3 is throttling the requests \(SlowDown\), 2 tries: run again later"),
        ("error", r"the S3 server failed \(InternalError\), 2 tries: run again later"),
        ("hang", r"no answer within 1 s, 2 tries: check the network"),
    ],
)
def test_download_faults_are_one_clear_message(package, moto_endpoint, tmp_path, fault, said):
    with FaultyS3(fault, upstream=moto_endpoint, objects_only=True) as faulty:
        source = impatient(faulty.url)
        entry = listed_entry(source, SQL, "mitx-2021-01-03.zip")
        with pytest.raises(
            SourceError,
            match=rf"^download of mitx-2021-01-03.zip failed after 2 attempts: s3://"
            rf"course-data at {faulty.url} object 'mitx-2021-01-03.zip': {said}",
        ):
            download(source, entry, tmp_path / "out.zip", attempts=2, backoff=0.01)
    assert faulty.faults == 4 and list(tmp_path.iterdir()) == []


def test_unknown_s3_error_says_what_to_check(package, moto_endpoint, tmp_path):
    """An error with no advice of its own: here the object was archived to Glacier."""
    package.put_object(
        Bucket=SQL, Key="mitx-2021-01-17.zip", Body=b"archived", StorageClass="GLACIER"
    )
    source = source_for(moto_endpoint)
    entry = listed_entry(source, SQL, "mitx-2021-01-17.zip")
    with pytest.raises(
        SourceError,
        match=r"^s3://course-data at .* object 'mitx-2021-01-17.zip': S3 refused the "
        r"request \(InvalidObjectState: .*\): check ",
    ):
        download(source, entry, tmp_path / "out.zip", attempts=2, backoff=0.01)


def test_throttled_listing_stops_the_plan_with_one_message(aws_env, tmp_path):
    """In the main Snakemake process: a WorkflowError naming the bucket and what to do (Snakemake adds
    where its input function called the listing), not a Python traceback."""
    config = {"org": "mitx", "file_types": ["sql"], "results_dir": str(tmp_path / "results")}
    with FaultyS3("slowdown") as faulty:
        config["source"] = {"kind": "s3", "endpoint_url": faulty.url}
        ran = snakemake(
            tmp_path, config, "-n", cores=None, timeout=300, env={"AWS_MAX_ATTEMPTS": "2"}
        )
    output = ran.stdout + ran.stderr
    assert ran.returncode != 0 and faulty.requests == 2
    assert (
        f"cannot list the package: s3://course-data at {faulty.url}: S3 is throttling the requests (SlowDown), "
        "2 tries: run again later" in output
    )
    assert "Traceback (most recent call last)" not in output and "TransientError" not in output


UNSAFE_KEYS = {  # nine '..' climb from results/raw/{bucket}/{key's folders} to above the working directory
    "mitx/edx/events/2021/mitx-edx-events-x/"
    + "../" * 9
    + "escape/mitx-edx-events-2021-01-05.log.gz.gpg": "'..'",
    "mitx/edx/events/2021/mitx-edx-events-x//mitx-edx-events-2021-01-06.log.gz.gpg": "empty",
    "mitx/edx/events/2021/mitx-edx-events-x/./mitx-edx-events-2021-01-07.log.gz.gpg": "'.'",
}


def test_unsafe_keys_are_passed_over_with_the_reason():
    listed = [
        {"bucket": LOGS, "key": key, "size": 1, "etag": "e"}
        for key in [*UNSAFE_KEYS, "/mitx/edx/events/2021/mitx-edx-events-2021-01-08.log.gz.gpg"]
    ]
    selected, passed = build_manifest_from(listed)
    assert selected == []
    reasons = {item["key"]: item["reason"] for item in passed}
    assert reasons["/mitx/edx/events/2021/mitx-edx-events-2021-01-08.log.gz.gpg"].startswith(
        "unsafe key (absolute)"
    )
    for key, what in UNSAFE_KEYS.items():
        assert reasons[key].startswith(f"unsafe key ({what} segment)"), reasons[key]


def build_manifest_from(listed):
    from edxflow.fetch.manifest import select_objects

    return select_objects(listed, "mitx", "log", D(2021, 1, 1), D(2021, 12, 31), False)


def test_unsafe_keys_on_s3_are_never_local_paths(package, moto_endpoint, tmp_path):
    """A real run of the download target: keys that would climb out of results/raw are listed as
    passed over, with the reason, and nothing is written outside the results."""
    for key in UNSAFE_KEYS:
        put(package, LOGS, key, b"escaped")
    assert {item["Key"] for item in package.list_objects_v2(Bucket=LOGS)["Contents"]} >= set(
        UNSAFE_KEYS
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    config = {
        "org": "mitx",
        "file_types": ["log"],
        "dates": {"begin": "2021-01-01", "end": "2021-01-31"},
        "source": {"kind": "s3", "endpoint_url": moto_endpoint},
        "results_dir": str(workdir / "results"),
    }
    ran = snakemake(workdir, config, "download", cores=1, timeout=300)
    assert ran.returncode == 0, ran.stderr
    passed = json.loads(
        (workdir / "results" / "manifests" / "objects" / "log" / "edx.passed_over.json").read_text()
    )
    assert {
        item["key"]: item["reason"].split(")")[0] for item in passed if item["key"] in UNSAFE_KEYS
    } == {key: f"unsafe key ({what} segment" for key, what in UNSAFE_KEYS.items()}
    raw = sorted(
        p.relative_to(workdir / "results" / "raw").as_posix()
        for p in (workdir / "results" / "raw").rglob("*")
        if p.is_file()
    )
    assert raw == [
        f"{LOGS}/{naming.log_key('mitx', 'edx', day)}" for day in (D(2021, 1, 1), D(2021, 1, 2))
    ]
    # each download's log says which checks were made (moto keeps a CRC32 of what boto3 uploads)
    log = (
        workdir
        / "results"
        / "logs"
        / "download"
        / LOGS
        / (naming.log_key("mitx", "edx", D(2021, 1, 1)) + ".log")
    )
    assert "verified: md5, crc32," in log.read_text()
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(workdir)]
    assert outside == [] and sorted(p.name for p in workdir.iterdir()) == [
        ".snakemake",
        "config.yaml",
        "results",
    ]
