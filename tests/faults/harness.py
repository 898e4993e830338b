"""What every fault test shares: a small package encrypted to a passphrase-protected key, real
Snakemake runs on it (killed when asked), and the assertions every fault must pass.

The package is the demo's (scripts/edxflow/demo/) for three days, encrypted to the `keys`
fixture's protected key, so that a run needs the passphrase and the suite can look for it in
every file the run leaves."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from edxflow.core.courses import course_base_name
from edxflow.demo import build_package, encrypted_object_bytes, zip_bytes
from tests.helpers import (
    PASSPHRASE,
    accounted,
    demo_config,
    snakemake_command,
    warehouse_counts,
)

PASSPHRASE_ENV = "EDXFLOW_FAULT_PASSPHRASE"
END = dt.date(2026, 11, 8)
DAYS = ["2026-11-06", "2026-11-07", "2026-11-08"]
DATES = {"begin": DAYS[0], "end": DAYS[-1]}
BUNDLE = "demox-2026-11-08"
COURSES = {"DemoX/DS101/2026_T1", "DemoX/PHY-2.1x/2025_Fall", "DemoX/CS.50x/1T2026"}
BASES = {course_base_name(course) for course in COURSES}
PRIVATE_KEY_HEADER = b"-----BEGIN PGP PRIVATE KEY"
# Folders of decrypted personal data (README, "Outputs, privacy and failures"): owner-only.
PRIVATE_FOLDERS = ("decrypted", "SQL", "EMAIL", "TRACKING_LOGS")


@dataclass
class Package:
    """A package source folder ({source}/{bucket}/{key}) and the plain text it was made from."""

    source: Path
    plain: dict[str, bytes | dict[str, bytes]]  # "{bucket}/{key}" -> plain text, or a zip's members
    keys: object  # tests.helpers.Keys

    def path(self, name: str) -> Path:
        return self.source / name

    def copy(self, directory: Path) -> "Package":
        shutil.copytree(self.source, directory / "source")
        return Package(directory / "source", self.plain, self.keys)

    def encrypt(self, data: bytes, key: str | None = None) -> bytes:
        return self.keys.encrypt(data, key or self.keys.protected_key)

    def write_zip(self, name: str, members: dict[str, bytes]) -> None:
        """Replace a zip object with these (already encrypted or raw) members."""
        self.path(name).write_bytes(zip_bytes(members, END))


def log_object(day: str) -> str:
    return f"edx-course-data/demox/edx/events/2026/demox-edx-events-{day}.log.gz.gpg"


BUNDLE_OBJECT = f"course-data/{BUNDLE}.zip"
EMAIL_OBJECT = "course-data/email-opt-in/email-opt-in-demox-2026-11-08.zip"


def make_package(root: Path, keys) -> Package:
    """The demo package for DAYS: the logs and the email file encrypted to the protected key (a run
    needs the passphrase), the bundle's members to the key without one (each decryption with the
    passphrase costs gpg-agent a key derivation, and a bundle has 44 members)."""
    plan = build_package(end_date=END, days=len(DAYS))
    plain = {}
    for planned in plan.objects:
        target = root / "source" / planned.bucket / planned.key
        target.parent.mkdir(parents=True, exist_ok=True)
        key = keys.plain_key if planned.key.startswith("demox-") else keys.protected_key
        target.write_bytes(encrypted_object_bytes(keys.gpg, key, planned, END))
        plain[planned.path] = (
            planned.plaintext if planned.zip_members is None else planned.zip_members
        )
    return Package(root / "source", plain, keys)


def fault_config(package: Package, workdir: Path, **changes) -> dict:
    config = demo_config(package.source.parent, workdir, dates=DATES, **changes)
    config["gpg"] = {"homedir": str(package.keys.home), "passphrase_env": PASSPHRASE_ENV}
    return config


def run_env(env: dict | None = None) -> dict:
    return {**os.environ, PASSPHRASE_ENV: PASSPHRASE, **(env or {})}


@dataclass
class Ran:
    returncode: int
    output: str  # stdout and stderr together
    seconds: float


def start(workdir: Path, config: dict, *args, env: dict | None = None) -> subprocess.Popen:
    """Snakemake in a session of its own (so the whole process group can be killed)."""
    return subprocess.Popen(
        snakemake_command(workdir, config, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=run_env(env),
        start_new_session=True,
    )


def run(workdir: Path, config: dict, *args, env: dict | None = None, timeout: float = 240) -> Ran:
    """One Snakemake run; past `timeout` its whole process group is killed and the test fails."""
    began = time.monotonic()
    process = start(workdir, config, *args, env=env)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        raise AssertionError(
            f"snakemake {' '.join(args)} did not finish within {timeout:.0f} s"
        ) from None
    return Ran(process.returncode, output, time.monotonic() - began)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the run and every job it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def kill_when(process: subprocess.Popen, ready, timeout: float = 120, poll: float = 0.005):
    """SIGKILL the run as soon as `ready()` returns something true; returns what it returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = ready()
        if found:
            kill(process)
            return found
        time.sleep(poll)
    kill(process)
    raise AssertionError("the run ended (or timed out) before the moment it was to be killed at")


# ---------------------------------------------------------------------------------------------
# The assertions every fault test makes


def job_log(results: Path, name: str) -> str:
    path = results / "logs" / f"{name}.log"
    assert path.exists(), f"no job log {path}"
    return path.read_text(errors="replace")


def assert_clear_message(
    output: str, log_text: str | None, names: list[str], words: str = ""
) -> None:
    """One clear message naming the file: each name in the run's output and in the job's log, with
    `words` (what went wrong); no Python traceback or logging failure anywhere."""
    for name in names:
        assert name in output, f"the run's output does not name {name}:\n{output[-3000:]}"
        if log_text is not None:
            assert name in log_text, f"the job's log does not name {name}:\n{log_text[-3000:]}"
    if words:
        assert words.lower() in (log_text if log_text is not None else output).lower(), (
            f"the message does not say {words!r}:\n{(log_text or output)[-3000:]}"
        )
    for text in (output, log_text or ""):
        assert "Traceback" not in text, (
            f"a Python traceback instead of one message:\n{text[-5000:]}"
        )
        assert "--- Logging error ---" not in text, f"logging failed:\n{text[-5000:]}"


def assert_no_partial_outputs(results: Path) -> None:
    """No half-written file left (`.part`), and every final .json.gz a complete gzip stream."""
    parts = [str(path) for path in results.rglob("*.part")]
    assert not parts, f"half-written files left behind: {parts}"
    for path in results.rglob("*.gz"):
        if path.name.startswith(".") or "decrypted" in path.relative_to(results).parts[:1]:
            continue
        try:
            gzip.decompress(path.read_bytes())
        except (OSError, EOFError, zlib.error) as error:
            raise AssertionError(f"{path} is not a complete gzip file: {error}") from None


def gz_lines(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines()


def assert_receipts_add_up(results: Path) -> None:
    """Every receipt accounts for its input and names files that hold exactly what it says."""
    for path in (results / "receipts" / "split_tracking_log").rglob("*.json"):
        receipt = json.loads(path.read_text())
        assert receipt["lines_in"] == accounted(receipt), path
        outputs = {item["path"]: item for item in receipt["outputs"]}
        for file, info in outputs.items():
            data = Path(file).read_bytes()
            assert hashlib.sha256(data).hexdigest() == info["sha256"], (path, file)
            assert len(gzip.decompress(data).splitlines()) == info["lines"], (path, file)
        rejects = sum(info["lines"] for file, info in outputs.items() if "/rejects/" in file)
        assert rejects == receipt["rejected"], path
        assert (
            sum(info["lines"] for info in outputs.values()) - rejects
            == sum(receipt["by_course"].values()) + receipt["no_course"]
        ), path
    for path in (results / "receipts" / "sql_course").rglob("*.json"):
        receipt = json.loads(path.read_text())
        for table, info in receipt["tables"].items():
            assert len(gz_lines(Path(receipt["directory"]) / info["file"])) == info["rows"], (
                path,
                table,
            )
    for path in (results / "receipts" / "email_opt_in").rglob("*.json"):
        receipt = json.loads(path.read_text())
        for course, info in receipt["by_course"].items():
            assert len(gz_lines(Path(info["file"]))) == info["rows"], (path, course)
        assert sum(receipt["inputs"].values()) == receipt["rejected"] + receipt[
            "filtered_out"
        ] + sum(info["rows"] for info in receipt["by_course"].values()), path
    counts = warehouse_counts(results) if (results / "warehouse.duckdb").exists() else {}
    for path in (results / "receipts" / "load" / "sql").glob("*.json"):
        receipt = json.loads(path.read_text())
        for base, course in receipt["courses"].items():
            for table, info in course["tables"].items():
                assert counts.get(f"{base}_latest.{table}") == info["rows"], (path, table)


def split_days(results: Path) -> set[str]:
    return {
        path.stem for path in (results / "receipts" / "split_tracking_log" / "edx").glob("*.json")
    }


def loaded_days(results: Path) -> set[str]:
    return {path.stem for path in (results / "receipts" / "load" / "log" / "edx").glob("*.json")}


def sql_courses_done(results: Path) -> set[str]:
    return {path.stem for path in (results / "receipts" / "sql_course" / BUNDLE).glob("*.json")}


def assert_completed(results: Path, days=DAYS, bases=BASES, email: bool = True) -> None:
    """The days and courses not hit by the fault were split and loaded (--keep-going)."""
    assert set(days) <= split_days(results), f"days not split: {set(days) - split_days(results)}"
    assert set(days) <= loaded_days(results), f"days not loaded: {set(days) - loaded_days(results)}"
    done = sql_courses_done(results)
    assert set(bases) <= done, f"courses not split: {set(bases) - done}"
    loaded = {path.stem for path in (results / "receipts" / "load" / "sql").glob("*.json")}
    assert set(bases) <= loaded, f"courses not loaded: {set(bases) - loaded}"
    if email:
        assert (results / "receipts" / "load" / "email" / "2026-11-08.json").exists(), (
            "the email file was not loaded"
        )


def assert_no_secrets(workdir: Path) -> None:
    """Neither the passphrase nor private key material in any file the run left (results/, .snakemake/)."""
    for root in (workdir / "results", workdir / ".snakemake"):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                for secret in (PASSPHRASE.encode(), PRIVATE_KEY_HEADER):
                    assert secret not in data, f"{path} holds {secret.decode()!r}"
                if path.suffix == ".gz" and data[:2] == b"\x1f\x8b":
                    try:
                        plain = gzip.decompress(data)
                    except (OSError, EOFError, zlib.error):
                        continue
                    assert PASSPHRASE.encode() not in plain and PRIVATE_KEY_HEADER not in plain, (
                        path
                    )


def assert_owner_only(results: Path) -> None:
    """Decrypted data owner-only: under decrypted/, SQL/, EMAIL/ and TRACKING_LOGS/ every folder
    0700 (decrypted/ itself too; the other tops only list course names) and every data file 0600
    (schemas and Snakemake's timestamp markers hold none); the warehouse file 0600."""
    loose = []
    for name in PRIVATE_FOLDERS:
        top = results / name
        if not top.exists():
            continue
        for path in [top, *top.rglob("*")] if name == "decrypted" else top.rglob("*"):
            if ".index" in path.relative_to(top).parts:  # the split's list of its output paths
                continue
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_dir() and mode != 0o700:
                loose.append(f"{path} {mode:o}")
            elif (
                path.is_file()
                and mode != 0o600
                and not path.name.endswith((".schema.json", ".snakemake_timestamp"))
            ):
                loose.append(f"{path} {mode:o}")
    warehouse = results / "warehouse.duckdb"
    if warehouse.exists() and stat.S_IMODE(warehouse.stat().st_mode) != 0o600:
        loose.append(f"{warehouse} {stat.S_IMODE(warehouse.stat().st_mode):o}")
    assert not loose, "decrypted data readable by others:\n" + "\n".join(loose)


def assert_left_clean(workdir: Path) -> None:
    """What every run, failed or not, must leave: no partial output, receipts that add up, no
    secret on disk, decrypted data owner-only."""
    results = workdir / "results"
    assert_no_partial_outputs(results)
    assert_no_orphan_outputs(results)
    assert_receipts_add_up(results)
    assert_no_secrets(workdir)
    assert_owner_only(results)


def file_digests(results: Path, *patterns: str) -> dict[str, str]:
    """Relative path -> sha256 of the bytes, for the files matching the patterns."""
    return {
        str(path.relative_to(results)): hashlib.sha256(path.read_bytes()).hexdigest()
        for pattern in patterns
        for path in sorted(results.glob(pattern))
    }


def tables_of(contents: dict, suffix: str) -> dict:
    return {
        table: value for table, value in contents.items() if table.split(".")[0].endswith(suffix)
    }


def assert_no_orphan_outputs(results: Path) -> None:
    """Each job's outputs all or none: every per-course file under a final name is one a receipt
    lists (a job that failed leaves none of its files behind)."""
    listed = set()
    for path in (results / "receipts" / "split_tracking_log").rglob("*.json"):
        listed |= {item["path"] for item in json.loads(path.read_text())["outputs"]}
    for path in (results / "receipts" / "email_opt_in").rglob("*.json"):
        listed |= {info["file"] for info in json.loads(path.read_text())["by_course"].values()}
    orphans = [
        str(path)
        for pattern in ("TRACKING_LOGS/*/*.json.gz", "EMAIL/*__*/*.json.gz")
        for path in results.glob(pattern)
        if str(path) not in listed
    ]
    done = {path.stem for path in (results / "receipts" / "sql_course").rglob("*.json")}
    orphans += [
        str(path)
        for path in results.glob("SQL/*/*")
        if path.parent.name not in done and not path.name.startswith(".")
    ]
    assert not orphans, f"files under final names that no receipt lists (a failed job's): {orphans}"
