"""A SQL bundle with a zip-slip member (a name leaving the output directory) and a decompression
bomb (a member whose plaintext is hundreds of times its size): both refused with a message naming
the member, nothing written outside the results or beyond the limit, every course's other tables
split and loaded."""

import subprocess

import pytest

from edxflow.demo import zip_bytes
from tests.faults.harness import (
    BASES,
    BUNDLE,
    BUNDLE_OBJECT,
    END,
    assert_clear_message,
    assert_completed,
    assert_left_clean,
    fault_config,
    job_log,
    run,
)
from tests.helpers import table_contents

pytestmark = pytest.mark.workflow

SLIP = f"{BUNDLE}/../../DemoX-DS101-2026_T1-evil_table-prod-analytics.sql.gpg"
BOMB = f"{BUNDLE}/DemoX-CS.50x-1T2026-bomb_dump-prod-analytics.sql.gpg"
BOMB_COURSE = "DemoX__CS_50x__1T2026"
BOMB_BYTES = (
    100 << 20
)  # past the 64 MB a member may always expand to, and 500 times its encrypted size


def bomb(keys) -> bytes:
    """A table dump of BOMB_BYTES repeated rows, encrypted (gpg compresses it to a few hundred KB)."""
    gpg = subprocess.Popen(
        [
            "gpg",
            "--homedir",
            str(keys.home),
            "--batch",
            "--trust-model",
            "always",
            "--encrypt",
            "--recipient",
            keys.plain_key,
            "--compress-algo",
            "zlib",
            "-z",
            "9",
            "--output",
            "-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    row = b"1\t" + b"a" * 1022 + b"\n"
    written = b""

    def feed():
        gpg.stdin.write(b"id\tvalue\n")
        for _ in range(BOMB_BYTES // len(row)):
            gpg.stdin.write(row)
        gpg.stdin.close()

    import threading

    feeder = threading.Thread(target=feed)
    feeder.start()
    written = gpg.stdout.read()
    feeder.join()
    assert gpg.wait() == 0
    return written


def test_zip_slip_and_bomb_members_are_refused(package, clean, tmp_path):
    damaged = package.copy(tmp_path)
    members = {
        f"{name}.gpg": damaged.encrypt(content, damaged.keys.plain_key)
        for name, content in damaged.plain[BUNDLE_OBJECT].items()
    }
    members[SLIP] = damaged.encrypt(b"id\tvalue\n1\tescaped\n", damaged.keys.plain_key)
    members[BOMB] = bomb(damaged.keys)
    assert len(members[BOMB]) * 200 < BOMB_BYTES
    damaged.path(BUNDLE_OBJECT).write_bytes(zip_bytes(members, END))

    ran = run(tmp_path, fault_config(damaged, tmp_path, file_types=["sql"]), "--keep-going")
    results = tmp_path / "results"
    slip_name = SLIP.rsplit("/", 1)[1]
    assert_clear_message(
        ran.output, job_log(results, f"index_bundle/{BUNDLE}"), [slip_name], "refused"
    )
    assert not [path for path in tmp_path.parent.rglob("*evil_table*")], (
        "the zip-slip member was written"
    )
    bomb_name = BOMB.rsplit("/", 1)[1]
    assert_clear_message(
        ran.output, job_log(results, f"sql_course/{BUNDLE}/{BOMB_COURSE}"), [bomb_name], "refused"
    )
    receipt = results / "receipts" / "sql_course" / BUNDLE / f"{BOMB_COURSE}.json"
    assert receipt.exists() and bomb_name in receipt.read_text(), (
        "the bomb is not named in the course's receipt"
    )
    big = [
        f"{path} {path.stat().st_size}"
        for path in results.rglob("*")
        if path.is_file() and path.name != "warehouse.duckdb" and path.stat().st_size > 8 << 20
    ]
    assert not big, f"files past the member limit: {big}"

    assert_completed(results, days=[], bases=BASES, email=False)
    # a log day failed, so no report was built: only the loaded tables are compared
    expected, loaded = table_contents(clean / "results", reports=False), table_contents(results)
    for table, value in expected.items():
        if "_latest." in table and not table.endswith(".email_opt_in"):
            assert loaded.get(table) == value, table
    assert_left_clean(tmp_path)
