"""The workflow as users run it, every week over the same results folder: whatever is new in the
package (a day, a bundle, an email file, a widened date range, an object replaced upstream) is taken
in by one run of any target, the run after that has nothing to do, and the result equals a fresh
full run's. A corrupt day fails only its own jobs."""

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import gnupg
import pytest

from edxflow.core.courses import course_base_name
from tests.helpers import (
    DEMO_DATES,
    demo_config,
    job_counts,
    snakemake,
    snakemake_command,
    table_contents,
    warehouse_counts,
)

pytestmark = pytest.mark.workflow

FIRST_WEEK = {"begin": "2026-11-01", "end": "2026-11-07"}
REPLACED_DAY = "2026-11-05"
OLDER = "2026-11-01"


class DemoKey:
    """The demo package's own key: derived objects are encrypted exactly as the package's are."""

    def __init__(self, gnupghome: Path):
        self.gpg = gnupg.GPG(gnupghome=str(gnupghome))
        self.fingerprint = self.gpg.list_keys()[0]["fingerprint"]

    def decrypt(self, data: bytes) -> bytes:
        result = self.gpg.decrypt(data)
        assert result.ok, result.status
        return result.data

    def encrypt(self, data: bytes) -> bytes:
        result = self.gpg.encrypt(data, self.fingerprint, armor=False, always_trust=True)
        assert result.ok, result.status
        return result.data


def drop_last_rows(data: bytes) -> bytes:
    """A table dump or CSV with its last row gone (an older snapshot has fewer rows)."""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[:-1]) if len(lines) > 2 else data


def older_snapshot(key: DemoKey, newer: Path, older: Path, date: str = OLDER) -> None:
    """A zip like `newer` (a bundle or an email file) whose tables each lack their last row."""
    with zipfile.ZipFile(newer) as source, zipfile.ZipFile(older, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            name = info.filename.replace("2026-11-08", date)
            if name.endswith((".sql.gpg", ".csv.gpg")):
                data = key.encrypt(drop_last_rows(key.decrypt(data)))
            target.writestr(name, data)


def log_path(source: Path, day: str) -> Path:
    return (
        source
        / "edx-course-data"
        / "demox"
        / "edx"
        / "events"
        / "2026"
        / f"demox-edx-events-{day}.log.gz.gpg"
    )


def replace_day(key: DemoKey, source: Path, day: str) -> None:
    """The day's log as edX might publish it again: every fifth line gone."""
    path = log_path(source, day)
    lines = gzip.decompress(key.decrypt(path.read_bytes())).splitlines(keepends=True)
    path.write_bytes(
        key.encrypt(gzip.compress(b"".join(line for n, line in enumerate(lines) if n % 5)))
    )


@pytest.fixture(scope="module")
def package(demo, tmp_path_factory):
    """The demo package plus an older week's bundle and email file."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    shutil.copytree(demo / "source", source)
    key = DemoKey(demo / "gnupg")
    data = source / "course-data"
    older_snapshot(key, data / "demox-2026-11-08.zip", data / f"demox-{OLDER}.zip")
    older_snapshot(
        key,
        data / "email-opt-in" / "email-opt-in-demox-2026-11-08.zip",
        data / "email-opt-in" / f"email-opt-in-demox-{OLDER}.zip",
    )
    return {"source": source, "key": key, "gnupghome": demo / "gnupg"}


def final_source(package, directory: Path) -> Path:
    """The package as it stands a week later: the same objects, and one day replaced upstream."""
    source = directory / "source"
    shutil.copytree(package["source"], source)
    replace_day(package["key"], source, REPLACED_DAY)
    return source


def config_for(package, source: Path, workdir: Path, dates: dict, **changes) -> dict:
    config = demo_config(package["source"].parent, workdir, dates=dates, **changes)
    config["source"]["local_root"] = str(source)
    config["gpg"]["homedir"] = str(package["gnupghome"])
    return config


@pytest.fixture(scope="module")
def fresh(package, tmp_path_factory):
    """A fresh full run of everything on the final package: what every other run must equal."""
    workdir = tmp_path_factory.mktemp("fresh")
    source = final_source(package, workdir)
    ran = snakemake(workdir, config_for(package, source, workdir, DEMO_DATES))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return workdir / "results"


def split_files(results: Path) -> dict[str, str]:
    """Per-course file -> digest of its lines: the logs, the newest bundle's tables, the email tables."""
    files = {}
    for path in (
        sorted(results.glob("TRACKING_LOGS/*__*/*.json.gz"))
        + sorted(results.glob("SQL/*/2026-11-08/*.json.gz"))
        + sorted(results.glob("EMAIL/*__*/email_opt_in-2026-11-08.json.gz"))
    ):
        files[str(path.relative_to(results))] = hashlib.sha256(
            gzip.decompress(path.read_bytes())
        ).hexdigest()
    return files


def bucket_objects(gcs_server, bucket: str) -> dict[str, str]:
    return {blob.name: blob.md5_hash for blob in gcs_server.client().list_blobs(bucket)}


def new_bucket(gcs_server, name: str) -> str:
    bucket = f"edx-{name.lower().replace('_', '-')[-30:]}"
    gcs_server.client().create_bucket(bucket)
    return bucket


@pytest.mark.parametrize("target", ["all", "split", "load", "publish"])
def test_one_run_takes_in_everything_new(package, fresh, gcs_server, tmp_path, target):
    """A results folder of the first week; then the range widens by a day, which brings a new
    daily log, a new bundle and a new email file, while a day already split is replaced upstream.
    One run of the target takes all of it in; the next has nothing to do."""
    source = tmp_path / "source"
    shutil.copytree(package["source"], source)
    env, changes = {}, {}
    if target == "publish":
        env = {"STORAGE_EMULATOR_HOST": gcs_server.url}
        changes = {"storage": {"kind": "gcs", "bucket": new_bucket(gcs_server, tmp_path.name)}}
    first = snakemake(
        tmp_path, config_for(package, source, tmp_path, FIRST_WEEK, **changes), target, env=env
    )
    assert first.returncode == 0, first.stdout + first.stderr

    replace_day(package["key"], source, REPLACED_DAY)
    config = config_for(package, source, tmp_path, DEMO_DATES, **changes)
    once = snakemake(tmp_path, config, target, env=env)
    assert once.returncode == 0, once.stdout + once.stderr
    again = snakemake(tmp_path, config, target, "-n", env=env)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, (
        again.stdout
    )

    results = tmp_path / "results"
    if target in ("all", "split"):
        assert split_files(results) == split_files(fresh)
    if target in ("all", "load"):
        reports = target == "all"  # the report tables are built by `all`, not by `load`
        assert table_contents(results, reports) == table_contents(fresh, reports)
    if target == "publish":
        fresh_bucket = new_bucket(gcs_server, tmp_path.name + "-fresh")
        # the fresh run's folder and source, so that its listing stays as the other tests expect
        republished = snakemake(
            fresh.parent,
            config_for(
                package,
                fresh.parent / "source",
                fresh.parent,
                DEMO_DATES,
                storage={"kind": "gcs", "bucket": fresh_bucket},
            ),
            "publish",
            env=env,
        )
        assert republished.returncode == 0, republished.stdout + republished.stderr
        published, expected = (
            bucket_objects(gcs_server, changes["storage"]["bucket"]),
            bucket_objects(gcs_server, fresh_bucket),
        )
        # the first week's bundle and email file stay published under their date; the rest is the same
        assert {name: md5 for name, md5 in published.items() if OLDER not in name} == expected


def test_a_corrupt_day_holds_back_only_itself(package, fresh, tmp_path):
    """With --keep-going every other day, course, bundle and email file is split and loaded, and
    the run ends naming the file; once the file is good again, one run converges."""
    source = final_source(package, tmp_path)
    corrupt = log_path(source, "2026-11-06")
    good = corrupt.read_bytes()
    corrupt.write_bytes(good[:200] + bytes(reversed(good[200:400])) + good[400:])
    config = config_for(package, source, tmp_path, DEMO_DATES)
    ran = snakemake(tmp_path, config, "--keep-going")
    output = ran.stdout + ran.stderr
    assert ran.returncode != 0 and "demox-edx-events-2026-11-06.log.gz.gpg" in output
    summary = output[output.index("Not done, and why:") :].splitlines()
    assert summary[1].startswith(
        "  demox/edx/events/2026/demox-edx-events-2026-11-06.log.gz.gpg: see "
    )
    assert summary[1].endswith("logs/decrypt/log/edx/2026-11-06.log") and "(load)" not in "".join(
        summary
    )

    results = tmp_path / "results"
    # The reports wait for every day's load: none is built over a missing day.
    assert not (results / "receipts" / "report").exists()
    expected = table_contents(fresh, reports=False)
    loaded = table_contents(results)
    assert {
        table: value for table, value in loaded.items() if not table.endswith("_logs.tracklog")
    } == {table: value for table, value in expected.items() if not table.endswith("_logs.tracklog")}
    for table, (rows, _) in loaded.items():
        if table.endswith("_logs.tracklog"):
            day = json.loads(
                (fresh / "receipts" / "split_tracking_log" / "edx" / "2026-11-06.json").read_text()
            )
            missing = sum(
                count
                for course, count in day["by_course"].items()
                if course_base_name(course) == table.removesuffix("_logs.tracklog")
            )
            assert rows == expected[table][0] - missing > 0, table
    assert not (results / "receipts" / "load" / "log" / "edx" / "2026-11-06.json").exists()

    corrupt.write_bytes(good)
    fixed = snakemake(tmp_path, config)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert table_contents(results) == table_contents(fresh)
    assert "Nothing to be done" in snakemake(tmp_path, config, "-n").stdout


def test_every_snapshot_is_split_with_snapshots_all(package, fresh, tmp_path):
    """snapshots: all splits the older bundle and email file too, once each: the bundle split per
    course in the week it was the newest is not split again when a newer one arrives. What is
    loaded is the same as with snapshots: latest."""
    source = tmp_path / "source"
    shutil.copytree(package["source"], source)
    first = snakemake(tmp_path, config_for(package, source, tmp_path, FIRST_WEEK, snapshots="all"))
    assert first.returncode == 0, first.stdout + first.stderr
    replace_day(package["key"], source, REPLACED_DAY)
    config = config_for(package, source, tmp_path, DEMO_DATES, snapshots="all")
    once = snakemake(tmp_path, config)
    assert once.returncode == 0, once.stdout + once.stderr
    assert "Nothing to be done" in snakemake(tmp_path, config, "-n").stdout

    results = tmp_path / "results"
    snapshot = json.loads(
        (results / "receipts" / "sql_snapshot" / f"demox-{OLDER}.json").read_text()
    )
    assert len(snapshot["courses"]) == 3 and all(
        course["reused"] for course in snapshot["courses"].values()
    )
    for base, course in snapshot["courses"].items():
        newer = json.loads(
            (results / "receipts" / "sql_course" / "demox-2026-11-08" / f"{base}.json").read_text()
        )
        older = {table: info["rows"] for table, info in newer["tables"].items()}
        assert (
            course["tables"]["auth_user"] == older["auth_user"] - 1
        )  # the older snapshot lacks a row
        assert (results / "SQL" / base / OLDER / "auth_user.json.gz").exists()
        assert (results / "EMAIL" / base / f"email_opt_in-{OLDER}.json.gz").exists()
    assert table_contents(results) == table_contents(fresh)


def test_older_bundles_are_split_whole_when_first_seen(package, tmp_path):
    """A results folder started with snapshots: all and a range of two weeks: the older bundle is
    split by one job, every course of it, with no index."""
    config = config_for(
        package, package["source"], tmp_path, DEMO_DATES, snapshots="all", file_types=["sql"]
    )
    planned = snakemake(tmp_path, config, "split", "-n")
    assert job_counts(planned.stdout + planned.stderr)["sql_snapshot"] == 1
    ran = snakemake(tmp_path, config, "split")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    snapshot = json.loads(
        (tmp_path / "results" / "receipts" / "sql_snapshot" / f"demox-{OLDER}.json").read_text()
    )
    assert len(snapshot["courses"]) == 3 and not any(
        course["reused"] for course in snapshot["courses"].values()
    )
    assert all(course["tables"]["studentmodule"] > 0 for course in snapshot["courses"].values())


def test_a_bundle_replaced_upstream_is_indexed_split_and_loaded_again(package, fresh, tmp_path):
    """The newest bundle published again under the same name (new size and ETag): its index, every
    course's tables and their loads are redone in one run."""
    source = tmp_path / "source"
    shutil.copytree(fresh.parent / "source", source)  # the same objects, with their times
    shutil.copytree(fresh, tmp_path / "results")
    config = config_for(package, source, tmp_path, DEMO_DATES)
    assert "Nothing to be done" in snakemake(tmp_path, config, "-n").stdout
    bundle = source / "course-data" / "demox-2026-11-08.zip"
    older_snapshot(package["key"], bundle, tmp_path / "replacement.zip", date="2026-11-08")
    shutil.move(tmp_path / "replacement.zip", bundle)
    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Nothing to be done" in snakemake(tmp_path, config, "-n").stdout
    results = tmp_path / "results"
    counts = warehouse_counts(results)
    for base in ("DemoX__DS101__2026_T1", "DemoX__CS_50x__1T2026", "DemoX__PHY_2_1x__2025_Fall"):
        before = json.loads(
            (fresh / "receipts" / "sql_course" / "demox-2026-11-08" / f"{base}.json").read_text()
        )
        after = json.loads(
            (results / "receipts" / "sql_course" / "demox-2026-11-08" / f"{base}.json").read_text()
        )
        assert after["source_object"]["size"] == bundle.stat().st_size
        assert after["tables"]["auth_user"]["rows"] == before["tables"]["auth_user"]["rows"] - 1
        for table, info in after["tables"].items():
            assert counts[f"{base}_latest.{table}"] == info["rows"], table


def test_a_run_killed_halfway_is_finished_by_the_next(package, fresh, tmp_path):
    """Killed (SIGKILL, the whole process group) once a few days are split: the next run finishes
    the work, leaves no plaintext behind, and the result equals a fresh full run's."""
    source = tmp_path / "source"
    shutil.copytree(fresh.parent / "source", source)
    config = config_for(package, source, tmp_path, DEMO_DATES)
    results = tmp_path / "results"
    running = subprocess.Popen(
        snakemake_command(tmp_path, config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    splits = results / "receipts" / "split_tracking_log" / "edx"
    while (
        time.monotonic() < deadline
        and len(list(splits.glob("*.json")) if splits.exists() else []) < 3
    ):
        time.sleep(0.05)
    os.killpg(running.pid, signal.SIGKILL)
    running.wait()
    loads = results / "receipts" / "load" / "log" / "edx"
    assert len(list(loads.glob("*.json")) if loads.exists() else []) < 7  # killed before the end

    # Snakemake's lock guards against two runs at once: after a kill, it is lifted by hand.
    locked = snakemake(tmp_path, config)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    assert snakemake(tmp_path, config, "--unlock").returncode == 0
    resumed = snakemake(tmp_path, config)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Nothing to be done" in snakemake(tmp_path, config, "-n").stdout
    assert table_contents(results) == table_contents(fresh)
    assert split_files(results) == split_files(fresh)
    assert not [path for path in (results / "decrypted" / "log").rglob("*") if path.is_file()]
