"""The graph of the report templates: what each one reads, the order to build them in, and DOT.

A template declares its inputs in its leading comment block (the lines at the top of the file that
are blank or start with `--` or `#`; the first other line ends it):

    -- reads: course_axis, tracklog, video_stats_day
    -- optional: grades_persistent, pc_forum
    -- on request

`reads:` is required (it may be empty); `optional:` inputs are used only when the course has them
(the template tests them with has_table). Both may be repeated. An input that is a template is a
report table (built in `{BASE}_latest` before its readers, also when it is only optional); any other
is a source table: `tracklog` in `{BASE}_logs`, every other one in `{BASE}_latest`.

`-- on request` (the line alone) marks a table simeon builds only when asked for by name
(ora_events, problem_check, time_on_task, ...): `all` leaves it out unless a table of `all` reads
it, `all_with_optional` builds it, and a list of names builds it when it is named or read."""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from edxflow.core.errors import UserError

IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
LOG_TABLE = "tracklog"
_HEADER = re.compile(r"^(?:--|#)\s*(reads|optional)\s*:(.*)$")
_ON_REQUEST = re.compile(r"^(?:--|#)\s*on request\s*$")
# build_order's two sets of tables: every one but those on request, and every one.
ALL = "all"
ALL_WITH_OPTIONAL = "all_with_optional"

# simeon's REPORT_TABLES in its canonical order (simeon.md 7.3): the tie-break of build_order.
CANONICAL = (
    "video_axis",
    "forum_events",
    "problem_grades",
    "chapter_grades",
    "show_answer",
    "video_stats_day",
    "show_answer_stats_by_user",
    "show_answer_stats_by_course",
    "course_item",
    "person_item",
    "person_problem",
    "course_problem",
    "person_course_day",
    "pc_video_watched",
    "pc_day_totals",
    "pc_day_trlang",
    "pc_day_ip_counts",
    "language_multi_transcripts",
    "pc_nchapters",
    "pc_forum",
    "course_modal_language",
    "course_modal_ip",
    "forum_posts",
    "forum_person",
    "enrollment_events",
    "enrollday_all",
    "person_enrollment_verified",
    "pc_day_agent_counts",
    "course_modal_agent",
    "person_course",
)
_RANK = {name: index for index, name in enumerate(CANONICAL)}


class GraphError(UserError):
    """The templates cannot be ordered: a bad header, a cycle, an unknown table."""


@dataclass(frozen=True)
class Template:
    """One report template: `name` (the table it builds), its file, text, inputs, the sha256 of
    its text and whether it is built only on request (`-- on request`)."""

    name: str
    path: Path
    text: str
    reads: tuple[str, ...]
    optional: tuple[str, ...]
    digest: str
    on_request: bool = False


def leading_comments(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of a template's leading comment block, blank lines left out."""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith(("--", "#")):
            break
        lines.append((number, stripped))
    return lines


def parse_header(text: str, path: str | Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(reads, optional) from the leading comment block of a template; `path` names it in errors."""
    found: dict[str, list[str]] = {"reads": [], "optional": []}
    seen_reads = False
    for number, stripped in leading_comments(text):
        match = _HEADER.match(stripped)
        if match is None:
            continue
        key, names = match.group(1), match.group(2)
        seen_reads = seen_reads or key == "reads"
        for item in names.split(","):
            item = item.strip()
            if not item:
                continue
            if not IDENTIFIER.match(item):
                raise GraphError(
                    f"{path}, line {number}: {key}: {item!r} is not a table name (letters, "
                    "digits and _, separated by commas)"
                )
            if item not in found[key]:
                found[key].append(item)
    if not seen_reads:
        raise GraphError(
            f"{path}: no `-- reads:` line in the leading comment block: declare the tables the "
            "template reads, e.g. `-- reads: course_axis, tracklog` (empty if none)"
        )
    both = [name for name in found["optional"] if name in found["reads"]]
    if both:
        raise GraphError(
            f"{path}: {', '.join(both)} is both read and optional: keep it in one of the two lines"
        )
    return tuple(found["reads"]), tuple(found["optional"])


def is_on_request(text: str) -> bool:
    """Whether the leading comment block of a template has the line `-- on request`."""
    return any(_ON_REQUEST.match(line) for _, line in leading_comments(text))


def load_template(path: str | Path) -> Template:
    """One template file `{table}.sql`."""
    path = Path(path)
    name = path.stem
    if not IDENTIFIER.match(name):
        raise GraphError(f"{path}: a template is named after its table: letters, digits and _")
    if name == LOG_TABLE:
        raise GraphError(f"{path}: {LOG_TABLE} is the course's log table, not a report table")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GraphError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise GraphError(f"{path}: cannot read the template: {exc.strerror}") from None
    reads, optional = parse_header(text, path)
    if name in reads or name in optional:
        raise GraphError(
            f"{path}: the template reads its own table {name} (cycle {name} -> {name})"
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Template(name, path, text, reads, optional, digest, is_on_request(text))


def load_templates(
    builtin_dir: str | Path, query_dir: str | Path | None = None
) -> dict[str, Template]:
    """The templates `{table}.sql` of `builtin_dir`, each replaced by the file of the same name in
    `query_dir` when there is one (a new name there joins the graph); checked for cycles."""
    files: dict[str, Path] = {}
    for directory in [builtin_dir] + ([query_dir] if query_dir is not None else []):
        directory = Path(directory)
        if not directory.is_dir():
            raise GraphError(f"{directory}: the query directory does not exist or is not a folder")
        for path in sorted(directory.glob("*.sql")):
            if path.is_file():
                files[path.stem] = path
    templates = {name: load_template(path) for name, path in sorted(files.items())}
    build_order(templates)
    return templates


def _key(name: str) -> tuple[int, str]:
    return (_RANK.get(name, len(CANONICAL)), name)


def _inputs(template: Template) -> tuple[str, ...]:
    return template.reads + template.optional


def build_order(
    templates: Mapping[str, Template], wanted: str | Iterable[str] = "all"
) -> list[str]:
    """The wanted report tables and the report tables they read (also the optional ones), each
    after what it reads; ties in simeon's canonical order, then by name. `wanted`: `"all"` (every
    table but those on request), `"all_with_optional"` (every table), or names (a string is one
    name)."""
    if isinstance(wanted, str):
        if wanted == ALL:
            wanted = [name for name, template in templates.items() if not template.on_request]
        elif wanted == ALL_WITH_OPTIONAL:
            wanted = list(templates)
        else:
            wanted = [wanted]
    wanted = list(wanted)
    unknown = sorted({name for name in wanted if name not in templates})
    if unknown:
        raise GraphError(
            f"unknown report table{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: the "
            f"templates are {', '.join(sorted(templates, key=_key))}"
        )
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        stack.extend(i for i in _inputs(templates[name]) if i in templates and i not in needed)

    # Kahn's algorithm, taking the smallest ready table by (canonical rank, name).
    waiting = {name: {i for i in _inputs(templates[name]) if i in needed} for name in needed}
    readers: dict[str, list[str]] = {name: [] for name in needed}
    for name, inputs in waiting.items():
        for i in inputs:
            readers[i].append(name)
    ready = [_key(name) for name, inputs in waiting.items() if not inputs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for reader in readers[name]:
            waiting[reader].discard(name)
            if not waiting[reader]:
                heapq.heappush(ready, _key(reader))
    if len(order) < len(needed):
        raise GraphError(f"the report templates read each other in a cycle: {_cycle(waiting)}")
    return order


def _cycle(waiting: Mapping[str, set[str]]) -> str:
    """One cycle among the tables Kahn's algorithm left, as `a -> b -> a` (a reads b)."""
    left = {name: inputs for name, inputs in waiting.items() if inputs}
    name = min(left, key=_key)
    path: list[str] = []
    while name not in path:
        path.append(name)
        name = min((i for i in left[name] if i in left), key=_key)
    cycle = path[path.index(name) :] + [name]
    return " -> ".join(cycle) + " (each reads the next)"


def to_dot(templates: Mapping[str, Template]) -> str:
    """The graph in DOT, sorted: report tables as ellipses (dashed if built on request), source
    tables as boxes (`tracklog` labelled as the log dataset's), an edge from each input to its
    reader (dashed if optional)."""
    sources = sorted({i for t in templates.values() for i in _inputs(t) if i not in templates})
    lines = [
        "digraph reports {",
        "  rankdir=LR;",
        "  node [shape=ellipse];",
    ]
    for name in sources:
        label = f"{name}\\n({{BASE}}_logs)" if name == LOG_TABLE else name
        style = ", style=bold" if name == LOG_TABLE else ""
        lines.append(f'  "{name}" [shape=box{style}, label="{label}"];')
    for name in sorted(templates):
        style = " [style=dashed]" if templates[name].on_request else ""
        lines.append(f'  "{name}"{style};')
    edges = sorted((i, t.name, i in t.optional) for t in templates.values() for i in _inputs(t))
    for source, target, optional in edges:
        style = " [style=dashed]" if optional else ""
        lines.append(f'  "{source}" -> "{target}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"
