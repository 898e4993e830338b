"""The simulated people: learners and staff (names, profiles, browsers), edge users, enrolments,
course and forum roles, and who belongs to a course.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata

from edxflow.demo.ids import is_slash_course
from edxflow.demo.model import Course, Enrollment, User, World
from edxflow.demo.times import UTC, random_time

USER_COUNT = 40
# The first users play fixed parts (instructor, staff, Community TA, the quoted name at index 7).
MIN_USERS = 10
FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chen",
    "Daniela",
    "Emeka",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ivan",
    "Jasmine",
    "Kwame",
    "Laura",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomás",
    "Umar",
    "Valentina",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoë",
    "Aiko",
    "Björn",
    "Chloé",
    "Dmitri",
    "Élodie",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ingrid",
    "José",
    "Kai",
    "Leila",
    "Miguel",
    "Noor",
)
LAST_NAMES = (
    "Müller",
    "Nguyễn",
    "O'Brien",
    "Okafor",
    "Søndergaard",
    "García",
    "Kowalski",
    "Patel",
    "Smith",
    "Tanaka",
    "Rossi",
    "Ahmed",
    "Johansson",
    "Kim",
    "Mbeki",
    "Silva",
    "Dubois",
    "Cohen",
    "Novak",
    "Haddad",
)
COUNTRIES = ("US", "IN", "BR", "NG", "DE", "CN", "FR", "MX", "GB", "EG", "JP", "PL", "")
EDUCATION_LEVELS = ("p", "m", "b", "a", "hs", "jhs", "none", "other", "", None)
GENDERS = ("m", "f", "o", "", None)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
)
ACCEPT_LANGUAGES = (
    "en-US,en;q=0.9",
    "es-MX,es;q=0.9,en;q=0.8",
    "fr-FR,fr;q=0.9",
    "de-DE,de;q=0.9,en;q=0.5",
    "zh-CN,zh;q=0.9",
)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def build_users(rng: random.Random, count: int = USER_COUNT) -> list[User]:
    ids = sorted(rng.sample(range(4_100_000, 4_900_000), count))
    first_names = list(FIRST_NAMES)
    rng.shuffle(first_names)
    users, taken = [], set()
    for index, user_id in enumerate(ids):
        first, last = first_names[index % len(first_names)], rng.choice(LAST_NAMES)
        username = re.sub(r"[^a-z0-9_]", "", f"{ascii_fold(first)}_{ascii_fold(last)[:3]}")
        while username in taken:
            username += str(rng.randint(0, 9))
        taken.add(username)
        # One name with a comma so the email CSV needs quoting.
        full_name = f"{last}, {first}" if index == 7 else f"{first} {last}"
        users.append(
            User(
                id=user_id,
                username=username,
                full_name=full_name,
                email=f"{username}@example.org",
                ability=rng.uniform(0.35, 0.95),
                ip=f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}",
                agent=rng.choice(AGENTS),
                accept_language=rng.choice(ACCEPT_LANGUAGES),
                gender=rng.choice(GENDERS),
                year_of_birth=rng.choice((None, *range(1955, 2008))),
                level_of_education=rng.choice(EDUCATION_LEVELS),
                country=rng.choice(COUNTRIES),
                goals=rng.choice(("", "Learn something new", "Career change")),
            )
        )
    # A profile text with a newline and a tab exercises the dump escapes.
    users[3].goals = "Pass the course\nand then:\tget a job"
    users[0].is_staff = True
    return users


def build_edge_users(rng: random.Random) -> list[User]:
    edge = []
    for index in range(3):
        username = f"edge_tester{index + 1}"
        edge.append(
            User(
                id=200 + index * 7,
                username=username,
                full_name=f"Edge Tester {index + 1}",
                email=f"{username}@example.org",
                ability=0.5,
                ip="192.0.2.10",
                agent=AGENTS[0],
                accept_language=ACCEPT_LANGUAGES[0],
                gender=None,
                year_of_birth=None,
                level_of_education=None,
                country="US",
                goals="",
                date_joined=dt.datetime(2024, 3, 4, 10, 0, index, tzinfo=UTC),
            )
        )
    return edge


def build_enrollments(
    rng: random.Random,
    users: list[User],
    courses: list[Course],
    window_start: dt.datetime,
    snapshot: dt.datetime,
) -> list[Enrollment]:
    instructor, staff = users[0], users[1]
    picks: list[tuple[User, Course]] = [(instructor, course) for course in courses]
    picks += [(staff, courses[0]), (staff, courses[2])]
    for user in users[2:]:
        for course in rng.sample(courses, rng.choice((1, 1, 2, 2, 2, 3))):
            picks.append((user, course))
    enrollments = []
    for user, course in picks:
        opens = course.start - dt.timedelta(days=45)
        if user in (instructor, staff):
            created = opens
        elif rng.random() < 0.15:
            created = random_time(rng, window_start, snapshot - dt.timedelta(hours=2))
        else:
            created = random_time(rng, opens, window_start)
        if is_slash_course(course.course_id):
            mode = rng.choices(("honor", "verified", "audit"), (60, 25, 15))[0]
        else:
            mode = rng.choices(("audit", "verified"), (65, 35))[0]
        if user in (instructor, staff):
            mode = "honor" if is_slash_course(course.course_id) else "audit"
        enrollments.append(
            Enrollment(
                0,
                user,
                course,
                created,
                mode,
                engagement=rng.uniform(0.15, 1.0),
                opted_in=rng.random() < 0.6,
            )
        )
    learners = [e for e in enrollments if e.user not in (instructor, staff)]
    for enrollment in rng.sample(learners, 4):
        if enrollment.created < window_start:
            enrollment.deactivated = random_time(rng, enrollment.created, window_start)
    for enrollment in rng.sample(learners, 3):
        if enrollment.created < window_start and enrollment.deactivated is None:
            enrollment.deactivated = random_time(
                rng, window_start, snapshot - dt.timedelta(hours=1)
            )
    enrollments.sort(key=lambda e: e.created)
    next_id = 88_000_000
    for enrollment in enrollments:
        next_id += rng.randint(1, 40)
        enrollment.id = next_id
    for user in users:
        first = min(e.created for e in enrollments if e.user is user)
        user.date_joined = first - dt.timedelta(
            days=rng.randint(0, 400), seconds=rng.randint(0, 86_399)
        )
    return enrollments


def build_roles(users: list[User], courses: list[Course], enrollments: list[Enrollment]):
    instructor, staff, community_ta = users[0], users[1], users[2]
    roles = [(instructor, course, "instructor") for course in courses]
    roles += [(instructor, course, "staff") for course in courses]
    roles += [(staff, courses[0], "staff"), (staff, courses[2], "beta_testers")]
    forum_roles = [(instructor, course, "Administrator") for course in courses]
    forum_roles += [(staff, courses[0], "Moderator")]
    forum_roles += [
        (community_ta, e.course, "Community TA") for e in enrollments if e.user is community_ta
    ][:1]
    forum_roles += [(e.user, e.course, "Student") for e in enrollments]
    return roles, forum_roles


def course_users(world: World, course: Course) -> list[User]:
    ids = {e.user.id for e in world.enrollments if e.course is course}
    ids |= {user.id for user, role_course, _ in world.roles if role_course is course}
    return [user for user in world.users if user.id in ids]
