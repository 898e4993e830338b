"""Render one report template (BigQuery Standard SQL with jinja2) for one course, in simeon's two
passes: jinja2 first, then the `{latest_dataset}`-style placeholders of the known names only.

Variables (both passes): `course_id`, `latest_dataset`, `log_dataset`, `geo_table`, `youtube_table`
and every extra_args key; jinja also has `tracklog` (a FROM-clause expression of the course's log
rows), the global `has_table('t')` and simeon's filters `course_id | has_latest_table('t')`,
`course_id | has_log_table('t')` (a substring match, as simeon's LIKE '%t%') and
`course_id | get_course_tables` (`{"log": set, "latest": set}`), all decided from `tables`, never by
a query.

Values are rendered by kind: datasets, tables and `tracklog` as they are (validated identifiers);
numbers as numbers; booleans as TRUE/FALSE; strings SQL-escaped (backslash, both quotes, backquote,
newlines) for use inside a literal the template writes, as simeon's `'{course_id}'`: a value can never
end the literal. A list renders its items, each as above, joined by ", " (quote string items in the
template: `{% for s in names %}'{{ s }}'{{ "," if not loop.last }}{% endfor %}`). Strings come out in
BigQuery's escaping; transpile.py carries them over to DuckDB. A value produced by the jinja pass is
never read again by the second pass, and braces the second pass does not know (JSON, `{{`) stay as
they are (simeon's str.format would halve doubled ones)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2

from edxflow.core.errors import UserError
from edxflow.reports.extra_args import TIMEOUT_KEYS, timeout_minutes

IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
# The first part of a three-part path (a BigQuery project id) may contain inner dashes.
PROJECT = re.compile(r"^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$")
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SHARD = re.compile(r"^tracklog_[0-9]{8}$")
LOG_TABLES = ("partitioned", "sharded")
# The names of the second pass that are not extra_args.
BUILTIN_NAMES = ("course_id", "latest_dataset", "log_dataset", "geo_table", "youtube_table")
RESERVED = BUILTIN_NAMES + ("tracklog", "has_table")

# Stands for "{" in every value the jinja pass writes, so the second pass never reads a value.
_BRACE = "\ue000"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "`": "\\`", "\n": "\\n", "\r": "\\r"}
_ESCAPE = re.compile(r"[\\'\"`\n\r]")


class RenderError(UserError):
    """A template cannot be rendered: names the template file and the problem."""


class _Sql(str):
    """Text that goes into the SQL as it is (a validated identifier or our own expression)."""


def escape_string(value: str) -> str:
    """The content of a BigQuery string literal (quoted either way) that reads as `value`."""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], value)


def render(
    text: str,
    *,
    name: str,
    course_id: str,
    latest_dataset: str,
    log_dataset: str,
    tables: Mapping[str, Iterable[str]] | Iterable[str],
    geo_table: str | None = None,
    youtube_table: str | None = None,
    extra_args: Mapping[str, Any] | None = None,
    log_tables: str = "partitioned",
) -> str:
    """The SQL of template `text` (from file `name`, used in messages) for one course.

    `latest_dataset`/`log_dataset`: `dataset` or `project.dataset`; `geo_table`/`youtube_table`:
    `dataset.table` or `project.dataset.table` (None: not configured; `{% if geo_table %}` is false).
    `tables`: what the course has, either `{"latest": names, "log": names}` or one collection of
    names, in which `tracklog` and `tracklog_YYYYMMDD` are log tables and every other one a latest
    table. `extra_args`: parsed (extra_args.parse_extra_args); `suffix_start`/`suffix_end`
    (YYYYMMDD) limit `tracklog`; `timeout_short`/`timeout_long` are whole minutes (integers or
    digits). `log_tables`: "partitioned" (`{log_dataset}.tracklog`) or "sharded"
    (`tracklog_YYYYMMDD`)."""
    course_id = _string(name, "course_id", course_id)
    datasets = {
        "latest_dataset": _path(name, "latest_dataset", latest_dataset, parts=2),
        "log_dataset": _path(name, "log_dataset", log_dataset, parts=2),
    }
    optional = {
        "geo_table": None if geo_table is None else _path(name, "geo_table", geo_table, parts=3),
        "youtube_table": None
        if youtube_table is None
        else _path(name, "youtube_table", youtube_table, parts=3),
    }
    latest, log = _tables(name, tables)
    extra = _extra_args(name, extra_args)
    if log_tables not in LOG_TABLES:
        raise RenderError(
            f"{name}: log_tables is {log_tables!r}: use one of {', '.join(LOG_TABLES)}"
        )
    tracklog = _tracklog(name, datasets["log_dataset"], log_tables, extra)

    variables: dict[str, Any] = {
        **extra,
        "course_id": course_id,
        **datasets,
        **optional,
    }

    def has_table(table: str) -> bool:
        table = _table_arg(name, "has_table", table)
        if table in latest or table in log:
            return True
        return table == "tracklog" and any(SHARD.match(t) for t in log)

    def has_latest_table(_course: object, table: str) -> bool:
        return _table_arg(name, "has_latest_table", table) in latest

    def has_log_table(_course: object, table: str) -> bool:
        table = _table_arg(name, "has_log_table", table)
        return any(table in t for t in log)

    def get_course_tables(_course: object) -> dict[str, set[str]]:
        return {"log": set(log), "latest": set(latest)}

    env = jinja2.Environment(
        # The template's file name is `name`, so that jinja's tracebacks give its lines.
        loader=jinja2.FunctionLoader(lambda n: (text, name, lambda: True) if n == name else None),
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: _finalize(name, value),
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.globals["has_table"] = has_table
    env.filters["has_latest_table"] = has_latest_table
    env.filters["has_log_table"] = has_log_table
    env.filters["get_course_tables"] = get_course_tables

    if _BRACE in text:
        raise RenderError(f"{name}: the template contains the private character U+E000: remove it")
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{name}, line {exc.lineno}: jinja syntax error: {exc.message}") from None
    try:
        first = template.render(**variables, tracklog=tracklog)
    except RenderError as exc:
        raise RenderError(_at_line(name, exc, str(exc))) from None
    except jinja2.UndefinedError as exc:
        raise RenderError(
            _at_line(
                name,
                exc,
                f"{exc.message}: not a variable of the renderer "
                f"({', '.join(RESERVED)}) nor an extra_args key; pass it in extra_args "
                "or test it with `is defined`",
            )
        ) from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(_at_line(name, exc, f"{type(exc).__name__}: {exc}")) from None

    def second(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            return match.group(0)
        value = variables[key]
        if value is None:
            raise RenderError(
                f"{name}: uses {{{key}}} but no {key} is configured: configure it or test it "
                f"with `{{% if {key} %}}`"
            )
        return _finalize(name, value)

    return _PLACEHOLDER.sub(second, first).replace(_BRACE, "{")


def _finalize(name: str, value: Any) -> str:
    """One value as SQL text (with `{` hidden from the second pass)."""
    if isinstance(value, jinja2.Undefined):
        text = str(value)  # StrictUndefined: raises UndefinedError, which names the variable
    elif isinstance(value, _Sql):
        text = str(value)
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise RenderError(f"{name}: the number {value} has no SQL literal")
        text = repr(value)
    elif isinstance(value, str):
        text = escape_string(value)
    elif isinstance(value, (list, tuple)):
        return ", ".join(_finalize(name, item) for item in value)
    elif value is None:
        raise RenderError(
            f"{name}: writes a value that is not set (None, e.g. geo_table or youtube_table "
            "without configuration): test it with `{% if … %}`"
        )
    else:
        raise RenderError(f"{name}: cannot write a {type(value).__name__} value into SQL")
    return text.replace("{", _BRACE)


def _at_line(name: str, exc: BaseException, message: str) -> str:
    """`message` with the template line the exception was raised at (from jinja's traceback)."""
    if message.startswith(f"{name}: "):
        message = message[len(name) + 2 :]
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = name if line is None else f"{name}, line {line}"
    return f"{where}: {message}"


def _string(name: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise RenderError(f"{name}: {key} must be a string, not {type(value).__name__}")
    return value


def _path(name: str, key: str, value: object, *, parts: int) -> _Sql:
    """A dataset (`parts` 2: `[project.]dataset`) or table (`parts` 3: `[[project.]dataset.]table`)
    path of identifiers; the project id (the first of `parts` parts) may contain inner dashes."""
    value = _string(name, key, value)
    items = value.split(".")
    has_project = len(items) == parts
    rest = items[1:] if has_project else items
    ok = (
        len(items) <= parts
        and all(IDENTIFIER.match(item) for item in rest)
        and (not has_project or bool(PROJECT.match(items[0])))
    )
    if not ok:
        shape = "[project.]dataset" if parts == 2 else "[[project.]dataset.]table"
        raise RenderError(
            f"{name}: {key} is {value!r}: expected {shape}, each part letters, digits and _ "
            "(a project may also contain -)"
        )
    return _Sql(value)


def _table_arg(name: str, function: str, table: object) -> str:
    if not isinstance(table, str) or not IDENTIFIER.match(table):
        raise RenderError(f"{name}: {function}({table!r}): a table name is letters, digits and _")
    return table


def _tables(
    name: str, tables: Mapping[str, Iterable[str]] | Iterable[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(latest, log) table names."""
    if isinstance(tables, str):
        raise RenderError(f"{name}: tables must be a collection of table names, not a string")
    if isinstance(tables, Mapping):
        unknown = sorted(set(tables) - {"latest", "log"})
        if unknown:
            raise RenderError(f"{name}: tables has keys {unknown}: use 'latest' and 'log'")
        latest = frozenset(tables.get("latest", ()))
        log = frozenset(tables.get("log", ()))
    else:
        names = frozenset(tables)
        log = frozenset(t for t in names if t == "tracklog" or SHARD.match(t))
        latest = names - log
    for table in sorted(latest | log):
        if not isinstance(table, str) or not IDENTIFIER.match(table):
            raise RenderError(f"{name}: the table name {table!r} is not letters, digits and _")
    return latest, log


def _extra_args(name: str, extra_args: Mapping[str, Any] | None) -> dict[str, Any]:
    extra = dict(extra_args or {})
    for key, value in extra.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise RenderError(f"{name}: extra_args key {key!r} is not an identifier")
        if key in RESERVED:
            raise RenderError(f"{name}: extra_args key {key!r} is a variable of the renderer")
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if not isinstance(item, (str, int, float)):
                raise RenderError(
                    f"{name}: extra_args {key} holds a {type(item).__name__}: use strings, "
                    "integers, floats or lists of them"
                )
    for key in ("suffix_start", "suffix_end"):
        if key in extra:
            extra[key] = _yyyymmdd(name, key, extra[key])
    for key in TIMEOUT_KEYS:
        if key in extra:
            minutes = timeout_minutes(extra[key])
            if minutes is None:
                raise RenderError(
                    f"{name}: extra_args {key} is {extra[key]!r}: expected a whole number of "
                    "minutes from 1"
                )
            extra[key] = minutes
    return extra


def _yyyymmdd(name: str, key: str, value: object) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    try:
        if not re.fullmatch(r"[0-9]{8}", text):
            raise ValueError
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        raise RenderError(
            f"{name}: extra_args {key} is {value!r}: expected a date YYYYMMDD"
        ) from None
    return text


def _tracklog(name: str, log_dataset: str, log_tables: str, extra: Mapping[str, Any]) -> _Sql:
    """The FROM-clause expression of the course's log rows, limited to suffix_start..suffix_end."""
    start, end = extra.get("suffix_start"), extra.get("suffix_end")
    if start is not None and end is not None and start > end:
        raise RenderError(f"{name}: extra_args suffix_start {start} is after suffix_end {end}")
    if log_tables == "sharded":
        table = f"`{log_dataset}.tracklog_*`"
        column, literal = "_TABLE_SUFFIX", (lambda day: f"'{day}'")
    else:
        table = f"{log_dataset}.tracklog"
        if "-" in log_dataset:
            table = f"`{table}`"
        column, literal = "DATE(time)", (lambda day: f"DATE '{day[:4]}-{day[4:6]}-{day[6:]}'")
    if start is not None and end is not None:
        where = f" WHERE {column} BETWEEN {literal(start)} AND {literal(end)}"
    elif start is not None:
        where = f" WHERE {column} >= {literal(start)}"
    elif end is not None:
        where = f" WHERE {column} <= {literal(end)}"
    elif log_tables == "sharded":
        where = ""
    else:
        return _Sql(table)
    return _Sql(f"(SELECT * FROM {table}{where})")
