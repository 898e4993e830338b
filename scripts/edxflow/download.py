"""Fetch one listed object: streamed to a temporary name, size and MD5 verified, retried, then renamed."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path

from .atomic import atomic_path
from .source import SourceError, TransientError

log = logging.getLogger(__name__)

_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


class VerificationError(TransientError):
    """The bytes received differ from what the listing promised (short read, changed object)."""


def fetch_once(source, entry: dict, path: Path) -> dict:
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(path, "wb") as handle:
        for chunk in source.read(entry["bucket"], entry["key"]):
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    where = f"{source.describe(entry['bucket'])}/{entry['key']}"
    if size != entry["size"]:
        raise VerificationError(f"{where}: received {size} bytes, the listing says {entry['size']}")
    md5 = digest.hexdigest()
    # Multipart uploads have ETags like "<md5 of part md5s>-N", which no whole-file MD5 can match.
    if _PLAIN_MD5.match(entry["etag"]) and md5 != entry["etag"]:
        raise VerificationError(f"{where}: MD5 {md5} differs from the listing's ETag {entry['etag']}")
    return {"bytes": size, "md5": md5, "etag_verified": bool(_PLAIN_MD5.match(entry["etag"]))}


def download(source, entry: dict, target: str | Path, attempts: int = 4, backoff: float = 1.0) -> dict:
    """Download `entry` (a manifest item) to `target`. Transient failures and verification
    mismatches are retried with exponential backoff; after the last attempt a SourceError says
    what happened. No partial file ever stands under `target`."""
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            with atomic_path(target, mode=0o600) as temporary:
                result = fetch_once(source, entry, temporary)
            return {**result, "attempts": attempt, "seconds": round(time.monotonic() - started, 3)}
        except TransientError as error:
            if attempt == attempts:
                raise SourceError(
                    f"download of {entry['key']} failed after {attempts} attempts: {error}. "
                    "If the object changed since it was listed, run again: every run lists the source anew."
                ) from None
            wait = backoff * 2 ** (attempt - 1)
            log.warning("attempt %d of %d for %s failed (%s); retrying in %.1f s", attempt, attempts, entry["key"], error, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")
