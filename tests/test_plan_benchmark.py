"""The planning benchmark at a small size: its figures are printed, not asserted; it fails only when
the run after a complete one is not a no-op."""

import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.workflow


def test_plan_benchmark_runs_and_the_complete_results_are_a_no_op(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "plan_time.py"),
            "--sizes",
            "1x10",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| 1 year(s) x 10 courses (365 days, 53 bundles) | 471 |" in done.stdout
