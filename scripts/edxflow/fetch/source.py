"""The package source: an S3 bucket (or S3-compatible store) or a local mirror `{root}/{bucket}/{key}`.

Both kinds list objects as dicts {bucket, key, size, etag} and open an object as (facts, chunks), the
facts saying what the bytes can be verified against, so listing, verification and retries are written
once, above this module.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterator

from edxflow.core.errors import UserError

CHUNK = 1 << 20
# The object checksums a download can verify with the standard library, by GetObject field.
CHECKSUM_FIELDS = {"sha256": "ChecksumSHA256", "sha1": "ChecksumSHA1", "crc32": "ChecksumCRC32"}


class SourceError(UserError, RuntimeError):
    """A problem the user fixes in the configuration or the environment; the message says how."""


class TransientError(RuntimeError):
    """A failure worth retrying (connection reset, throttling, a short read)."""


def file_md5(path: str | Path) -> bytes:
    """The MD5 digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.digest()


def unsafe_key(key: str) -> str | None:
    """Why a key must never become a local path (`{results}/raw/{bucket}/{key}`, `{root}/{bucket}/{key}`),
    or None when it is safe: an absolute key, or a `..`, `.` or empty segment."""
    if key.startswith("/"):
        return "unsafe key (absolute): not written to a local path"
    for segment, what in (("..", "'..'"), (".", "'.'"), ("", "empty")):
        if segment in key.split("/"):
            return f"unsafe key ({what} segment): not written to a local path"
    return None


def local_etag(stat: os.stat_result) -> str:
    """A local file's version: modification time and size, as `aws s3 sync` and rsync compare them.
    Every plan lists the source, so listing must not read the files (the download checks the size)."""
    return f"mtime-{stat.st_mtime_ns}-{stat.st_size}"


def _chunks(handle) -> Iterator[bytes]:
    with handle:
        yield from iter(lambda: handle.read(CHUNK), b"")


class LocalSource:
    """A directory laid out as `{root}/{bucket}/{key}`, what `aws s3 sync` leaves."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()

    def describe(self, bucket: str) -> str:
        return str(self.root / bucket)

    def list(self, bucket: str, prefix: str) -> list[dict]:
        bucket_dir = self.root / bucket
        if not bucket_dir.is_dir():
            raise SourceError(
                f"bucket directory {bucket_dir} does not exist: check source.local_root ({self.root}) "
                f"and source.buckets, or sync the bucket there (aws s3 sync s3://{bucket} {bucket_dir})"
            )
        directory, _, name_start = prefix.rpartition("/")
        start = bucket_dir / directory
        if not start.is_dir():
            return []
        objects = []
        for dirpath, _, filenames in os.walk(start):
            for filename in filenames:
                path = Path(dirpath) / filename
                key = path.relative_to(bucket_dir).as_posix()
                if key.startswith(prefix) and not filename.startswith("."):
                    stat = path.stat()
                    objects.append(
                        {
                            "bucket": bucket,
                            "key": key,
                            "size": stat.st_size,
                            "etag": local_etag(stat),
                        }
                    )
        return objects

    def get(self, bucket: str, key: str) -> tuple[dict, Iterator[bytes]]:
        refused = unsafe_key(key)
        if refused:
            raise SourceError(f"{bucket}/{key}: {refused}")
        path = self.root / bucket / key
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            raise SourceError(
                f"{path} is gone since the listing: run again (every run lists the source anew)"
            )
        return {"local": True}, _chunks(handle)


def _attempts_from_environment(default: int = 6) -> int:
    """Requests made before giving up: AWS_MAX_ATTEMPTS, the AWS tools' own setting, if set."""
    value = os.environ.get("AWS_MAX_ATTEMPTS", "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SourceError(
            f"AWS_MAX_ATTEMPTS={value!r} is not a whole number of attempts: set it to 1 or more, "
            "or unset it"
        )
    return int(value)


class S3Source:
    """S3 through boto3: credentials from `aws_profile` or the standard AWS chain."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        aws_profile: str | None = None,
        client=None,
        max_attempts: int | None = None,
        connect_timeout: float = 10,
        read_timeout: float = 60,
    ):
        self.endpoint_url = endpoint_url
        self.aws_profile = aws_profile
        self._client = client
        self.max_attempts = max_attempts or _attempts_from_environment()
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            try:
                session = boto3.Session(profile_name=self.aws_profile)
            except Exception as error:  # botocore.exceptions.ProfileNotFound
                raise SourceError(
                    f"AWS profile problem: {error}; check source.aws_profile"
                ) from None
            self._client = session.client(
                "s3",
                endpoint_url=self.endpoint_url,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                ),
            )
        return self._client

    def describe(self, bucket: str) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{bucket}{where}"

    def list(self, bucket: str, prefix: str) -> list[dict]:
        objects = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                for item in page.get("Contents", []):
                    objects.append(
                        {
                            "bucket": bucket,
                            "key": item["Key"],
                            "size": item["Size"],
                            "etag": item["ETag"].strip('"'),
                        }
                    )
        except Exception as error:
            explained = self.explain(error, bucket)
            # A listing is not retried above this module: what is still failing is the user's to hear.
            raise (
                SourceError(str(explained)) if isinstance(explained, TransientError) else explained
            ) from None
        return objects

    def get(self, bucket: str, key: str) -> tuple[dict, Iterator[bytes]]:
        """(facts, chunks): the facts are the encryption (an SSE-KMS or SSE-C object's ETag is no MD5)
        and the whole-object checksums S3 keeps (a multipart object's composite `...-N` ones are left
        out: they are no digest of the bytes)."""
        try:
            answer = self.client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except Exception as error:
            raise self.explain(error, bucket, key) from None
        facts = {
            "encryption": answer.get("ServerSideEncryption"),
            "sse_c": bool(answer.get("SSECustomerAlgorithm")),
            "checksums": {
                name: answer[field]
                for name, field in CHECKSUM_FIELDS.items()
                if "-" not in answer.get(field, "-")
            },
        }
        return facts, self._chunks(answer["Body"], bucket, key)

    def _chunks(self, body, bucket: str, key: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        except Exception as error:
            raise self.explain(error, bucket, key) from None

    def explain(self, error: Exception, bucket: str, key: str | None = None) -> Exception:
        """Turn botocore's exceptions into one message that says what to do. Failures worth another
        try are TransientErrors (botocore has already made `max_attempts` tries)."""
        from botocore import exceptions as bx

        where = self.describe(bucket) + (f" object {key!r}" if key else "")
        tries = f"{self.max_attempts} tries"
        if isinstance(error, (SourceError, TransientError)):
            return error
        if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError)):
            return SourceError(
                f"no AWS credentials for {where}: set source.aws_profile to a profile in ~/.aws/credentials, "
                "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use source.kind: local)"
            )
        if isinstance(error, bx.ProfileNotFound):
            return SourceError(f"{error}: check source.aws_profile")
        if isinstance(error, bx.FlexibleChecksumError):
            return TransientError(
                f"{where}: the bytes received do not match the object's checksum ({error})"
            )
        if isinstance(error, (bx.ReadTimeoutError, bx.ConnectTimeoutError)):
            timeout = (
                self.read_timeout
                if isinstance(error, bx.ReadTimeoutError)
                else self.connect_timeout
            )
            return TransientError(
                f"{where}: no answer within {timeout:g} s, {tries}: check the network and "
                "source.endpoint_url, then run again"
            )
        if isinstance(error, bx.EndpointConnectionError):
            return SourceError(
                f"cannot reach the S3 endpoint for {where} ({error}): check source.endpoint_url and the network"
            )
        if isinstance(error, bx.ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code == "NoSuchBucket":
                return SourceError(
                    f"bucket {bucket!r} does not exist ({where}): check source.buckets and source.endpoint_url"
                )
            if code in ("NoSuchKey", "404"):
                return SourceError(
                    f"{where} is gone since the listing: run again (every run lists the source anew)"
                )
            if code in (
                "AccessDenied",
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
                "403",
                "ExpiredToken",
            ):
                return SourceError(
                    f"access to {where} was refused ({code}): check the credentials of source.aws_profile "
                    "or the AWS_* environment variables"
                )
            if code in (
                "SlowDown",
                "Throttling",
                "ThrottlingException",
                "RequestLimitExceeded",
                "503",
                "ServiceUnavailable",
            ):
                return TransientError(
                    f"{where}: S3 is throttling the requests ({code}), {tries}: run again later, "
                    "or let fewer jobs call S3 at once (snakemake --resources s3_api=1)"
                )
            if code in ("InternalError", "RequestTimeout") or code.startswith("5"):
                return TransientError(
                    f"{where}: the S3 server failed ({code}), {tries}: run again later"
                )
            return SourceError(
                f"{where}: S3 refused the request ({code}: {message}): check source.buckets, "
                "source.endpoint_url and what the credentials may read"
            )
        if isinstance(error, (bx.ConnectionError, bx.HTTPClientError, ConnectionError)):
            return TransientError(
                f"{where}: the connection failed ({error}): check the network, then run again"
            )
        return TransientError(f"{where}: {type(error).__name__}: {error}")


def open_source(source_config: dict):
    if source_config["kind"] == "local":
        return LocalSource(source_config["local_root"])
    return S3Source(source_config.get("endpoint_url"), source_config.get("aws_profile"))
