"""Write files so that a reader never sees half of one: a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path, mode: int = 0o600):
    """Yield a temporary path beside `target`; on success it becomes `target` (with `mode`),
    on any failure it is removed and `target` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    temporary = Path(temporary)
    try:
        with naming(target):
            yield temporary
            sync(temporary)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def sync(path: str | Path) -> None:
    """Wait until the file's data is on the disk: where a full disk shows only when the data is
    written out (delayed allocation, quotas, network file systems), the error comes here, before
    the file gets its final name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def naming(path: str | Path):
    """An OSError inside that names no file (a failed write or close: a full disk) names `path`,
    so the message can say which file could not be written."""
    try:
        yield
    except OSError as error:
        if error.filename is None:
            error.filename = str(path)
        raise


def _json_text(value) -> str:
    return json.dumps(value, indent=1, sort_keys=True) + "\n"


def write_json(target: str | Path, value, mode: int = 0o644) -> None:
    with atomic_path(target, mode) as temporary:
        temporary.write_text(_json_text(value), encoding="utf-8")


def write_json_if_changed(target: str | Path, value, mode: int = 0o644) -> bool:
    """Write `value` unless the file already holds exactly it; a file left alone keeps its time,
    so the jobs that read it do not look outdated. Returns whether it was written."""
    text = _json_text(value)
    try:
        if Path(target).read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_json(target, value, mode)
    return True


def read_json(path: str | Path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
