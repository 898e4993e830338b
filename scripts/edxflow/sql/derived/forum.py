"""The `forum` table, from the course's forum dump (`forum.mongo`: one mongoexport extended-JSON
document per line).

Ids (`{"$oid": ...}`) and dates (`{"$date": ms | ISO | {"$numberLong": ms}}`) are unwrapped, lists
the schema keeps as STRING become JSON text, and whatever the schema has no column for (or could
not type) is kept in `extra`. A line that is not a JSON object is a reject, not a crash.
"""

from __future__ import annotations

import re
from typing import Iterable

from edxflow.core.coerce import (
    coerce_record,
    course_id_or,
    json_text,
    loads_json,
    timestamp_from_epoch_ms,
    to_integer,
    to_timestamp,
)
from edxflow.core.courses import normalize_course_id
from edxflow.core.jsonl import shipped_schema as load_schema

FIELDS = [field for field in load_schema("forum") if field["name"] != "extra"]
OID_KEYS = ("parent_id", "comment_thread_id")
DATE_KEYS = ("created_at", "updated_at", "last_activity_at")
# mongo shell syntax that some dumps contain instead of extended JSON
_SHELL_VALUE = re.compile(
    r'ObjectId\(\s*"([^"]*)"\s*\)|ISODate\(\s*"([^"]*)"\s*\)|NumberLong\(\s*"?(-?\d+)"?\s*\)'
)


def _shell_to_json(match: re.Match) -> str:
    oid, date, number = match.groups()
    if oid is not None:
        return json_text({"$oid": oid})
    if date is not None:
        return json_text({"$date": date})
    return number


def parse_line(line: bytes):
    """The document on one line; raises ValueError when it is not JSON."""
    try:
        return loads_json(line)
    except ValueError:
        text = line.decode("utf-8", "replace")
        if "(" not in text:
            raise
        return loads_json(_SHELL_VALUE.sub(_shell_to_json, text))


def unwrap_oid(value):
    if type(value) is dict and len(value) == 1 and type(value.get("$oid")) is str:
        return value["$oid"]
    return value


def unwrap_date(value):
    """An ISO timestamp for a `$date`; anything not understood is returned unchanged (and so ends
    up in `extra` when its column cannot take it)."""
    if type(value) is not dict or "$date" not in value:
        return value
    date = value["$date"]
    if type(date) is dict and "$numberLong" in date:
        date = to_integer(date["$numberLong"])
    if type(date) is int or type(date) is float:
        return timestamp_from_epoch_ms(date) or value
    return to_timestamp(date) or value


def _without_null_text(document: dict) -> dict:
    """mongoexport of some dumps writes the string "NULL" for null, also in nested documents."""
    return {
        key: (
            None if value == "NULL" else _without_null_text(value) if type(value) is dict else value
        )
        for key, value in document.items()
    }


def unwrapped(document: dict) -> dict:
    document = _without_null_text(document)
    if "_id" in document:
        document["mongoid"] = unwrap_oid(document.pop("_id"))
    for key in OID_KEYS:
        if key in document:
            document[key] = unwrap_oid(document[key])
    if type(document.get("parent_ids")) is list:
        document["parent_ids"] = [unwrap_oid(item) for item in document["parent_ids"]]
    for key in DATE_KEYS:
        if key in document:
            document[key] = unwrap_date(document[key])
    endorsement = document.get("endorsement")
    if type(endorsement) is dict and "time" in endorsement:
        document["endorsement"] = {**endorsement, "time": unwrap_date(endorsement["time"])}
    return document


def forum_row(document: dict, course_id: str) -> dict:
    document = unwrapped(document)
    leftovers = {}
    row = coerce_record(document, FIELDS, leftovers)
    logged_course_id = document.get("course_id")
    row["course_id"] = course_id_or(logged_course_id, course_id)
    if logged_course_id is not None and course_id_or(logged_course_id, None) is None:
        leftovers["course_id"] = logged_course_id
    row["extra"] = json_text(leftovers) if leftovers else None
    return row


def build_forum(lines: Iterable[bytes], course_id: str) -> tuple[list[dict], list[dict]]:
    """(rows, rejects); a reject is `{"line": n, "reason": ..., "raw": the line}` (n from 1)."""
    course_id = normalize_course_id(course_id)
    rows, rejects = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = parse_line(line)
        except ValueError as error:
            rejects.append(_reject(number, f"not JSON: {error}", line))
            continue
        if type(document) is not dict:
            rejects.append(
                _reject(number, f"not a JSON object but {type(document).__name__}", line)
            )
            continue
        rows.append(forum_row(document, course_id))
    return rows, rejects


def _reject(number: int, reason: str, line: bytes) -> dict:
    return {"line": number, "reason": reason, "raw": line.decode("utf-8", "replace").rstrip("\r\n")}
