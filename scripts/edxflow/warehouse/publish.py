"""Per-course files to Google Cloud Storage, in simeon's layout:
`gs://{bucket}/{SQL|TRACKING-LOGS|EMAIL}/{BASE}/{file}` (`{file}` is the path inside the course's
directory, so SQL tables keep their bundle date: `SQL/{BASE}/{date}/{table}.json.gz`).

An object that already exists with the same MD5 is not uploaded again; large files go up in
resumable chunks; every upload is conditional on the generation seen, so two runs never overwrite
each other's objects unknowingly.
"""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

from edxflow.core.atomic import write_json
from edxflow.fetch.source import file_md5
from edxflow.warehouse.google_cloud import TIMEOUT, CloudError, explain, retry
from edxflow.warehouse.unit_files import unit_files

log = logging.getLogger("edxflow.warehouse.publish")

SEGMENTS = {"log": "TRACKING-LOGS", "sql": "SQL", "email": "EMAIL"}
RESUMABLE_ABOVE = 8 << 20
CHUNK = 16 << 20


def md5_base64(path: str | Path) -> str:
    """The MD5 of a file as Cloud Storage reports it (base64)."""
    return base64.b64encode(file_md5(path)).decode()


def object_name(file_type: str, relative: str) -> str:
    """`TRACKING_LOGS/B/x.json.gz` (relative to the results directory) -> `TRACKING-LOGS/B/x.json.gz`."""
    return SEGMENTS[file_type] + "/" + relative.split("/", 1)[1]


def gcs_uri(bucket: str, file_type: str, relative: str) -> str:
    return f"gs://{bucket}/{object_name(file_type, relative)}"


def _content_type(name: str) -> str:
    return "application/gzip" if name.endswith(".gz") else "application/json"


def open_bucket(client, bucket_name: str):
    try:
        bucket = client.lookup_bucket(bucket_name, retry=retry(), timeout=TIMEOUT)
    except Exception as error:
        raise explain(error, f"cannot look up the bucket gs://{bucket_name}") from None
    if bucket is None:
        raise CloudError(
            f"the bucket gs://{bucket_name} does not exist (or this account cannot see it): "
            "create it, or set storage.bucket to an existing bucket"
        )
    return bucket


def _existing(client, bucket, prefix: str, names: list[str], list_prefix: bool) -> dict:
    """The objects already there: the course's whole prefix listed in one go, or (for a few files
    among many, as a log day's) each looked up by name."""
    where = f"gs://{bucket.name}/{prefix}"
    try:
        if list_prefix:
            return {
                blob.name: blob
                for blob in client.list_blobs(bucket, prefix=prefix, retry=retry(), timeout=TIMEOUT)
            }
        found = {name: bucket.get_blob(name, retry=retry(), timeout=TIMEOUT) for name in names}
        return {name: blob for name, blob in found.items() if blob is not None}
    except Exception as error:
        raise explain(error, f"cannot list {where}") from None


def upload_course(
    client,
    bucket,
    file_type: str,
    base: str,
    results_dir: str | Path,
    files: list[str],
    list_prefix: bool = True,
) -> dict:
    """Upload one course's files (paths relative to `results_dir`) to an open bucket; returns what
    was uploaded and what was already there."""
    started = time.monotonic()
    results_dir = Path(results_dir)
    prefix = f"{SEGMENTS[file_type]}/{base}/"
    existing = _existing(
        client,
        bucket,
        prefix,
        [object_name(file_type, relative) for relative in files],
        list_prefix,
    )
    objects, uploaded_bytes = [], 0
    for relative in files:
        path = results_dir / relative
        name = object_name(file_type, relative)
        md5 = md5_base64(path)
        current = existing.get(name)
        if current is not None and current.md5_hash == md5:
            objects.append(
                {
                    "name": name,
                    "md5": md5,
                    "generation": current.generation,
                    "size": current.size,
                    "uploaded": False,
                }
            )
            continue
        blob = bucket.blob(
            name, chunk_size=CHUNK if path.stat().st_size > RESUMABLE_ABOVE else None
        )
        try:
            blob.upload_from_filename(
                str(path),
                content_type=_content_type(name),
                checksum="md5",
                retry=retry(),
                timeout=TIMEOUT,
                if_generation_match=current.generation if current is not None else 0,
            )
        except Exception as error:
            raise explain(error, f"cannot upload {path} to gs://{bucket.name}/{name}") from None
        if blob.md5_hash != md5:
            raise CloudError(
                f"gs://{bucket.name}/{name} holds MD5 {blob.md5_hash} after the upload, "
                f"but {path} has {md5}: run again"
            )
        uploaded_bytes += path.stat().st_size
        objects.append(
            {
                "name": name,
                "md5": md5,
                "generation": blob.generation,
                "size": blob.size,
                "uploaded": True,
            }
        )
    uploaded = sum(item["uploaded"] for item in objects)
    log.info(
        "gs://%s/%s: %d object(s) uploaded (%d bytes), %d already there with the same MD5",
        bucket.name,
        prefix,
        uploaded,
        uploaded_bytes,
        len(objects) - uploaded,
    )
    return {
        "prefix": prefix,
        "course": base,
        "objects": objects,
        "uploaded": uploaded,
        "unchanged": len(objects) - uploaded,
        "uploaded_bytes": uploaded_bytes,
        "seconds": round(time.monotonic() - started, 3),
    }


def publish_files(
    client, bucket_name: str, file_type: str, base: str, results_dir: str | Path, files: list[str]
) -> dict:
    """Upload one course's files; returns the receipt."""
    bucket = open_bucket(client, bucket_name)
    return {
        "bucket": bucket_name,
        "file_type": file_type,
        **upload_course(client, bucket, file_type, base, results_dir, files),
    }


def publish_course(
    client,
    bucket_name: str,
    file_type: str,
    base: str,
    results_dir: str | Path,
    files: list[str],
    receipt_path: str | Path,
) -> dict:
    receipt = publish_files(client, bucket_name, file_type, base, results_dir, files)
    write_json(receipt_path, receipt)
    return receipt


def publish_unit(
    client,
    bucket_name: str,
    file_type: str,
    results_dir: str | Path,
    step_receipt: str | Path,
    receipt_path: str | Path,
) -> dict:
    """Upload every course's files of one unit (a split day, a course's SQL tables, an email file)."""
    started = time.monotonic()
    by_course = unit_files(file_type, step_receipt)
    courses = {}
    if by_course:
        bucket = open_bucket(client, bucket_name)
        courses = {
            base: upload_course(
                client, bucket, file_type, base, results_dir, files, list_prefix=file_type != "log"
            )
            for base, files in by_course.items()
        }
    receipt = {
        "bucket": bucket_name,
        "file_type": file_type,
        "input": str(step_receipt),
        "courses": courses,
        "uploaded": sum(course["uploaded"] for course in courses.values()),
        "seconds": round(time.monotonic() - started, 3),
    }
    write_json(receipt_path, receipt)
    return receipt
