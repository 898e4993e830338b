"""Decryption with a real gpg and throwaway keys."""

import io
import os
import zipfile

import pytest

from edxflow.fetch.decrypt import (
    DecryptionError,
    decrypt_file,
    decrypt_zip_members,
    read_passphrase,
)
from tests.helpers import PASSPHRASE, run_script

PLAIN = b'{"username": "alice", "event_type": "play_video"}\n' * 50


def encrypted_file(tmp_path, keys, data=PLAIN, key=None, name="day.log.gz.gpg"):
    path = tmp_path / name
    path.write_bytes(keys.encrypt(data, key))
    return path


def run_decrypt(keys, *args):
    """scripts/decrypt.py with `keys`' keyring."""
    return run_script("decrypt.py", *args, "--gnupghome", str(keys.home))


def assert_nothing_but(directory, *names):
    assert sorted(p.name for p in directory.iterdir()) == sorted(names)


def test_decrypts_owner_only(tmp_path, keys):
    source = encrypted_file(tmp_path, keys)
    target = tmp_path / "plain" / "day.log.gz"
    result = decrypt_file(source, target, str(keys.home), None)
    assert target.read_bytes() == PLAIN and result["bytes"] == len(PLAIN)
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.parent.stat().st_mode & 0o777 == 0o700


def test_passphrase_comes_from_the_named_environment_variable(tmp_path, keys, monkeypatch):
    source = encrypted_file(tmp_path, keys, key=keys.protected_key)
    monkeypatch.setenv("EDX_GPG_PASSPHRASE", PASSPHRASE)
    decrypt_file(source, tmp_path / "out", str(keys.home), read_passphrase("EDX_GPG_PASSPHRASE"))
    assert (tmp_path / "out").read_bytes() == PLAIN


def test_unset_passphrase_variable_is_named(monkeypatch):
    monkeypatch.delenv("EDX_GPG_PASSPHRASE", raising=False)
    with pytest.raises(DecryptionError, match="EDX_GPG_PASSPHRASE, which is not set"):
        read_passphrase("EDX_GPG_PASSPHRASE")
    assert read_passphrase(None) is None


@pytest.mark.parametrize("passphrase", ["wrong passphrase", None])
def test_wrong_or_missing_passphrase_fails_cleanly(tmp_path, keys, passphrase):
    source = encrypted_file(tmp_path, keys, key=keys.protected_key)
    with pytest.raises(DecryptionError) as raised:
        decrypt_file(source, tmp_path / "out", str(keys.home), passphrase)
    message = str(raised.value)
    assert str(source) in message and "gpg says:" in message and "passphrase" in message
    assert_nothing_but(tmp_path, source.name)


def test_wrong_key_names_the_file_and_the_reason(tmp_path, keys):
    source = encrypted_file(tmp_path, keys, key=keys.foreign_key)
    with pytest.raises(
        DecryptionError,
        match=r"cannot decrypt .*day.log.gz.gpg: gpg says: .*No secret key.*encrypted to key ID [0-9A-F]{16}, which is not in the keyring",
    ):
        decrypt_file(source, tmp_path / "out", str(keys.home), None)
    assert_nothing_but(tmp_path, source.name)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_file_leaves_no_plaintext(tmp_path, keys, damage):
    data = keys.encrypt(PLAIN * 100)
    source = tmp_path / "day.log.gz.gpg"
    source.write_bytes(
        data[: len(data) // 2] if damage == "truncated" else b"this is not gpg data\n" * 10
    )
    existing = tmp_path / "out"
    existing.write_bytes(b"an earlier good result")
    with pytest.raises(
        DecryptionError,
        match=r"cannot decrypt .*day.log.gz.gpg: gpg says: .*damaged or is not gpg data",
    ):
        decrypt_file(source, existing, str(keys.home), None)
    assert existing.read_bytes() == b"an earlier good result"
    assert_nothing_but(tmp_path, "day.log.gz.gpg", "out")


def test_missing_homedir_is_named(tmp_path, keys):
    source = encrypted_file(tmp_path, keys)
    with pytest.raises(DecryptionError, match="gpg.homedir .*nowhere is not a directory"):
        decrypt_file(source, tmp_path / "out", str(tmp_path / "nowhere"), None)


def make_zip(path, members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_zip_members_are_each_decrypted(tmp_path, keys):
    archive = make_zip(
        tmp_path / "email.zip",
        {
            "mitx-email_opt_in-prod-analytics.csv.gpg": keys.encrypt(
                b"user_id,username\n1,alice\n"
            ),
            "extra/second-prod-analytics.csv.gpg": keys.encrypt(b"user_id,username\n2,bob\n"),
            "README.txt": b"not encrypted",
        },
    )
    written = decrypt_zip_members(archive, tmp_path / "out", str(keys.home), None)
    assert len(written) == 3
    assert (
        tmp_path / "out" / "mitx-email_opt_in-prod-analytics.csv"
    ).read_bytes() == b"user_id,username\n1,alice\n"
    assert (
        tmp_path / "out" / "extra" / "second-prod-analytics.csv"
    ).read_bytes() == b"user_id,username\n2,bob\n"
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "name", ["../escape.csv.gpg", "/etc/escape.csv.gpg", "a/../../escape.csv.gpg"]
)
def test_zip_member_leaving_the_directory_is_refused(tmp_path, keys, name):
    archive = make_zip(
        tmp_path / "email.zip", {"good.csv.gpg": keys.encrypt(b"a\n"), name: keys.encrypt(b"b\n")}
    )
    with pytest.raises(DecryptionError, match="tries to leave the output directory"):
        decrypt_zip_members(archive, tmp_path / "sub" / "out", str(keys.home), None)
    assert not (tmp_path / "escape.csv").exists() and not (tmp_path / "sub" / "escape.csv").exists()
    assert list((tmp_path / "sub" / "out").iterdir()) == []


def test_zip_with_a_bad_member_leaves_nothing(tmp_path, keys):
    archive = make_zip(
        tmp_path / "email.zip",
        {"a.csv.gpg": keys.encrypt(b"a\n"), "b.csv.gpg": keys.encrypt(b"b\n", keys.foreign_key)},
    )
    with pytest.raises(DecryptionError, match=r"email.zip member b.csv.gpg: gpg says"):
        decrypt_zip_members(archive, tmp_path / "out", str(keys.home), None)
    assert list((tmp_path / "out").iterdir()) == []


def test_not_a_zip(tmp_path, keys):
    bad = tmp_path / "email.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DecryptionError, match="email.zip is not a readable zip"):
        decrypt_zip_members(bad, tmp_path / "out", str(keys.home), None)


def test_command_line_reports_one_clear_line(tmp_path, keys):
    source = encrypted_file(tmp_path, keys, key=keys.foreign_key)
    done = run_decrypt(keys, "--input", str(source), "--output", str(tmp_path / "o"))
    assert done.returncode == 1
    assert "cannot decrypt" in done.stderr and "Traceback" not in done.stderr
    source = encrypted_file(tmp_path, keys, name="good.gpg")
    done = run_decrypt(keys, "--input", str(source), "--output", str(tmp_path / "o"))
    assert done.returncode == 0 and (tmp_path / "o").read_bytes() == PLAIN


def test_streamed_decryption_reads_the_plaintext_and_checks_gpgs_verdict(
    tmp_path, keys, monkeypatch
):
    from edxflow.fetch.decrypt import decrypted_stream

    data = keys.encrypt(PLAIN * 1000)
    with decrypted_stream(io.BytesIO(data), "member.sql.gpg", str(keys.home), None) as plain:
        assert plain.read() == PLAIN * 1000
    protected = keys.encrypt(PLAIN, keys.protected_key)
    with decrypted_stream(io.BytesIO(protected), "p.gpg", str(keys.home), PASSPHRASE) as plain:
        assert plain.read() == PLAIN
    with pytest.raises(
        DecryptionError, match=r"cannot decrypt other.gpg: .*which is not in the keyring"
    ):
        with decrypted_stream(
            io.BytesIO(keys.encrypt(PLAIN, keys.foreign_key)), "other.gpg", str(keys.home), None
        ) as plain:
            plain.read()
    with pytest.raises(DecryptionError, match=r"cannot decrypt cut.gpg: gpg says"):
        with decrypted_stream(
            io.BytesIO(data[: len(data) // 2]), "cut.gpg", str(keys.home), None
        ) as plain:
            plain.read()
    with pytest.raises(DecryptionError, match="passphrase"):
        with decrypted_stream(io.BytesIO(protected), "p.gpg", str(keys.home), "wrong") as plain:
            plain.read()
    with pytest.raises(
        DecryptionError, match=r"cannot decrypt head.gpg: gpg says: no reason given.*damaged"
    ):
        with decrypted_stream(io.BytesIO(data[:100]), "head.gpg", str(keys.home), None) as plain:
            plain.read()  # gpg finds no encrypted packet in it and exits with 0


def test_every_directory_of_the_decrypted_tree_is_owner_only(tmp_path, keys):
    """Created by the decryption or left 0755 by an earlier version: all 0700, files 0600."""
    decrypted = tmp_path / "results" / "decrypted"
    (decrypted / "log").mkdir(parents=True, mode=0o755)
    os.chmod(decrypted, 0o755)
    archive = make_zip(
        tmp_path / "email.zip",
        {"sub/dir/a.csv.gpg": keys.encrypt(b"a\n"), "docs/README.txt": b"r\n"},
    )
    for args in (
        ["--zip", "--input", str(archive), "--output", str(decrypted / "email" / "2021-01-03")],
        [
            "--input",
            str(encrypted_file(tmp_path, keys)),
            "--output",
            str(decrypted / "log" / "edx" / "d.log.gz"),
        ],
    ):
        done = run_decrypt(keys, *args, "--owner-only-from", str(decrypted))
        assert done.returncode == 0, done.stderr
    directories = [decrypted, *(p for p in decrypted.rglob("*") if p.is_dir())]
    files = [p for p in decrypted.rglob("*") if p.is_file()]
    assert len(directories) == 8 and len(files) == 3
    assert {
        p.relative_to(decrypted).as_posix(): oct(p.stat().st_mode & 0o777) for p in directories
    } == {p.relative_to(decrypted).as_posix(): "0o700" for p in directories}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)


BOMB = bytes(5 << 20)  # gpg compresses it to a few kB


def test_a_stream_that_expands_beyond_its_limit_stops_gpg(keys):
    from edxflow.fetch.decrypt import ExpansionError, decrypted_stream

    data = keys.encrypt(BOMB)
    with pytest.raises(ExpansionError, match=r"bomb.gpg: its plaintext exceeds 1048576 bytes"):
        with decrypted_stream(
            io.BytesIO(data), "bomb.gpg", str(keys.home), None, max_bytes=1 << 20
        ) as plain:
            while plain.read(1 << 16):
                pass
    with decrypted_stream(
        io.BytesIO(data), "bomb.gpg", str(keys.home), None, max_bytes=len(BOMB)
    ) as plain:
        assert plain.read() == BOMB


def test_a_file_that_expands_beyond_its_limit_leaves_nothing(tmp_path, keys):
    from edxflow.fetch.decrypt import ExpansionError, decrypt_stream, make_gpg

    data = keys.encrypt(BOMB)
    target = tmp_path / "out" / "table.sql"
    with pytest.raises(ExpansionError, match="member.gpg"):
        decrypt_stream(
            make_gpg(str(keys.home), None),
            io.BytesIO(data),
            "member.gpg",
            target,
            None,
            max_bytes=1 << 20,
        )
    assert list((tmp_path / "out").iterdir()) == []
    result = decrypt_stream(
        make_gpg(str(keys.home), None),
        io.BytesIO(data),
        "member.gpg",
        target,
        None,
        max_bytes=len(BOMB),
    )
    assert target.read_bytes() == BOMB and result["bytes"] == len(BOMB)
