"""Atomic writes: a file stands under its final name only once all of it is on the disk; a disk
that fills up gives an error naming the file, and leaves the previous file as it was."""

import base64
import errno
import json
import os

import pytest

from edxflow.core import cli
from edxflow.core.atomic import atomic_path, write_json
from edxflow.core.jsonl import TableWriter
from tests.disks import fill


def test_write_json_on_a_full_disk_names_the_file_and_keeps_the_previous_one(small_disk):
    target = small_disk / "receipt.json"
    write_json(target, {"previous": True})
    fill(small_disk)
    with pytest.raises(OSError) as raised:
        write_json(target, {"rows": ["x" * 100] * 1000})
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert json.loads(target.read_text()) == {"previous": True}
    assert sorted(path.name for path in small_disk.iterdir()) == ["ballast", "receipt.json"]


def test_a_file_is_on_the_disk_before_it_gets_its_name(tmp_path, monkeypatch):
    """fsync before rename: where the file system reports a full disk only when the data is
    written out (delayed allocation, quotas, network file systems), the error comes before the name."""
    calls = []
    fsync, replace = os.fsync, os.replace
    path_of = lambda fd: os.readlink(f"/proc/self/fd/{fd}")  # noqa: E731
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", path_of(fd))) or fsync(fd))
    monkeypatch.setattr(
        os, "replace", lambda a, b: calls.append(("replace", str(a))) or replace(a, b)
    )
    write_json(tmp_path / "a.json", [1])
    [(first, synced), (second, renamed)] = calls
    assert (first, second) == ("fsync", "replace") and synced == renamed
    assert json.loads((tmp_path / "a.json").read_text()) == [1]


def test_an_error_inside_names_the_target_when_it_names_no_file(tmp_path):
    target = tmp_path / "table.json.gz"
    with pytest.raises(OSError) as raised:
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert (
        raised.value.filename == str(target)
        and not target.exists()
        and list(tmp_path.iterdir()) == []
    )
    with pytest.raises(FileNotFoundError) as raised:
        with atomic_path(target):
            open(tmp_path / "missing")
    assert raised.value.filename == str(
        tmp_path / "missing"
    )  # an error naming its own file keeps it


@pytest.mark.parametrize(
    "code, expected",
    [
        (errno.ENOSPC, "no space left on device writing {file}: free space on / and run again"),
        (errno.EDQUOT, "disk quota exceeded writing {file}: free space on / and run again"),
        (
            errno.EROFS,
            "read-only file system: cannot write {file}: make / writable or choose another results_dir",
        ),
        (
            errno.EACCES,
            "permission denied: {file}: give the user running the workflow access to it and run again",
        ),
    ],
)
def test_a_refused_write_is_one_line_and_exit_status_1(caplog, code, expected):
    def step():
        raise OSError(code, os.strerror(code), "/no/such/dir/table.json.gz")

    assert cli.run(step) == 1
    assert [record.getMessage() for record in caplog.records] == [
        expected.format(file="/no/such/dir/table.json.gz")
    ]


def test_any_other_os_error_keeps_its_traceback():
    def step():
        raise OSError(errno.EIO, "Input/output error", "/data/x")

    with pytest.raises(OSError):
        cli.run(step)


def test_a_table_whose_last_write_fails_gets_no_name(small_disk):
    """TableWriter compresses into the temporary file: a full disk at its last write or close
    leaves nothing under the table's name."""
    target = small_disk / "table.json.gz"
    with pytest.raises(OSError) as raised:
        with TableWriter(target) as writer:
            for number in range(
                1500
            ):  # ~0.9 MB, kept in the writer's buffer until the end: ~0.7 MB gzip
                writer.write({"n": number, "text": base64.b64encode(os.urandom(450)).decode()})
    assert list(small_disk.iterdir()) == []
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
