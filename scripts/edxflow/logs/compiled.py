"""The compiled split (native/tracklog.c, in the optional `edxflow_native` extension), given the
Python definitions it follows: the course rules and their memos, the block finder and its memo,
the row's plans (which coercer each field takes), the top-level fields and the renamed keys. It
takes the common lines and hands every other line back to split.py."""

from __future__ import annotations

import os

from edxflow.core.coerce import to_boolean, to_float, to_integer
from edxflow.logs.event_course import (
    RULES,
    CourseFinder,
    I4x,
    course_in_id,
    course_in_url,
    module_in,
)
from edxflow.logs.tracklog import (
    CONTEXT_PLAN,
    OWN_TOP,
    RENAMED,
    STRUCT_EVENT_TYPES,
    STRUCT_PLAN,
)

try:
    from edxflow_native import Splitter
except ImportError:  # installed without a C compiler: the Python code takes every line
    Splitter = None

# EDXFLOW_PURE_PYTHON=1 runs the Python code alone (the benchmark's baseline, a second opinion).
DISABLED = os.environ.get("EDXFLOW_PURE_PYTHON", "") not in ("", "0")


def available() -> bool:
    return Splitter is not None and not DISABLED


def compiled_splitter(
    finder: CourseFinder,
    module_memo: dict,
    routes: dict,
    by_course: dict,
    no_course: str,
    outputs,
    deduplicate: bool,
    pending,
):
    """A Splitter writing into `outputs` (split.BufferedOutputs) the rows of the lines it takes;
    `routes` maps each course split.py has met to its file (None: filtered out), `by_course`
    counts each course's events; the rows of events whose i4x key names no run go to `pending`
    (a binary file) as `[org, num, head, tail]` lines."""
    # The two readers are also written in C (for ASCII text without `%`); another is called.
    kinds = {course_in_id: "id", course_in_url: "url"}
    rules = tuple(
        (outer, inner or None, finder.memo(read), read, kinds.get(read))
        for where, read in RULES
        for outer, _, inner in [where.partition(".")]
    )
    return Splitter(
        rules=rules,
        module_memo=module_memo,
        module_in=module_in,
        own_top=OWN_TOP,
        context_plan=CONTEXT_PLAN.as_tuple(),
        struct_plan=STRUCT_PLAN.as_tuple(),
        struct_types=STRUCT_EVENT_TYPES,
        renamed=RENAMED,
        to_integer=to_integer,
        to_float=to_float,
        to_boolean=to_boolean,
        routes=routes,
        by_course=by_course,
        no_course=no_course,
        outputs=outputs,
        memo_limit=CourseFinder.MEMO_LIMIT,
        flush_bytes=outputs.flush_bytes,
        deduplicate=deduplicate,
        i4x=I4x,
        pending=pending,
    )
