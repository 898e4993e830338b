"""The SQL tables of the weekly database dump, one course at a time: tab separated, header row,
NULL literal, backslash escapes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import random
import uuid

from edxflow.demo.course import PARTITION_KEY
from edxflow.demo.events import correct_map_of
from edxflow.demo.grades import (
    CERTIFICATE_HEADER,
    COURSE_GRADE_HEADER,
    SUBSECTION_GRADE_HEADER,
    certificate_rows,
    course_grade_rows,
    subsection_grade_rows,
    subsection_grades,
)
from edxflow.demo.model import Attempt, Course, User, World
from edxflow.demo.people import course_users
from edxflow.demo.times import iso_z, random_time
from edxflow.sql.derived.studentmodule import COLUMNS as STUDENTMODULE_COLUMNS


def sql_time(when: dt.datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%d %H:%M:%S")


def tsv_field(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return sql_time(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tsv_bytes(header: list[str], rows: list[list]) -> bytes:
    lines = ["\t".join(header)] + ["\t".join(tsv_field(value) for value in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


AUTH_USER_HEADER = [
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "password",
    "is_staff",
    "is_active",
    "is_superuser",
    "last_login",
    "date_joined",
    "status",
    "email_key",
    "avatar_type",
    "country",
    "show_country",
    "date_of_birth",
    "interesting_tags",
    "ignored_tags",
    "email_tag_filter_strategy",
    "display_tag_filter_strategy",
    "consecutive_days_visit_count",
]


def auth_user_rows(users: list[User]) -> list[list]:
    return [
        [
            u.id,
            u.username,
            "",
            "",
            u.email,
            "",
            u.is_staff,
            True,
            False,
            u.last_login,
            u.date_joined,
            "",
            None,
            "",
            "",
            False,
            None,
            "",
            "",
            0,
            0,
            0,
        ]
        for u in users
    ]


AUTH_USERPROFILE_HEADER = [
    "id",
    "user_id",
    "name",
    "language",
    "location",
    "meta",
    "courseware",
    "gender",
    "mailing_address",
    "year_of_birth",
    "level_of_education",
    "goals",
    "country",
    "city",
    "bio",
    "profile_image_uploaded_at",
]


def auth_userprofile_rows(users: list[User]) -> list[list]:
    rows = []
    for u in users:
        meta = (
            json.dumps({"old_emails": [[f"old.{u.email}", "2024-05-01T10:00:00Z"]]})
            if u.id % 5 == 0
            else ""
        )
        rows.append(
            [
                u.id - 3_000_000,
                u.id,
                u.full_name,
                "",
                "",
                meta,
                "course.xml",
                u.gender,
                None,
                u.year_of_birth,
                u.level_of_education,
                u.goals,
                u.country,
                None,
                None,
                None,
            ]
        )
    return rows


def enrollment_rows(world: World, course: Course) -> list[list]:
    return [
        [e.id, e.user.id, course.course_id, e.created, e.deactivated is None, e.mode]
        for e in world.enrollments
        if e.course is course
    ]


def problem_state(attempt: Attempt) -> str:
    return json.dumps(
        {
            "correct_map": correct_map_of(attempt),
            "student_answers": attempt.answers,
            "input_state": {answer_id: {} for answer_id in attempt.answers},
            "attempts": attempt.number,
            "seed": 1,
            "done": True,
            "last_submission_time": iso_z(attempt.time),
            "score": {"raw_earned": attempt.grade, "raw_possible": attempt.max_grade},
        }
    )


def video_position(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def studentmodule_rows(world: World, course: Course, ids: itertools.count) -> list[list]:
    """One row per (learner, block) touched, created at the first touch and holding the state of the
    last: containers store their position, videos the saved position, problems answers and grade."""
    touches = []  # (time, user, block, state, grade, max_grade)
    for visit in (v for v in world.visits if v.course is course):
        seq = course.blocks[visit.vertical.parent]
        chapter = course.blocks[seq.parent]
        for container, child in ((course.root, chapter), (chapter, seq), (seq, visit.vertical)):
            position = json.dumps({"position": container.children.index(child.key) + 1})
            touches.append((visit.time, visit.user, container, position, None, None))
    for view in (v for v in world.video_views if v.course is course):
        state = json.dumps({"saved_video_position": video_position(view.position)})
        touches.append((view.time, view.user, view.video, state, None, None))
    for attempt in (a for a in world.attempts if a.course is course):
        touches.append(
            (
                attempt.time,
                attempt.user,
                attempt.problem,
                problem_state(attempt),
                attempt.grade,
                attempt.max_grade,
            )
        )
    rows: dict[tuple[int, str], list] = {}
    for when, user, block, state, grade, max_grade in sorted(touches, key=lambda touch: touch[0]):
        row = rows.setdefault(
            (user.id, block.key),
            [
                next(ids),
                block.category,
                block.key,
                user.id,
                None,
                None,
                when,
                None,
                None,
                "na",
                course.course_id,
            ],
        )
        row[4], row[5], row[7], row[8] = state, grade, when, max_grade
    return list(rows.values())


def user_id_map_rows(users: list[User]) -> list[list]:
    return [
        [hashlib.sha1(f"demox-{u.id}".encode()).hexdigest()[:32], u.id, u.username] for u in users
    ]


def submissions_rows(rng: random.Random, world: World, course: Course) -> list[list]:
    """ORA2 submissions: `raw_answer` is JSON, so the dump escapes leave it doubly encoded."""
    rows = []
    enrolled = [e for e in world.enrollments if e.course is course][:6]
    for index, enrollment in enumerate(enrolled):
        when = random_time(rng, enrollment.created, world.snapshot_time)
        answer = {
            "parts": [
                {"text": f'My essay, draft {index + 1}.\nIt argues that "data" beats opinions.'}
            ]
        }
        submission_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
        rows.append(
            [index + 1, str(submission_uuid), 1, when, when, json.dumps(answer), 500 + index, "A"]
        )
    return rows


SQL_TABLES = (
    "auth_user",
    "auth_userprofile",
    "student_courseenrollment",
    "certificates_generatedcertificate",
    "user_id_map",
    "courseware_studentmodule",
    "grades_persistentcoursegrade",
    "grades_persistentsubsectiongrade",
    "student_courseaccessrole",
    "django_comment_client_role_users",
    "user_api_usercoursetag",
)


def course_tables(
    rng: random.Random, world: World, course: Course, ids: dict[str, itertools.count]
) -> dict[str, bytes]:
    """table name -> TSV for one course."""
    users = course_users(world, course)
    grades = subsection_grades(world, course)
    cid = course.course_id
    tables = {
        "auth_user": (AUTH_USER_HEADER, auth_user_rows(users)),
        "auth_userprofile": (AUTH_USERPROFILE_HEADER, auth_userprofile_rows(users)),
        "student_courseenrollment": (
            ["id", "user_id", "course_id", "created", "is_active", "mode"],
            enrollment_rows(world, course),
        ),
        "certificates_generatedcertificate": (
            CERTIFICATE_HEADER,
            certificate_rows(rng, world, course, grades, ids["certificate"]),
        ),
        "user_id_map": (["hash_id", "id", "username"], user_id_map_rows(users)),
        "courseware_studentmodule": (
            STUDENTMODULE_COLUMNS,
            studentmodule_rows(world, course, ids["studentmodule"]),
        ),
        "grades_persistentcoursegrade": (COURSE_GRADE_HEADER, course_grade_rows(course, grades)),
        "grades_persistentsubsectiongrade": (
            SUBSECTION_GRADE_HEADER,
            subsection_grade_rows(course, grades),
        ),
        "student_courseaccessrole": (
            ["user_id", "course_id", "role"],
            [[u.id, cid, role] for u, c, role in world.roles if c is course],
        ),
        "django_comment_client_role_users": (
            ["user_id", "course_id", "name"],
            [[u.id, cid, name] for u, c, name in world.forum_roles if c is course],
        ),
        # Only the partitioned course has rows; the others are header-only, as real empty tables are.
        "user_api_usercoursetag": (
            ["user_id", "course_id", "key", "value"],
            [
                [user_id, cid, PARTITION_KEY, group]
                for (user_id, course_id), group in world.course_tags.items()
                if course_id == cid
            ],
        ),
    }
    return {table: tsv_bytes(*tables[table]) for table in SQL_TABLES}
