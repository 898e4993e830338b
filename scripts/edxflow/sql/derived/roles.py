"""The `roles` table: one row per user with a course access role (`student_courseaccessrole`) or
a forum role (`django_comment_client_role_users`), as 0/1 flags. A role without a flag (one edX
added later, such as the forum's "Group Moderator") keeps its user, its name in `roles_other` or
`forumRoles_other`."""

from __future__ import annotations

from typing import Iterable

from edxflow.core.coerce import to_integer
from edxflow.core.courses import normalize_course_id

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
ACCESS_OTHER, FORUM_OTHER = "roles_other", "forumRoles_other"


def _mark(
    roles_by_user: dict[int, dict[str, set[str]]],
    rows: Iterable[dict],
    role_columns: tuple[str, ...],
    flag_of: dict,
    other: str,
):
    """Each user's flags, and under `other` the names of roles that have no flag."""
    for row in rows:
        user_id = to_integer(row.get("user_id"))
        role = next((row[column] for column in role_columns if row.get(column) is not None), None)
        role = role.strip() if role is not None else ""
        if user_id is None or not role:
            continue
        roles = roles_by_user.setdefault(
            user_id, {"flags": set(), ACCESS_OTHER: set(), FORUM_OTHER: set()}
        )
        if role in flag_of:
            roles["flags"].add(flag_of[role])
        else:
            roles[other].add(role)


def build_roles(
    access_rows: Iterable[dict], forum_role_rows: Iterable[dict], course_id: str
) -> list[dict]:
    """Rows ordered by user_id; `roles` is Staff when the user has any course access role."""
    course_id = normalize_course_id(course_id)
    roles_by_user: dict[int, dict[str, set[str]]] = {}
    # The access table's column is `role`; some dumps name it `name`.
    _mark(roles_by_user, access_rows, ("role", "name"), ACCESS_ROLE_FLAGS, ACCESS_OTHER)
    _mark(roles_by_user, forum_role_rows, ("name",), FORUM_ROLE_FLAGS, FORUM_OTHER)
    rows = []
    for user_id in sorted(roles_by_user):
        roles = roles_by_user[user_id]
        flags = roles["flags"]
        row = {"course_id": course_id, "user_id": user_id}
        row.update({flag: int(flag in flags) for flag in FLAGS})
        access = roles[ACCESS_OTHER] or any(flag in flags for flag in ACCESS_ROLE_FLAGS.values())
        row["roles"] = "Staff" if access else "Student"
        for other in (ACCESS_OTHER, FORUM_OTHER):
            row[other] = "; ".join(sorted(roles[other])) or None
        rows.append(row)
    return rows
