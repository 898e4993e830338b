""".test/, the integration-test configuration, run with the commands of .test/README.md (what the
Snakemake workflow catalog's CI runs), on a copy in a temporary directory: the repository gets
nothing written into it."""

import base64
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edxflow.core.courses import course_base_name
from tests.helpers import REPO, job_counts, kill_agent, short_tempdir

pytestmark = pytest.mark.workflow

DOT_TEST = REPO / ".test"

# The documented commands, run from the repository root; here `.test` is the copy's path.
GENERATE = "python scripts/make_demo_package.py .test/package"
RUN = "snakemake --directory .test --cores 2"
REPORT = "snakemake --directory .test --cores 2 --report report.html"


def from_repo_root(command: str, dot_test: Path, *extra: str) -> subprocess.CompletedProcess:
    """A documented command with `.test` replaced by `dot_test`, run from the repository root with
    this interpreter (its environment's `python` and `snakemake`)."""
    program, *args = command.replace(".test", str(dot_test)).split()
    prefix = [sys.executable] if program == "python" else [sys.executable, "-m", program]
    return subprocess.run(
        [*prefix, *args, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )


@pytest.fixture
def dot_test():
    """A copy of .test/config in a short temporary directory (gpg-agent's socket path is short)."""
    root = short_tempdir("dottest")
    copy = root / ".test"
    shutil.copytree(DOT_TEST / "config", copy / "config")
    yield copy
    kill_agent(copy / "package" / "gnupg")
    shutil.rmtree(root, ignore_errors=True)


def test_readme_documents_the_commands():
    readme = (DOT_TEST / "README.md").read_text()
    for command in (GENERATE, RUN, REPORT):
        assert command in readme, command


def test_dot_test_runs_converges_and_reports(dot_test):
    in_repo = sorted(path.name for path in DOT_TEST.iterdir())

    made = from_repo_root(GENERATE, dot_test)
    assert made.returncode == 0, made.stderr
    assert (dot_test / "package" / "DEMO_PACKAGE").exists()

    planned = from_repo_root(RUN, dot_test, "-n")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    counts = job_counts(planned.stdout + planned.stderr)
    assert counts["fetch_object"] == 9 and counts["split_tracking_log"] == 7, counts
    assert not (dot_test / "results" / "receipts").exists()

    ran = from_repo_root(RUN, dot_test)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = dot_test / "results"
    assert len(list((results / "receipts" / "split_tracking_log" / "edx").iterdir())) == 7
    assert len(list((results / "receipts" / "sql_course" / "demox-2026-11-08").iterdir())) == 3
    assert (results / "warehouse.duckdb").exists()

    again = from_repo_root(RUN, dot_test)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing to be done" in again.stdout + again.stderr

    reported = from_repo_root(REPORT, dot_test)
    assert reported.returncode == 0, reported.stdout + reported.stderr
    report = dot_test / "report.html"
    assert report.stat().st_size > 0
    # the captions of workflow/report/ are in it
    text = report.read_text()
    assert "one daily tracking log" in text and "index of the newest" in text
    check_run_report(results, text)
    check_progress_lines(results)

    assert sorted(path.name for path in DOT_TEST.iterdir()) == in_repo


RUN_REPORT = (
    "events_per_day.png",
    "no_course_and_rejects_per_day.png",
    "step_times.png",
    "table_rows.html",
    "table_rows.csv",
    "package_objects.html",
    "package_objects.csv",
    "plot_data.json",
)


def check_run_report(results: Path, report_html: str) -> None:
    """The run report's plots and tables are in the report, byte for byte the files of
    results/run_report/, and hold what the receipts say."""
    start = report_html.index("var results = {") + len("var results = ")
    in_report, _ = json.JSONDecoder().raw_decode(report_html, start)
    by_name = {Path(path).name: entry for path, entry in in_report.items()}
    for name in RUN_REPORT:
        entry = by_name[name]
        assert entry["job_properties"]["rule"] == "run_report", name
        embedded = base64.b64decode(entry["data_uri"].split(";base64,", 1)[1])
        assert embedded == (results / "run_report" / name).read_bytes(), name
    assert by_name["events_per_day.png"]["mime_type"] == "image/png"

    splits = [
        json.loads(path.read_text())
        for path in sorted((results / "receipts" / "split_tracking_log" / "edx").iterdir())
    ]
    data = json.loads((results / "run_report" / "plot_data.json").read_text())
    drawn = data["events_per_day"]
    assert drawn["days"] == [receipt["input"]["date"] for receipt in splits]
    for n, receipt in enumerate(splits):
        assert sum(values[n] for values in drawn["series"].values()) == sum(
            receipt["by_course"].values()
        )
        outside = data["no_course_and_rejects_per_day"]["series"]
        assert outside["no course"][n] == receipt["no_course"]
        assert sum(values[n] for values in outside.values()) == (
            receipt["no_course"] + receipt["rejected"]
        )
    events = {}
    for receipt in splits:
        for course, count in receipt["by_course"].items():
            events[course] = events.get(course, 0) + count
    assert data["events_by_course"] == events and len(events) == 3

    with open(results / "run_report" / "table_rows.csv", newline="") as handle:
        rows = {(row["course"], row["table"]): row for row in csv.DictReader(handle)}
    for course, count in events.items():
        assert rows[(course_base_name(course), "tracklog")]["rows"] == str(count), course
    for path in (results / "receipts" / "sql_course" / "demox-2026-11-08").iterdir():
        receipt = json.loads(path.read_text())
        for table, info in receipt["tables"].items():
            assert rows[(receipt["base"], table)]["rows"] == str(info["rows"]), table
        person_course = rows[(receipt["base"], "person_course")]
        assert person_course["stage"] == "report" and person_course["status"] == "rebuilt"
    with open(results / "run_report" / "package_objects.csv", newline="") as handle:
        objects = list(csv.DictReader(handle))
    assert len(objects) == 9 and {item["status"] for item in objects} == {"selected"}
    assert data["step_times"]["steps"]["split_tracking_log"]["jobs"] == 7


def check_progress_lines(results: Path) -> None:
    """The long steps' jobs end their logs with a progress line (the course or day, the bytes,
    the time and the rate): what a user watches to see how far a long job is."""
    for path in (results / "logs" / "sql_course" / "demox-2026-11-08").iterdir():
        lines = [line for line in path.read_text().splitlines() if " sql_course " in line]
        assert len(lines) == 1 and " INFO sql_course DemoX/" in lines[0], path
        assert ": done, " in lines[0] and lines[0].endswith("B/s"), lines[0]
    log = (results / "logs" / "load" / "log" / "edx" / "2026-11-02.log").read_text()
    assert " INFO load_files log edx/2026-11-02: done, " in log and " rows) in " in log
