"""The whole simulated world, built from a seed: courses, people, history and each day's events."""

from __future__ import annotations

import datetime as dt
import random

from edxflow.demo.activity import build_history
from edxflow.demo.course import COURSE_SPECS, PARTITIONED_COURSE, build_course
from edxflow.demo.events import build_day_events
from edxflow.demo.model import World
from edxflow.demo.people import (
    MIN_USERS,
    USER_COUNT,
    build_edge_users,
    build_enrollments,
    build_roles,
    build_users,
)
from edxflow.demo.times import day_start, snapshot_time


def build_world(seed: int, end_date: dt.date, days: int, users: int = USER_COUNT) -> World:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS}, got {users}")
    rng = random.Random(seed)
    window = [end_date - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    courses = [build_course(spec, rng, end_date) for spec in COURSE_SPECS]
    users = build_users(rng, users)
    enrollments = build_enrollments(
        rng, users, courses, day_start(window[0]), snapshot_time(end_date)
    )
    roles, forum_roles = build_roles(users, courses, enrollments)
    course_tags = {
        (e.user.id, e.course.course_id): str(rng.randint(0, 1))
        for e in enrollments
        if e.course.course_id == PARTITIONED_COURSE
    }
    world = World(
        seed,
        end_date,
        window,
        courses,
        users,
        build_edge_users(rng),
        enrollments,
        roles,
        forum_roles,
        course_tags,
    )
    history: dict = {}
    build_history(rng, world, history)
    for day in window:
        world.events_by_day[day] = build_day_events(rng, world, day, history)
    for user in users:
        user.last_login = user.last_login or user.date_joined + dt.timedelta(hours=1)
    world.attempts.sort(key=lambda a: a.time)
    return world
