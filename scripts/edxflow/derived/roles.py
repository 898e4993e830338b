"""The `roles` table: one row per user with a course access role (`student_courseaccessrole`) or
a forum role (`django_comment_client_role_users`), as 0/1 flags."""

from __future__ import annotations

from typing import Iterable

from edxflow.courses import normalize_course_id
from edxflow.coerce import to_integer

ACCESS_ROLE_FLAGS = {
    "beta_testers": "roles_isBetaTester",
    "instructor": "roles_isInstructor",
    "staff": "roles_isStaff",
    "ccx_coach": "roles_isCCX",
    "finance_admin": "roles_isFinance",
    "library_user": "roles_isLibrary",
    "sales_admin": "roles_isSales",
}
FORUM_ROLE_FLAGS = {
    "Administrator": "forumRoles_isAdmin",
    "Community TA": "forumRoles_isCommunityTA",
    "Moderator": "forumRoles_isModerator",
    "Student": "forumRoles_isStudent",
}
FLAGS = (*ACCESS_ROLE_FLAGS.values(), *FORUM_ROLE_FLAGS.values())


def _mark(
    flags_by_user: dict[int, set[str]],
    rows: Iterable[dict],
    role_columns: tuple[str, ...],
    flag_of: dict,
):
    for row in rows:
        user_id = to_integer(row.get("user_id"))
        role = next((row[column] for column in role_columns if row.get(column) is not None), None)
        flag = flag_of.get(role.strip()) if role is not None else None
        if user_id is None or flag is None:
            continue  # unknown roles are ignored
        flags_by_user.setdefault(user_id, set()).add(flag)


def build_roles(
    access_rows: Iterable[dict], forum_role_rows: Iterable[dict], course_id: str
) -> list[dict]:
    """Rows ordered by user_id; `roles` is Staff when the user has any course access role."""
    course_id = normalize_course_id(course_id)
    flags_by_user: dict[int, set[str]] = {}
    # The access table's column is `role`; some dumps name it `name`.
    _mark(flags_by_user, access_rows, ("role", "name"), ACCESS_ROLE_FLAGS)
    _mark(flags_by_user, forum_role_rows, ("name",), FORUM_ROLE_FLAGS)
    rows = []
    for user_id in sorted(flags_by_user):
        flags = flags_by_user[user_id]
        row = {"course_id": course_id, "user_id": user_id}
        row.update({flag: int(flag in flags) for flag in FLAGS})
        row["roles"] = (
            "Staff" if any(flag in flags for flag in ACCESS_ROLE_FLAGS.values()) else "Student"
        )
        rows.append(row)
    return rows
