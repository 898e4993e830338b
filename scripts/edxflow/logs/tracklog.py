"""Normalise one tracking-log event to the `tracking_log` table (sql/schemas/tracking_log.json).

Typed columns are filled from the event and coerced to the schema's types; `event` keeps the whole
payload as a JSON string and `extra` every top-level or context field the schema has no column for,
so nothing in the input is lost. `time` is kept exactly as logged.
"""

from __future__ import annotations

import re

import orjson

from edxflow.core.coerce import json_text, to_boolean, to_float, to_integer, to_string
from edxflow.core.jsonl import shipped_schema

# Payloads whose fields are typed in event_struct (edx2bigquery's list); other dict payloads get
# only GET, POST and query there.
STRUCT_EVENT_TYPES = frozenset(
    {
        "play_video",
        "pause_video",
        "stop_video",
        "seq_goto",
        "seq_next",
        "seq_prev",
        "seek_video",
        "load_video",
        "save_problem_success",
        "save_problem_fail",
        "reset_problem_success",
        "reset_problem_fail",
        "show_answer",
        "showanswer",
        "speed_change_video",
        "problem_check",
        "problem_save",
        "problem_reset",
        "edx.course.enrollment.activated",
        "edx.course.enrollment.deactivated",
        "edx.course.enrollment.mode_changed",
        "edx.course.enrollment.upgrade.succeeded",
    }
)
_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?$"
)
RENAMED = {"child-id": "child_id"}


_COERCE = {
    "STRING": to_string,
    "INTEGER": to_integer,
    "FLOAT": to_float,
    "BOOLEAN": to_boolean,
    "TIMESTAMP": to_string,
}


class Plan:
    """How to coerce a RECORD: its STRING fields (the common case, checked first), its other
    scalar fields with their coercers, and its nested RECORDs."""

    def __init__(self, fields: list[dict]):
        self.strings = frozenset(f["name"] for f in fields if f["type"] in ("STRING", "TIMESTAMP"))
        self.scalars = {
            f["name"]: _COERCE[f["type"]]
            for f in fields
            if f["type"] in ("INTEGER", "FLOAT", "BOOLEAN")
        }
        self.records = {f["name"]: Plan(f["fields"]) for f in fields if f["type"] == "RECORD"}
        self.names = self.strings | self.scalars.keys() | self.records.keys()

    def as_tuple(self) -> tuple:
        """(strings, scalars, records, names), the records' plans as tuples too: how the compiled
        split (native/tracklog.c) reads the plan."""
        records = {name: plan.as_tuple() for name, plan in self.records.items()}
        return (self.strings, self.scalars, records, self.names)


_SCHEMA = Plan(shipped_schema("tracking_log"))
CONTEXT_PLAN = _SCHEMA.records["context"]
STRUCT_PLAN = _SCHEMA.records["event_struct"]
OWN_TOP = frozenset(
    {
        "username",
        "ip",
        "event_source",
        "event_type",
        "name",
        "agent",
        "host",
        "page",
        "session",
        "referer",
        "accept_language",
    }
)


def coerce_record(value: dict, plan: Plan, unknown: dict | None = None) -> dict | None:
    """The fields of `value` that the plan knows, coerced (None when nothing is left); the others
    are put in `unknown` when it is given."""
    out = {}
    strings, scalars, records = plan.strings, plan.scalars, plan.records
    for key, item in value.items():
        if key in strings:
            if item is not None:
                out[key] = item if type(item) is str else to_string(item)
            continue
        if key not in plan.names:
            renamed = RENAMED.get(key)
            if renamed is None or renamed not in plan.names:
                if unknown is not None:
                    unknown[key] = item
                continue
            key = renamed
            if key in strings:
                if item is not None:
                    out[key] = item if type(item) is str else to_string(item)
                continue
        if item is None:
            continue
        rule = scalars.get(key)
        if rule is not None:
            item = rule(item)
        else:
            item = coerce_record(item, records[key]) if type(item) is dict else None
        if item is not None:
            out[key] = item
    return out or None


def valid_time(value) -> bool:
    return type(value) is str and _TIME.match(value) is not None


def payload_of(event) -> dict | None:
    """The event payload as a dict: server events log an object, browser events a JSON string."""
    if type(event) is dict:
        return event
    if type(event) is str and event[:1] == "{":
        try:
            parsed = orjson.loads(event)
        except orjson.JSONDecodeError:
            return None
        return parsed if type(parsed) is dict else None
    return None


def event_struct(event_type, payload: dict | None) -> dict | None:
    if payload is None:
        return None
    if type(event_type) is str and (event_type in STRUCT_EVENT_TYPES or "problem_" in event_type):
        return coerce_record(payload, STRUCT_PLAN)
    picked = {key: payload[key] for key in ("GET", "POST", "query") if key in payload}
    return coerce_record(picked, STRUCT_PLAN) if picked else None


def normalise(
    record: dict, course_id: str | None, module_id: str | None, payload: dict | None
) -> dict:
    """The output row for one event (a dict whose `time` was checked by `valid_time`);
    `payload` is `payload_of(record["event"])`."""
    row = {"time": record["time"]}
    extra = {}
    for key, value in record.items():
        if key in OWN_TOP:
            if value is not None:
                row[key] = value if type(value) is str else to_string(value)
        elif key == "context":
            if type(value) is dict:
                unknown = {}
                known = coerce_record(value, CONTEXT_PLAN, unknown)
                if known:
                    row["context"] = known
                if unknown:
                    extra["context"] = unknown
            elif value is not None:
                extra["context"] = value
        elif key == "event":
            if value is not None:
                row["event"] = value if type(value) is str else json_text(value)
                struct = event_struct(record.get("event_type"), payload)
                if struct:
                    row["event_struct"] = struct
        elif key == "_id":
            if type(value) is dict and type(value.get("$oid")) is str:
                row["mongoid"] = value["$oid"]
            else:
                extra["_id"] = value
        elif key != "time":  # unknown fields, and input fields named like a derived column
            extra[key] = value
    if course_id:
        row["course_id"] = course_id
    if module_id:
        row["module_id"] = module_id
    if extra:
        row["extra"] = json_text(extra)
    return row
