"""The cluster profile on a real SLURM: the demo runs through `snakemake --profile
workflow/profiles/slurm` and the SLURM executor plugin on a one-node cluster this module starts
(tests/slurm/slurm_up.sh: munged, slurmctld and slurmd with their files in a temp dir), and the
warehouse and the per-course files equal those of a local run of the same configuration. The
demo key has a passphrase here, in a variable set for the submitting process only: the jobs get
it from the environment SLURM passes on.

Needs root and Debian's packages (.ci/run installs them):

    apt-get install slurm-wlm slurmctld slurmd slurm-client munge
    .venv/bin/python -m pytest -p no:cacheprovider tests/test_slurm.py

Without them the test is skipped, except under CI=true, where it fails.

What the cluster lacks is given on the command line, not in the shipped profile: no accounting
database (job states from `squeue`, no account) and a first status check after 5 s rather than 40.
"""

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import (
    PASSPHRASE,
    REPO,
    demo_config,
    kill_agent,
    short_tempdir,
    snakemake,
    table_contents,
)

pytestmark = pytest.mark.workflow

SLURM = REPO / "tests" / "slurm"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
INSTALL = "apt-get install slurm-wlm slurmctld slurmd slurm-client munge"
BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "sinfo", "scontrol"]
# The variable the config names for the key's passphrase: set for the submitting process only.
PASSPHRASE_ENV = "EDXFLOW_SLURM_TEST_PASSPHRASE"
# Two of the demo's seven days: a day's group holds more than one day, and the run stays short
# (every job on the cluster starts a Snakemake of its own, and the loads queue for the one DuckDB
# writer). The SQL bundle and the email file are dated on the last day.
DATES = {"begin": "2026-11-07", "end": "2026-11-08"}
# What the local cluster lacks: accounting (so `sacct`) and accounts. And a first status check
# after 5 s instead of 40: the executor checks again 15 s later, then 25 s after that, and so on
# until a job has finished; most jobs here take 8 to 20 s (half of it Snakemake starting in the
# job), and the loads and report jobs run one after the other.
LOCAL_CLUSTER = [
    "--slurm-status-command",
    "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "5",
    # every job's SLURM log stays in .snakemake/slurm_logs, to read when something failed
    "--slurm-keep-successful-logs",
]


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run this test (.ci/run installs SLURM)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster():
    """A one-node SLURM cluster of this module's own (its SLURM_CONF), stopped at the end if
    this fixture started it."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        unavailable(f"SLURM is not installed ({', '.join(missing)} missing): {INSTALL}")
    if os.geteuid() != 0:
        unavailable("starting slurmd and munged needs root")
    root = short_tempdir("slurm")
    up = subprocess.run(
        ["bash", str(SLURM / "slurm_up.sh"), str(root)], capture_output=True, text=True, timeout=120
    )
    started = [
        name
        for line in up.stdout.splitlines()
        if line.startswith("started:")
        for name in line.removeprefix("started:").split()
    ]
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield {
            "dir": root,
            "env": {
                "SLURM_CONF": str(root / "slurm.conf"),
                # srun as the jobs must find it (see slurm_up.sh)
                "PATH": f"{root / 'bin'}:{os.environ['PATH']}",
            },
        }
    finally:
        if started:
            subprocess.run(
                ["bash", str(SLURM / "slurm_down.sh"), str(root), *started],
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def protected_demo(demo):
    """The module's demo package with a passphrase on its key: jobs decrypt only if the
    variable holding it reaches them."""
    home = demo / "gnupg"
    fingerprint = next(
        line.split(":")[9]
        for line in subprocess.run(
            ["gpg", "--homedir", str(home), "--batch", "--with-colons", "--list-secret-keys"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        if line.startswith("fpr:")
    )
    subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback"]
        + ["--passphrase", PASSPHRASE, "--passwd", fingerprint],
        capture_output=True,
        check=True,
    )
    kill_agent(home)  # nothing cached: the jobs' gpg asks for it
    return demo


def run_config(demo: Path, workdir: Path) -> dict:
    return demo_config(
        demo,
        workdir,
        dates=dict(DATES),
        gpg={"homedir": str(demo / "gnupg"), "passphrase_env": PASSPHRASE_ENV},
    )


@pytest.fixture(scope="module")
def local_run(protected_demo, tmp_path_factory):
    """The same configuration run locally: (results folder, seconds)."""
    workdir = tmp_path_factory.mktemp("local")
    started = time.monotonic()
    ran = snakemake(workdir, run_config(protected_demo, workdir), env={PASSPHRASE_ENV: PASSPHRASE})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return workdir / "results", time.monotonic() - started


def per_course_files(results: Path) -> dict[str, str]:
    """Every per-course file (logs, SQL tables, email tables) -> a digest of its content."""
    return {
        str(path.relative_to(results)): hashlib.sha256(
            gzip.decompress(path.read_bytes())
        ).hexdigest()
        for folder in ("TRACKING_LOGS", "SQL", "EMAIL")
        for path in sorted((results / folder).rglob("*.json.gz"))
    }


GEOIP = "demox_reports.geoip"


def geoip_rows(results: Path) -> list[tuple]:
    """The organisation's geoip rows without their lookup times."""
    import duckdb

    with duckdb.connect(str(results / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(
            f"SELECT * EXCLUDE (timestamp) FROM {GEOIP} ORDER BY ALL"
        ).fetchall()


def cluster_jobs(env: dict) -> list[dict]:
    """The jobs slurmctld still knows (MinJobAge keeps finished ones for a while)."""
    listed = subprocess.run(
        ["squeue", "--states=all", "-h", "-o", "%i|%k|%m|%l|%C|%T"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    ).stdout
    names = ["id", "comment", "memory", "time_limit", "cpus", "state"]
    return [dict(zip(names, line.split("|"))) for line in listed.splitlines()]


def test_the_demo_through_the_cluster_profile_equals_a_local_run(
    cluster, protected_demo, local_run, tmp_path
):
    local, local_seconds = local_run
    kill_agent(protected_demo / "gnupg")  # no passphrase cached by the local run's gpg
    started = time.monotonic()
    ran = snakemake(
        tmp_path,
        run_config(protected_demo, tmp_path),
        "--profile",
        str(PROFILE),
        *LOCAL_CLUSTER,
        env={**cluster["env"], PASSPHRASE_ENV: PASSPHRASE},
        cores=None,
        timeout=900,
    )
    seconds = time.monotonic() - started
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output

    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", output)
    known = {job["id"]: job for job in cluster_jobs(cluster["env"])}
    jobs = [known[number] for number in submitted]
    kinds = Counter(re.sub(r"_wildcards_.*", "", job["comment"]) for job in jobs)
    print(
        f"\nSLURM run {seconds:.0f} s, local run {local_seconds:.0f} s; "
        f"{len(jobs)} SLURM jobs: {dict(sorted(kinds.items()))}"
    )
    assert all(job["state"] == "COMPLETED" for job in jobs), jobs
    # The profile's groups: both days' downloads, decryptions and splits (with the bundle's and
    # the email file's downloads) in one submission; a course's load and report tables in one; a
    # day's load, the email file's, each course's SQL split, and the rest one each.
    assert kinds == {
        "rule_daily_decrypt_log_fetch_object_split_tracking_log": 1,
        "rule_course_load_files_report_course": 3,
        "rule_course_load_files": 3,
        "rule_sql_course": 3,
        "rule_index_bundle": 1,
        "rule_decrypt_email": 1,
        "rule_email_opt_in": 1,
        "rule_report_organisation": 1,
    }
    # What they asked SLURM for is the profile's: default-resources, set-resources, and for a
    # group (its jobs run one after the other) one CPU, its largest memory, its runtimes added up.
    asked = {
        (job["comment"].split("_wildcards_")[0], job["memory"], job["time_limit"], job["cpus"])
        for job in jobs
    }
    assert asked == {
        ("rule_daily_decrypt_log_fetch_object_split_tracking_log", "2000M", "1:20:00", "1"),
        ("rule_course_load_files_report_course", "8000M", "3:00:00", "1"),
        ("rule_course_load_files", "8000M", "1:00:00", "1"),
        ("rule_sql_course", "16000M", "4:00:00", "1"),
        ("rule_index_bundle", "2000M", "30:00", "1"),
        ("rule_decrypt_email", "2000M", "30:00", "1"),
        ("rule_email_opt_in", "2000M", "30:00", "1"),
        ("rule_report_organisation", "16000M", "2:00:00", "1"),
    }
    # The passphrase went to the jobs with the environment SLURM keeps for each of them.
    environments = list((cluster["dir"] / "state").rglob("environment"))
    assert environments and all(PASSPHRASE.encode() in path.read_bytes() for path in environments)

    results = tmp_path / "results"
    assert per_course_files(results) == per_course_files(local)
    cluster_tables, local_tables = table_contents(results), table_contents(local)
    # geoip rows carry the time of their lookup: the rest of them must be equal
    assert cluster_tables.pop(GEOIP)[0] == local_tables.pop(GEOIP)[0] > 0
    assert geoip_rows(results) == geoip_rows(local)
    assert cluster_tables == local_tables
