""".test/, the integration-test configuration, run with the commands of .test/README.md (what the
Snakemake workflow catalog's CI runs), on a copy in a temporary directory: the repository gets
nothing written into it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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

    assert sorted(path.name for path in DOT_TEST.iterdir()) == in_repo
