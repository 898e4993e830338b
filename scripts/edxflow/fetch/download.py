"""Fetch one listed object: streamed to a temporary name, verified, retried, then renamed.

What can be verified depends on the object: its size always; the MD5 when the listing's ETag is the
MD5 of the bytes (a single-part object without SSE-KMS or SSE-C); the SHA-256, SHA-1 or CRC32 that
S3 keeps for the whole object, when there is one. The result says which checks were made."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
import zlib
from pathlib import Path

from edxflow.core.atomic import atomic_path
from edxflow.fetch.source import SourceError, TransientError

log = logging.getLogger(__name__)

_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART_ETAG = re.compile(r"^[0-9a-f]{32}-\d+$")


class VerificationError(TransientError):
    """The bytes received differ from what the listing promised (short read, changed object)."""


class _Crc32:
    def __init__(self):
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


_CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "crc32": _Crc32}


def md5_unusable(etag: str, facts: dict) -> str | None:
    """Why the ETag is not the MD5 of the object's bytes, or None when it is."""
    if facts.get("local"):
        return "local mirror"
    if facts.get("sse_c"):
        return "SSE-C ETag"
    if (facts.get("encryption") or "").startswith("aws:kms"):
        return "SSE-KMS ETag"
    if _MULTIPART_ETAG.match(etag):
        return "multipart ETag"
    if not _PLAIN_MD5.match(etag):
        return "ETag is not an MD5"
    return None


def fetch_once(source, entry: dict, path: Path) -> dict:
    facts, chunks = source.get(entry["bucket"], entry["key"])
    md5 = hashlib.md5(usedforsecurity=False)
    checksums = {name: _CHECKSUMS[name]() for name in facts.get("checksums", {})}
    size = 0
    with open(path, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            md5.update(chunk)
            for digest in checksums.values():
                digest.update(chunk)
            size += len(chunk)
    where = f"{source.describe(entry['bucket'])}/{entry['key']}"
    if size != entry["size"]:
        raise VerificationError(f"{where}: received {size} bytes, the listing says {entry['size']}")
    no_md5 = md5_unusable(entry["etag"], facts)
    if no_md5 is None and md5.hexdigest() != entry["etag"]:
        raise VerificationError(
            f"{where}: MD5 {md5.hexdigest()} differs from the listing's ETag {entry['etag']}"
        )
    for name, digest in checksums.items():
        received, expected = base64.b64encode(digest.digest()).decode(), facts["checksums"][name]
        if received != expected:
            raise VerificationError(
                f"{where}: {name.upper()} {received} differs from the object's checksum {expected}"
            )
    checks = ([] if no_md5 else ["md5"]) + list(checksums)
    return {
        "bytes": size,
        "md5": md5.hexdigest(),
        "verified": ", ".join(checks) or f"size only ({no_md5})",
    }


def download(
    source, entry: dict, target: str | Path, attempts: int = 4, backoff: float = 1.0
) -> dict:
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
                hint = (
                    " If the object changed since it was listed, run again: every run lists the source anew."
                    if isinstance(error, VerificationError)
                    else ""
                )
                message = (
                    f"download of {entry['key']} failed after {attempts} attempts: {error}.{hint}"
                )
                raise SourceError(message) from None
            wait = backoff * 2 ** (attempt - 1)
            log.warning(
                "attempt %d of %d for %s failed (%s); retrying in %.1f s",
                attempt,
                attempts,
                entry["key"],
                error,
                wait,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")
