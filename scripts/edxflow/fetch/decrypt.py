"""Decryption with the data czar's key through gpg (python-gnupg).

The passphrase, if the key has one, comes from an environment variable whose *name* is configured;
gpg receives it on a pipe, never on its command line. Plaintext is personal data: files are created
owner-only and appear under their final name only once gpg has succeeded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import gnupg

from edxflow.core.atomic import atomic_path
from edxflow.core.errors import UserError


class DecryptionError(UserError, RuntimeError):
    pass


class ExpansionError(DecryptionError):
    """A plaintext larger than its limit: gpg was stopped and nothing of it was kept."""


def read_passphrase(env_name: str | None) -> str | None:
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if value is None:
        raise DecryptionError(
            f"gpg.passphrase_env names the environment variable {env_name}, which is not set: "
            f"export {env_name} with the key's passphrase (or set gpg.passphrase_env: null for a key without one)"
        )
    return value


def make_gpg(homedir: str | None, passphrase: str | None) -> gnupg.GPG:
    homedir = homedir and os.path.expanduser(homedir)
    if homedir and not Path(homedir).is_dir():
        raise DecryptionError(
            f"gpg.homedir {homedir} is not a directory: point it at the GNUPGHOME that holds the key"
        )
    # Without a passphrase, never let gpg wait for a pinentry dialog that no one will answer.
    options = None if passphrase else ["--pinentry-mode", "error"]
    return gnupg.GPG(gnupghome=str(homedir) if homedir else None, options=options)


def explain_failure(stderr: str) -> str:
    """gpg's own words and what the user should do, from its status and error lines."""
    gpg_lines = [line[5:] for line in stderr.splitlines() if line.startswith("gpg: ")]
    said = (
        "; ".join(
            dict.fromkeys(line for line in gpg_lines if not line.startswith("encrypted with"))
        )
        or "no reason given"
    )
    status = [line.split() for line in stderr.splitlines() if line.startswith("[GNUPG:] ")]
    missing_keys = [words[2] for words in status if words[1] == "NO_SECKEY"]
    if (
        not missing_keys and "No secret key" in stderr and "passphrase" not in stderr.lower()
    ):  # no NO_SECKEY line
        missing_keys = [words[2] for words in status if words[1] == "ENC_TO"]
    if "No pinentry" in stderr or "No passphrase given" in stderr:
        todo = (
            "the key needs a passphrase: set gpg.passphrase_env to the NAME of an environment variable "
            "and export that variable with the passphrase"
        )
    elif "Bad passphrase" in stderr:
        todo = "the passphrase is wrong: check the environment variable named by gpg.passphrase_env"
    elif missing_keys:
        todo = (
            f"the file is encrypted to key ID {', '.join(missing_keys)}, which is not in the keyring: import that "
            "private key (gpg --import) into gpg.homedir, or point gpg.homedir at the keyring that has it"
        )
    else:
        todo = (
            "the file is damaged or is not gpg data. Downloads are checked against the source's size and "
            "checksum, so the copy at the source is damaged: ask edX to send it again, or narrow `dates` to skip it"
        )
    return f"gpg says: {said}. What to do: {todo}"


def owner_only_dir(path: str | Path, under: str | Path | None = None) -> None:
    """Make `path` an owner-only (0700) directory, as is every directory created on the way; with
    `under` (an ancestor of `path`), every directory from `under` down to `path` too, new or not."""
    path = Path(path)
    _make_owner_only(path)
    levels = [path, *path.parents]
    for directory in levels[: levels.index(Path(under)) + 1] if under is not None else levels[:1]:
        os.chmod(directory, 0o700)


def _make_owner_only(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700)
    except FileNotFoundError:
        _make_owner_only(directory.parent)
        _make_owner_only(directory)
    except FileExistsError:
        if not directory.is_dir():
            raise
    else:
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask


def decrypt_stream(
    gpg: gnupg.GPG,
    source,
    label: str,
    target: str | Path,
    passphrase: str | None,
    max_bytes: int | None = None,
) -> dict:
    """Decrypt `source` (a path or a binary file object) into `target`, owner-only, atomically.
    A plaintext longer than `max_bytes` stops gpg and raises ExpansionError, leaving nothing."""
    started = time.monotonic()
    owner_only_dir(Path(target).parent)
    digest, size = hashlib.sha256(), 0
    with contextlib.ExitStack() as stack:
        if isinstance(source, (str, Path)):
            source = stack.enter_context(open(source, "rb"))
        # decrypted_stream is innermost: gpg's verdict comes before the file is renamed into place.
        with (
            atomic_path(target, mode=0o600) as temporary,
            open(temporary, "wb") as output,
            decrypted_stream(source, label, gpg.gnupghome, passphrase, max_bytes) as plain,
        ):
            for chunk in iter(lambda: plain.read(1 << 20), b""):
                digest.update(chunk)
                output.write(chunk)
                size += len(chunk)
    return {
        "path": str(target),
        "bytes": size,
        "sha256": digest.hexdigest(),
        "seconds": round(time.monotonic() - started, 3),
    }


def decrypt_file(
    source: str | Path, target: str | Path, homedir: str | None, passphrase: str | None
) -> dict:
    return decrypt_stream(
        make_gpg(homedir, passphrase), str(source), str(source), target, passphrase
    )


def safe_member_path(name: str) -> str:
    """The member's path relative to the output directory, refusing any that would leave it."""
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or normalised.startswith("..")
        or ":" in normalised.split("/")[0]
    ):
        raise DecryptionError(f"zip member {name!r} tries to leave the output directory; refused")
    return normalised


def open_zip(
    zip_path: str | Path, error_type: type[UserError] = DecryptionError
) -> zipfile.ZipFile:
    """The zip, open for reading; one that is not a readable zip raises `error_type`, saying to
    fetch it anew."""
    try:
        return zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as error:
        raise error_type(
            f"{zip_path} is not a readable zip ({error}): delete it and run again to fetch it anew"
        )


def decrypt_zip_members(
    zip_path: str | Path, outdir: str | Path, homedir: str | None, passphrase: str | None
) -> list[dict]:
    """Decrypt every `.gpg` member of a zip straight from the archive into `outdir` (`.gpg` dropped);
    other members are copied as they are. Nothing is unpacked encrypted onto disk."""
    gpg = make_gpg(homedir, passphrase)
    outdir = Path(outdir)
    owner_only_dir(outdir)
    written = []
    with open_zip(zip_path) as archive:
        try:
            for member in archive.infolist():
                _decrypt_member(archive, member, zip_path, outdir, gpg, passphrase, written)
        except BaseException:
            for item in written:
                Path(item["path"]).unlink(missing_ok=True)
            raise
    return written


def _decrypt_member(
    archive, member, zip_path, outdir: Path, gpg, passphrase, written: list
) -> None:
    if member.is_dir():
        return
    relative = safe_member_path(member.filename)
    label = f"{zip_path} member {member.filename}"
    owner_only_dir((outdir / relative).parent, under=outdir)
    with archive.open(member) as stream:
        if relative.endswith(".gpg"):
            written.append(decrypt_stream(gpg, stream, label, outdir / relative[:-4], passphrase))
        else:
            with atomic_path(outdir / relative, mode=0o600) as temporary:
                temporary.write_bytes(stream.read())
            written.append({"path": str(outdir / relative), "bytes": member.file_size})


class _Bounded(io.RawIOBase):
    """The bytes of a pipe, counted: reading past `limit` raises ExpansionError."""

    def __init__(self, raw, limit: int | None, label: str):
        self._raw, self._limit, self._label, self.count = raw, limit, label, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer) or 0
        self.count += count
        if self._limit is not None and self.count > self._limit:
            raise ExpansionError(
                f"{self._label}: its plaintext exceeds {self._limit} bytes, so it is refused as a "
                "decompression bomb (gpg stopped, nothing of it kept)"
            )
        return count


@contextlib.contextmanager
def decrypted_stream(
    source, label: str, homedir: str | None, passphrase: str | None, max_bytes: int | None = None
):
    """The plaintext of `source` (a binary file object) as a pipe from gpg, for data read once:
    it never touches the disk. gpg's verdict comes at the end of the data, so a failure raises
    when the block exits, after the reader has seen everything (callers write atomically).
    Reading more than `max_bytes` raises ExpansionError and stops gpg."""
    homedir = homedir and os.path.expanduser(homedir)
    command = ["gpg", "--batch", "--no-tty", "--status-fd", "2"] + (
        ["--homedir", homedir] if homedir else []
    )
    passes = ()
    if passphrase:
        read_end, write_end = os.pipe()
        os.write(write_end, passphrase.encode() + b"\n")
        os.close(write_end)
        command += ["--pinentry-mode", "loopback", "--passphrase-fd", str(read_end)]
        passes = (read_end,)
    else:
        command += ["--pinentry-mode", "error"]
    process = subprocess.Popen(
        command + ["--decrypt"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=passes,
        bufsize=0,
    )
    for descriptor in passes:
        os.close(descriptor)
    errors: list[bytes] = []

    def feed():
        try:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                process.stdin.write(chunk)
        except (BrokenPipeError, OSError):
            pass
        finally:
            try:
                process.stdin.close()
            except OSError:
                pass

    threads = [
        threading.Thread(target=feed, daemon=True),
        threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True),
    ]
    for thread in threads:
        thread.start()
    plain = io.BufferedReader(_Bounded(process.stdout, max_bytes, label), 1 << 20)
    try:
        yield plain
        while plain.read(1 << 20):  # drain, so gpg can finish and report
            pass
    except BaseException:
        process.kill()
        raise
    finally:
        process.stdout.close()
        returncode = process.wait()
        for thread in threads:
            thread.join()
    stderr = b"".join(errors)
    # gpg exits with 0 for input with no encrypted packet in it (NODATA): only its status line says it decrypted
    if returncode != 0 or b"[GNUPG:] DECRYPTION_OKAY" not in stderr:
        raise DecryptionError(
            f"cannot decrypt {label}: {explain_failure(stderr.decode(errors='replace'))}"
        )
