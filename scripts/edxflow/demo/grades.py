"""Grades computed from the problem attempts, and the rows of the tables built from them:
persistent subsection and course grades, and certificates.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import random
from dataclasses import dataclass

from edxflow.demo.course import HOST
from edxflow.demo.ids import hex_id
from edxflow.demo.model import Attempt, Block, Course, User, World
from edxflow.demo.people import course_users


def last_attempts(world: World, course: Course) -> dict[tuple[int, str], Attempt]:
    latest = {}
    for attempt in world.attempts:
        if attempt.course is course:
            latest[(attempt.user.id, attempt.problem.key)] = attempt
    return latest


@dataclass
class SubsectionGrade:
    user: User
    sequential: Block
    earned: int
    possible: int
    first_attempted: dt.datetime
    modified: dt.datetime


def subsection_grades(world: World, course: Course) -> list[SubsectionGrade]:
    latest = last_attempts(world, course)
    # Each learner's first attempt at each problem, read once (not once per learner and subsection).
    first_at: dict[tuple[int, str], dt.datetime] = {}
    for a in world.attempts:
        key = (id(a.user), a.problem.key)
        if key not in first_at or a.time < first_at[key]:
            first_at[key] = a.time
    grades = []
    for seq in course.of_category("sequential"):
        problems = [
            course.blocks[p]
            for v in seq.children
            for p in course.blocks[v].children
            if course.blocks[p].category == "problem"
        ]
        possible = sum(len(p.problem.questions) for p in problems)
        problem_keys = {p.key for p in problems}
        for user in course_users(world, course):
            attempts = [latest[(user.id, p.key)] for p in problems if (user.id, p.key) in latest]
            if attempts:
                first = min(
                    first_at[(id(user), key)] for key in problem_keys if (id(user), key) in first_at
                )
                grades.append(
                    SubsectionGrade(
                        user,
                        seq,
                        sum(a.grade for a in attempts),
                        possible,
                        first,
                        max(a.time for a in attempts),
                    )
                )
    return grades


def course_percent(course: Course, grades: list[SubsectionGrade]) -> float:
    """The weighted average of the assignment types (unattempted subsections count as 0)."""
    percent = 0.0
    scores = {g.sequential.key: g.earned / g.possible for g in grades if g.possible}
    for grader in course.grading_policy["GRADER"]:
        sequentials = [
            s
            for s in course.of_category("sequential")
            if s.metadata.get("format") == grader["type"]
        ]
        average = sum(scores.get(s.key, 0.0) for s in sequentials) / max(len(sequentials), 1)
        percent += grader["weight"] * average
    return round(percent, 2)


def grading_policy_hash(course: Course) -> str:
    digest = hashlib.sha1(json.dumps(course.grading_policy, sort_keys=True).encode()).digest()
    return base64.b64encode(digest).decode()


SUBSECTION_GRADE_HEADER = [
    "course_id",
    "user_id",
    "usage_key",
    "earned_all",
    "possible_all",
    "earned_graded",
    "possible_graded",
    "first_attempted",
    "created",
    "modified",
]
COURSE_GRADE_HEADER = [
    "course_id",
    "user_id",
    "course_edited_timestamp",
    "grading_policy_hash",
    "percent_grade",
    "letter_grade",
    "passed_timestamp",
    "created",
    "modified",
]
CERTIFICATE_HEADER = [
    "id",
    "user_id",
    "download_url",
    "grade",
    "course_id",
    "key",
    "distinction",
    "status",
    "verify_uuid",
    "download_uuid",
    "name",
    "created_date",
    "modified_date",
    "error_reason",
    "mode",
]


def subsection_grade_rows(course: Course, grades: list[SubsectionGrade]) -> list[list]:
    rows = []
    for g in grades:
        graded = bool(g.sequential.metadata.get("graded"))
        rows.append(
            [
                course.course_id,
                g.user.id,
                g.sequential.key,
                float(g.earned),
                float(g.possible),
                float(g.earned) if graded else 0.0,
                float(g.possible) if graded else 0.0,
                g.first_attempted,
                g.first_attempted,
                g.modified,
            ]
        )
    return rows


def course_grades(
    course: Course, grades: list[SubsectionGrade]
) -> list[tuple[User, float, dt.datetime, dt.datetime]]:
    by_user: dict[int, list[SubsectionGrade]] = {}
    for g in grades:
        by_user.setdefault(g.user.id, []).append(g)
    result = []
    for user_grades in by_user.values():
        result.append(
            (
                user_grades[0].user,
                course_percent(course, user_grades),
                min(g.first_attempted for g in user_grades),
                max(g.modified for g in user_grades),
            )
        )
    return result


def course_grade_rows(course: Course, grades: list[SubsectionGrade]) -> list[list]:
    cutoff = course.grading_policy["GRADE_CUTOFFS"]["Pass"]
    return [
        [
            course.course_id,
            user.id,
            course.published,
            grading_policy_hash(course),
            percent,
            "Pass" if percent >= cutoff else "",
            modified if percent >= cutoff else None,
            created,
            modified,
        ]
        for user, percent, created, modified in course_grades(course, grades)
    ]


def certificate_rows(
    rng: random.Random,
    world: World,
    course: Course,
    grades: list[SubsectionGrade],
    ids: itertools.count,
) -> list[list]:
    cutoff = course.grading_policy["GRADE_CUTOFFS"]["Pass"]
    modes = {e.user.id: e.mode for e in world.enrollments if e.course is course}
    rows = []
    for user, percent, _, modified in course_grades(course, grades):
        mode = modes.get(user.id, "audit")
        if percent >= cutoff:
            status = "audit_passing" if mode == "audit" else "downloadable"
        elif mode == "verified":
            status = "notpassing"
        else:
            continue
        when = modified + dt.timedelta(hours=2)
        verify = hex_id(rng)
        url = f"https://{HOST}/certificates/{verify}" if status == "downloadable" else ""
        rows.append(
            [
                next(ids),
                user.id,
                url,
                f"{percent:.2f}",
                course.course_id,
                hex_id(rng),
                False,
                status,
                verify,
                hex_id(rng),
                user.full_name,
                when,
                when,
                "",
                mode,
            ]
        )
    return rows
