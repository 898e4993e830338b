"""Which package objects a run takes: listing by prefix, date filter, `latest`, and what was passed over."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from . import naming
from .atomic import write_json
from .config import date_range


def select_objects(
    listed: list[dict], org: str, file_type: str, begin: dt.date, end: dt.date, latest: bool
) -> tuple[list[dict], list[dict]]:
    """Split listed objects into (selected, passed_over): selected are dated package objects inside
    [begin, end] (only the newest with `latest`); passed_over are the ones a user should hear about."""
    dated, passed_over = [], []
    for item in listed:
        date = naming.date_of_key(item["key"])
        if date is None:
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
    return {"org": config["org"], "bucket": config["source"]["buckets"][file_type], "begin": begin.isoformat(),
            "end": end.isoformat(), "latest": config["dates"]["latest"], "source": config["source"]}


def build_manifest(source, org: str, file_type: str, site: str, bucket: str, begin, end, latest: bool):
    listed = []
    for prefix in naming.list_prefixes(org, file_type, site, begin, end):
        listed += source.list(bucket, prefix)
    return select_objects(listed, org, file_type, begin, end, latest)


def write_manifest(path: str | Path, selected: list[dict]) -> None:
    write_json(path, selected)


def read_manifest(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
