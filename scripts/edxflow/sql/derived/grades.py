"""The `grades_persistent` and `grades_persistent_subsection` tables, from the
`grades_persistentcoursegrade` and `grades_persistentsubsectiongrade` rows: typed as the schemas
say, course ids as `Org/Num/Run`. Columns the schemas do not list are not kept."""

from __future__ import annotations

from typing import Iterable, Iterator

from edxflow.core.coerce import coerce_record, course_id_or
from edxflow.core.courses import normalize_course_id
from edxflow.core.jsonl import shipped_schema as load_schema

COURSE_GRADE_FIELDS = load_schema("grades_persistent")
SUBSECTION_GRADE_FIELDS = load_schema("grades_persistent_subsection")


def _typed_rows(rows: Iterable[dict], fields: list[dict], course_id: str) -> Iterator[dict]:
    course_id = normalize_course_id(course_id)
    for row in rows:
        typed = coerce_record(row, fields)
        typed["course_id"] = course_id_or(row.get("course_id"), course_id)
        yield typed


def build_grades_persistent(rows: Iterable[dict], course_id: str) -> Iterator[dict]:
    return _typed_rows(rows, COURSE_GRADE_FIELDS, course_id)


def build_grades_persistent_subsection(rows: Iterable[dict], course_id: str) -> Iterator[dict]:
    return _typed_rows(rows, SUBSECTION_GRADE_FIELDS, course_id)
