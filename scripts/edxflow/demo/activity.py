"""Learner activity shared by tables and events: problem attempts, forum threads and comments, and
the history before the log window (which shows up in the tables only).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from edxflow.demo.course import units
from edxflow.demo.ids import html_id, object_id
from edxflow.demo.model import (
    Attempt,
    Block,
    Course,
    ForumPost,
    ProblemSpec,
    User,
    VideoView,
    Visit,
    World,
)
from edxflow.demo.times import random_time

FORUM_TITLES = (
    "Stuck on the second homework problem",
    "Is the final exam open book?",
    "Video 2 has no captions",
    "Great explanation in lecture 3!",
    "Rounding in numerical answers",
    "Study group (UTC+1)?",
)
FORUM_BODIES = (
    "I keep getting this marked incorrect even though my units are right. Any hints?",
    "Thanks, that helped a lot.\n\nI had the sign wrong.",
    "Same problem here – I tried three times. ¿Alguien más?",
    "You need to enter the answer with 2 decimal places.",
    "Could staff please take a look? The transcript stops at 3:12.",
)


def answer_ids(course: Course, problem: Block) -> list[str]:
    base = html_id(course.course_id, "problem", problem.url_name)
    return [f"{base}_{i + 2}_1" for i in range(len(problem.problem.questions))]


def wrong_answer(spec: ProblemSpec, correct, rng: random.Random):
    if spec.response_type == "multiplechoiceresponse":
        return rng.choice(
            [f"choice_{i}" for i in range(len(spec.choices)) if f"choice_{i}" != correct]
        )
    if spec.response_type == "choiceresponse":
        options = [
            sorted(pair) for pair in itertools.combinations([f"choice_{i}" for i in range(4)], 2)
        ]
        return rng.choice([option for option in options if option != correct])
    if spec.response_type == "optionresponse":
        return rng.choice([choice for choice in spec.choices if choice != correct])
    if spec.response_type == "numericalresponse":
        return f"{float(correct) * rng.choice((0.5, 2, -1, 10)):.2f}"
    return rng.choice(("velocity", "variance", "recursion", "entropy", "idk"))


def make_attempt(
    rng: random.Random,
    world: World,
    user: User,
    course: Course,
    problem: Block,
    when: dt.datetime,
    history: dict,
) -> Attempt:
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


def build_history(rng: random.Random, world: World, history: dict) -> None:
    """Activity before the log window: it shows up in the tables only."""
    for enrollment in world.enrollments:
        course, user = enrollment.course, enrollment.user
        begin = max(enrollment.created, course.start)
        # A unit visit with its problems and videos takes under an hour, so it ends before `latest`.
        latest = min(
            world.window_start, enrollment.deactivated or world.window_start
        ) - dt.timedelta(hours=2)
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
                    world.video_views.append(
                        VideoView(user, course, child, when, rng.uniform(10, 600))
                    )
    for course in world.courses:
        enrolled = [
            e
            for e in world.enrollments
            if e.course is course and e.created < world.window_start - dt.timedelta(days=2)
        ]
        for _ in range(3):
            author = rng.choice(enrolled)
            created = random_time(
                rng, max(author.created, course.start), world.window_start - dt.timedelta(days=1)
            )
            thread = new_thread(rng, world, author.user, course, created)
            responses, when = [], created
            for _ in range(rng.randint(0, 3)):
                when = random_time(rng, when, world.window_start - dt.timedelta(hours=1))
                responses.append(
                    new_comment(rng, world, rng.choice(enrolled).user, thread, None, when)
                )
            if responses and rng.random() < 0.7:
                parent = rng.choice(responses)
                new_comment(
                    rng,
                    world,
                    rng.choice(enrolled).user,
                    thread,
                    parent,
                    random_time(rng, parent.created, world.window_start - dt.timedelta(minutes=5)),
                )


def new_thread(
    rng: random.Random, world: World, author: User, course: Course, created: dt.datetime
) -> ForumPost:
    topic = rng.choice(list(course.discussion_topics.values()))
    post = ForumPost(
        object_id(rng, created),
        author,
        course,
        created,
        rng.choice(FORUM_BODIES),
        topic,
        title=rng.choice(FORUM_TITLES),
        thread_type=rng.choice(("discussion", "question")),
    )
    world.forum_posts.append(post)
    return post


def new_comment(
    rng: random.Random,
    world: World,
    author: User,
    thread: ForumPost,
    parent: ForumPost | None,
    created: dt.datetime,
) -> ForumPost:
    post = ForumPost(
        object_id(rng, created),
        author,
        thread.course,
        created,
        rng.choice(FORUM_BODIES),
        thread.commentable_id,
        thread=thread,
        parent=parent,
    )
    if rng.random() < 0.4:
        post.votes_up.append(rng.choice(world.users).id)
    world.forum_posts.append(post)
    return post
