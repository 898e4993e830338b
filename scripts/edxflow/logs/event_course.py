"""The course of a tracking-log event, by a table of rules tried in order.

A rule names where it looks (a field of the event) and how it reads it (an explicit course id, or a
URL/path that may hold one). The first rule that yields a course wins. An `i4x://Org/Num/...` key
names no run: it yields `I4x(org, num)`, which the splitter resolves to the one course of that org
and number seen in the same file (or to no course).
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple

from edxflow.core import courses
from edxflow.core.courses import PART, module_id


class I4x(NamedTuple):
    org: str
    num: str


# An i4x key names no run; the course block's `i4x://Org/Num/course/Run` is read by courses.py.
_I4X = re.compile(rf"i4x://({PART})/({PART})/")
_I4X_HANDLER = re.compile(r"i4x:;_;_([^;/\s]+);_([^;/\s]+);_")  # the xblock handler path's encoding


def course_in_id(value: str):
    """An explicit course id field: any form courses.py reads, else a runless i4x key."""
    return courses.course_in_id(value) or _i4x_in(value)


def course_in_url(value: str):
    """A URL or path: an opaque key anywhere, then `/courses/Org/Num/Run/`, then an i4x key."""
    return courses.course_in_url(value) or _i4x_in(value)


def _i4x_in(value: str) -> I4x | None:
    i4x = _I4X.search(value) or _I4X_HANDLER.search(value)
    return I4x(*i4x.groups()) if i4x else None


def value_at(event: dict, where: str):
    """The value a rule reads: a top-level field (`page`), or a field of the object under one
    (`context.path`; None when that is not an object, e.g. a browser event's `event` string)."""
    outer, _, inner = where.partition(".")
    value = event.get(outer)
    if not inner:
        return value
    return value.get(inner) if type(value) is dict else None


# (where, read it with): tried in this order; simeon's order, plus enrolment events' event.course_id.
# The compiled split (native/tracklog.c) follows this same table.
RULES: tuple[tuple[str, Callable[[str], object]], ...] = (
    ("course_id", course_in_id),
    ("context.course_id", course_in_id),
    ("event.course_id", course_in_id),
    ("page", course_in_url),
    ("event_type", course_in_url),
    ("context.path", course_in_url),
    ("name", course_in_url),
)


class CourseFinder:
    """Applies RULES with a memo per reader: the same few strings repeat across millions of events."""

    MEMO_LIMIT = 50_000

    def __init__(self):
        self._memo = {course_in_id: {}, course_in_url: {}}

    def memo(self, read: Callable[[str], object]) -> dict:
        """The memo of a reader (value -> what it read), shared with the compiled split."""
        return self._memo[read]

    def find(self, event: dict):
        """`Org/Num/Run`, an `I4x` to resolve later, or None."""
        first_i4x = None
        for where, read in RULES:
            value = value_at(event, where)
            if not value or type(value) is not str:
                continue
            memo = self._memo[read]
            found = memo.get(value, memo)
            if found is memo:
                if len(memo) > self.MEMO_LIMIT:
                    memo.clear()
                found = memo[value] = read(value)
            if type(found) is str:
                return found
            if found is not None and first_i4x is None:
                first_i4x = found
        return first_i4x


def resolve_i4x(pending: I4x, runs_by_org_num: dict[tuple[str, str], set[str]]):
    """The one course of that org and number seen in the file, else None."""
    runs = runs_by_org_num.get((pending.org, pending.num))
    if runs and len(runs) == 1:
        return f"{pending.org}/{pending.num}/{next(iter(runs))}"
    return None


def reference_course(event: dict):
    """The rules written as plainly as possible, without memo: what the benchmark compares against."""
    first_i4x = None
    for where, read in RULES:
        value = value_at(event, where)
        if isinstance(value, str) and value:
            found = read(value)
            if isinstance(found, str):
                return found
            if found is not None and first_i4x is None:
                first_i4x = found
    return first_i4x


module_in = module_id  # simeon's module_id of a block key in a value, or None


def module_of(record: dict, payload: dict | None, memo: dict):
    """The block an event is about: context.module.usage_key, else the payload's id or problem_id,
    else a block key in the event_type or page URL."""
    context = record.get("context")
    module = context.get("module") if type(context) is dict else None
    candidates = (
        module.get("usage_key") if type(module) is dict else None,
        payload.get("id") if payload else None,
        payload.get("problem_id") if payload else None,
        record.get("event_type"),
        record.get("page"),
    )
    for value in candidates:
        if value and type(value) is str:
            found = memo.get(value, memo)
            if found is memo:
                if len(memo) > CourseFinder.MEMO_LIMIT:
                    memo.clear()
                found = memo[value] = module_in(value)
            if found:
                return found
    return None
