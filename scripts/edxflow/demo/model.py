"""The simulated world's data: course blocks and problems, learners, enrolments, attempts, visits,
video views, forum posts, and the `World` that holds them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from edxflow.demo.times import day_start, snapshot_time


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
