"""Damaged and foreign `.gpg` files: a corrupt daily log, a truncated one, an email file encrypted
to a key not in the keyring, and one course's SQL member likewise. Each fails only its own jobs
with one message naming the file; with --keep-going everything else is split and loaded."""

import pytest

from edxflow.demo import zip_bytes
from tests.faults.harness import (
    BASES,
    BUNDLE,
    BUNDLE_OBJECT,
    DAYS,
    EMAIL_OBJECT,
    END,
    assert_clear_message,
    assert_completed,
    assert_left_clean,
    fault_config,
    job_log,
    log_object,
    run,
)
from tests.helpers import table_contents

pytestmark = pytest.mark.workflow

CORRUPT, TRUNCATED = DAYS[0], DAYS[1]
FOREIGN_COURSE = "DemoX__PHY_2_1x__2025_Fall"
FOREIGN_MEMBER_TABLE = "auth_user"


def damage(package):
    """Apply the four faults to the package's objects; returns the SQL member now foreign."""
    corrupt = package.path(log_object(CORRUPT))
    data = corrupt.read_bytes()
    corrupt.write_bytes(data[:300] + bytes(byte ^ 0x5A for byte in data[300:600]) + data[600:])
    truncated = package.path(log_object(TRUNCATED))
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])

    foreign = package.keys.foreign_key
    email = package.plain[EMAIL_OBJECT]
    package.path(EMAIL_OBJECT).write_bytes(
        zip_bytes(
            {f"{name}.gpg": package.encrypt(content, foreign) for name, content in email.items()},
            END,
        )
    )
    members = package.plain[BUNDLE_OBJECT]
    prefix = "DemoX-PHY-2.1x-2025_Fall-"
    member = next(
        name
        for name in members
        if name.split("/")[-1].startswith(prefix + FOREIGN_MEMBER_TABLE + "-")
    )
    package.path(BUNDLE_OBJECT).write_bytes(
        zip_bytes(
            {
                f"{name}.gpg": package.encrypt(
                    content, foreign if name == member else package.keys.plain_key
                )
                for name, content in members.items()
            },
            END,
        )
    )
    return f"{member}.gpg"


def latest(contents: dict, base: str) -> dict:
    """A course's SQL tables in the warehouse."""
    return {
        table: value
        for table, value in contents.items()
        if table.startswith(f"{base}_latest.") and not table.endswith(".email_opt_in")
    }


def test_damaged_and_foreign_gpg_fail_only_their_own_jobs(package, clean, tmp_path):
    damaged = package.copy(tmp_path)
    member = damage(damaged)
    ran = run(tmp_path, fault_config(damaged, tmp_path), "--keep-going")
    results = tmp_path / "results"
    assert ran.returncode != 0
    assert "Not done, and why:" in ran.output

    for day, what in ((CORRUPT, "damaged"), (TRUNCATED, "damaged")):
        name = log_object(day).rsplit("/", 1)[1]
        assert_clear_message(ran.output, job_log(results, f"decrypt/log/edx/{day}"), [name], what)
    assert_clear_message(
        ran.output,
        job_log(results, "decrypt/email/2026-11-08"),
        [EMAIL_OBJECT.rsplit("/", 1)[1]],
        "which is not in the keyring",
    )
    assert_clear_message(
        ran.output,
        job_log(results, f"sql_course/{BUNDLE}/{FOREIGN_COURSE}"),
        [member.rsplit("/", 1)[-1]],
        "which is not in the keyring",
    )

    others = BASES - {FOREIGN_COURSE}
    assert_completed(results, days=[DAYS[2]], bases=others, email=False)
    assert not (results / "receipts" / "email_opt_in" / "2026-11-08.json").exists()
    assert not (results / "SQL" / FOREIGN_COURSE).exists() or not any(
        (results / "SQL" / FOREIGN_COURSE).iterdir()
    )
    expected = table_contents(clean / "results", reports=False)  # no report over a failed day
    loaded = table_contents(results)
    for base in others:
        assert latest(loaded, base) == latest(expected, base), base
    assert not any(table.startswith(f"{FOREIGN_COURSE}_latest.") for table in loaded)
    assert_left_clean(tmp_path)
