"""The results folder fills up (a small tmpfs mounted on it; skipped where mounting is not
allowed): the run fails with one message naming the file, leaves no half-written file and no job's
outputs in part, and once there is room again the next run equals a clean run."""

import pytest

from tests.disks import grow, small_tmpfs
from tests.faults.harness import (
    assert_clear_message,
    assert_left_clean,
    fault_config,
    file_digests,
    run,
)
from tests.helpers import table_contents

pytestmark = pytest.mark.workflow

FILES = ("TRACKING_LOGS/*__*/*.json.gz", "SQL/*/2026-11-08/*.json.gz", "EMAIL/*__*/*.json.gz")


@pytest.fixture
def small_results(tmp_path, request):
    """tmp_path/results on a tmpfs of the requested size."""
    with small_tmpfs(tmp_path / "results", request.param, mode="0755") as results:
        yield results


# 1 MB fills up while the files are split; 12 MB while the warehouse is loaded.
@pytest.mark.parametrize("small_results", ["1m", "12m"], indirect=True)
def test_a_full_results_folder_fails_cleanly_and_a_rerun_converges(
    package, clean, tmp_path, small_results
):
    config = fault_config(package, tmp_path)
    ran = run(tmp_path, config, "--keep-going")
    assert ran.returncode != 0, ran.output[-3000:]
    assert_clear_message(ran.output, None, [], "No space left on device")
    full = [line for line in ran.output.splitlines() if "no space left on device" in line.lower()]
    assert any(str(small_results) in line for line in full), (
        "no message names the file:\n" + "\n".join(full)
    )
    assert_left_clean(tmp_path)

    grow(small_results, "256m")
    again = run(tmp_path, config)
    assert again.returncode == 0, again.output[-5000:]
    assert file_digests(small_results, *FILES) == file_digests(clean / "results", *FILES)
    assert table_contents(small_results) == table_contents(clean / "results")
    assert_left_clean(tmp_path)
