"""Course ids in every form edX writes them, normalised to the transparent `Org/Num/Run`.

This is the one reading of course ids and block keys: the SQL and email steps use it through
`normalize_course_id`, the log split through `course_in_id`/`course_in_url` (event_course.py), so
the logs and tables of one course always land under one name.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from edxflow.core.errors import UserError

# One part (org, number, run, block type or id) of a key: the characters edX's opaque keys allow,
# word characters of any script, `-`, `~`, `.` and `:`.
PART = r"[\w~.:-]+"
_KEYED = re.compile(rf"(?:course|ccx|block)-v1:({PART})\+({PART})\+({PART})")
_I4X_COURSE = re.compile(rf"i4x://({PART})/({PART})/course/({PART})")
_SLASHED = re.compile(rf"^({PART})/({PART})/({PART})$")
_COURSES_PATH = re.compile(rf"/courses/({PART})/({PART})/({PART})(?![\w~.:+-])")
# a usage key, also of a ccx or with a branch/version: its course parts, then type and block id
_BLOCK = re.compile(
    rf"block-v1:({PART})\+({PART})\+({PART})(?:\+\w+@{PART})*?\+type@({PART})\+block@({PART})"
)
_I4X_BLOCK = re.compile(rf"i4x://({PART})/({PART})/({PART})/({PART})")
_I4X_DASHED = re.compile(
    r"^i4x-([^-\s]+)-([^-\s]+)-([^-\s]+)-([^-\s]+)$"
)  # browser events' element ids

_NOT_IN_DATASET_NAME = re.compile(r"[^A-Za-z0-9_]")


class CourseIdError(UserError, ValueError):
    pass


def course_in_url(text: str) -> str | None:
    """`Org/Num/Run` of an opaque key anywhere in `text`, else of a `/courses/Org/Num/Run` path, else
    of an `i4x://Org/Num/course/Run` key; None when there is none."""
    value = unquote(text) if "%" in text else text
    keyed = _KEYED.search(value)
    if keyed:
        return "/".join(keyed.groups())
    in_path = _COURSES_PATH.search(value)
    if in_path and ":" not in in_path.group(1):
        return "/".join(in_path.groups())
    i4x = _I4X_COURSE.search(value)
    return "/".join(i4x.groups()) if i4x else None


def course_in_id(text: str) -> str | None:
    """A course id field: `Org/Num/Run` as it is, or anything `course_in_url` reads; else None."""
    value = text.strip()
    if "%" in value:
        value = unquote(value)
    if _SLASHED.match(value):  # a part holds no `+`: no opaque key matches this
        return value
    return course_in_url(value)


def normalize_course_id(text: str) -> str:
    """`course-v1:Org+Num+Run`, `ccx-v1:Org+Num+Run+ccx@1` (its parent course), `block-v1:` keys,
    `i4x://Org/Num/course/Run`, `Org/Num/Run` and URLs holding any of them -> `Org/Num/Run`."""
    found = course_in_id(text)
    if found is None:
        raise CourseIdError(
            f"{text!r} is not a course id: expected course-v1:Org+Num+Run, Org/Num/Run, or a URL containing one"
        )
    return found


def block_key(text: str) -> tuple[str, ...] | None:
    """(org, num, run, type, id) of a `block-v1:` usage key in `text`, (org, num, type, id) of an
    i4x key (it names no run); None when `text` holds neither."""
    found = _BLOCK.search(text) or _I4X_BLOCK.search(text) or _I4X_DASHED.match(text)
    return found.groups() if found else None


def module_id(text: str) -> str | None:
    """simeon's module_id: `Org/Num/Run/type/id` for block-v1 keys, `Org/Num/type/id` for i4x keys."""
    parts = block_key(text)
    return "/".join(parts) if parts else None


def course_base_name(course_id: str) -> str:
    """Directory and dataset base name: `MITx/12.3x/1T2021` -> `MITx__12_3x__1T2021`. Like simeon, `/`
    becomes `__` and `.` and `-` become `_`; unlike simeon, so does every other character a BigQuery
    dataset name cannot hold (`~`, `:`, letters outside ASCII)."""
    return _NOT_IN_DATASET_NAME.sub("_", normalize_course_id(course_id).replace("/", "__"))


def base_names(course_ids) -> dict[str, str]:
    """course_id -> base name, refusing two courses that would share a directory and dataset."""
    seen: dict[str, str] = {}
    for course_id in sorted({normalize_course_id(c) for c in course_ids}):
        base = course_base_name(course_id)
        if base in seen:
            raise CourseIdError(
                f"courses {seen[base]!r} and {course_id!r} both map to the name {base!r}; "
                "they cannot share one directory and dataset"
            )
        seen[base] = course_id
    return {course_id: base for base, course_id in seen.items()}


def read_course_list(path: str | Path) -> list[str]:
    """One course id per line; blank lines and `#` comments are ignored."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    ids = []
    for number, line in enumerate(lines, start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            ids.append(normalize_course_id(entry))
        except CourseIdError as error:
            raise CourseIdError(f"{path}, line {number}: {error}") from None
    return ids
