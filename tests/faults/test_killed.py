"""SIGKILL of a whole run (Snakemake and its jobs) in the middle of a split and in the middle of a
load: after `--unlock`, the next run finishes the work, and its files and warehouse are those of a
clean run, byte for byte."""

import pytest

from tests.faults.harness import (
    DAYS,
    assert_completed,
    assert_left_clean,
    fault_config,
    file_digests,
    kill_when,
    run,
    start,
    tables_of,
)
from tests.helpers import table_contents

pytestmark = pytest.mark.workflow

LOGS = (
    "TRACKING_LOGS/*__*/*.json.gz",
    "TRACKING_LOGS/no_course/*.json.gz",
    "TRACKING_LOGS/rejects/*.json.gz",
)


def running_job(results, step):
    """A day whose `step` job has started (its log, or a half-written split file, is there) and not
    finished (no receipt)."""

    def find():
        logs = results / "logs" / step
        started = {path.stem for path in logs.glob("*.log")} if logs.exists() else set()
        if step.startswith("split"):
            started |= {
                part.name.split(".")[1].split("-", 1)[1]
                for part in (results / "TRACKING_LOGS").rglob(".*.part")
            }
        receipts = results / "receipts" / step
        return sorted(day for day in started if not (receipts / f"{day}.json").exists())

    return find


@pytest.mark.parametrize("step", ["split_tracking_log/edx", "load/log/edx"])
def test_a_run_killed_mid_step_is_finished_by_the_next(package, clean, tmp_path, step):
    config = fault_config(package, tmp_path, file_types=["log"])
    results = tmp_path / "results"
    killed_in = kill_when(start(tmp_path, config), running_job(results, step))
    assert running_job(results, step)(), f"the run was not killed inside a {step} job"
    assert not set(DAYS) <= {
        path.stem for path in (results / "receipts" / "load" / "log" / "edx").glob("*.json")
    }

    locked = run(tmp_path, config)
    assert locked.returncode != 0 and "--unlock" in locked.output, locked.output
    assert run(tmp_path, config, "--unlock").returncode == 0
    resumed = run(tmp_path, config)
    assert resumed.returncode == 0, resumed.output
    assert "Nothing to be done" in run(tmp_path, config, "-n").output

    assert file_digests(results, *LOGS) == file_digests(clean / "results", *LOGS), (
        f"killed in {killed_in}"
    )
    assert tables_of(table_contents(results), "_logs") == tables_of(
        table_contents(clean / "results"), "_logs"
    )
    assert not [path for path in (results / "decrypted").rglob("*") if path.is_file()]
    assert_completed(results, bases=[], email=False)
    assert_left_clean(tmp_path)
