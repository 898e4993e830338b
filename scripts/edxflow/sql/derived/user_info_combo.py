"""The `user_info_combo` table: one row per user of the course, merged by user id from
`auth_user`, `auth_userprofile` (columns prefixed `profile_`), `student_courseenrollment`
(`enrollment_`), `certificates_generatedcertificate` (`certificate_`) and `user_id_map`
(`id_map_`). Users with neither an auth_user row nor a certificate are left out, as in simeon.
"""

from __future__ import annotations

from typing import Iterable

from edxflow.core.coerce import (
    coerce_record,
    course_id_or_text,
    null_if_null_text,
    to_integer,
)
from edxflow.core.courses import normalize_course_id
from edxflow.core.jsonl import shipped_schema as load_schema

FIELDS = load_schema("user_info_combo")
COLUMNS = frozenset(field["name"] for field in FIELDS)
AUTH_USER_COLUMNS = ("username", "email", "is_staff", "last_login", "date_joined")

# table -> (columns that may hold the user id, prefix of its columns in user_info_combo)
SOURCES = {
    "auth_userprofile": (("user_id",), "profile_"),
    "student_courseenrollment": (("user_id",), "enrollment_"),
    "certificates_generatedcertificate": (("user_id",), "certificate_"),
    "user_id_map": (("id", "user_id"), "id_map_"),
}
COURSE_ID_COLUMNS = ("enrollment_course_id", "certificate_course_id")


def _clean(value):
    return null_if_null_text(value.strip()) if type(value) is str else value


def _user_key(value) -> int | None:
    return to_integer(_clean(value))


def _merge(
    users: dict[int, dict], rows: Iterable[dict], id_columns: tuple[str, ...], prefix: str
) -> None:
    for row in rows:
        key = _user_key(next((row[column] for column in id_columns if column in row), None))
        if key is None:
            continue
        merged = users.setdefault(key, {})
        for column, value in row.items():
            name = prefix + column
            if name in COLUMNS:
                merged[name] = _clean(value)


def build_user_info_combo(tables: dict[str, Iterable[dict]], course_id: str) -> list[dict]:
    """Rows ordered by user id. `tables` maps a table name to its rows; any may be missing.
    Enrollment and certificate rows keep their own course ids: `course_id` is only checked, no
    row is dropped for naming another course."""
    normalize_course_id(course_id)
    users: dict[int, dict] = {}
    for row in tables.get("auth_user", ()):
        key = _user_key(row.get("id"))
        if key is not None:
            merged = users.setdefault(key, {})
            merged["user_id"] = key
            merged.update({column: _clean(row.get(column)) for column in AUTH_USER_COLUMNS})
    for table, (id_columns, prefix) in SOURCES.items():
        _merge(users, tables.get(table, ()), id_columns, prefix)
    rows = []
    for key in sorted(users):
        merged = users.pop(key)
        if merged.get("user_id") is None and merged.get("certificate_user_id") is None:
            continue
        for column in COURSE_ID_COLUMNS:
            merged[column] = course_id_or_text(merged.get(column))
        rows.append(coerce_record(merged, FIELDS))
    return rows
