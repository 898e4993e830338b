"""A small file system that really fills up: a tmpfs (mounting one needs root; without it the test
that asked for one is skipped, saying why)."""

import contextlib
import errno
import subprocess

import pytest


@contextlib.contextmanager
def small_tmpfs(directory, size: str, mode: str = "0700"):
    directory.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode={mode}", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a {size} tmpfs on {directory} ({done.stderr.strip() or done.returncode}): needs root"
        )
    try:
        yield directory
    finally:
        subprocess.run(["umount", "--lazy", str(directory)], check=True)


def grow(directory, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(directory)], check=True)


def fill(directory) -> None:
    """Write a file in `directory` until its file system has no space left."""
    with open(directory / "ballast", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
