"""Which package objects a run takes: listing by prefix, date filter, `latest`, and what was passed over."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from edxflow.core import naming
from edxflow.core.atomic import read_json, write_json, write_json_if_changed
from edxflow.core.config import date_range
from edxflow.fetch.source import unsafe_key


def select_objects(
    listed: list[dict], org: str, file_type: str, begin: dt.date, end: dt.date, latest: bool
) -> tuple[list[dict], list[dict]]:
    """Split listed objects into (selected, passed_over): selected are dated package objects inside
    [begin, end] (only the newest with `latest`); passed_over are the ones a user should hear about,
    among them keys that are unsafe as local paths."""
    dated, passed_over = [], []
    for item in listed:
        date, refused = naming.date_of_key(item["key"]), unsafe_key(item["key"])
        if refused:
            passed_over.append({**item, "reason": refused})
        elif date is None:
            passed_over.append({**item, "reason": "no date in the object's name"})
        elif not naming.is_package_object(item["key"], org, file_type):
            passed_over.append({**item, "reason": f"not a {file_type} object of org {org!r}"})
        elif begin <= date <= end:
            dated.append({**item, "date": date.isoformat()})
    selected = sorted(dated, key=lambda item: (item["date"], item["key"]))
    if latest and selected:
        selected = [selected[-1]]
    return selected, sorted(passed_over, key=lambda item: item["key"])


def selection(config: dict, file_type: str) -> dict:
    """What decides a manifest's content (also the rule's params, so that a change re-lists)."""
    begin, end = date_range(config)
    return {
        "org": config["org"],
        "bucket": config["source"]["buckets"][file_type],
        "begin": begin.isoformat(),
        "end": end.isoformat(),
        "latest": config["dates"]["latest"],
        "source": config["source"],
    }


def build_manifest(
    source, org: str, file_type: str, site: str, bucket: str, begin, end, latest: bool
):
    listed = []
    for prefix in naming.list_prefixes(org, file_type, site, begin, end):
        listed += source.list(bucket, prefix)
    return select_objects(listed, org, file_type, begin, end, latest)


def write_manifest(path: str | Path, selected: list[dict]) -> None:
    write_json(path, selected)


def read_manifest(path: str | Path) -> list[dict]:
    return read_json(path)


def manifest_paths(manifest_dir: str | Path, file_type: str, site: str) -> tuple[Path, Path]:
    """(objects, passed over) files of one manifest unit."""
    return Path(manifest_dir, file_type, f"{site}.json"), Path(
        manifest_dir, file_type, f"{site}.passed_over.json"
    )


def version_path(versions_dir: str | Path, item: dict) -> Path:
    return Path(versions_dir, item["bucket"], item["key"] + ".json")


def record_version(versions_dir: str | Path, item: dict) -> None:
    """Keep the listed version (size, ETag) of an object in a file of its own, which every step
    reading the object takes as an input: when the object is replaced upstream the file is
    rewritten and, newer than their outputs, those steps run again. A file written for the first
    time is dated 1970, so that recording versions never makes work already done look outdated."""
    path = version_path(versions_dir, item)
    first = not path.exists()
    if write_json_if_changed(path, item) and first:
        os.utime(path, (0, 0))


def refresh_listing(
    config: dict,
    units: list[tuple[str, str]],
    manifest_dir: str | Path,
    source=None,
    versions_dir: str | Path | None = None,
) -> dict[tuple[str, str], dict]:
    """List every (file type, site) unit from the source now, so that each plan sees new, replaced
    and removed objects. A manifest is rewritten only when what was listed changed."""
    if source is None:
        from edxflow.fetch.source import open_source

        source = open_source(config["source"])
    listing = {}
    for file_type, site in units:
        chosen = selection(config, file_type)
        begin, end = dt.date.fromisoformat(chosen["begin"]), dt.date.fromisoformat(chosen["end"])
        selected, passed_over = build_manifest(
            source, chosen["org"], file_type, site, chosen["bucket"], begin, end, chosen["latest"]
        )
        objects_path, passed_over_path = manifest_paths(manifest_dir, file_type, site)
        for item in selected if versions_dir else []:
            record_version(versions_dir, item)
        changed = write_json_if_changed(objects_path, selected)
        write_json_if_changed(passed_over_path, passed_over)
        listing[(file_type, site)] = {
            "objects": selected,
            "passed_over": passed_over,
            "changed": changed,
            "where": source.describe(chosen["bucket"]),
        }
    return listing


def read_listing(
    units: list[tuple[str, str]], manifest_dir: str | Path
) -> dict[tuple[str, str], dict]:
    """The listing the main process recorded (what a job process, which must not list again, plans with)."""
    listing = {}
    for file_type, site in units:
        objects_path, passed_over_path = manifest_paths(manifest_dir, file_type, site)
        listing[(file_type, site)] = {
            "objects": read_manifest(objects_path),
            "passed_over": [],
            "changed": False,
            "where": "",
        }
    return listing
