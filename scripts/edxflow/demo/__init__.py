"""A small, realistic, GPG-encrypted edX research data package for demos and tests.

`build_package(seed, end_date, days)` plans every object in plain text (deterministic given the
seed); `write_demo_package(outdir, ...)` generates a throwaway key pair and writes the encrypted
objects as a local mirror of S3:

    OUTDIR/DEMO_PACKAGE                          marker: this directory may be replaced
    OUTDIR/gnupg/                                GNUPGHOME with the demo data czar's key (no passphrase)
    OUTDIR/source/edx-course-data/{log key}      daily tracking logs (gzip JSON lines, gpg)
    OUTDIR/source/course-data/{sql key}          weekly SQL bundle (zip of gpg members)
    OUTDIR/source/course-data/{email key}        email opt-in (zip of one gpg member)

Users, enrolments, block ids, problem attempts and forum posts are shared between the tables and
the events, so joins between them find real matches.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import tarfile
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from edxflow.core.courses import normalize_course_id
from edxflow.core.naming import email_key, log_key, sql_key
from edxflow.core.errors import UserError

ORG = "demox"  # lower case, as in object names
SITE = "edx"
LOG_BUCKET = "edx-course-data"
SQL_BUCKET = "course-data"
EMAIL_BUCKET = "course-data"
MARKER_NAME = "DEMO_PACKAGE"
DEFAULT_END_DATE = dt.date(2026, 11, 8)
DEFAULT_DAYS = 7
DEFAULT_SEED = 1
KEY_EMAIL = "demo-data-czar@example.org"
# gpg-agent puts sockets such as S.gpg-agent.browser in GNUPGHOME; a unix socket path has ~108 bytes.
MAX_GNUPGHOME_CHARS = 80
HOST = "courses.edx.org"
USER_COUNT = 40

UTC = dt.timezone.utc


@dataclass(frozen=True)
class CourseSpec:
    course_id: str
    display_name: str
    start_days_before_end: int
    length_days: int
    chapter_titles: tuple[str, ...]


COURSE_SPECS = (
    CourseSpec(
        "course-v1:DemoX+DS101+2026_T1",
        "Introduction to Data Science",
        250,
        400,
        ("Working with Data", "Statistics Basics", "Prediction"),
    ),
    CourseSpec(
        "DemoX/PHY-2.1x/2025_Fall",
        "Mechanics: Motion, Forces & Energy",
        420,
        520,
        ("Kinematics", "Newton's Laws", "Work and Energy"),
    ),
    CourseSpec(
        "course-v1:DemoX+CS.50x+1T2026",
        "Computing Foundations",
        290,
        450,
        ("Algorithms", "Data Structures", "Programs <and> Memory"),
    ),
)
# The course whose learners are split into an A/B partition (user_api_usercoursetag, course_user_tags).
PARTITIONED_COURSE = "course-v1:DemoX+CS.50x+1T2026"
PARTITION_KEY = "xblock.partition_service.partition_1593"
# The course with an ORA2 member and an edge (edge.edx.org) member in the SQL bundle.
ORA_COURSE = "course-v1:DemoX+DS101+2026_T1"
EDGE_COURSE = "course-v1:DemoX+DS101+2026_T1"

FIRST_NAMES = (
    "Amara", "Ben", "Chen", "Daniela", "Emeka", "Fatima", "Gabriel", "Hana", "Ivan", "Jasmine",
    "Kwame", "Laura", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás",
    "Umar", "Valentina", "Wei", "Ximena", "Yusuf", "Zoë", "Aiko", "Björn", "Chloé", "Dmitri",
    "Élodie", "Farid", "Grace", "Hiroshi", "Ingrid", "José", "Kai", "Leila", "Miguel", "Noor",
)
LAST_NAMES = (
    "Müller", "Nguyễn", "O'Brien", "Okafor", "Søndergaard", "García", "Kowalski", "Patel", "Smith",
    "Tanaka", "Rossi", "Ahmed", "Johansson", "Kim", "Mbeki", "Silva", "Dubois", "Cohen", "Novak", "Haddad",
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
    "en-US,en;q=0.9", "es-MX,es;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "de-DE,de;q=0.9,en;q=0.5", "zh-CN,zh;q=0.9",
)
FORUM_TITLES = (
    "Stuck on the second homework problem", "Is the final exam open book?", "Video 2 has no captions",
    "Great explanation in lecture 3!", "Rounding in numerical answers", "Study group (UTC+1)?",
)
FORUM_BODIES = (
    "I keep getting this marked incorrect even though my units are right. Any hints?",
    "Thanks, that helped a lot.\n\nI had the sign wrong.",
    "Same problem here – I tried three times. ¿Alguien más?",
    "You need to enter the answer with 2 decimal places.",
    "Could staff please take a look? The transcript stops at 3:12.",
)


# ---------------------------------------------------------------------------------------------
# Course ids and block keys


def course_parts(course_id: str) -> tuple[str, str, str]:
    org, number, run = normalize_course_id(course_id).split("/")
    return org, number, run


def is_slash_course(course_id: str) -> bool:
    """Old (pre-2014 style) courses keep `Org/Num/Run` ids and `i4x://` block keys."""
    return not course_id.startswith("course-v1:")


def member_prefix(course_id: str) -> str:
    """`DemoX-PHY-2.1x-2025_Fall`: the course part of SQL bundle member names."""
    return "-".join(course_parts(course_id))


def block_key(course_id: str, category: str, url_name: str) -> str:
    org, number, run = course_parts(course_id)
    if is_slash_course(course_id):
        return f"i4x://{org}/{number}/{category}/{url_name}"
    return f"block-v1:{org}+{number}+{run}+type@{category}+block@{url_name}"


def html_id(course_id: str, category: str, url_name: str) -> str:
    """Block id as the browser reports it: the hash, or `i4x-Org-Num-category-name` (dots -> _)."""
    if not is_slash_course(course_id):
        return url_name
    org, number, _ = course_parts(course_id)
    return re.sub(r"[^\w-]", "_", f"i4x-{org}-{number}-{category}-{url_name}")


def url_block_key(key: str) -> str:
    """Block key as it appears in LMS xblock handler URLs (old keys are `;_`-quoted)."""
    return key.replace("://", ":;_;_").replace("/", ";_") if key.startswith("i4x://") else key


def olx_top_dir(course_id: str) -> str:
    return re.sub(r"[^\w.\-]", "_", course_id)


# ---------------------------------------------------------------------------------------------
# The world: courses, users, enrolments, activity


@dataclass
class ProblemSpec:
    response_type: str
    input_type: str
    questions: list[str]
    choices: list[str]
    correct: list  # one per input: "choice_2", ["choice_0", "choice_3"], "9.81", "photosynthesis"


@dataclass(eq=False)
class Block:
    key: str
    category: str
    url_name: str
    display_name: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    problem: ProblemSpec | None = None
    youtube_id: str | None = None


@dataclass(eq=False)
class Course:
    course_id: str
    display_name: str
    start: dt.datetime
    end: dt.datetime
    blocks: dict[str, Block]  # in depth-first order, root first
    discussion_topics: dict[str, str]  # name -> commentable id
    grading_policy: dict
    published: dt.datetime

    @property
    def root(self) -> Block:
        return next(iter(self.blocks.values()))

    def of_category(self, category: str) -> list[Block]:
        return [block for block in self.blocks.values() if block.category == category]


@dataclass(eq=False)
class User:
    id: int
    username: str
    full_name: str
    email: str
    ability: float
    ip: str
    agent: str
    accept_language: str
    gender: str | None
    year_of_birth: int | None
    level_of_education: str | None
    country: str
    goals: str
    date_joined: dt.datetime | None = None
    last_login: dt.datetime | None = None
    is_staff: bool = False


@dataclass(eq=False)
class Enrollment:
    id: int
    user: User
    course: Course
    created: dt.datetime
    mode: str
    engagement: float
    deactivated: dt.datetime | None = None
    opted_in: bool = True

    def active_at(self, when: dt.datetime) -> bool:
        return self.created <= when and (self.deactivated is None or when < self.deactivated)


@dataclass(eq=False)
class Attempt:
    user: User
    course: Course
    problem: Block
    time: dt.datetime
    number: int
    answers: dict  # answer id -> student answer
    correctness: dict  # answer id -> bool
    previous: Attempt | None

    @property
    def grade(self) -> int:
        return sum(self.correctness.values())

    @property
    def max_grade(self) -> int:
        return len(self.correctness)


@dataclass(eq=False)
class Visit:
    user: User
    course: Course
    vertical: Block
    time: dt.datetime


@dataclass(eq=False)
class VideoView:
    user: User
    course: Course
    video: Block
    time: dt.datetime
    position: float


@dataclass(eq=False)
class ForumPost:
    oid: str
    author: User
    course: Course
    created: dt.datetime
    body: str
    commentable_id: str
    title: str | None = None  # only threads
    thread: ForumPost | None = None  # only comments
    parent: ForumPost | None = None  # only comments on a response
    thread_type: str = "discussion"
    votes_up: list[int] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.thread is None


@dataclass(eq=False)
class World:
    seed: int
    end_date: dt.date
    days: list[dt.date]
    courses: list[Course]
    users: list[User]
    edge_users: list[User]
    enrollments: list[Enrollment]
    roles: list[tuple[User, Course, str]]  # student_courseaccessrole
    forum_roles: list[tuple[User, Course, str]]  # django_comment_client_role_users
    course_tags: dict[tuple[int, str], str]  # (user id, course id) -> partition group
    attempts: list[Attempt] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    video_views: list[VideoView] = field(default_factory=list)
    forum_posts: list[ForumPost] = field(default_factory=list)
    events_by_day: dict[dt.date, list[dict]] = field(default_factory=dict)

    @property
    def window_start(self) -> dt.datetime:
        return day_start(self.days[0])

    @property
    def snapshot_time(self) -> dt.datetime:
        return snapshot_time(self.end_date)


def snapshot_time(end_date: dt.date) -> dt.datetime:
    """When the weekly SQL snapshot is taken: the end of the last log day."""
    return day_start(end_date) + dt.timedelta(hours=23, minutes=59)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def random_time(rng: random.Random, begin: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = max((end - begin).total_seconds(), 1.0)
    return begin + dt.timedelta(seconds=rng.uniform(0, span), microseconds=rng.randint(0, 999_999))


def hex_id(rng: random.Random, length: int = 32) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def object_id(rng: random.Random, created: dt.datetime) -> str:
    """A MongoDB ObjectId: 4 bytes of creation time, then 8 random bytes."""
    return f"{int(created.timestamp()):08x}{hex_id(rng, 16)}"


# --- course structure


RESPONSE_TYPES = (
    "multiplechoiceresponse", "choiceresponse", "optionresponse", "numericalresponse", "stringresponse",
)


def make_problem_spec(rng: random.Random, topic: str, number: str) -> ProblemSpec:
    kind = rng.choice(RESPONSE_TYPES)
    input_count = rng.choice((1, 1, 2))
    questions = [f"{topic}, question {number}.{i + 1}" for i in range(input_count)]
    if kind == "multiplechoiceresponse":
        choices = ["the mean", "the median", "the mode", "the range"]
        correct = [f"choice_{rng.randrange(4)}" for _ in questions]
        return ProblemSpec(kind, "choicegroup", questions, choices, correct)
    if kind == "choiceresponse":
        choices = ["it is linear", "it is monotonic", "it is bounded", "it is periodic"]
        correct = [sorted(rng.sample([f"choice_{i}" for i in range(4)], 2)) for _ in questions]
        return ProblemSpec(kind, "checkboxgroup", questions, choices, correct)
    if kind == "optionresponse":
        choices = ["increases", "decreases", "stays the same"]
        correct = [rng.choice(choices) for _ in questions]
        return ProblemSpec(kind, "optioninput", questions, choices, correct)
    if kind == "numericalresponse":
        correct = [f"{rng.uniform(1, 50):.2f}" for _ in questions]
        return ProblemSpec(kind, "formulaequationinput", questions, [], correct)
    correct = [rng.choice(("velocity", "variance", "recursion", "entropy")) for _ in questions]
    return ProblemSpec(kind, "textline", questions, [], correct)


def add_block(course_id: str, blocks: dict, category: str, url_name: str, display_name: str,
              parent: str | None, **metadata) -> Block:
    key = block_key(course_id, category, url_name)
    block = Block(key, category, url_name, display_name, parent, metadata={"display_name": display_name, **metadata})
    blocks[key] = block
    if parent is not None:
        blocks[parent].children.append(key)
    return block


# The components of each unit, cycled, so every course has problems, videos and html.
UNIT_PATTERNS = (("video", "problem"), ("html", "problem", "problem"), ("video", "html"), ("problem", "video"))


def sequential_format(chapter_index: int, seq_index: int, chapter_count: int) -> str | None:
    if chapter_index == 0 and seq_index == 0:
        return None  # the ungraded welcome subsection
    if chapter_index == chapter_count - 1 and seq_index == 1:
        return "Final Exam"
    return "Homework" if seq_index == 1 else "Lab"


def build_course(spec: CourseSpec, rng: random.Random, end_date: dt.date) -> Course:
    cid = spec.course_id
    _, _, run = course_parts(cid)
    start = day_start(end_date - dt.timedelta(days=spec.start_days_before_end))
    end = start + dt.timedelta(days=spec.length_days)
    topics = {"General": hex_id(rng), "Homework help": hex_id(rng)}
    blocks: dict[str, Block] = {}
    root = add_block(
        cid, blocks, "course", run if is_slash_course(cid) else "course", spec.display_name, None,
        start=iso_z(start), end=iso_z(end), advertised_start=None, days_early_for_beta=None,
        discussion_topics={name: {"id": topic} for name, topic in topics.items()},
        tabs=[{"type": "courseware"}, {"type": "course_info", "name": "Course Info"},
              {"type": "discussion", "name": "Discussion"}, {"type": "progress", "name": "Progress"}],
        showanswer="finished", graceperiod="1 day", advanced_modules=["openassessment"],
    )
    chapters = len(spec.chapter_titles)
    unit_number = itertools.count()
    for c, title in enumerate(spec.chapter_titles):
        chapter = add_block(cid, blocks, "chapter", hex_id(rng), f"{c + 1}. {title}", root.key,
                            start=iso_z(start + dt.timedelta(days=21 * c)))
        for s in range(2):
            fmt = sequential_format(c, s, chapters)
            seq_name = "Welcome" if fmt is None else f"{title}: {fmt}"
            extra = {"format": fmt, "graded": True,
                     "due": iso_z(start + dt.timedelta(days=21 * c + 14 + 7 * s, hours=23, minutes=30))} if fmt else {}
            seq = add_block(cid, blocks, "sequential", hex_id(rng), seq_name, chapter.key,
                            start=iso_z(start + dt.timedelta(days=21 * c)), **extra)
            for v in range(2):
                vertical = add_block(cid, blocks, "vertical", hex_id(rng), f"Unit {c + 1}.{s + 1}.{v + 1}", seq.key)
                for k, category in enumerate(UNIT_PATTERNS[next(unit_number) % len(UNIT_PATTERNS)]):
                    name = f"{c + 1}.{s + 1}.{v + 1}.{k + 1}"
                    if category == "problem":
                        block = add_block(cid, blocks, "problem", hex_id(rng), f"Check your understanding {name}",
                                          vertical.key, weight=1.0, max_attempts=3, showanswer="finished")
                        block.problem = make_problem_spec(rng, title, name)
                    elif category == "video":
                        youtube = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789_-")
                                          for _ in range(11))
                        block = add_block(cid, blocks, "video", hex_id(rng), f"Lecture {name}", vertical.key,
                                          youtube_id_1_0=youtube, download_video=False)
                        block.youtube_id = youtube
                    else:
                        add_block(cid, blocks, "html", hex_id(rng), f"Reading {name}", vertical.key)
    grading_policy = {
        "GRADER": [
            {"type": "Homework", "min_count": chapters, "drop_count": 0, "short_label": "HW", "weight": 0.4},
            {"type": "Lab", "min_count": chapters - 1, "drop_count": 0, "short_label": "Lab", "weight": 0.2},
            {"type": "Final Exam", "min_count": 1, "drop_count": 0, "short_label": "Final", "weight": 0.4},
        ],
        "GRADE_CUTOFFS": {"Pass": 0.5},
    }
    return Course(cid, spec.display_name, start, end, blocks, topics, grading_policy,
                  published=start - dt.timedelta(days=30))


# --- people


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def build_users(rng: random.Random) -> list[User]:
    ids = sorted(rng.sample(range(4_100_000, 4_900_000), USER_COUNT))
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
        users.append(User(
            id=user_id, username=username, full_name=full_name, email=f"{username}@example.org",
            ability=rng.uniform(0.35, 0.95),
            ip=f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}",
            agent=rng.choice(AGENTS), accept_language=rng.choice(ACCEPT_LANGUAGES),
            gender=rng.choice(GENDERS), year_of_birth=rng.choice((None, *range(1955, 2008))),
            level_of_education=rng.choice(EDUCATION_LEVELS), country=rng.choice(COUNTRIES),
            goals=rng.choice(("", "Learn something new", "Career change")),
        ))
    # A profile text with a newline and a tab exercises the dump escapes.
    users[3].goals = "Pass the course\nand then:\tget a job"
    users[0].is_staff = True
    return users


def build_edge_users(rng: random.Random) -> list[User]:
    edge = []
    for index in range(3):
        username = f"edge_tester{index + 1}"
        edge.append(User(
            id=200 + index * 7, username=username, full_name=f"Edge Tester {index + 1}",
            email=f"{username}@example.org",
            ability=0.5, ip="192.0.2.10", agent=AGENTS[0], accept_language=ACCEPT_LANGUAGES[0], gender=None,
            year_of_birth=None, level_of_education=None, country="US", goals="",
            date_joined=dt.datetime(2024, 3, 4, 10, 0, index, tzinfo=UTC),
        ))
    return edge


def build_enrollments(rng: random.Random, users: list[User], courses: list[Course],
                      window_start: dt.datetime, snapshot: dt.datetime) -> list[Enrollment]:
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
        enrollments.append(Enrollment(0, user, course, created, mode, engagement=rng.uniform(0.15, 1.0),
                                      opted_in=rng.random() < 0.6))
    learners = [e for e in enrollments if e.user not in (instructor, staff)]
    for enrollment in rng.sample(learners, 4):
        if enrollment.created < window_start:
            enrollment.deactivated = random_time(rng, enrollment.created, window_start)
    for enrollment in rng.sample(learners, 3):
        if enrollment.created < window_start and enrollment.deactivated is None:
            enrollment.deactivated = random_time(rng, window_start, snapshot - dt.timedelta(hours=1))
    enrollments.sort(key=lambda e: e.created)
    next_id = 88_000_000
    for enrollment in enrollments:
        next_id += rng.randint(1, 40)
        enrollment.id = next_id
    for user in users:
        first = min(e.created for e in enrollments if e.user is user)
        user.date_joined = first - dt.timedelta(days=rng.randint(0, 400), seconds=rng.randint(0, 86_399))
    return enrollments


def build_roles(users: list[User], courses: list[Course], enrollments: list[Enrollment]):
    instructor, staff, community_ta = users[0], users[1], users[2]
    roles = [(instructor, course, "instructor") for course in courses]
    roles += [(instructor, course, "staff") for course in courses]
    roles += [(staff, courses[0], "staff"), (staff, courses[2], "beta_testers")]
    forum_roles = [(instructor, course, "Administrator") for course in courses]
    forum_roles += [(staff, courses[0], "Moderator")]
    forum_roles += [(community_ta, e.course, "Community TA") for e in enrollments if e.user is community_ta][:1]
    forum_roles += [(e.user, e.course, "Student") for e in enrollments]
    return roles, forum_roles


# --- activity


def answer_ids(course: Course, problem: Block) -> list[str]:
    base = html_id(course.course_id, "problem", problem.url_name)
    return [f"{base}_{i + 2}_1" for i in range(len(problem.problem.questions))]


def wrong_answer(spec: ProblemSpec, correct, rng: random.Random):
    if spec.response_type == "multiplechoiceresponse":
        return rng.choice([f"choice_{i}" for i in range(len(spec.choices)) if f"choice_{i}" != correct])
    if spec.response_type == "choiceresponse":
        options = [sorted(pair) for pair in itertools.combinations([f"choice_{i}" for i in range(4)], 2)]
        return rng.choice([option for option in options if option != correct])
    if spec.response_type == "optionresponse":
        return rng.choice([choice for choice in spec.choices if choice != correct])
    if spec.response_type == "numericalresponse":
        return f"{float(correct) * rng.choice((0.5, 2, -1, 10)):.2f}"
    return rng.choice(("velocity", "variance", "recursion", "entropy", "idk"))


def make_attempt(rng: random.Random, world: World, user: User, course: Course, problem: Block,
                 when: dt.datetime, history: dict) -> Attempt:
    previous = history.get((user.id, problem.key))
    spec = problem.problem
    answers, correctness = {}, {}
    for answer_id, correct in zip(answer_ids(course, problem), spec.correct):
        # Later attempts are a bit more likely to be right.
        right = rng.random() < user.ability + (0.15 if previous else 0)
        answers[answer_id] = correct if right else wrong_answer(spec, correct, rng)
        correctness[answer_id] = right
    number = previous.number + 1 if previous else 1
    attempt = Attempt(user, course, problem, when, number, answers, correctness, previous)
    history[(user.id, problem.key)] = attempt
    world.attempts.append(attempt)
    return attempt


def units(course: Course) -> list[Block]:
    return course.of_category("vertical")


def build_history(rng: random.Random, world: World, history: dict) -> None:
    """Activity before the log window: it shows up in the tables only."""
    for enrollment in world.enrollments:
        course, user = enrollment.course, enrollment.user
        begin = max(enrollment.created, course.start)
        # A unit visit with its problems and videos takes under an hour, so it ends before `latest`.
        latest = min(world.window_start, enrollment.deactivated or world.window_start) - dt.timedelta(hours=2)
        if begin >= latest:
            continue
        for vertical in units(course):
            if rng.random() > enrollment.engagement:
                continue
            when = random_time(rng, begin, latest)
            world.visits.append(Visit(user, course, vertical, when))
            for child in (course.blocks[key] for key in vertical.children):
                when += dt.timedelta(seconds=rng.uniform(20, 400))
                if child.category == "problem":
                    for _ in range(rng.choice((1, 1, 2))):
                        make_attempt(rng, world, user, course, child, when, history)
                        when += dt.timedelta(seconds=rng.uniform(30, 300))
                elif child.category == "video":
                    world.video_views.append(VideoView(user, course, child, when, rng.uniform(10, 600)))
    for course in world.courses:
        enrolled = [e for e in world.enrollments
                    if e.course is course and e.created < world.window_start - dt.timedelta(days=2)]
        for _ in range(3):
            author = rng.choice(enrolled)
            created = random_time(rng, max(author.created, course.start), world.window_start - dt.timedelta(days=1))
            thread = new_thread(rng, world, author.user, course, created)
            responses, when = [], created
            for _ in range(rng.randint(0, 3)):
                when = random_time(rng, when, world.window_start - dt.timedelta(hours=1))
                responses.append(new_comment(rng, world, rng.choice(enrolled).user, thread, None, when))
            if responses and rng.random() < 0.7:
                parent = rng.choice(responses)
                new_comment(rng, world, rng.choice(enrolled).user, thread, parent,
                            random_time(rng, parent.created, world.window_start - dt.timedelta(minutes=5)))


def new_thread(rng: random.Random, world: World, author: User, course: Course, created: dt.datetime) -> ForumPost:
    topic = rng.choice(list(course.discussion_topics.values()))
    post = ForumPost(object_id(rng, created), author, course, created, rng.choice(FORUM_BODIES), topic,
                     title=rng.choice(FORUM_TITLES), thread_type=rng.choice(("discussion", "question")))
    world.forum_posts.append(post)
    return post


def new_comment(rng: random.Random, world: World, author: User, thread: ForumPost, parent: ForumPost | None,
                created: dt.datetime) -> ForumPost:
    post = ForumPost(object_id(rng, created), author, thread.course, created, rng.choice(FORUM_BODIES),
                     thread.commentable_id, thread=thread, parent=parent)
    if rng.random() < 0.4:
        post.votes_up.append(rng.choice(world.users).id)
    world.forum_posts.append(post)
    return post


# --- events


def event_time(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds")


def iso_z(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def courseware_url(course: Course, vertical: Block) -> str:
    seq = course.blocks[vertical.parent]
    chapter = course.blocks[seq.parent]
    position = seq.children.index(vertical.key) + 1
    return f"/courses/{course.course_id}/courseware/{chapter.url_name}/{seq.url_name}/{position}"


@dataclass
class Session:
    user: User
    course: Course | None
    id: str
    with_headers: bool
    tags: dict
    referer: str | None = None


def event_context(session: Session, path: str, module: Block | None = None) -> dict:
    course_id = session.course.course_id if session.course else ""
    context = {"course_user_tags": session.tags} if session.course else {}
    context.update({"user_id": session.user.id, "org_id": course_parts(course_id)[0] if course_id else "",
                    "course_id": course_id, "path": path})
    if module is not None:
        context["module"] = {"display_name": module.display_name, "usage_key": module.key}
    return context


def make_event(session: Session, when: dt.datetime, source: str, event_type: str, event, *, path: str,
               page: str | None = None, name: str | None = None, module: Block | None = None) -> dict:
    record = {"username": session.user.username, "event_source": source}
    if name:
        record["name"] = name
    if session.with_headers:
        record["accept_language"] = session.user.accept_language
        record["referer"] = session.referer or f"https://{HOST}/dashboard"
    record.update({
        "time": event_time(when), "agent": session.user.agent, "page": page, "host": HOST, "session": session.id,
        "context": event_context(session, path, module), "ip": session.user.ip, "event": event,
        "event_type": event_type,
    })
    return record


def implicit_event(session: Session, when: dt.datetime, path: str, post: dict | None = None) -> dict:
    record = make_event(session, when, "server", path, {"GET": {}, "POST": post or {}}, path=path)
    session.referer = f"https://{HOST}{path}"
    return record


def browser_event(session: Session, when: dt.datetime, event_type: str, payload, page_path: str, name=None) -> dict:
    """The browser sends `event` JSON-encoded (even a plain string); page_close sends an empty one."""
    event = "" if payload is None else json.dumps(payload)
    return make_event(session, when, "browser", event_type, event, path="/event", page=f"https://{HOST}{page_path}",
                      name=name)


def video_events(rng: random.Random, session: Session, when: dt.datetime, video: Block, page_path: str,
                 world: World) -> tuple[list[dict], dt.datetime]:
    course = session.course
    vid = html_id(course.course_id, "video", video.url_name)
    position = 0.0
    events = [browser_event(session, when, "load_video", {"id": vid, "code": video.youtube_id}, page_path)]
    when += dt.timedelta(seconds=rng.uniform(1, 6))
    play = {"id": vid, "currentTime": position, "code": video.youtube_id, "duration": 412.3}
    events.append(browser_event(session, when, "play_video", play, page_path))
    watched = rng.uniform(20, 380)
    if rng.random() < 0.5:
        when += dt.timedelta(seconds=watched / 2)
        new_time = round(rng.uniform(0, 412), 3)
        events.append(browser_event(session, when, "seek_video",
                                    {"id": vid, "old_time": round(watched / 2, 3), "new_time": new_time,
                                     "type": "onSlideSeek", "code": video.youtube_id}, page_path))
        position = new_time
    when += dt.timedelta(seconds=watched / 2)
    position = round(min(position + watched / 2, 412.3), 3)
    pause = {"id": vid, "currentTime": position, "code": video.youtube_id, "duration": 412.3}
    events.append(browser_event(session, when, "pause_video", pause, page_path))
    world.video_views.append(VideoView(session.user, course, video, when, position))
    return events, when


def submission_of(spec: ProblemSpec, question: str, answer, correct: bool) -> dict:
    if spec.choices and spec.response_type != "optionresponse":
        values = answer if isinstance(answer, list) else [answer]
        shown = [spec.choices[int(value.split("_")[1])] for value in values]
        shown_answer = shown if isinstance(answer, list) else shown[0]
    else:
        shown_answer = answer
    return {"question": question, "answer": shown_answer, "response_type": spec.response_type,
            "input_type": spec.input_type, "correct": correct, "variant": "", "group_label": ""}


def correct_map_of(attempt: Attempt | None) -> dict:
    if attempt is None:
        return {}
    return {answer_id: {"correctness": "correct" if right else "incorrect", "npoints": None, "msg": "", "hint": "",
                        "hintmode": None, "queuestate": None}
            for answer_id, right in attempt.correctness.items()}


def problem_check_events(session: Session, when: dt.datetime, attempt: Attempt, page_path: str) -> list[dict]:
    course, problem, spec = session.course, attempt.problem, attempt.problem.problem
    handler = f"/courses/{course.course_id}/xblock/{url_block_key(problem.key)}/handler/xmodule_handler/problem_check"
    posted = {f"input_{answer_id}": value if isinstance(value, list) else [value]
              for answer_id, value in attempt.answers.items()}
    browser_answers = urlencode([(f"input_{answer_id}[]" if isinstance(v, list) else f"input_{answer_id}", item)
                                 for answer_id, v in attempt.answers.items()
                                 for item in (v if isinstance(v, list) else [v])])
    previous = attempt.previous
    server = make_event(session, when + dt.timedelta(milliseconds=180), "server", "problem_check", {
        "answers": attempt.answers,
        "attempts": attempt.number,
        "correct_map": correct_map_of(attempt),
        "grade": attempt.grade,
        "max_grade": attempt.max_grade,
        "problem_id": problem.key,
        "state": {"student_answers": previous.answers if previous else {}, "seed": 1, "done": previous is not None,
                  "correct_map": correct_map_of(previous),
                  "input_state": {answer_id: {} for answer_id in attempt.answers}},
        "submission": {answer_id: submission_of(spec, question, attempt.answers[answer_id],
                                                attempt.correctness[answer_id])
                       for answer_id, question in zip(attempt.answers, spec.questions)},
        "success": "correct" if attempt.grade == attempt.max_grade else "incorrect",
    }, path=handler, page="x_module", module=problem)
    return [
        browser_event(session, when, "problem_check", browser_answers, page_path),
        implicit_event(session, when + dt.timedelta(milliseconds=40), handler, posted),
        server,
    ]


def forum_event(session: Session, when: dt.datetime, post: ForumPost) -> list[dict]:
    course = session.course
    forum_url = f"https://{HOST}/courses/{course.course_id}/discussion/forum"
    payload = {"body": post.body, "commentable_id": post.commentable_id, "truncated": False,
               "url": f"{forum_url}/{post.commentable_id}/threads/{(post.thread or post).oid}",
               "user_forums_roles": ["Student"], "user_course_roles": [], "id": post.oid,
               "options": {"followed": False}}
    if post.is_thread:
        name = "edx.forum.thread.created"
        path = f"/courses/{course.course_id}/discussion/{post.commentable_id}/threads/create"
        payload.update({"title": post.title, "thread_type": post.thread_type, "anonymous": False,
                        "anonymous_to_peers": False, "group_id": None, "options": {"followed": True}})
    elif post.parent is None:
        name = "edx.forum.response.created"
        path = f"/courses/{course.course_id}/discussion/threads/{post.thread.oid}/reply"
        payload["discussion"] = {"id": post.thread.oid}
    else:
        name = "edx.forum.comment.created"
        path = f"/courses/{course.course_id}/discussion/comments/{post.parent.oid}/reply"
        payload.update({"discussion": {"id": post.thread.oid}, "response": {"id": post.parent.oid}})
    implicit = implicit_event(session, when - dt.timedelta(milliseconds=120), path, {"body": [post.body]})
    return [implicit, make_event(session, when, "server", name, payload, path=path, name=name)]


def enrollment_event(rng: random.Random, enrollment: Enrollment, activated: bool) -> dict:
    user, course = enrollment.user, enrollment.course
    session = Session(user, course, hex_id(rng), True, {})
    name = f"edx.course.enrollment.{'activated' if activated else 'deactivated'}"
    when = enrollment.created if activated else enrollment.deactivated
    return make_event(session, when, "server", name,
                      {"course_id": course.course_id, "user_id": user.id, "mode": enrollment.mode},
                      path="/api/enrollment/v1/enrollment", name=name)


def anonymous_event(rng: random.Random, course: Course, when: dt.datetime) -> dict:
    visitor = User(id=0, username="", full_name="", email="", ability=0, ip=f"203.0.113.{rng.randint(1, 254)}",
                   agent=rng.choice(AGENTS), accept_language="en", gender=None, year_of_birth=None,
                   level_of_education=None, country="", goals="")
    session = Session(visitor, course, "", False, {})
    record = implicit_event(session, when, f"/courses/{course.course_id}/about")
    record["context"]["user_id"] = ""
    return record


def learning_session(rng: random.Random, world: World, enrollment: Enrollment, start: dt.datetime,
                     history: dict) -> list[dict]:
    user, course = enrollment.user, enrollment.course
    tags = {PARTITION_KEY: world.course_tags[(user.id, course.course_id)]} \
        if (user.id, course.course_id) in world.course_tags else {}
    session = Session(user, course, hex_id(rng), rng.random() < 0.7, tags)
    when = start
    events = []

    def tick(low: float = 2, high: float = 90) -> dt.datetime:
        nonlocal when
        when += dt.timedelta(seconds=rng.uniform(low, high))
        return when

    if rng.random() < 0.3:
        no_course = Session(user, None, session.id, session.with_headers, {})
        events.append(implicit_event(no_course, when, "/login_ajax", {"email": [user.email], "remember": ["false"]}))
        events.append(implicit_event(no_course, tick(), "/dashboard"))
        session.referer = no_course.referer
    vertical = rng.choice(units(course))
    page_path = courseware_url(course, vertical)
    events.append(implicit_event(session, tick(), page_path))
    world.visits.append(Visit(user, course, vertical, when))
    seq = course.blocks[vertical.parent]
    if rng.random() < 0.5:
        old, new = 1, seq.children.index(vertical.key) + 1
        events.append(browser_event(session, tick(), "seq_goto",
                                    {"old": old, "new": new, "current_tab": old, "target_tab": new,
                                     "tab_count": len(seq.children), "widget_placement": "top",
                                     "id": seq.key},
                                    page_path, name="edx.ui.lms.sequence.tab_selected"))
    for child in (course.blocks[key] for key in vertical.children):
        if child.category == "video":
            produced, when = video_events(rng, session, tick(), child, page_path, world)
            events += produced
        elif child.category == "problem":
            for _ in range(rng.choice((1, 1, 2))):
                attempt = make_attempt(rng, world, user, course, child, tick(20, 300), history)
                events += problem_check_events(session, when, attempt, page_path)
    if rng.random() < 0.15:
        thread = new_thread(rng, world, user, course, tick())
        events += forum_event(session, when, thread)
    threads = [post for post in world.forum_posts if post.course is course and post.is_thread and post.created < when]
    if threads and rng.random() < 0.2:
        thread = rng.choice(threads)
        responses = [p for p in world.forum_posts if p.thread is thread and p.parent is None and p.created < when]
        parent = rng.choice(responses) if responses and rng.random() < 0.3 else None
        post = new_comment(rng, world, user, thread, parent, tick())
        events += forum_event(session, when, post)
    if rng.random() < 0.2:
        events.append(implicit_event(session, tick(), f"/courses/{course.course_id}/progress"))
    if rng.random() < 0.3:
        events.append(browser_event(session, tick(), "page_close", None, page_path))
    user.last_login = max(user.last_login or start, start)
    return events


def strip_context(record: dict) -> dict:
    """An old-style event: no `context`, the course only in the page URL."""
    return {key: value for key, value in record.items() if key not in ("context", "name")}


def build_day_events(rng: random.Random, world: World, day: dt.date, history: dict) -> list[dict]:
    begin = day_start(day)
    events = []
    for enrollment in world.enrollments:
        if enrollment.created.date() == day:
            events.append(enrollment_event(rng, enrollment, True))
        if enrollment.deactivated and enrollment.deactivated.date() == day:
            events.append(enrollment_event(rng, enrollment, False))
    for _ in range(rng.randint(26, 34)):
        # Sessions last well under 90 minutes, so they end on the same day.
        start = random_time(rng, begin, begin + dt.timedelta(hours=22, minutes=30))
        candidates = [e for e in world.enrollments if e.active_at(start)]
        if not candidates:
            continue
        enrollment = rng.choices(candidates, [e.engagement for e in candidates])[0]
        events += learning_session(rng, world, enrollment, start, history)
    for course in world.courses:
        events.append(anonymous_event(rng, course, random_time(rng, begin, begin + dt.timedelta(hours=23))))
    old_courses = {course.course_id for course in world.courses if is_slash_course(course.course_id)}
    old_browser = [i for i, e in enumerate(events)
                   if e["event_source"] == "browser" and e["context"]["course_id"] in old_courses]
    for index in rng.sample(old_browser, min(3, len(old_browser))):
        events[index] = strip_context(events[index])
    events.sort(key=lambda e: e["time"])
    return events


# --- the whole world


def build_world(seed: int, end_date: dt.date, days: int) -> World:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    rng = random.Random(seed)
    window = [end_date - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    courses = [build_course(spec, rng, end_date) for spec in COURSE_SPECS]
    users = build_users(rng)
    enrollments = build_enrollments(rng, users, courses, day_start(window[0]), snapshot_time(end_date))
    roles, forum_roles = build_roles(users, courses, enrollments)
    course_tags = {(e.user.id, e.course.course_id): str(rng.randint(0, 1))
                   for e in enrollments if e.course.course_id == PARTITIONED_COURSE}
    world = World(seed, end_date, window, courses, users, build_edge_users(rng), enrollments, roles, forum_roles,
                  course_tags)
    history: dict = {}
    build_history(rng, world, history)
    for day in window:
        world.events_by_day[day] = build_day_events(rng, world, day, history)
    for user in users:
        user.last_login = user.last_login or user.date_joined + dt.timedelta(hours=1)
    world.attempts.sort(key=lambda a: a.time)
    return world


# ---------------------------------------------------------------------------------------------
# Serialising: tracking logs


def event_line(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def syslog_prefix(when: dt.datetime) -> str:
    return f"{when:%b} {when.day:2d} {when:%H:%M:%S} localhost "


def log_file_lines(rng: random.Random, events: list[dict]) -> list[bytes]:
    """The day's lines with the damage real logs show: a syslog prefix, a truncated line, an invalid
    UTF-8 byte, a blank line and one exact duplicate."""
    lines = [event_line(record) for record in events]
    first_time = dt.datetime.fromisoformat(events[0]["time"])
    lines[0] = syslog_prefix(first_time).encode() + lines[0]
    duplicate_at = rng.randrange(1, len(lines))
    lines.insert(duplicate_at + 1, lines[duplicate_at])
    truncated = event_line(rng.choice(events))
    bad_agent = dict(rng.choice(events), agent="Mozilla/5.0 (compatible; caf\u00e9bot/1.0)")
    broken = [
        truncated[: len(truncated) * 2 // 3],
        event_line(bad_agent).replace("caf\u00e9".encode(), b"caf\xe9"),
        b"",
    ]
    for line in broken:
        lines.insert(rng.randrange(1, len(lines)), line)
    return lines


def log_file_bytes(rng: random.Random, events: list[dict]) -> bytes:
    return gzip.compress(b"\n".join(log_file_lines(rng, events)) + b"\n", mtime=0)


# ---------------------------------------------------------------------------------------------
# Serialising: SQL tables (tab separated, header row, NULL literal, backslash escapes)


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
    "id", "username", "first_name", "last_name", "email", "password", "is_staff", "is_active", "is_superuser",
    "last_login", "date_joined", "status", "email_key", "avatar_type", "country", "show_country", "date_of_birth",
    "interesting_tags", "ignored_tags", "email_tag_filter_strategy", "display_tag_filter_strategy",
    "consecutive_days_visit_count",
]


def auth_user_rows(users: list[User]) -> list[list]:
    return [[u.id, u.username, "", "", u.email, "", u.is_staff, True, False, u.last_login, u.date_joined,
             "", None, "", "", False, None, "", "", 0, 0, 0] for u in users]


AUTH_USERPROFILE_HEADER = [
    "id", "user_id", "name", "language", "location", "meta", "courseware", "gender", "mailing_address",
    "year_of_birth", "level_of_education", "goals", "country", "city", "bio", "profile_image_uploaded_at",
]


def auth_userprofile_rows(users: list[User]) -> list[list]:
    rows = []
    for u in users:
        meta = json.dumps({"old_emails": [[f"old.{u.email}", "2024-05-01T10:00:00Z"]]}) if u.id % 5 == 0 else ""
        rows.append([u.id - 3_000_000, u.id, u.full_name, "", "", meta, "course.xml", u.gender, None,
                     u.year_of_birth, u.level_of_education, u.goals, u.country, None, None, None])
    return rows


def course_users(world: World, course: Course) -> list[User]:
    ids = {e.user.id for e in world.enrollments if e.course is course}
    ids |= {user.id for user, role_course, _ in world.roles if role_course is course}
    return [user for user in world.users if user.id in ids]


def enrollment_rows(world: World, course: Course) -> list[list]:
    return [[e.id, e.user.id, course.course_id, e.created, e.deactivated is None, e.mode]
            for e in world.enrollments if e.course is course]


def last_attempts(world: World, course: Course) -> dict[tuple[int, str], Attempt]:
    latest = {}
    for attempt in world.attempts:
        if attempt.course is course:
            latest[(attempt.user.id, attempt.problem.key)] = attempt
    return latest


def problem_state(attempt: Attempt) -> str:
    return json.dumps({
        "correct_map": correct_map_of(attempt), "student_answers": attempt.answers,
        "input_state": {answer_id: {} for answer_id in attempt.answers}, "attempts": attempt.number, "seed": 1,
        "done": True, "last_submission_time": iso_z(attempt.time),
        "score": {"raw_earned": attempt.grade, "raw_possible": attempt.max_grade},
    })


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
        touches.append((attempt.time, attempt.user, attempt.problem, problem_state(attempt), attempt.grade,
                        attempt.max_grade))
    rows: dict[tuple[int, str], list] = {}
    for when, user, block, state, grade, max_grade in sorted(touches, key=lambda touch: touch[0]):
        row = rows.setdefault((user.id, block.key), [next(ids), block.category, block.key, user.id, None, None, when,
                                                      None, None, "na", course.course_id])
        row[4], row[5], row[7], row[8] = state, grade, when, max_grade
    return list(rows.values())


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
    grades = []
    for seq in course.of_category("sequential"):
        problems = [course.blocks[p] for v in seq.children for p in course.blocks[v].children
                    if course.blocks[p].category == "problem"]
        possible = sum(len(p.problem.questions) for p in problems)
        problem_keys = {p.key for p in problems}
        for user in course_users(world, course):
            attempts = [latest[(user.id, p.key)] for p in problems if (user.id, p.key) in latest]
            if attempts:
                first = min(a.time for a in world.attempts if a.user is user and a.problem.key in problem_keys)
                grades.append(SubsectionGrade(user, seq, sum(a.grade for a in attempts), possible, first,
                                              max(a.time for a in attempts)))
    return grades


def course_percent(course: Course, grades: list[SubsectionGrade]) -> float:
    """The weighted average of the assignment types (unattempted subsections count as 0)."""
    percent = 0.0
    scores = {g.sequential.key: g.earned / g.possible for g in grades if g.possible}
    for grader in course.grading_policy["GRADER"]:
        sequentials = [s for s in course.of_category("sequential") if s.metadata.get("format") == grader["type"]]
        average = sum(scores.get(s.key, 0.0) for s in sequentials) / max(len(sequentials), 1)
        percent += grader["weight"] * average
    return round(percent, 2)


def grading_policy_hash(course: Course) -> str:
    digest = hashlib.sha1(json.dumps(course.grading_policy, sort_keys=True).encode()).digest()
    return base64.b64encode(digest).decode()


SUBSECTION_GRADE_HEADER = ["course_id", "user_id", "usage_key", "earned_all", "possible_all", "earned_graded",
                           "possible_graded", "first_attempted", "created", "modified"]
COURSE_GRADE_HEADER = ["course_id", "user_id", "course_edited_timestamp", "grading_policy_hash", "percent_grade",
                       "letter_grade", "passed_timestamp", "created", "modified"]
CERTIFICATE_HEADER = ["id", "user_id", "download_url", "grade", "course_id", "key", "distinction", "status",
                      "verify_uuid", "download_uuid", "name", "created_date", "modified_date", "error_reason", "mode"]


def subsection_grade_rows(course: Course, grades: list[SubsectionGrade]) -> list[list]:
    rows = []
    for g in grades:
        graded = bool(g.sequential.metadata.get("graded"))
        rows.append([course.course_id, g.user.id, g.sequential.key, float(g.earned), float(g.possible),
                     float(g.earned) if graded else 0.0, float(g.possible) if graded else 0.0,
                     g.first_attempted, g.first_attempted, g.modified])
    return rows


def course_grades(course: Course, grades: list[SubsectionGrade]) -> list[tuple[User, float, dt.datetime, dt.datetime]]:
    by_user: dict[int, list[SubsectionGrade]] = {}
    for g in grades:
        by_user.setdefault(g.user.id, []).append(g)
    result = []
    for user_grades in by_user.values():
        result.append((user_grades[0].user, course_percent(course, user_grades),
                       min(g.first_attempted for g in user_grades), max(g.modified for g in user_grades)))
    return result


def course_grade_rows(course: Course, grades: list[SubsectionGrade]) -> list[list]:
    cutoff = course.grading_policy["GRADE_CUTOFFS"]["Pass"]
    return [[course.course_id, user.id, course.published, grading_policy_hash(course), percent,
             "Pass" if percent >= cutoff else "", modified if percent >= cutoff else None, created, modified]
            for user, percent, created, modified in course_grades(course, grades)]


def certificate_rows(rng: random.Random, world: World, course: Course, grades: list[SubsectionGrade],
                     ids: itertools.count) -> list[list]:
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
        rows.append([next(ids), user.id, url, f"{percent:.2f}", course.course_id, hex_id(rng), False, status,
                     verify, hex_id(rng), user.full_name, when, when, "", mode])
    return rows


def user_id_map_rows(users: list[User]) -> list[list]:
    return [[hashlib.sha1(f"demox-{u.id}".encode()).hexdigest()[:32], u.id, u.username] for u in users]


def submissions_rows(rng: random.Random, world: World, course: Course) -> list[list]:
    """ORA2 submissions: `raw_answer` is JSON, so the dump escapes leave it doubly encoded."""
    rows = []
    enrolled = [e for e in world.enrollments if e.course is course][:6]
    for index, enrollment in enumerate(enrolled):
        when = random_time(rng, enrollment.created, world.snapshot_time)
        answer = {"parts": [{"text": f"My essay, draft {index + 1}.\nIt argues that \"data\" beats opinions."}]}
        submission_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
        rows.append([index + 1, str(submission_uuid), 1, when, when, json.dumps(answer), 500 + index, "A"])
    return rows


# ---------------------------------------------------------------------------------------------
# Serialising: forum, course structure, OLX


def mongo_date(when: dt.datetime) -> dict:
    return {"$date": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"}


def forum_document(world: World, post: ForumPost) -> dict:
    replies = [p for p in world.forum_posts if p.thread is (post.thread or post)]
    last = max([post.created] + [p.created for p in replies]) if post.is_thread else post.created
    document = {
        "_id": {"$oid": post.oid}, "_type": "CommentThread" if post.is_thread else "Comment",
        "abuse_flaggers": [], "anonymous": False, "anonymous_to_peers": False, "at_position_list": [],
        "author_id": str(post.author.id), "author_username": post.author.username, "body": post.body,
        "course_id": post.course.course_id, "created_at": mongo_date(post.created),
        "historical_abuse_flaggers": [], "updated_at": mongo_date(post.created), "visible": True,
        "votes": {"count": len(post.votes_up), "down": [], "down_count": 0, "point": len(post.votes_up),
                  "up": [str(user_id) for user_id in post.votes_up], "up_count": len(post.votes_up)},
    }
    if post.is_thread:
        document.update({
            "closed": False, "comment_count": len(replies), "commentable_id": post.commentable_id,
            "context": "course", "last_activity_at": mongo_date(last), "pinned": False, "tags_array": [],
            "title": post.title, "thread_type": post.thread_type,
        })
    else:
        document.update({
            "comment_thread_id": {"$oid": post.thread.oid}, "depth": 1 if post.parent else 0, "endorsed": False,
            "parent_ids": [{"$oid": post.parent.oid}] if post.parent else [],
            "sk": f"{post.parent.oid}-{post.oid}" if post.parent else post.oid,
        })
        if post.parent:
            document["parent_id"] = {"$oid": post.parent.oid}
    return document


def forum_bytes(world: World, course: Course) -> bytes:
    posts = sorted((p for p in world.forum_posts if p.course is course), key=lambda p: p.oid)
    return "".join(json.dumps(forum_document(world, p), ensure_ascii=False) + "\n" for p in posts).encode("utf-8")


def course_structure_bytes(course: Course) -> bytes:
    structure = {block.key: {"category": block.category, "children": list(block.children), "metadata": block.metadata}
                 for block in course.blocks.values()}
    return json.dumps(structure, indent=2, ensure_ascii=False).encode("utf-8")


def xml_bytes(element: ET.Element) -> bytes:
    ET.indent(element)
    return ET.tostring(element, encoding="utf-8", xml_declaration=False) + b"\n"


def problem_xml(block: Block) -> ET.Element:
    spec = block.problem
    problem = ET.Element("problem", display_name=block.display_name, markdown="null", max_attempts="3", weight="1.0")
    for question, correct in zip(spec.questions, spec.correct):
        if spec.response_type in ("numericalresponse", "stringresponse"):
            response = ET.SubElement(problem, spec.response_type, answer=correct)
            ET.SubElement(response, "label").text = question
            ET.SubElement(response, spec.input_type, size="20")
        elif spec.response_type == "optionresponse":
            response = ET.SubElement(problem, "optionresponse")
            ET.SubElement(response, "label").text = question
            ET.SubElement(response, "optioninput", options="(" + ",".join(f"'{c}'" for c in spec.choices) + ")",
                          correct=correct)
        else:
            response = ET.SubElement(problem, spec.response_type)
            ET.SubElement(response, "label").text = question
            group = ET.SubElement(response, spec.input_type)
            if spec.input_type == "choicegroup":
                group.set("type", "MultipleChoice")
            right = correct if isinstance(correct, list) else [correct]
            for index, text in enumerate(spec.choices):
                ET.SubElement(group, "choice", correct=str(f"choice_{index}" in right).lower()).text = text
    solution = ET.SubElement(ET.SubElement(problem, "solution"), "div", {"class": "detailed-solution"})
    solution.text = "See the lecture notes."
    return problem


def olx_attribute(key: str, value) -> str:
    """Studio writes dates JSON-quoted and booleans in lower case."""
    if key in ("start", "due"):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def olx_files(course: Course) -> dict[str, bytes]:
    """Relative path -> content of a Studio-style OLX export of the course."""
    org, number, run = course_parts(course.course_id)
    files = {"course.xml": xml_bytes(ET.Element("course", url_name=run, org=org, course=number))}
    root = ET.Element("course", display_name=course.display_name, language="en",
                      start=json.dumps(iso_z(course.start)), end=json.dumps(iso_z(course.end)))
    for chapter_key in course.root.children:
        ET.SubElement(root, "chapter", url_name=course.blocks[chapter_key].url_name)
    files[f"course/{run}.xml"] = xml_bytes(root)
    for block in course.blocks.values():
        if block.category in ("chapter", "sequential", "vertical"):
            element = ET.Element(block.category, display_name=block.display_name)
            for key in ("start", "due", "format", "graded"):
                if key in block.metadata:
                    element.set(key, olx_attribute(key, block.metadata[key]))
            for child_key in block.children:
                child = course.blocks[child_key]
                ET.SubElement(element, child.category, url_name=child.url_name)
            files[f"{block.category}/{block.url_name}.xml"] = xml_bytes(element)
        elif block.category == "problem":
            files[f"problem/{block.url_name}.xml"] = xml_bytes(problem_xml(block))
        elif block.category == "video":
            files[f"video/{block.url_name}.xml"] = xml_bytes(ET.Element(
                "video", url_name=block.url_name, display_name=block.display_name,
                youtube=f"1.00:{block.youtube_id}", youtube_id_1_0=block.youtube_id, download_video="false"))
        elif block.category == "html":
            files[f"html/{block.url_name}.xml"] = xml_bytes(ET.Element(
                "html", filename=block.url_name, display_name=block.display_name))
            files[f"html/{block.url_name}.html"] = f"<p>{block.display_name}: read this first.</p>\n".encode()
    policy = {f"course/{run}": {key: value for key, value in course.root.metadata.items() if value is not None}}
    files[f"policies/{run}/policy.json"] = json.dumps(policy, indent=4).encode()
    files[f"policies/{run}/grading_policy.json"] = json.dumps(course.grading_policy, indent=4).encode()
    files["policies/assets.json"] = b"{}\n"
    return files


def tarball_bytes(top_dir: str, files: dict[str, bytes], mtime: dt.datetime) -> bytes:
    """A deterministic .tar.gz: fixed mtimes, owners and gzip header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            parents = {"/".join(name.split("/")[:depth]) for name in files for depth in range(1, name.count("/") + 1)}
            directories = [top_dir] + sorted(f"{top_dir}/{parent}" for parent in parents)
            for name in directories:
                info = tarfile.TarInfo(name)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(mtime.timestamp())
                tar.addfile(info)
            for name, content in sorted(files.items()):
                info = tarfile.TarInfo(f"{top_dir}/{name}")
                info.size, info.mode, info.mtime = len(content), 0o644, int(mtime.timestamp())
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The package plan


SQL_TABLES = (
    "auth_user", "auth_userprofile", "student_courseenrollment", "certificates_generatedcertificate",
    "user_id_map", "courseware_studentmodule", "grades_persistentcoursegrade", "grades_persistentsubsectiongrade",
    "student_courseaccessrole", "django_comment_client_role_users", "user_api_usercoursetag",
)


def sql_member_name(folder: str, course_id: str, table: str, site: str = "prod") -> str:
    return f"{folder}/{member_prefix(course_id)}-{table}-{site}-analytics.sql"


def course_tables(rng: random.Random, world: World, course: Course,
                  ids: dict[str, itertools.count]) -> dict[str, bytes]:
    """table name -> TSV for one course."""
    users = course_users(world, course)
    grades = subsection_grades(world, course)
    cid = course.course_id
    tables = {
        "auth_user": (AUTH_USER_HEADER, auth_user_rows(users)),
        "auth_userprofile": (AUTH_USERPROFILE_HEADER, auth_userprofile_rows(users)),
        "student_courseenrollment": (["id", "user_id", "course_id", "created", "is_active", "mode"],
                                     enrollment_rows(world, course)),
        "certificates_generatedcertificate": (CERTIFICATE_HEADER,
                                              certificate_rows(rng, world, course, grades, ids["certificate"])),
        "user_id_map": (["hash_id", "id", "username"], user_id_map_rows(users)),
        "courseware_studentmodule": (
            ["id", "module_type", "module_id", "student_id", "state", "grade", "created", "modified", "max_grade",
             "done", "course_id"], studentmodule_rows(world, course, ids["studentmodule"])),
        "grades_persistentcoursegrade": (COURSE_GRADE_HEADER, course_grade_rows(course, grades)),
        "grades_persistentsubsectiongrade": (SUBSECTION_GRADE_HEADER, subsection_grade_rows(course, grades)),
        "student_courseaccessrole": (["user_id", "course_id", "role"],
                                     [[u.id, cid, role] for u, c, role in world.roles if c is course]),
        "django_comment_client_role_users": (["user_id", "course_id", "name"],
                                             [[u.id, cid, name] for u, c, name in world.forum_roles if c is course]),
        # Only the partitioned course has rows; the others are header-only, as real empty tables are.
        "user_api_usercoursetag": (["user_id", "course_id", "key", "value"],
                                   [[user_id, cid, PARTITION_KEY, group]
                                    for (user_id, course_id), group in world.course_tags.items() if course_id == cid]),
    }
    return {table: tsv_bytes(*tables[table]) for table in SQL_TABLES}


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
            olx_top_dir(course.course_id), olx_files(course), course.published)
    ora = next(c for c in world.courses if c.course_id == ORA_COURSE)
    members[f"{folder}/ora/{member_prefix(ORA_COURSE)}-submissions_submission-prod-analytics.sql"] = tsv_bytes(
        ["id", "uuid", "attempt_number", "submitted_at", "created_at", "raw_answer", "student_item_id", "status"],
        submissions_rows(rng, world, ora))
    members[sql_member_name(folder, EDGE_COURSE, "auth_user", "prod-edge")] = tsv_bytes(
        AUTH_USER_HEADER, auth_user_rows(world.edge_users))
    return members


EMAIL_HEADER = ["user_id", "username", "email", "full_name", "course_id", "is_opted_in_for_email",
                "preference_set_datetime"]


def email_opt_in_bytes(world: World) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EMAIL_HEADER)
    for e in sorted(world.enrollments, key=lambda e: (e.user.id, e.course.course_id)):
        when = e.created + dt.timedelta(minutes=3)
        writer.writerow([e.user.id, e.user.username, e.user.email, e.user.full_name, e.course.course_id,
                         str(e.opted_in), when.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")])
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


def build_package(seed: int = DEFAULT_SEED, end_date: dt.date = DEFAULT_END_DATE,
                  days: int = DEFAULT_DAYS) -> PackagePlan:
    """Every object of the package in plain text; the same arguments give the same bytes."""
    world = build_world(seed, end_date, days)
    rng = random.Random(f"{seed}-serialise")
    objects = [PlannedObject(LOG_BUCKET, log_key(ORG, SITE, day), plaintext=log_file_bytes(rng, events))
               for day, events in world.events_by_day.items()]
    objects.append(PlannedObject(SQL_BUCKET, sql_key(ORG, end_date), zip_members=sql_bundle_members(rng, world)))
    objects.append(PlannedObject(EMAIL_BUCKET, email_key(ORG, end_date), zip_members={
        f"{ORG}-email_opt_in-prod-analytics.csv": email_opt_in_bytes(world)}))
    events_per_day = {day.isoformat(): len(events) for day, events in world.events_by_day.items()}
    return PackagePlan(world, objects, events_per_day)


# ---------------------------------------------------------------------------------------------
# Writing: key, encryption, files


class DemoPackageError(UserError, RuntimeError):
    pass


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def kill_gpg_agent(gnupghome: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(gnupghome), "--kill", "gpg-agent"], capture_output=True, check=False)


def check_gnupghome_length(gnupghome: Path) -> None:
    if len(str(gnupghome)) > MAX_GNUPGHOME_CHARS:
        raise DemoPackageError(
            f"GNUPGHOME {gnupghome} is {len(str(gnupghome))} characters long; gpg-agent's socket paths would exceed "
            f"the unix socket limit. Choose an output directory whose path is at most "
            f"{MAX_GNUPGHOME_CHARS - len('/gnupg')} characters."
        )


def create_demo_key(gnupghome: Path):
    """A fresh GNUPGHOME with an RSA-2048 key pair without passphrase; returns (gpg, fingerprint)."""
    import gnupg

    gnupghome.mkdir(mode=0o700)
    gnupghome.chmod(0o700)
    write_atomically(gnupghome / "gpg-agent.conf", b"allow-loopback-pinentry\n")
    gpg = gnupg.GPG(gnupghome=str(gnupghome))
    gpg.encoding = "utf-8"
    key_input = gpg.gen_key_input(key_type="RSA", key_length=2048, no_protection=True, expire_date=0,
                                  name_real="Demo Data Czar", name_email=KEY_EMAIL)
    result = gpg.gen_key(key_input)
    if not result.fingerprint:
        raise DemoPackageError(f"gpg could not generate the demo key in {gnupghome}: {result.stderr}")
    return gpg, result.fingerprint


def encrypt(gpg, fingerprint: str, data: bytes, what: str) -> bytes:
    result = gpg.encrypt(data, recipients=[fingerprint], armor=False, always_trust=True)
    if not result.ok:
        raise DemoPackageError(f"gpg could not encrypt {what}: {result.status}\n{result.stderr}")
    return result.data


def zip_bytes(members: dict[str, bytes], when: dt.date) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 4, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def encrypted_object_bytes(gpg, fingerprint: str, planned: PlannedObject, end_date: dt.date) -> bytes:
    if planned.zip_members is None:
        return encrypt(gpg, fingerprint, planned.plaintext, planned.path)
    members = {f"{name}.gpg": encrypt(gpg, fingerprint, content, f"{planned.path}:{name}")
               for name, content in planned.zip_members.items()}
    return zip_bytes(members, end_date)


def prepare_outdir(outdir: Path) -> None:
    """Clear a previous demo package; refuse anything else that is not an empty directory."""
    if outdir.exists():
        if not outdir.is_dir():
            raise DemoPackageError(f"{outdir} exists and is not a directory; refusing to replace it")
        if any(outdir.iterdir()):
            if not (outdir / MARKER_NAME).is_file():
                raise DemoPackageError(
                    f"{outdir} exists, is not empty and has no {MARKER_NAME} marker, so it is not a demo package; "
                    "refusing to replace it (remove it yourself or choose another directory)"
                )
            if (outdir / "gnupg").is_dir():
                kill_gpg_agent(outdir / "gnupg")
            shutil.rmtree(outdir)
    outdir.mkdir(parents=True, exist_ok=True)


def write_demo_package(outdir: str | Path, seed: int = DEFAULT_SEED, days: int = DEFAULT_DAYS,
                       end_date: dt.date = DEFAULT_END_DATE) -> dict:
    """Write the encrypted demo package into `outdir` (replacing an earlier one); returns a summary."""
    outdir = Path(outdir).absolute()
    gnupghome = outdir / "gnupg"
    check_gnupghome_length(gnupghome)
    plan = build_package(seed, end_date, days)
    prepare_outdir(outdir)
    # The marker goes first so that a half-written package can still be replaced.
    write_atomically(outdir / MARKER_NAME, (
        "Generated demo edX data package (scripts/make_demo_package.py); "
        f"seed={seed} end_date={end_date.isoformat()} days={days}. Safe to delete or regenerate.\n"
    ).encode())
    gpg, fingerprint = create_demo_key(gnupghome)
    written = []
    try:
        for planned in plan.objects:
            target = outdir / "source" / planned.bucket / planned.key
            write_atomically(target, encrypted_object_bytes(gpg, fingerprint, planned, end_date))
            written.append(str(target.relative_to(outdir)))
    finally:
        kill_gpg_agent(gnupghome)
    world = plan.world
    return {
        "outdir": str(outdir),
        "gnupghome": str(gnupghome),
        "fingerprint": fingerprint,
        "files": written,
        "courses": [course.course_id for course in world.courses],
        "users": len(world.users),
        "enrollments": len(world.enrollments),
        "events_per_day": plan.events_per_day,
        "sql_members": sorted(f"{name}.gpg" for obj in plan.objects if obj.bucket == SQL_BUCKET
                              and obj.key == sql_key(ORG, end_date) for name in obj.zip_members),
    }
