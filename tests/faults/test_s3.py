"""S3 answering 5xx, slowly, or resetting connections (a real S3 server, moto, behind the
fault-injecting proxy): passing faults are retried and the days come out as a clean run's; an
object that keeps failing fails its own day with one message naming it, and the other days are
split and loaded."""

import pytest

from tests.faults.harness import (
    DAYS,
    assert_clear_message,
    assert_completed,
    assert_left_clean,
    fault_config,
    file_digests,
    job_log,
    log_object,
    run,
    tables_of,
)
from tests.faults.s3_proxy import FaultProxy
from tests.helpers import table_contents

pytestmark = pytest.mark.workflow


def upload(s3, package):
    for bucket in package.source.iterdir():
        s3.create_bucket(Bucket=bucket.name)
        for path in bucket.rglob("*"):
            if path.is_file():
                s3.upload_file(str(path), bucket.name, path.relative_to(bucket).as_posix())


def test_s3_faults_are_retried_or_fail_one_day(package, clean, tmp_path, s3, moto_endpoint):
    upload(s3, package)
    throttled, reset_then_slow, broken = (log_object(day).rsplit("/", 1)[1] for day in DAYS)
    faults = {throttled: ["503", "503"], reset_then_slow: ["reset", "slow"], broken: ["500"]}
    with FaultProxy(moto_endpoint, faults, always={broken}) as proxy:
        config = fault_config(
            package, tmp_path, file_types=["log"], source={"kind": "s3", "endpoint_url": proxy.url}
        )
        ran = run(tmp_path, config, "--keep-going")
    results = tmp_path / "results"
    assert (
        proxy.injected[(throttled, "503")] == 2 and proxy.injected[(reset_then_slow, "reset")] == 1
    )
    assert proxy.injected[(reset_then_slow, "slow")] == 1 and proxy.injected[(broken, "500")] >= 4
    assert ran.returncode != 0 and "Not done, and why:" in ran.output
    key = log_object(DAYS[2]).split("/", 1)[1]
    assert_clear_message(
        ran.output, job_log(results, f"download/edx-course-data/{key}"), [broken], "InternalError"
    )

    assert_completed(results, days=DAYS[:2], bases=[], email=False)
    assert DAYS[2] not in {
        path.stem for path in (results / "receipts" / "split_tracking_log" / "edx").glob("*.json")
    }
    assert not [path for path in (results / "raw").rglob("*") if path.is_file()]
    logs = [f"TRACKING_LOGS/*__*/tracklog-*.edx-{day}.json.gz" for day in DAYS[:2]]
    assert file_digests(results, *logs) == file_digests(clean / "results", *logs)
    loaded, expected = (
        tables_of(table_contents(results), "_logs"),
        tables_of(table_contents(clean / "results"), "_logs"),
    )
    assert set(loaded) == set(expected)  # each course's tracklog, without the broken day
    assert_left_clean(tmp_path)
