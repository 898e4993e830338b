"""The `studentmodule` and `problem_analysis` tables, from `courseware_studentmodule` rows.

Both stream: rows in, rows out. A course can have millions of studentmodule rows, so the per-row
work avoids regular expressions and caches what repeats (course ids, block keys).
"""

from __future__ import annotations

from functools import lru_cache

import orjson
from typing import Iterable, Iterator

from edxflow.courses import normalize_course_id
from edxflow.coerce import (
    course_id_or,
    json_text,
    loads_json,
    null_if_null_text,
    to_boolean,
    to_float,
    to_integer,
    to_string,
    to_timestamp,
)


def parse_state(state: str | None) -> dict | None:
    """A studentmodule `state` as a dict, or None if it is missing, not an object, or unparseable.

    The dump is made by another process than the other tables, and its escaping is not always
    the one the TSV reader undoes: raw control characters are accepted inside strings, and as a
    last resort a doubled backslash is read as one."""
    if not state:
        return None
    candidates = (state, state.replace("\\\\", "\\")) if "\\\\" in state else (state,)
    for text in candidates:
        try:
            parsed = loads_json(text)
        except ValueError:
            continue
        return parsed if type(parsed) is dict else None
    return None


@lru_cache(maxsize=65536)
def block_parts(key: str) -> tuple[str, str, str, str] | None:
    """(org, num, type, id) of `block-v1:O+N+R+type@T+block@ID` (also ccx and other keyed forms)
    or `i4x://O/N/T/ID`; None for anything else."""
    if key.startswith("i4x://"):
        parts = key[6:].split("/")
        return tuple(parts) if len(parts) == 4 and all(parts) else None
    prefix, colon, rest = key.partition(":")
    if not colon or not prefix.endswith("block-v1"):
        return None
    segments = rest.split("+")
    block_type = block_id = None
    for segment in segments[2:]:
        if segment.startswith("type@"):
            block_type = segment[5:]
        elif segment.startswith("block@"):
            block_id = segment[6:]
    if len(segments) < 3 or not block_type or not block_id:
        return None
    return segments[0], segments[1], block_type, block_id


def module_id_of(key: str | None) -> str | None:
    """`Org/Num/type/id`, as edx2bigquery and simeon write module ids; other keys unchanged."""
    if key is None:
        return None
    parts = block_parts(key)
    return key if parts is None else "/".join(parts)


def url_name_of(key: str | None) -> str | None:
    if key is None:
        return None
    parts = block_parts(key)
    return key.rsplit("@", 1)[-1].rsplit("/", 1)[-1] if parts is None else parts[3]


def state_text(state: str | None) -> str | None:
    """The state as valid JSON: as dumped when it parses (most do), else re-serialised from what
    the fallbacks of `parse_state` read; unparseable states are kept as dumped."""
    state = null_if_null_text(state)
    if state is None:
        return None
    try:
        orjson.loads(state)  # strict: a state it accepts is valid JSON as it stands
        return state
    except orjson.JSONDecodeError:
        parsed = parse_state(state)
        return state if parsed is None else json_text(parsed)


def build_studentmodule(rows: Iterable[dict], course_id: str) -> Iterator[dict]:
    course_id = normalize_course_id(course_id)
    for row in rows:
        get = row.get
        yield {
            "id": to_integer(get("id")),
            "module_type": null_if_null_text(get("module_type")),
            "module_id": module_id_of(null_if_null_text(get("module_id"))),
            "student_id": to_integer(get("student_id")),
            "state": state_text(get("state")),
            "grade": to_float(get("grade")),
            "created": to_timestamp(get("created")),
            "modified": to_timestamp(get("modified")),
            "max_grade": to_float(get("max_grade")),
            "done": null_if_null_text(get("done")),
            "course_id": course_id_or(get("course_id"), course_id),
        }


def answer_items(correct_map: dict, student_answers: dict) -> list[dict]:
    items = []
    for answer_id, entry in correct_map.items():
        entry = entry if type(entry) is dict else {}
        correctness = to_string(entry.get("correctness"))
        items.append(
            {
                "answer_id": answer_id,
                "correctness": correctness,
                "correct_bool": None if correctness is None else correctness == "correct",
                "npoints": to_float(entry.get("npoints")),
                "msg": to_string(entry.get("msg")),
                "hint": to_string(entry.get("hint")),
                "response": (
                    json_text(student_answers[answer_id]) if answer_id in student_answers else None
                ),
            }
        )
    return items


def build_problem_analysis(rows: Iterable[dict], course_id: str) -> Iterator[dict]:
    """One row per studentmodule row whose state has a non-empty `correct_map` and
    `student_answers` (a problem the learner has checked), one item per answer field."""
    course_id = normalize_course_id(course_id)
    for row in rows:
        raw_state = row.get("state")
        # Most rows are not checked problems; skip them before parsing.
        if not raw_state or "correct_map" not in raw_state or "student_answers" not in raw_state:
            continue
        state = parse_state(raw_state)
        if state is None:
            continue
        correct_map, student_answers = state.get("correct_map"), state.get("student_answers")
        if not (
            type(correct_map) is dict
            and correct_map
            and type(student_answers) is dict
            and student_answers
        ):
            continue
        yield {
            "course_id": course_id_or(row.get("course_id"), course_id),
            "user_id": to_integer(row.get("student_id")),
            "problem_url_name": url_name_of(null_if_null_text(row.get("module_id"))),
            "item": answer_items(correct_map, student_answers),
            "attempts": to_integer(state.get("attempts")),
            "done": to_boolean(state.get("done")),
            "grade": to_float(row.get("grade")),
            "max_grade": to_float(row.get("max_grade")),
            "created": to_timestamp(row.get("created")),
        }
