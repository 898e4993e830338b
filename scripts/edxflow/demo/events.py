"""The tracking-log events of the log window: learning sessions (page views, videos, problem checks,
forum posts), enrolment changes and anonymous visits, as the LMS and browser emit them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import random
from dataclasses import dataclass
from urllib.parse import urlencode

from edxflow.demo.activity import make_attempt, new_comment, new_thread
from edxflow.demo.course import HOST, PARTITION_KEY, units
from edxflow.demo.ids import course_parts, hex_id, html_id, is_slash_course, url_block_key
from edxflow.demo.model import (
    Attempt,
    Block,
    Course,
    Enrollment,
    ForumPost,
    ProblemSpec,
    User,
    VideoView,
    Visit,
    World,
)
from edxflow.demo.people import AGENTS, USER_COUNT
from edxflow.demo.times import day_start, random_time


def event_time(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds")


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
    context.update(
        {
            "user_id": session.user.id,
            "org_id": course_parts(course_id)[0] if course_id else "",
            "course_id": course_id,
            "path": path,
        }
    )
    if module is not None:
        context["module"] = {"display_name": module.display_name, "usage_key": module.key}
    return context


def make_event(
    session: Session,
    when: dt.datetime,
    source: str,
    event_type: str,
    event,
    *,
    path: str,
    page: str | None = None,
    name: str | None = None,
    module: Block | None = None,
) -> dict:
    record = {"username": session.user.username, "event_source": source}
    if name:
        record["name"] = name
    if session.with_headers:
        record["accept_language"] = session.user.accept_language
        record["referer"] = session.referer or f"https://{HOST}/dashboard"
    record.update(
        {
            "time": event_time(when),
            "agent": session.user.agent,
            "page": page,
            "host": HOST,
            "session": session.id,
            "context": event_context(session, path, module),
            "ip": session.user.ip,
            "event": event,
            "event_type": event_type,
        }
    )
    return record


def implicit_event(
    session: Session, when: dt.datetime, path: str, post: dict | None = None
) -> dict:
    record = make_event(session, when, "server", path, {"GET": {}, "POST": post or {}}, path=path)
    session.referer = f"https://{HOST}{path}"
    return record


def browser_event(
    session: Session, when: dt.datetime, event_type: str, payload, page_path: str, name=None
) -> dict:
    """The browser sends `event` JSON-encoded (even a plain string); page_close sends an empty one."""
    event = "" if payload is None else json.dumps(payload)
    return make_event(
        session,
        when,
        "browser",
        event_type,
        event,
        path="/event",
        page=f"https://{HOST}{page_path}",
        name=name,
    )


def video_events(
    rng: random.Random,
    session: Session,
    when: dt.datetime,
    video: Block,
    page_path: str,
    world: World,
) -> tuple[list[dict], dt.datetime]:
    course = session.course
    vid = html_id(course.course_id, "video", video.url_name)
    position = 0.0
    events = [
        browser_event(session, when, "load_video", {"id": vid, "code": video.youtube_id}, page_path)
    ]
    when += dt.timedelta(seconds=rng.uniform(1, 6))
    play = {"id": vid, "currentTime": position, "code": video.youtube_id, "duration": 412.3}
    events.append(browser_event(session, when, "play_video", play, page_path))
    watched = rng.uniform(20, 380)
    if rng.random() < 0.5:
        when += dt.timedelta(seconds=watched / 2)
        new_time = round(rng.uniform(0, 412), 3)
        events.append(
            browser_event(
                session,
                when,
                "seek_video",
                {
                    "id": vid,
                    "old_time": round(watched / 2, 3),
                    "new_time": new_time,
                    "type": "onSlideSeek",
                    "code": video.youtube_id,
                },
                page_path,
            )
        )
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
    return {
        "question": question,
        "answer": shown_answer,
        "response_type": spec.response_type,
        "input_type": spec.input_type,
        "correct": correct,
        "variant": "",
        "group_label": "",
    }


def correct_map_of(attempt: Attempt | None) -> dict:
    if attempt is None:
        return {}
    return {
        answer_id: {
            "correctness": "correct" if right else "incorrect",
            "npoints": None,
            "msg": "",
            "hint": "",
            "hintmode": None,
            "queuestate": None,
        }
        for answer_id, right in attempt.correctness.items()
    }


def problem_check_events(
    session: Session, when: dt.datetime, attempt: Attempt, page_path: str
) -> list[dict]:
    course, problem, spec = session.course, attempt.problem, attempt.problem.problem
    handler = f"/courses/{course.course_id}/xblock/{url_block_key(problem.key)}/handler/xmodule_handler/problem_check"
    posted = {
        f"input_{answer_id}": value if isinstance(value, list) else [value]
        for answer_id, value in attempt.answers.items()
    }
    browser_answers = urlencode(
        [
            (f"input_{answer_id}[]" if isinstance(v, list) else f"input_{answer_id}", item)
            for answer_id, v in attempt.answers.items()
            for item in (v if isinstance(v, list) else [v])
        ]
    )
    previous = attempt.previous
    server = make_event(
        session,
        when + dt.timedelta(milliseconds=180),
        "server",
        "problem_check",
        {
            "answers": attempt.answers,
            "attempts": attempt.number,
            "correct_map": correct_map_of(attempt),
            "grade": attempt.grade,
            "max_grade": attempt.max_grade,
            "problem_id": problem.key,
            "state": {
                "student_answers": previous.answers if previous else {},
                "seed": 1,
                "done": previous is not None,
                "correct_map": correct_map_of(previous),
                "input_state": {answer_id: {} for answer_id in attempt.answers},
            },
            "submission": {
                answer_id: submission_of(
                    spec, question, attempt.answers[answer_id], attempt.correctness[answer_id]
                )
                for answer_id, question in zip(attempt.answers, spec.questions)
            },
            "success": "correct" if attempt.grade == attempt.max_grade else "incorrect",
        },
        path=handler,
        page="x_module",
        module=problem,
    )
    return [
        browser_event(session, when, "problem_check", browser_answers, page_path),
        implicit_event(session, when + dt.timedelta(milliseconds=40), handler, posted),
        server,
    ]


def forum_event(session: Session, when: dt.datetime, post: ForumPost) -> list[dict]:
    course = session.course
    forum_url = f"https://{HOST}/courses/{course.course_id}/discussion/forum"
    payload = {
        "body": post.body,
        "commentable_id": post.commentable_id,
        "truncated": False,
        "url": f"{forum_url}/{post.commentable_id}/threads/{(post.thread or post).oid}",
        "user_forums_roles": ["Student"],
        "user_course_roles": [],
        "id": post.oid,
        "options": {"followed": False},
    }
    if post.is_thread:
        name = "edx.forum.thread.created"
        path = f"/courses/{course.course_id}/discussion/{post.commentable_id}/threads/create"
        payload.update(
            {
                "title": post.title,
                "thread_type": post.thread_type,
                "anonymous": False,
                "anonymous_to_peers": False,
                "group_id": None,
                "options": {"followed": True},
            }
        )
    elif post.parent is None:
        name = "edx.forum.response.created"
        path = f"/courses/{course.course_id}/discussion/threads/{post.thread.oid}/reply"
        payload["discussion"] = {"id": post.thread.oid}
    else:
        name = "edx.forum.comment.created"
        path = f"/courses/{course.course_id}/discussion/comments/{post.parent.oid}/reply"
        payload.update({"discussion": {"id": post.thread.oid}, "response": {"id": post.parent.oid}})
    implicit = implicit_event(
        session, when - dt.timedelta(milliseconds=120), path, {"body": [post.body]}
    )
    return [implicit, make_event(session, when, "server", name, payload, path=path, name=name)]


def enrollment_event(rng: random.Random, enrollment: Enrollment, activated: bool) -> dict:
    user, course = enrollment.user, enrollment.course
    session = Session(user, course, hex_id(rng), True, {})
    name = f"edx.course.enrollment.{'activated' if activated else 'deactivated'}"
    when = enrollment.created if activated else enrollment.deactivated
    return make_event(
        session,
        when,
        "server",
        name,
        {"course_id": course.course_id, "user_id": user.id, "mode": enrollment.mode},
        path="/api/enrollment/v1/enrollment",
        name=name,
    )


def anonymous_event(rng: random.Random, course: Course, when: dt.datetime) -> dict:
    visitor = User(
        id=0,
        username="",
        full_name="",
        email="",
        ability=0,
        ip=f"203.0.113.{rng.randint(1, 254)}",
        agent=rng.choice(AGENTS),
        accept_language="en",
        gender=None,
        year_of_birth=None,
        level_of_education=None,
        country="",
        goals="",
    )
    session = Session(visitor, course, "", False, {})
    record = implicit_event(session, when, f"/courses/{course.course_id}/about")
    record["context"]["user_id"] = ""
    return record


def learning_session(
    rng: random.Random, world: World, enrollment: Enrollment, start: dt.datetime, history: dict
) -> list[dict]:
    user, course = enrollment.user, enrollment.course
    tags = (
        {PARTITION_KEY: world.course_tags[(user.id, course.course_id)]}
        if (user.id, course.course_id) in world.course_tags
        else {}
    )
    session = Session(user, course, hex_id(rng), rng.random() < 0.7, tags)
    when = start
    events = []

    def tick(low: float = 2, high: float = 90) -> dt.datetime:
        nonlocal when
        when += dt.timedelta(seconds=rng.uniform(low, high))
        return when

    if rng.random() < 0.3:
        no_course = Session(user, None, session.id, session.with_headers, {})
        events.append(
            implicit_event(
                no_course, when, "/login_ajax", {"email": [user.email], "remember": ["false"]}
            )
        )
        events.append(implicit_event(no_course, tick(), "/dashboard"))
        session.referer = no_course.referer
    vertical = rng.choice(units(course))
    page_path = courseware_url(course, vertical)
    events.append(implicit_event(session, tick(), page_path))
    world.visits.append(Visit(user, course, vertical, when))
    seq = course.blocks[vertical.parent]
    if rng.random() < 0.5:
        old, new = 1, seq.children.index(vertical.key) + 1
        events.append(
            browser_event(
                session,
                tick(),
                "seq_goto",
                {
                    "old": old,
                    "new": new,
                    "current_tab": old,
                    "target_tab": new,
                    "tab_count": len(seq.children),
                    "widget_placement": "top",
                    "id": seq.key,
                },
                page_path,
                name="edx.ui.lms.sequence.tab_selected",
            )
        )
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
    threads = [
        post
        for post in world.forum_posts
        if post.course is course and post.is_thread and post.created < when
    ]
    if threads and rng.random() < 0.2:
        thread = rng.choice(threads)
        responses = [
            p
            for p in world.forum_posts
            if p.thread is thread and p.parent is None and p.created < when
        ]
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


class ActiveEnrollments:
    """The enrolments active at a moment of one day, with their cumulative engagement weights,
    computed once for each stretch of the day between two enrolment changes: a larger world draws
    thousands of sessions a day from thousands of enrolments. The draw is the same as
    `rng.choices(active, [e.engagement for e in active])` (same order, same cumulative sums)."""

    def __init__(self, enrollments: list[Enrollment], begin: dt.datetime):
        end = begin + dt.timedelta(days=1)
        changes = {e.created for e in enrollments if begin < e.created < end}
        changes |= {
            e.deactivated for e in enrollments if e.deactivated and begin < e.deactivated < end
        }
        self.enrollments = enrollments
        self.changes = sorted(changes)
        self.stretches: dict[int, tuple[list[Enrollment], list[float]]] = {}

    def at(self, when: dt.datetime) -> tuple[list[Enrollment], list[float]]:
        stretch = bisect.bisect_right(self.changes, when)
        if stretch not in self.stretches:
            active = [e for e in self.enrollments if e.active_at(when)]
            self.stretches[stretch] = (
                active,
                list(itertools.accumulate(e.engagement for e in active)),
            )
        return self.stretches[stretch]


def build_day_events(rng: random.Random, world: World, day: dt.date, history: dict) -> list[dict]:
    begin = day_start(day)
    events = []
    for enrollment in world.enrollments:
        if enrollment.created.date() == day:
            events.append(enrollment_event(rng, enrollment, True))
        if enrollment.deactivated and enrollment.deactivated.date() == day:
            events.append(enrollment_event(rng, enrollment, False))
    active = ActiveEnrollments(world.enrollments, begin)
    # About 30 learning sessions a day for the demo's 40 users, as many more for a larger world.
    for _ in range(rng.randint(26, 34) * len(world.users) // USER_COUNT):
        # Sessions last well under 90 minutes, so they end on the same day.
        start = random_time(rng, begin, begin + dt.timedelta(hours=22, minutes=30))
        candidates, weights = active.at(start)
        if not candidates:
            continue
        enrollment = rng.choices(candidates, cum_weights=weights)[0]
        events += learning_session(rng, world, enrollment, start, history)
    for course in world.courses:
        events.append(
            anonymous_event(rng, course, random_time(rng, begin, begin + dt.timedelta(hours=23)))
        )
    old_courses = {
        course.course_id for course in world.courses if is_slash_course(course.course_id)
    }
    old_browser = [
        i
        for i, e in enumerate(events)
        if e["event_source"] == "browser" and e["context"]["course_id"] in old_courses
    ]
    for index in rng.sample(old_browser, min(3, len(old_browser))):
        events[index] = strip_context(events[index])
    events.sort(key=lambda e: e["time"])
    return events
