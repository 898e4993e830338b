"""Course ids in every form edX writes them, normalised to the transparent `Org/Num/Run`."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

_KEYED = re.compile(r"(?:course|ccx|block)-v1:([^+/\s]+)\+([^+/\s]+)\+([^+/\s?#]+)")
_I4X = re.compile(r"i4x://([^/\s]+)/([^/\s]+)/course/([^/\s?#]+)")
_SLASHED = re.compile(r"^([^/\s]+)/([^/\s]+)/([^/\s]+)$")
_COURSES_URL = re.compile(r"/courses/([^/\s]+)/([^/\s]+)/([^/\s?#]+)")


class CourseIdError(ValueError):
    pass


def normalize_course_id(text: str) -> str:
    """`course-v1:Org+Num+Run`, `ccx-v1:Org+Num+Run+ccx@1` (its parent course), `block-v1:` keys,
    `i4x://Org/Num/course/Run`, `Org/Num/Run` and URLs holding any of them -> `Org/Num/Run`."""
    value = unquote(text.strip())
    keyed = _KEYED.search(value)
    if keyed:
        org, num, run = keyed.groups()
        return f"{org}/{num}/{run.split('+', 1)[0]}"
    i4x = _I4X.search(value)
    if i4x:
        return "/".join(i4x.groups())
    slashed = _SLASHED.match(value)
    if slashed:
        return value
    in_url = _COURSES_URL.search(value)
    if in_url and ":" not in in_url.group(1):
        return "/".join(in_url.groups())
    raise CourseIdError(
        f"{text!r} is not a course id: expected course-v1:Org+Num+Run, Org/Num/Run, or a URL containing one"
    )


def course_base_name(course_id: str) -> str:
    """Directory and dataset base name: `MITx/12.3x/1T2021` -> `MITx__12_3x__1T2021`."""
    return normalize_course_id(course_id).replace("/", "__").replace(".", "_").replace("-", "_")


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
