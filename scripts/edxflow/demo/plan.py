"""The package plan: every S3 object of the package (daily logs, weekly SQL bundle, email opt-in)
in plain text, deterministic given the seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
from dataclasses import dataclass

from edxflow.core.naming import email_key, log_key, sql_key
from edxflow.demo.course import EDGE_COURSE, ORA_COURSE
from edxflow.demo.export import course_structure_bytes, olx_files, tarball_bytes
from edxflow.demo.forum import forum_bytes
from edxflow.demo.ids import member_prefix, olx_top_dir
from edxflow.demo.log_files import log_file_bytes
from edxflow.demo.model import World
from edxflow.demo.people import USER_COUNT
from edxflow.demo.tables import (
    AUTH_USER_HEADER,
    auth_user_rows,
    course_tables,
    submissions_rows,
    tsv_bytes,
)
from edxflow.demo.world import build_world
from edxflow.sql.email_opt_in import COLUMNS as EMAIL_COLUMNS

ORG = "demox"  # lower case, as in object names
SITE = "edx"
LOG_BUCKET = "edx-course-data"
SQL_BUCKET = "course-data"
EMAIL_BUCKET = "course-data"
DEFAULT_END_DATE = dt.date(2026, 11, 8)
DEFAULT_DAYS = 7
DEFAULT_SEED = 1


def sql_member_name(folder: str, course_id: str, table: str, site: str = "prod") -> str:
    return f"{folder}/{member_prefix(course_id)}-{table}-{site}-analytics.sql"


def sql_bundle_members(rng: random.Random, world: World) -> dict[str, bytes]:
    """Member name (without `.gpg`) -> plain text, for the weekly `{org}-{date}.zip`."""
    folder = f"{ORG}-{world.end_date.isoformat()}"
    ids = {"certificate": itertools.count(31_000), "studentmodule": itertools.count(7_700_000)}
    members: dict[str, bytes] = {}
    for course in world.courses:
        prefix = f"{folder}/{member_prefix(course.course_id)}"
        for table, content in course_tables(rng, world, course, ids).items():
            members[sql_member_name(folder, course.course_id, table)] = content
        members[f"{prefix}-prod.mongo"] = forum_bytes(world, course)
        members[f"{prefix}-course_structure-prod-analytics.json"] = course_structure_bytes(course)
        members[f"{prefix}-course-prod-analytics.xml.tar.gz"] = tarball_bytes(
            olx_top_dir(course.course_id), olx_files(course), course.published
        )
    ora = next(c for c in world.courses if c.course_id == ORA_COURSE)
    members[
        f"{folder}/ora/{member_prefix(ORA_COURSE)}-submissions_submission-prod-analytics.sql"
    ] = tsv_bytes(
        [
            "id",
            "uuid",
            "attempt_number",
            "submitted_at",
            "created_at",
            "raw_answer",
            "student_item_id",
            "status",
        ],
        submissions_rows(rng, world, ora),
    )
    members[sql_member_name(folder, EDGE_COURSE, "auth_user", "prod-edge")] = tsv_bytes(
        AUTH_USER_HEADER, auth_user_rows(world.edge_users)
    )
    return members


def email_opt_in_bytes(world: World) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EMAIL_COLUMNS)
    for e in sorted(world.enrollments, key=lambda e: (e.user.id, e.course.course_id)):
        when = e.created + dt.timedelta(minutes=3)
        writer.writerow(
            [
                e.user.id,
                e.user.username,
                e.user.email,
                e.user.full_name,
                e.course.course_id,
                str(e.opted_in),
                when.strftime("%Y-%m-%d %H:%M:%S.%f+00:00"),
            ]
        )
    return buffer.getvalue().encode("utf-8")


@dataclass
class PlannedObject:
    """One S3 object: a single encrypted file, or a zip whose members are encrypted one by one."""

    bucket: str
    key: str
    plaintext: bytes | None = None
    zip_members: dict[str, bytes] | None = None  # member name without `.gpg` -> plain text

    @property
    def path(self) -> str:
        return f"{self.bucket}/{self.key}"


@dataclass
class PackagePlan:
    world: World
    objects: list[PlannedObject]
    events_per_day: dict[str, int]


def build_package(
    seed: int = DEFAULT_SEED,
    end_date: dt.date = DEFAULT_END_DATE,
    days: int = DEFAULT_DAYS,
    users: int = USER_COUNT,
) -> PackagePlan:
    """Every object of the package in plain text; the same arguments give the same bytes."""
    world = build_world(seed, end_date, days, users)
    rng = random.Random(f"{seed}-serialise")
    objects = [
        PlannedObject(LOG_BUCKET, log_key(ORG, SITE, day), plaintext=log_file_bytes(rng, events))
        for day, events in world.events_by_day.items()
    ]
    objects.append(
        PlannedObject(
            SQL_BUCKET, sql_key(ORG, end_date), zip_members=sql_bundle_members(rng, world)
        )
    )
    objects.append(
        PlannedObject(
            EMAIL_BUCKET,
            email_key(ORG, end_date),
            zip_members={f"{ORG}-email_opt_in-prod-analytics.csv": email_opt_in_bytes(world)},
        )
    )
    events_per_day = {day.isoformat(): len(events) for day, events in world.events_by_day.items()}
    return PackagePlan(world, objects, events_per_day)
