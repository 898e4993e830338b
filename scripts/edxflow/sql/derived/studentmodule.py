"""The `studentmodule` and `problem_analysis` tables, from `courseware_studentmodule` rows.

Both stream: rows in, rows out. A course can have millions of studentmodule rows, so the per-row
work avoids regular expressions and caches what repeats (course ids, block keys).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product
from typing import Iterable

import orjson

from edxflow.core.coerce import (
    course_id_or,
    json_text,
    loads_json,
    null_if_null_text,
    to_boolean,
    to_float,
    to_integer,
    to_string,
    to_timestamp,
)
from edxflow.core.courses import block_key, module_id, normalize_course_id
from edxflow.core.jsonl import TableWriter
from edxflow.sql.tsv import TsvReader

try:
    from edxflow_native import studentmodule_lines
except ImportError:  # not built (see native/): the Python code gives the same rows, slower
    studentmodule_lines = None


def parse_state(state: str | None) -> dict | None:
    """A studentmodule `state` as a dict, or None if it is missing, not an object, or unparseable.

    The dump is made by another process than the other tables, and its escaping is not always
    the one the TSV reader undoes: raw control characters are accepted inside strings, and as a
    last resort a doubled backslash is read as one."""
    if not state:
        return None
    candidates = (state, state.replace("\\\\", "\\")) if "\\\\" in state else (state,)
    for text in candidates:
        try:
            parsed = loads_json(text)
        except ValueError:
            continue
        return parsed if type(parsed) is dict else None
    return None


@lru_cache(maxsize=65536)
def module_id_of(key: str | None) -> str | None:
    """simeon's module_id (courses.module_id) of a block key; other keys unchanged."""
    if key is None:
        return None
    return module_id(key) or key


def url_name_of(key: str | None) -> str | None:
    if key is None:
        return None
    parts = block_key(key)
    return key.rsplit("@", 1)[-1].rsplit("/", 1)[-1] if parts is None else parts[-1]


def names_of_key(key: str | None) -> tuple[str | None, str | None]:
    """(module_id, url_name) of a dumped module key; a `null` spelling is no key."""
    key = null_if_null_text(key)
    return module_id_of(key), url_name_of(key)


def state_and_parsed(state: str | None) -> tuple[str | None, dict | None]:
    """The state as valid JSON text (as dumped when it parses, as most do; else re-serialised from
    what the fallbacks of `parse_state` read; unparseable states kept as dumped), and its dict."""
    state = null_if_null_text(state)
    if state is None:
        return None, None
    try:
        parsed = orjson.loads(state)  # strict: a state it accepts is valid JSON as it stands
    except orjson.JSONDecodeError:
        parsed = parse_state(state)
        return (state, None) if parsed is None else (json_text(parsed), parsed)
    return state, parsed if type(parsed) is dict else None


def state_text(state: str | None) -> str | None:
    return state_and_parsed(state)[0]


COLUMNS = (
    "id",
    "module_type",
    "module_id",
    "student_id",
    "state",
    "grade",
    "created",
    "modified",
    "max_grade",
    "done",
    "course_id",
)


# null_if_null_text as a lookup, for the columns read millions of times (`NULL` is already None)
_NULL_TEXTS = {"".join(letters): None for letters in product(*zip("null", "NULL"))}
_CHUNK = 1 << 20


class StudentmoduleSplit:
    """One pass for both tables: each row's studentmodule row goes to `write_module`, and a
    problem_analysis row to `write_analysis` when its state has a non-empty `correct_map` and
    `student_answers` (a checked problem). Rows are value lists in the order of COLUMNS and the
    writers callbacks, not dicts and generators: a course has millions of rows."""

    def __init__(self, course_id: str, write_module, write_analysis):
        self.course_id = normalize_course_id(course_id)
        self.write_module, self.write_analysis = write_module, write_analysis
        self.courses: dict = {}
        self.key_names: dict = {}

    def course_of(self, raw: str | None) -> str:
        return course_id_or(raw, self.course_id)

    def row(self, values: list) -> None:
        (
            row_id,
            module_type,
            module_key,
            student,
            raw_state,
            grade,
            created,
            modified,
            max_grade,
            done,
            course,
        ) = values
        if raw_state is None or (len(raw_state) == 4 and raw_state.lower() == "null"):
            state = parsed = None
        else:
            try:
                parsed = orjson.loads(
                    raw_state
                )  # strict: a state it accepts is valid JSON as it stands
                state = raw_state
                if type(parsed) is not dict:
                    parsed = None
            except orjson.JSONDecodeError:
                state, parsed = state_and_parsed(raw_state)
        names = self.key_names.get(module_key)
        if names is None:
            names = self.key_names[module_key] = names_of_key(module_key)
        normalised = self.courses.get(course)
        if normalised is None:
            normalised = self.courses[course] = self.course_of(course)
        course = normalised
        student_id = (
            int(student)
            if student is not None and len(student) < 19 and student.isdigit()
            else to_integer(student)
        )  # to_integer keeps to INT64
        created_raw, created = created, to_timestamp(created)
        grade = None if grade is None else to_float(grade)
        max_grade = None if max_grade is None else to_float(max_grade)
        self.write_module(
            {
                "id": int(row_id)
                if row_id is not None and len(row_id) < 19 and row_id.isdigit()
                else to_integer(row_id),
                "module_type": _NULL_TEXTS.get(module_type, module_type),
                "module_id": names[0],
                "student_id": student_id,
                "state": state,
                "grade": grade,
                "created": created,
                "modified": created if modified == created_raw else to_timestamp(modified),
                "max_grade": max_grade,
                "done": _NULL_TEXTS.get(done, done),
                "course_id": course,
            }
        )
        if parsed is not None:
            self.analysis(parsed, student_id, names[1], grade, max_grade, created, course)

    def analysis(self, parsed, student_id, url_name, grade, max_grade, created, course) -> None:
        """The problem_analysis row of a parsed state, if it is a checked problem's."""
        if type(parsed) is not dict or "correct_map" not in parsed:
            return
        correct_map, student_answers = parsed.get("correct_map"), parsed.get("student_answers")
        if (
            type(correct_map) is dict
            and correct_map
            and type(student_answers) is dict
            and student_answers
        ):
            finished = parsed.get("done")
            self.write_analysis(
                {
                    "course_id": course,
                    "user_id": student_id,
                    "problem_url_name": url_name,
                    "item": answer_items(correct_map, student_answers),
                    "attempts": to_integer(
                        parsed.get("attempts")
                    ),  # INT64 only: the fallback parser reads any size
                    "done": finished if type(finished) is bool else to_boolean(finished),
                    "grade": grade,
                    "max_grade": max_grade,
                    "created": created,
                }
            )


def split_studentmodule(
    records: Iterable[list], course_id: str, write_module, write_analysis
) -> None:
    """Both tables of rows given as value lists in the order of COLUMNS (see StudentmoduleSplit)."""
    row = StudentmoduleSplit(course_id, write_module, write_analysis).row
    for values in records:
        row(values)


def split_studentmodule_dump(
    plain,
    label: str,
    course_id: str,
    modules: TableWriter,
    analyses: TableWriter,
    compiled: bool = True,
) -> TsvReader:
    """Both tables of a `courseware_studentmodule` dump read from the binary stream `plain`;
    returns its reader (rows read, rejects). The compiled fast path (native/, when installed)
    writes the common rows of both tables and hands every other line, and every problem state in
    a form it does not take, to the same Python code as without it."""
    reader = TsvReader(plain, label)
    if not (compiled and studentmodule_lines is not None and tuple(reader.columns) == COLUMNS):
        split_studentmodule(
            records_in_order(reader.columns, reader.records()),
            course_id,
            modules.write,
            analyses.write,
        )
        return reader
    split = StudentmoduleSplit(course_id, modules.write, analyses.write)

    def slow(number: int, raw: bytes) -> None:
        values = reader.record(number, raw)
        if values is not None:
            split.row(values)

    def analysis(state: str, *values) -> None:
        split.analysis(orjson.loads(state), *values)

    key_cache, course_cache = {}, {}  # the compiled code's own: bytes keys, JSON values

    def lines(data, number: int) -> int:
        number, written = studentmodule_lines(
            data,
            number,
            key_cache,
            course_cache,
            names_of_key,
            split.course_of,
            modules.write_lines,
            analyses.write_lines,
            analysis,
            slow,
        )
        reader.rows_read += written
        return number

    number, pending = 2, b""
    while chunk := plain.read(_CHUNK):
        data = pending + chunk if pending else chunk
        end = data.rfind(b"\n") + 1
        number = lines(memoryview(data)[:end], number)
        pending = data[end:]
    if pending:
        lines(pending, number)
    return reader


def records_in_order(columns: list[str], records: Iterable[list]) -> Iterable[list]:
    """A dump's value lists in the order of COLUMNS (missing columns as None)."""
    if list(columns) == list(COLUMNS):
        return records
    positions = [columns.index(name) if name in columns else None for name in COLUMNS]
    return (
        [None if position is None else values[position] for position in positions]
        for values in records
    )


def _built(rows: Iterable[dict], course_id: str) -> tuple[list[dict], list[dict]]:
    modules, analyses = [], []
    split_studentmodule(
        ([row.get(name) for name in COLUMNS] for row in rows),
        course_id,
        modules.append,
        analyses.append,
    )
    return modules, analyses


def build_studentmodule(rows: Iterable[dict], course_id: str) -> list[dict]:
    """The studentmodule rows of dict rows (the split itself streams with `split_studentmodule`)."""
    return _built(rows, course_id)[0]


def answer_items(correct_map: dict, student_answers: dict) -> list[dict]:
    items = []
    for answer_id, entry in correct_map.items():
        if type(entry) is not dict:
            entry = {}
        correctness, npoints, msg, hint = (
            entry.get("correctness"),
            entry.get("npoints"),
            entry.get("msg"),
            entry.get("hint"),
        )
        # most values are already strings or null: convert only the others
        if correctness is not None and type(correctness) is not str:
            correctness = to_string(correctness)
        items.append(
            {
                "answer_id": answer_id,
                "correctness": correctness,
                "correct_bool": None if correctness is None else correctness == "correct",
                "npoints": None if npoints is None else to_float(npoints),
                "msg": msg if msg is None or type(msg) is str else to_string(msg),
                "hint": hint if hint is None or type(hint) is str else to_string(hint),
                "response": (
                    json_text(student_answers[answer_id]) if answer_id in student_answers else None
                ),
            }
        )
    return items


def build_problem_analysis(rows: Iterable[dict], course_id: str) -> list[dict]:
    """One row per checked problem, one item per answer field."""
    return _built(rows, course_id)[1]
