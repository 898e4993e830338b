"""A small, realistic, GPG-encrypted edX research data package for demos and tests.

`build_package(seed, end_date, days, users)` plans every object in plain text (deterministic given the
seed); `write_demo_package(outdir, ...)` generates a throwaway key pair and writes the encrypted
objects as a local mirror of S3:

    OUTDIR/DEMO_PACKAGE                          marker: this directory may be replaced
    OUTDIR/gnupg/                                GNUPGHOME with the demo data czar's key (no passphrase)
    OUTDIR/source/edx-course-data/{log key}      daily tracking logs (gzip JSON lines, gpg)
    OUTDIR/source/course-data/{sql key}          weekly SQL bundle (zip of gpg members)
    OUTDIR/source/course-data/{email key}        email opt-in (zip of one gpg member)

Users, enrolments, block ids, problem attempts and forum posts are shared between the tables and
the events, so joins between them find real matches.

The modules, from the simulated world up to the written package:

    times      UTC days, the snapshot time, random moments, ISO strings
    ids        course id parts, block keys, random hex ids and MongoDB ObjectIds
    model      the world's data classes (blocks, courses, users, enrolments, attempts, posts, World)
    course     the simulated courses, their block trees and the LMS host
    people     learners, staff and edge users, enrolments, roles and a course's members
    activity   problem attempts, forum posts and the history before the log window
    events     the tracking-log events of each day in the log window
    world      build_world: the whole world from a seed
    log_files  daily tracking-log files (gzip JSON lines, with real logs' damage)
    grades     grades from the attempts; the grade and certificate tables' rows
    tables     the SQL tables of the weekly database dump (TSV), one course at a time
    forum      the forum dump (MongoDB extended JSON lines)
    export     the course structure JSON and the OLX course export tarball
    plan       build_package: every S3 object of the package in plain text
    package    write_demo_package: the demo key, encryption, zips and the directory layout
"""

from __future__ import annotations

from edxflow.demo.ids import member_prefix
from edxflow.demo.package import (
    KEY_EMAIL,
    MARKER_NAME,
    DemoPackageError,
    encrypted_object_bytes,
    write_demo_package,
    zip_bytes,
)
from edxflow.demo.people import MIN_USERS, USER_COUNT
from edxflow.demo.plan import (
    DEFAULT_DAYS,
    DEFAULT_END_DATE,
    DEFAULT_SEED,
    build_package,
)
from edxflow.demo.tables import SQL_TABLES

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_END_DATE",
    "DEFAULT_SEED",
    "KEY_EMAIL",
    "MARKER_NAME",
    "MIN_USERS",
    "USER_COUNT",
    "SQL_TABLES",
    "DemoPackageError",
    "build_package",
    "encrypted_object_bytes",
    "member_prefix",
    "write_demo_package",
    "zip_bytes",
]
