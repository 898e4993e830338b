"""Real Snakemake runs of the whole workflow on the generated demo package."""

import gzip
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from edxflow.core.courses import course_base_name
from edxflow.core.jsonl import read_rows
from edxflow.reports.build import BUILTIN
from edxflow.reports.graph import build_order, load_templates
from edxflow.reports.summary import NO_GEO
from tests.helpers import (
    DEMO_DATES,
    PASSPHRASE,
    REPO,
    accounted,
    demo_config,
    job_counts,
    kill_agent,
    make_gnupghome,
    protected_log_run,
    short_tempdir,
    snakemake,
    snakemake_command,
    warehouse_counts,
)

pytestmark = pytest.mark.workflow

DAYS = 7


def test_plan_run_and_rerun(demo, tmp_path):
    config = demo_config(demo, tmp_path)
    results = tmp_path / "results"

    # Every plan lists the source: the dry run shows every download, split and load at once (the
    # SQL courses wait for the bundle's index, the one checkpoint), and records the listing.
    planned = snakemake(tmp_path, config, "-n")
    assert planned.returncode == 0, planned.stderr
    assert job_counts(planned.stdout + planned.stderr) == {
        "fetch_object": DAYS + 2,
        "decrypt_log": DAYS,
        "split_tracking_log": DAYS,
        "decrypt_email": 1,
        "email_opt_in": 1,
        "index_bundle": 1,
        "load_files": DAYS + 1,
        # planned before the bundle's index; the courses' report jobs wait for it
        "report_templates": 1,
        "report_organisation": 1,
        "run_report": 1,
        "all": 1,
    }
    assert (
        len(json.loads((results / "manifests" / "objects" / "log" / "edx.json").read_text()))
        == DAYS
    )
    assert not (results / "raw").exists() and not (results / "receipts").exists()

    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stderr
    assert f"log (edx): {DAYS} object(s)" in ran.stdout + ran.stderr
    receipts = sorted((results / "receipts" / "split_tracking_log" / "edx").iterdir())
    assert [p.name for p in receipts] == [f"2026-11-{day:02d}.json" for day in range(2, 9)]
    per_course = {}
    for path in receipts:
        receipt = json.loads(path.read_text())
        assert receipt["lines_in"] == accounted(receipt)
        assert (
            receipt["rejected"] >= 2
            and receipt["duplicates"] >= 1
            and receipt["prefix_stripped"] >= 1
        )
        for course, count in receipt["by_course"].items():
            per_course[course] = per_course.get(course, 0) + count
    assert set(per_course) == {
        "DemoX/DS101/2026_T1",
        "DemoX/PHY-2.1x/2025_Fall",
        "DemoX/CS.50x/1T2026",
    }
    for course, count in per_course.items():
        files = sorted(
            (results / "TRACKING_LOGS" / course_base_name(course)).glob("tracklog-*.json.gz")
        )
        assert len(files) == DAYS
        rows = [
            json.loads(line)
            for path in files
            for line in gzip.decompress(path.read_bytes()).splitlines()
        ]
        assert len(rows) == count and {row["course_id"] for row in rows} == {course}
        assert all(path.stat().st_mode & 0o777 == 0o600 for path in files)
    # decrypted logs and email CSVs are personal data: gone once split; the encrypted downloads once decrypted
    assert not [p for p in (results / "decrypted").rglob("*") if p.is_file()]
    assert not [p for p in (results / "raw").rglob("*") if p.is_file()]
    check_sql_tables(results)
    check_email_tables(results)
    check_warehouse(results, per_course)
    assert "Loaded into" in ran.stdout + ran.stderr and "studentmodule:" in ran.stdout + ran.stderr

    again = snakemake(tmp_path, config)
    assert again.returncode == 0, again.stderr
    assert "Nothing to be done" in again.stdout + again.stderr


DERIVED = {
    "course_axis",
    "forum",
    "grades_persistent",
    "grades_persistent_subsection",
    "grading_policy",
    "roles",
    "studentmodule",
    "problem_analysis",
    "user_info_combo",
}


def newest_bundle_courses(results: Path, bundle: str = "demox-2026-11-08") -> dict[str, str]:
    """course_id -> base of the courses the newest bundle's index names."""
    index = json.loads((results / "manifests" / "sql" / f"{bundle}.json").read_text())
    return {entry["course_id"]: entry["base"] for entry in index["courses"]}


def check_sql_tables(results: Path) -> None:
    courses = newest_bundle_courses(results)
    assert sorted(courses) == [
        "DemoX/CS.50x/1T2026",
        "DemoX/DS101/2026_T1",
        "DemoX/PHY-2.1x/2025_Fall",
    ]
    for course, base in courses.items():
        receipt = json.loads(
            (results / "receipts" / "sql_course" / "demox-2026-11-08" / f"{base}.json").read_text()
        )
        assert receipt["course_id"] == course and not receipt["refused"]
        assert receipt["source_object"]["key"] == "demox-2026-11-08.zip"
        tables = receipt["tables"]
        assert DERIVED <= set(tables) and {
            "auth_user",
            "student_courseenrollment",
            "user_id_map",
        } <= set(tables)
        directory = results / "SQL" / base / "2026-11-08"
        assert Path(receipt["directory"]) == directory
        for table, info in tables.items():
            rows = read_rows(directory / info["file"])
            schema = json.loads((directory / info["schema"]).read_text())
            assert len(rows) == info["rows"], table
            names = {field["name"] for field in schema}
            assert all(set(row) <= names for row in rows), table
        assert tables["user_info_combo"]["rows"] > 0 and tables["course_axis"]["rows"] > 10
        assert {
            row["course_id"] for row in read_rows(directory / "student_courseenrollment.json.gz")
        } == {course}
        assert (directory / "course.xml.tar.gz").exists() and (
            directory / "course_structure.json"
        ).exists()
        assert directory.stat().st_mode & 0o777 == 0o700


def check_email_tables(results: Path) -> None:
    receipt = json.loads((results / "receipts" / "email_opt_in" / "2026-11-08.json").read_text())
    assert set(receipt["by_course"]) == {
        "DemoX/CS.50x/1T2026",
        "DemoX/DS101/2026_T1",
        "DemoX/PHY-2.1x/2025_Fall",
    }
    for course, info in receipt["by_course"].items():
        rows = read_rows(info["file"])
        assert len(rows) == info["rows"] > 0 and {row["course_id"] for row in rows} == {course}
        assert all(
            isinstance(row["user_id"], int) and isinstance(row["is_opted_in_for_email"], bool)
            for row in rows
        )


def check_warehouse(results: Path, events_per_course: dict[str, int]) -> None:
    """Every split event, SQL row and email row is in DuckDB exactly once, with the schema's types."""
    import duckdb

    counts = warehouse_counts(results)
    assert (results / "warehouse.duckdb").stat().st_mode & 0o777 == 0o600
    for course, events in events_per_course.items():
        assert counts[f"{course_base_name(course)}_logs.tracklog"] == events, course
    for base in newest_bundle_courses(results).values():
        receipt = json.loads(
            (results / "receipts" / "sql_course" / "demox-2026-11-08" / f"{base}.json").read_text()
        )
        for table, info in receipt["tables"].items():
            assert counts[f"{base}_latest.{table}"] == info["rows"], table
    email = json.loads((results / "receipts" / "email_opt_in" / "2026-11-08.json").read_text())
    for course, info in email["by_course"].items():
        assert counts[f"{course_base_name(course)}_latest.email_opt_in"] == info["rows"]
    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        types = dict(
            connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'DemoX__DS101__2026_T1_logs' AND table_name = 'tracklog'"
            ).fetchall()
        )
        duplicates = connection.execute(
            "SELECT count(*) - count(DISTINCT (time, username, event_type, event, session, page)) "
            "FROM DemoX__DS101__2026_T1_logs.tracklog"
        ).fetchone()[0]
        # the demo's geoip database places every learner's modal IP (made-up cities)
        modal, placed, cities = connection.execute(
            "SELECT count(ip), count(cc_by_ip), count(DISTINCT city) "
            "FROM DemoX__DS101__2026_T1_latest.person_course"
        ).fetchone()
        looked_up, geo_placed = connection.execute(
            "SELECT count(*), count(cc_by_ip) FROM demox_reports.geoip"
        ).fetchone()
    assert types["time"] == "TIMESTAMP WITH TIME ZONE" and types["context"].startswith("STRUCT(")
    assert duplicates == 0
    assert modal == placed > 0 and cities == 3
    assert looked_up == geo_placed >= cities


def test_keep_encrypted_keeps_the_downloads(demo, tmp_path):
    ran = snakemake(tmp_path, demo_config(demo, tmp_path, keep_encrypted=True), "decrypt")
    assert ran.returncode == 0, ran.stderr
    gpg_files = list((tmp_path / "results" / "raw").rglob("*.log.gz.gpg"))
    assert len(gpg_files) == DAYS


def test_latest_takes_one_log(demo, tmp_path):
    config = demo_config(
        demo,
        tmp_path,
        file_types=["log"],
        dates={**DEMO_DATES, "latest": True},
        keep_decrypted=True,
    )
    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stderr
    assert [p.name for p in (tmp_path / "results" / "decrypted" / "log" / "edx").iterdir()] == [
        "2026-11-08.log.gz"
    ]
    assert [
        p.name for p in (tmp_path / "results" / "receipts" / "split_tracking_log" / "edx").iterdir()
    ] == ["2026-11-08.json"]


def test_course_filter_and_dynamic_date(demo, tmp_path):
    config = demo_config(
        demo,
        tmp_path,
        file_types=["log"],
        courses=["course-v1:DemoX+DS101+2026_T1"],
        logs={"dynamic_date": True},
    )
    ran = snakemake(tmp_path, config, "split")
    assert ran.returncode == 0, ran.stderr
    courses = sorted(
        p.name for p in (tmp_path / "results" / "TRACKING_LOGS").iterdir() if "__" in p.name
    )
    assert courses == ["DemoX__DS101__2026_T1"]
    receipt = json.loads(
        (
            tmp_path / "results" / "receipts" / "split_tracking_log" / "edx" / "2026-11-05.json"
        ).read_text()
    )
    assert receipt["filtered_out"] > 0 and receipt["settings"]["dynamic_date"] is True


def test_nothing_matches_says_so_and_succeeds(demo, tmp_path):
    ran = snakemake(
        tmp_path, demo_config(demo, tmp_path, dates={"begin": "2019-01-01", "end": "2019-12-31"})
    )
    assert ran.returncode == 0, ran.stderr
    assert "No object matched the configuration" in ran.stdout + ran.stderr
    assert not (tmp_path / "results" / "raw").exists()


def test_invalid_config_stops_before_any_job(demo, tmp_path):
    ran = snakemake(tmp_path, demo_config(demo, tmp_path, colour="red"), "-n")
    assert ran.returncode != 0
    assert "unknown config key 'colour'" in ran.stdout + ran.stderr
    ran = snakemake(tmp_path, demo_config(demo, tmp_path, dates={"begin": "2026-13-01"}))
    assert ran.returncode != 0 and "config key 'dates.begin'" in ran.stdout + ran.stderr
    assert not (tmp_path / "results").exists()


def test_wrong_key_fails_naming_the_file_and_leaves_no_plaintext(demo, tmp_path):
    other = make_gnupghome(short_tempdir("other"))
    try:
        config = demo_config(
            demo, tmp_path, file_types=["log"], dates={**DEMO_DATES, "latest": True}
        )
        config["gpg"]["homedir"] = str(other)
        ran = snakemake(tmp_path, config)
    finally:
        kill_agent(other)
        shutil.rmtree(other, ignore_errors=True)
    assert ran.returncode != 0
    output = ran.stdout + ran.stderr
    assert "cannot decrypt" in output and "demox-edx-events-2026-11-08.log.gz.gpg" in output
    assert "which is not in the keyring" in output
    decrypted = tmp_path / "results" / "decrypted"
    assert not decrypted.exists() or not any(p.is_file() for p in decrypted.rglob("*"))


def test_from_a_real_s3_server(demo, tmp_path, s3, moto_endpoint):
    for bucket_dir in (demo / "source").iterdir():
        s3.create_bucket(Bucket=bucket_dir.name)
        for path in bucket_dir.rglob("*"):
            if path.is_file():
                s3.upload_file(str(path), bucket_dir.name, path.relative_to(bucket_dir).as_posix())
    config = demo_config(demo, tmp_path, file_types=["log", "email"])
    config["source"] = {"kind": "s3", "endpoint_url": moto_endpoint}
    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stderr
    assert (
        len(list((tmp_path / "results" / "receipts" / "split_tracking_log" / "edx").iterdir()))
        == DAYS
    )


def test_missing_bucket_on_s3_is_one_clear_message(demo, tmp_path, s3, moto_endpoint):
    config = demo_config(demo, tmp_path, file_types=["log"])
    config["source"] = {"kind": "s3", "endpoint_url": moto_endpoint}
    ran = snakemake(tmp_path, config)
    assert ran.returncode != 0
    assert "bucket 'edx-course-data' does not exist" in ran.stdout + ran.stderr


def test_passphrase_never_leaves_the_environment(keys, tmp_path):
    """A passphrase-protected key: the run decrypts, and the passphrase appears nowhere on disk or
    in Snakemake's output (config, params, metadata, logs)."""
    config, _ = protected_log_run(keys, tmp_path, "EDX_TEST_PASSPHRASE")
    config["keep_decrypted"] = True
    missing = snakemake(tmp_path, config)
    assert (
        missing.returncode != 0
        and "EDX_TEST_PASSPHRASE, which is not set" in missing.stdout + missing.stderr
    )
    ran = snakemake(tmp_path, config, env={"EDX_TEST_PASSPHRASE": PASSPHRASE})
    assert ran.returncode == 0, ran.stderr
    assert gzip.decompress(
        (tmp_path / "results" / "decrypted" / "log" / "edx" / "2026-11-08.log.gz").read_bytes()
    )
    assert PASSPHRASE not in ran.stdout + ran.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.stat().st_size < 10 << 20:
            assert PASSPHRASE.encode() not in path.read_bytes(), path


def test_loads_are_incremental_and_idempotent(demo, tmp_path):
    """Run twice, then add a day: only the new day is loaded, and the warehouse holds every split
    event exactly once."""
    results = tmp_path / "results"
    six_days = demo_config(
        demo, tmp_path, file_types=["log"], dates={"begin": "2026-11-01", "end": "2026-11-07"}
    )
    first = snakemake(tmp_path, six_days)
    assert first.returncode == 0, first.stderr
    day_receipts = sorted((results / "receipts" / "load" / "log" / "edx").iterdir())
    assert len(day_receipts) == DAYS - 1
    for path in day_receipts:
        day = path.stem.replace("-", "")
        assert all(
            course["loaded"] == [f"tracklog${day}"]
            for course in json.loads(path.read_text())["courses"].values()
        )
    written = {path: path.stat().st_mtime_ns for path in day_receipts}
    second = snakemake(tmp_path, six_days)
    assert second.returncode == 0 and "Nothing to be done" in second.stdout + second.stderr

    seven_days = demo_config(demo, tmp_path, file_types=["log"], dates=DEMO_DATES)
    third = snakemake(tmp_path, seven_days)
    assert third.returncode == 0, third.stderr
    events = {}
    for path in (results / "receipts" / "split_tracking_log" / "edx").iterdir():
        for course, count in json.loads(path.read_text())["by_course"].items():
            events[course_base_name(course)] = events.get(course_base_name(course), 0) + count
    counts = warehouse_counts(results)
    assert {
        path: path.stat().st_mtime_ns for path in day_receipts
    } == written  # the other days are not loaded again
    new_day = json.loads(
        (results / "receipts" / "load" / "log" / "edx" / "2026-11-08.json").read_text()
    )
    assert set(new_day["courses"]) == set(events)
    for base, count in events.items():
        assert new_day["courses"][base]["loaded"] == ["tracklog$20261108"]
        assert counts[f"{base}_logs.tracklog"] == count


def dependents(receipt: dict, changed: set[str]) -> set[str]:
    """The report tables of a receipt that read one of `changed`, directly or through another."""
    found = set()
    for name in receipt["order"]:
        inputs = receipt["tables"].get(name, {}).get("inputs", {})
        if (changed | found) & set(inputs):
            found.add(name)
    return found


USER_TABLE = """-- active_learners: a user's own table, in simeon's placeholder style.
-- reads: person_course
SELECT user_id, ndays_act FROM {latest_dataset}.person_course WHERE nevents > 0
"""


def test_report_tables_per_course_rebuild_only_what_changed(demo, tmp_path):
    """A report job per course builds its tables in {BASE}_latest, a user's own table from
    reports.query_dir among them; the next run has nothing to do; a new log day runs the report
    jobs again (through the one receipt over the log loads), and they rebuild only the tables that
    read the log; a template added to query_dir over a shipped one rebuilds that table and what
    reads it, nothing else."""
    results, queries = tmp_path / "results", tmp_path / "queries"
    queries.mkdir()
    (queries / "active_learners.sql").write_text(USER_TABLE)
    reports = {"query_dir": str(queries), "preview_rows": 2}
    dates = {"begin": "2026-11-03", "end": "2026-11-08"}
    six_days = demo_config(demo, tmp_path, dates=dates, reports=reports)
    first = snakemake(tmp_path, six_days)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    courses = newest_bundle_courses(results)
    shipped = len(build_order(load_templates(BUILTIN), "all"))
    each = shipped + 1  # and the user's table
    assert f"Report tables: 3 course(s), {each} table(s) each: {3 * each} rebuilt, 0 unchanged" in (
        output
    )
    counts = warehouse_counts(results)
    built = {}
    for course, base in courses.items():
        receipt = json.loads((results / "receipts" / "report" / f"{base}.json").read_text())
        assert receipt["course_id"] == course and receipt["warehouse"] == "duckdb"
        assert receipt["rebuilt"] and not receipt["failed"] and not receipt["unchanged"]
        assert {"video_axis", "active_learners"} <= set(receipt["rebuilt"])
        assert dependents(receipt, {"tracklog"}) & set(receipt["rebuilt"])
        for table in receipt["rebuilt"]:
            assert counts[f"{base}_latest.{table}"] == receipt["tables"][table]["rows"], table
        built[base] = set(receipt["rebuilt"])
        learners = receipt["person_course"]
        assert learners == person_course_counts(results, base)
        assert learners["learners"] == counts[f"{base}_latest.person_course"] > 0
        assert f"  {base}.person_course: {learners['learners']} learners, " in output
        assert f"{base}_latest.person_course, its first 2 row(s):" in output
    assert json.loads((results / "receipts" / "load" / "log.json").read_text())["files"] == DAYS - 1
    assert output.count(NO_GEO) == 1  # reports without geoip: said once, not per course
    organisation = "Organisation tables in demox_reports: course_summary 3 rows from 3 course(s)"
    assert organisation in output and "demox_reports.course_summary:" in output
    assert counts["demox_reports.person_course_all"] == sum(
        counts[f"{base}_latest.person_course"] for base in courses.values()
    )

    second = snakemake(tmp_path, six_days)
    assert second.returncode == 0 and "Nothing to be done" in second.stdout + second.stderr

    seven_days = demo_config(demo, tmp_path, reports=reports)  # 2026-11-02 too
    third = snakemake(tmp_path, seven_days)
    assert third.returncode == 0, third.stdout + third.stderr
    assert job_counts(third.stdout + third.stderr) == {
        "fetch_object": 1,
        "decrypt_log": 1,
        "split_tracking_log": 1,
        "load_files": 1,
        "logs_loaded": 1,
        "report_course": len(courses),
        "report_organisation": 1,
        "run_report": 1,
        "all": 1,
    }
    new_day = json.loads(
        (results / "receipts" / "load" / "log" / "edx" / "2026-11-02.json").read_text()
    )
    for base in courses.values():
        receipt = json.loads((results / "receipts" / "report" / f"{base}.json").read_text())
        derived = dependents(receipt, {"tracklog"}) & built[base]
        assert not receipt["failed"] and "active_learners" in derived
        assert set(receipt["rebuilt"]) == (derived if base in new_day["courses"] else set()), base
        assert set(receipt["unchanged"]) == built[base] - set(receipt["rebuilt"]), base
    assert any(base in new_day["courses"] for base in courses.values())

    shipped = (REPO / "sql" / "reports" / "pc_nchapters.sql").read_text()
    (queries / "pc_nchapters.sql").write_text(shipped + "-- our own copy\n")
    fourth = snakemake(tmp_path, seven_days)
    assert fourth.returncode == 0, fourth.stdout + fourth.stderr
    assert job_counts(fourth.stdout + fourth.stderr) == {
        "report_templates": 1,
        "report_course": len(courses),
        "report_organisation": 1,
        "run_report": 1,
        "all": 1,
    }
    for base in courses.values():
        receipt = json.loads((results / "receipts" / "report" / f"{base}.json").read_text())
        assert receipt["tables"]["pc_nchapters"]["reason"] == "changed"
        assert set(receipt["rebuilt"]) == {
            "pc_nchapters",
            "person_course",
            "active_learners",
            # they read person_course (explored, certified, mode)
            "show_answer_stats_by_user",
            "show_answer_stats_by_course",
        }, base
    assert "Nothing to be done" in snakemake(tmp_path, seven_days, "-n").stdout

    # A template that fails fails its course's job, naming the course, the table and the file;
    # the tables before it stay; once it is fixed, one run finishes the work.
    broken = queries / "active_learners.sql"
    broken.write_text(USER_TABLE.replace("ndays_act", "no_such_column"))
    fifth = snakemake(tmp_path, seven_days, "--keep-going")
    output = fifth.stdout + fifth.stderr
    assert fifth.returncode != 0
    for course, base in courses.items():
        assert f"  {base} (report): see {results / 'logs' / 'report' / base}.log" in output
        message = (results / "logs" / "report" / f"{base}.log").read_text()
        assert course in message and str(broken) in message and "no_such_column" in message
        assert "Traceback" not in message
        assert not (results / "receipts" / "report" / f"{base}.json").exists()
        assert (
            counts[f"{base}_latest.person_course"]
            == warehouse_counts(results)[f"{base}_latest.person_course"]
        )
    broken.write_text(USER_TABLE)
    sixth = snakemake(tmp_path, seven_days)
    assert sixth.returncode == 0, sixth.stdout + sixth.stderr
    for base in courses.values():
        receipt = json.loads((results / "receipts" / "report" / f"{base}.json").read_text())
        assert receipt["rebuilt"] == ["active_learners"], base
    assert "Nothing to be done" in snakemake(tmp_path, seven_days, "-n").stdout


def person_course_counts(results: Path, base: str) -> dict[str, int]:
    """person_course's counts, as a query over the DuckDB file gives them."""
    import duckdb

    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        row = connection.execute(
            "SELECT count(*), count_if(registered), count_if(viewed), count_if(explored), "
            f'count_if(certified), count_if(completed) FROM "{base}_latest".person_course'
        ).fetchone()
    names = ("learners", "registered", "viewed", "explored", "certified", "completed")
    return dict(zip(names, row))


def google_config(demo, tmp_path, gcs_server, bigquery_server, file_types, log_tables):
    """A demo config that publishes to a new bucket (named after the test) on `gcs_server` and
    loads into `bigquery_server`, and the environment that points the workflow at both."""
    bucket = f"edx-{tmp_path.name.lower().replace('_', '-')[-30:]}"
    gcs_server.client().create_bucket(bucket)
    config = demo_config(
        demo,
        tmp_path,
        file_types=file_types,
        storage={"kind": "gcs", "bucket": bucket},
        warehouse={"kind": "bigquery", "project": "test", "log_tables": log_tables},
    )
    env = {"STORAGE_EMULATOR_HOST": gcs_server.url, "BIGQUERY_EMULATOR_HOST": bigquery_server.url}
    return config, env


def test_publish_to_gcs_and_load_into_bigquery(demo, tmp_path, gcs_server, bigquery_server):
    """The production backends through their real protocols: per-course files to a GCS server,
    then BigQuery loads from the gs:// objects."""
    config, env = google_config(
        demo, tmp_path, gcs_server, bigquery_server, ["log", "sql", "email"], "sharded"
    )
    bucket = config["storage"]["bucket"]
    ran = snakemake(tmp_path, config, env=env)
    assert ran.returncode == 0, ran.stderr
    results = tmp_path / "results"
    names = {blob.name for blob in gcs_server.client().list_blobs(bucket)}
    client = bigquery_server.client()
    days = sorted((results / "receipts" / "publish" / "log" / "edx").iterdir())
    assert len(days) == DAYS
    shards = {}
    for path in days:
        published = json.loads(path.read_text())
        loaded = json.loads((results / "receipts" / "load" / "log" / "edx" / path.name).read_text())
        assert loaded["warehouse"] == "bigquery" and set(loaded["courses"]) == set(
            published["courses"]
        )
        for base, course in published["courses"].items():
            assert {item["name"] for item in course["objects"]} <= names
            assert all(
                item["name"].startswith(f"TRACKING-LOGS/{base}/tracklog-")
                for item in course["objects"]
            )
            for table, info in loaded["courses"][base]["tables"].items():
                shards[f"{base}_logs.{table}"] = info["rows"]
    assert len(shards) == DAYS * 3
    for table, rows in shards.items():
        count = next(iter(client.query(f"SELECT COUNT(*) AS n FROM `test.{table}`").result())).n
        assert count == rows > 0, table
    email = json.loads((results / "receipts" / "load" / "email" / "2026-11-08.json").read_text())
    for base in newest_bundle_courses(results).values():
        rows = email["courses"][base]["tables"]["email_opt_in"]["rows"]
        assert client.get_table(f"test.{base}_latest.email_opt_in").num_rows == rows
        split = json.loads(
            (results / "receipts" / "sql_course" / "demox-2026-11-08" / f"{base}.json").read_text()
        )
        for table, info in split[
            "tables"
        ].items():  # every SQL and derived table, from its gs:// object
            assert client.get_table(f"test.{base}_latest.{table}").num_rows == info["rows"], table

    again = snakemake(tmp_path, config, env=env)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_partitioned_logs_load_into_bigquery_day_by_day(
    demo, tmp_path, gcs_server, bigquery_server
):
    """Partitioned tracklog tables (dynamic_date: a daily file may hold the day before's events),
    loaded a day at a time, side by side, from the published objects: every split event once."""
    config, env = google_config(demo, tmp_path, gcs_server, bigquery_server, ["log"], "partitioned")
    ran = snakemake(tmp_path, config, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    events = {}
    for path in (tmp_path / "results" / "receipts" / "split_tracking_log" / "edx").iterdir():
        for course, count in json.loads(path.read_text())["by_course"].items():
            events[course_base_name(course)] = events.get(course_base_name(course), 0) + count
    client = bigquery_server.client()
    for base, count in events.items():
        rows = client.query(
            f"SELECT COUNT(*) AS n, COUNT(DISTINCT CONCAT(CAST(time AS STRING), event_type, "
            f"IFNULL(event, ''))) AS d FROM `test.{base}_logs.tracklog`"
        ).result()
        assert [(row.n, row.d) for row in rows] == [(count, count)], base
    again = snakemake(tmp_path, config, "-n", env=env)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_a_missing_bucket_fails_publish_with_one_clear_message(demo, tmp_path, gcs_server):
    config = demo_config(
        demo, tmp_path, file_types=["email"], storage={"kind": "gcs", "bucket": "no-such-bucket"}
    )
    ran = snakemake(tmp_path, config, env={"STORAGE_EMULATOR_HOST": gcs_server.url})
    assert ran.returncode != 0
    assert "the bucket gs://no-such-bucket does not exist" in ran.stdout + ran.stderr
    assert not list((tmp_path / "results" / "receipts").glob("publish/*/*.json"))


def test_missing_google_credentials_fail_the_load_with_one_clear_message(demo, tmp_path):
    config = demo_config(demo, tmp_path, file_types=["email"], warehouse={"kind": "bigquery"})
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "BIGQUERY_", "STORAGE_EMULATOR", "CLOUDSDK_"))
    }
    environment.update(HOME=str(tmp_path), NO_GCE_CHECK="true")
    ran = subprocess.run(
        snakemake_command(tmp_path, config),
        capture_output=True,
        text=True,
        env=environment,  # not added to this process's: in place of it
        timeout=600,
    )
    assert ran.returncode != 0
    assert (
        "no Google credentials found: set warehouse.service_account_file" in ran.stdout + ran.stderr
    )
    assert not list((tmp_path / "results" / "receipts").glob("load/*/*.json"))


def owner_only_tree(root: Path) -> dict[str, str]:
    """path -> mode of every directory (expected 0700) and file (0600) under root that is not so."""
    wrong = {}
    for path in [root, *root.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        if path.stat().st_mode & 0o777 != expected:
            wrong[str(path.relative_to(root))] = oct(path.stat().st_mode & 0o777)
    return wrong


def test_decrypted_email_csvs_go_once_split_and_email_folders_are_owner_only(demo, tmp_path):
    results = tmp_path / "results"
    config = demo_config(demo, tmp_path, file_types=["email"])
    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stderr
    assert not (results / "decrypted" / "email" / "2026-11-08").exists()
    receipt = json.loads((results / "receipts" / "email_opt_in" / "2026-11-08.json").read_text())
    assert len(receipt["by_course"]) == 3 and receipt["passed_over"] == []
    for course in receipt["by_course"]:
        assert owner_only_tree(results / "EMAIL" / course_base_name(course)) == {}
    again = snakemake(tmp_path, config)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


MTIME_ONLY = ("--rerun-triggers", "mtime")


def between(path: Path, earlier: Path, later: Path) -> Path:
    """Give `path` (and what it holds) a time between those of two files, as when a job wrote it."""
    middle = (earlier.stat().st_mtime_ns + later.stat().st_mtime_ns) // 2
    for each in [*path.rglob("*"), path] if path.is_dir() else [path]:
        os.utime(each, ns=(middle, middle))
    return path


def test_the_next_run_starts_by_removing_the_plaintext_a_killed_run_left(demo, tmp_path):
    """Plaintext a run killed after the split left behind (its temporary files not yet removed) is
    gone before the next run's first job, and kept with keep_decrypted."""
    results = tmp_path / "results"
    one_day = demo_config(
        demo,
        tmp_path,
        file_types=["log", "email"],
        dates={"begin": "2026-11-08", "end": "2026-11-08"},
    )
    # file times alone decide what runs again: code edited between the runs must not
    first = snakemake(tmp_path, one_day, *MTIME_ONLY)
    assert first.returncode == 0, first.stderr
    versions = results / "manifests" / "versions"
    log_version = next(versions.rglob("*2026-11-08.log.gz.gpg.json"))
    email_version = next(versions.rglob("*.zip.json"))
    email_key = email_version.relative_to(versions).as_posix().removesuffix(".json")

    def leave_leftovers():
        log = results / "decrypted" / "log" / "edx" / "2026-11-08.log.gz"
        log.parent.mkdir(parents=True, exist_ok=True)  # 0755, as an earlier version made them
        log.write_bytes(gzip.compress(b'{"username": "alice"}\n'))
        email = results / "decrypted" / "email" / "2026-11-08"
        email.mkdir(parents=True, exist_ok=True)
        (email / "demox-email_opt_in-prod-analytics.csv").write_text(
            "user_id,email\n1,alice@example.org\n"
        )
        for path in (log, email, email.parent, *email.iterdir()):
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        download = results / "raw" / email_key
        download.parent.mkdir(parents=True, exist_ok=True)
        download.write_bytes((demo / "source" / email_key).read_bytes())
        scratch = (
            results
            / "SQL"
            / "DemoX__DS101__2026_T1"
            / ".2026-11-08.x7k2"
            / ".members"
            / "auth_user.sql"
        )
        scratch.parent.mkdir(parents=True)
        scratch.write_text("1\talice\talice@example.org\tpbkdf2_sha256$hash\n")
        between(
            log,
            log_version,
            results / "receipts" / "split_tracking_log" / "edx" / "2026-11-08.json",
        )
        between(
            email, email_version, results / "receipts" / "decrypt" / "email" / "2026-11-08.json"
        )
        between(
            download, email_version, results / "receipts" / "decrypt" / "email" / "2026-11-08.json"
        )
        return log, email, download, scratch.parents[1]

    log, email, download, scratch = leave_leftovers()
    two_days = demo_config(
        demo,
        tmp_path,
        file_types=["log", "email"],
        dates={"begin": "2026-11-07", "end": "2026-11-08"},
    )
    planned = snakemake(tmp_path, two_days, *MTIME_ONLY, "-n")  # a dry run removes nothing
    assert planned.returncode == 0 and all(
        path.exists() for path in (log, email, download, scratch)
    )
    second = snakemake(tmp_path, two_days, *MTIME_ONLY)
    assert second.returncode == 0, second.stderr
    output = second.stdout + second.stderr
    assert output.index("Removed 4 file(s) an interrupted run left behind") < output.index(
        "rule decrypt_log"
    )
    assert not any(path.exists() for path in (log, email, download, scratch))
    assert job_counts(output) == {
        "fetch_object": 1,
        "decrypt_log": 1,
        "split_tracking_log": 1,
        "load_files": 1,
        "run_report": 1,
        "all": 1,
    }

    log, email, download, scratch = leave_leftovers()
    kept = demo_config(
        demo,
        tmp_path,
        file_types=["log", "email"],
        dates={"begin": "2026-11-06", "end": "2026-11-08"},
        keep_decrypted=True,
    )
    third = snakemake(tmp_path, kept, *MTIME_ONLY)
    assert third.returncode == 0, third.stderr
    assert log.exists() and email.exists() and not download.exists() and not scratch.exists()
    assert (results / "decrypted" / "log" / "edx" / "2026-11-06.log.gz").exists()
    assert owner_only_tree(results / "decrypted") == {}


def test_a_zip_slip_member_is_named_at_the_end_and_written_nowhere(demo, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(demo / "source", source)
    bundle = next(source.rglob("demox-2026-11-08.zip"))
    with zipfile.ZipFile(bundle, "a") as archive:
        archive.writestr(
            "../../../../../evil.sql.gpg",
            (demo / "source")
            .joinpath(
                next(p for p in (demo / "source").rglob("*.log.gz.gpg")).relative_to(
                    demo / "source"
                )
            )
            .read_bytes(),
        )
    config = demo_config(
        demo, tmp_path, file_types=["sql"], courses=["course-v1:DemoX+DS101+2026_T1"]
    )
    config["source"]["local_root"] = str(source)
    ran = snakemake(tmp_path, config)
    assert ran.returncode == 0, ran.stderr
    output = ran.stdout + ran.stderr
    assert (
        "1 member(s) of demox-2026-11-08.zip refused as unsafe paths, not read: ../../../../../evil.sql.gpg"
        in output
    )
    assert "Members of demox-2026-11-08.zip refused as unsafe paths" in output
    assert not [p for p in tmp_path.parent.rglob("evil*")]
