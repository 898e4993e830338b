"""The simulated courses: the LMS host, their specs, the special courses (A/B partition, ORA2,
edge) and the block tree (chapters, subsections, units, problems, videos, html) built for each.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from edxflow.demo.ids import block_key, course_parts, hex_id, is_slash_course
from edxflow.demo.model import Block, Course, ProblemSpec
from edxflow.demo.times import day_start, iso_z

HOST = "courses.edx.org"  # the LMS the courses run on


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


RESPONSE_TYPES = (
    "multiplechoiceresponse",
    "choiceresponse",
    "optionresponse",
    "numericalresponse",
    "stringresponse",
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


def add_block(
    course_id: str,
    blocks: dict,
    category: str,
    url_name: str,
    display_name: str,
    parent: str | None,
    **metadata,
) -> Block:
    key = block_key(course_id, category, url_name)
    block = Block(
        key,
        category,
        url_name,
        display_name,
        parent,
        metadata={"display_name": display_name, **metadata},
    )
    blocks[key] = block
    if parent is not None:
        blocks[parent].children.append(key)
    return block


# The components of each unit, cycled, so every course has problems, videos and html.
UNIT_PATTERNS = (
    ("video", "problem"),
    ("html", "problem", "problem"),
    ("video", "html"),
    ("problem", "video"),
)


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
        cid,
        blocks,
        "course",
        run if is_slash_course(cid) else "course",
        spec.display_name,
        None,
        start=iso_z(start),
        end=iso_z(end),
        advertised_start=None,
        days_early_for_beta=None,
        discussion_topics={name: {"id": topic} for name, topic in topics.items()},
        tabs=[
            {"type": "courseware"},
            {"type": "course_info", "name": "Course Info"},
            {"type": "discussion", "name": "Discussion"},
            {"type": "progress", "name": "Progress"},
        ],
        showanswer="finished",
        graceperiod="1 day",
        advanced_modules=["openassessment"],
    )
    chapters = len(spec.chapter_titles)
    unit_number = itertools.count()
    for c, title in enumerate(spec.chapter_titles):
        chapter = add_block(
            cid,
            blocks,
            "chapter",
            hex_id(rng),
            f"{c + 1}. {title}",
            root.key,
            start=iso_z(start + dt.timedelta(days=21 * c)),
        )
        for s in range(2):
            fmt = sequential_format(c, s, chapters)
            seq_name = "Welcome" if fmt is None else f"{title}: {fmt}"
            extra = (
                {
                    "format": fmt,
                    "graded": True,
                    "due": iso_z(
                        start + dt.timedelta(days=21 * c + 14 + 7 * s, hours=23, minutes=30)
                    ),
                }
                if fmt
                else {}
            )
            seq = add_block(
                cid,
                blocks,
                "sequential",
                hex_id(rng),
                seq_name,
                chapter.key,
                start=iso_z(start + dt.timedelta(days=21 * c)),
                **extra,
            )
            for v in range(2):
                vertical = add_block(
                    cid, blocks, "vertical", hex_id(rng), f"Unit {c + 1}.{s + 1}.{v + 1}", seq.key
                )
                for k, category in enumerate(UNIT_PATTERNS[next(unit_number) % len(UNIT_PATTERNS)]):
                    name = f"{c + 1}.{s + 1}.{v + 1}.{k + 1}"
                    if category == "problem":
                        block = add_block(
                            cid,
                            blocks,
                            "problem",
                            hex_id(rng),
                            f"Check your understanding {name}",
                            vertical.key,
                            weight=1.0,
                            max_attempts=3,
                            showanswer="finished",
                        )
                        block.problem = make_problem_spec(rng, title, name)
                    elif category == "video":
                        youtube = "".join(
                            rng.choice(
                                "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789_-"
                            )
                            for _ in range(11)
                        )
                        block = add_block(
                            cid,
                            blocks,
                            "video",
                            hex_id(rng),
                            f"Lecture {name}",
                            vertical.key,
                            youtube_id_1_0=youtube,
                            download_video=False,
                        )
                        block.youtube_id = youtube
                    else:
                        add_block(cid, blocks, "html", hex_id(rng), f"Reading {name}", vertical.key)
    grading_policy = {
        "GRADER": [
            {
                "type": "Homework",
                "min_count": chapters,
                "drop_count": 0,
                "short_label": "HW",
                "weight": 0.4,
            },
            {
                "type": "Lab",
                "min_count": chapters - 1,
                "drop_count": 0,
                "short_label": "Lab",
                "weight": 0.2,
            },
            {
                "type": "Final Exam",
                "min_count": 1,
                "drop_count": 0,
                "short_label": "Final",
                "weight": 0.4,
            },
        ],
        "GRADE_CUTOFFS": {"Pass": 0.5},
    }
    return Course(
        cid,
        spec.display_name,
        start,
        end,
        blocks,
        topics,
        grading_policy,
        published=start - dt.timedelta(days=30),
    )


def units(course: Course) -> list[Block]:
    return course.of_category("vertical")
