"""reports.graph: headers, loading with overrides, build order and DOT."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edxflow.core.errors import UserError
from edxflow.reports.graph import (
    CANONICAL,
    GraphError,
    Template,
    build_order,
    load_templates,
    parse_header,
    to_dot,
)


def write(directory: Path, name: str, header: str, body: str = "SELECT 1\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.sql"
    path.write_text(header + body, encoding="utf-8")
    return path


def make(name: str, reads=(), optional=(), **more) -> Template:
    return Template(name, Path(f"{name}.sql"), "", tuple(reads), tuple(optional), "", **more)


def graph(**spec) -> dict[str, Template]:
    """{name: "a,b|c"}: reads a and b, optional c."""
    templates = {}
    for name, text in spec.items():
        reads, _, optional = text.partition("|")
        templates[name] = make(
            name,
            [r for r in reads.split(",") if r],
            [o for o in optional.split(",") if o],
        )
    return templates


def error(function, *args) -> str:
    with pytest.raises(GraphError) as info:
        function(*args)
    assert isinstance(info.value, UserError)
    return str(info.value)


def test_parse_header():
    text = (
        "-- person_course: one row per learner\n"
        "\n"
        "--reads: course_axis, tracklog ,video_stats_day\n"
        "#  optional: grades_persistent,pc_forum\n"
        "-- reads: roles, course_axis\n"
        "SELECT 1\n"
        "-- optional: ignored_after_the_block\n"
    )
    assert parse_header(text, "p.sql") == (
        ("course_axis", "tracklog", "video_stats_day", "roles"),
        ("grades_persistent", "pc_forum"),
    )
    assert parse_header("-- reads:\nSELECT 1", "p.sql") == ((), ())


def test_parse_header_errors():
    assert error(parse_header, "-- a comment\nSELECT 1\n-- reads: x\n", "sql/x.sql") == (
        "sql/x.sql: no `-- reads:` line in the leading comment block: declare the tables the "
        "template reads, e.g. `-- reads: course_axis, tracklog` (empty if none)"
    )
    assert error(parse_header, "-- reads: a\n-- optional: b, a\n", "x.sql") == (
        "x.sql: a is both read and optional: keep it in one of the two lines"
    )
    assert error(parse_header, "-- x\n-- reads: a, b-c\n", "x.sql") == (
        "x.sql, line 2: reads: 'b-c' is not a table name (letters, digits and _, separated by "
        "commas)"
    )
    assert error(parse_header, "-- reads: a b\n", "x.sql").startswith("x.sql, line 1: reads: 'a b'")


def test_load_templates_with_overrides(tmp_path):
    builtin, custom = tmp_path / "builtin", tmp_path / "custom"
    write(builtin, "video_axis", "-- reads: course_axis\n")
    write(builtin, "person_course", "-- reads: video_axis\n")
    (builtin / "notes.txt").write_text("not a template")
    override = write(custom, "person_course", "-- reads: video_axis, my_table\n", "SELECT 2\n")
    write(custom, "my_table", "-- reads: tracklog\n")

    assert sorted(load_templates(builtin)) == ["person_course", "video_axis"]
    templates = load_templates(builtin, custom)
    assert sorted(templates) == ["my_table", "person_course", "video_axis"]
    pc = templates["person_course"]
    text = "-- reads: video_axis, my_table\nSELECT 2\n"
    assert pc == Template(
        "person_course",
        override,
        text,
        ("video_axis", "my_table"),
        (),
        hashlib.sha256(text.encode()).hexdigest(),
    )
    assert templates["video_axis"].path == builtin / "video_axis.sql"
    assert build_order(templates) == ["video_axis", "my_table", "person_course"]


def test_load_templates_errors(tmp_path):
    write(tmp_path / "a", "x", "-- nothing declared\n")
    assert error(load_templates, tmp_path / "a").startswith(
        f"{tmp_path / 'a' / 'x.sql'}: no `-- reads:` line"
    )
    write(tmp_path / "b", "bad-name", "-- reads:\n")
    assert error(load_templates, tmp_path / "b") == (
        f"{tmp_path / 'b' / 'bad-name.sql'}: a template is named after its table: letters, "
        "digits and _"
    )
    write(tmp_path / "c", "tracklog", "-- reads:\n")
    assert error(load_templates, tmp_path / "c") == (
        f"{tmp_path / 'c' / 'tracklog.sql'}: tracklog is the course's log table, not a report table"
    )
    write(tmp_path / "d", "x", "-- optional: x\n-- reads:\n")
    assert error(load_templates, tmp_path / "d") == (
        f"{tmp_path / 'd' / 'x.sql'}: the template reads its own table x (cycle x -> x)"
    )
    write(tmp_path / "e", "x", "-- reads: y\n")
    write(tmp_path / "e", "y", "-- reads: x\n")
    assert error(load_templates, tmp_path / "e") == (
        "the report templates read each other in a cycle: x -> y -> x (each reads the next)"
    )
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "x.sql").write_bytes(b"-- reads:\n\xff\n")
    assert error(load_templates, tmp_path / "f") == (
        f"{tmp_path / 'f' / 'x.sql'}: not UTF-8 text (invalid start byte at byte 10)"
    )
    assert error(load_templates, tmp_path / "a", tmp_path / "missing") == (
        f"{tmp_path / 'missing'}: the query directory does not exist or is not a folder"
    )


def test_canonical_order_has_simeon_30():
    assert len(CANONICAL) == len(set(CANONICAL)) == 30
    assert (CANONICAL[0], CANONICAL[-1]) == ("video_axis", "person_course")


def test_all_in_canonical_order_when_independent():
    names = list(reversed(CANONICAL)) + ["zeta", "alpha"]
    templates = {name: make(name, ["course_axis"]) for name in names}
    assert build_order(templates) == list(CANONICAL) + ["alpha", "zeta"]
    assert build_order(templates, "all") == list(CANONICAL) + ["alpha", "zeta"]


def test_dependencies_before_readers():
    templates = graph(
        person_course="pc_day_totals,user_info_combo|pc_forum",
        pc_day_totals="person_course_day",
        person_course_day="tracklog,video_stats_day",
        video_stats_day="tracklog",
        pc_forum="forum",
        video_axis="course_axis",
        alpha="person_course",
        beta="",
    )
    assert build_order(templates) == [
        "video_axis",
        "video_stats_day",
        "person_course_day",
        "pc_day_totals",
        "pc_forum",
        "person_course",
        "alpha",
        "beta",
    ]
    # Wanted tables pull in the report tables they read (also optional ones), nothing else.
    assert build_order(templates, ["person_course"]) == [
        "video_stats_day",
        "person_course_day",
        "pc_day_totals",
        "pc_forum",
        "person_course",
    ]
    assert build_order(templates, ["pc_forum", "video_axis", "pc_forum"]) == [
        "video_axis",
        "pc_forum",
    ]
    assert build_order(templates, "beta") == ["beta"]
    assert build_order(templates, []) == []


def test_unknown_wanted():
    templates = graph(video_axis="course_axis", zed="", person_course="video_axis")
    assert error(build_order, templates, ["course_axis", "video_axis", "nope"]) == (
        "unknown report tables course_axis, nope: the templates are video_axis, person_course, zed"
    )
    assert error(build_order, templates, "a,b") == (
        "unknown report table a,b: the templates are video_axis, person_course, zed"
    )


def test_cycles():
    templates = graph(a="b", b="c|", c="|a", d="a", video_axis="course_axis")
    assert error(build_order, templates) == (
        "the report templates read each other in a cycle: a -> b -> c -> a (each reads the next)"
    )
    assert build_order(templates, ["video_axis"]) == ["video_axis"]
    assert error(build_order, graph(s="s"), "all") == (
        "the report templates read each other in a cycle: s -> s (each reads the next)"
    )


def test_to_dot():
    templates = graph(
        person_course="video_axis,user_info_combo|grades_persistent",
        video_axis="course_axis",
        video_stats_day="tracklog",
    )
    assert to_dot(templates) == (
        "digraph reports {\n"
        "  rankdir=LR;\n"
        "  node [shape=ellipse];\n"
        '  "course_axis" [shape=box, label="course_axis"];\n'
        '  "grades_persistent" [shape=box, label="grades_persistent"];\n'
        '  "tracklog" [shape=box, style=bold, label="tracklog\\n({BASE}_logs)"];\n'
        '  "user_info_combo" [shape=box, label="user_info_combo"];\n'
        '  "person_course";\n'
        '  "video_axis";\n'
        '  "video_stats_day";\n'
        '  "course_axis" -> "video_axis";\n'
        '  "grades_persistent" -> "person_course" [style=dashed];\n'
        '  "tracklog" -> "video_stats_day";\n'
        '  "user_info_combo" -> "person_course";\n'
        '  "video_axis" -> "person_course";\n'
        "}\n"
    )
    reordered = dict(reversed(list(templates.items())))
    assert to_dot(reordered) == to_dot(templates)
    assert to_dot({}) == "digraph reports {\n  rankdir=LR;\n  node [shape=ellipse];\n}\n"


def test_on_request_line(tmp_path):
    write(tmp_path, "asked", "-- asked: a row.\n-- reads: tracklog\n  -- on request  \n")
    write(tmp_path, "plain", "-- plain: a row.\n-- reads: tracklog\n-- built on request of none\n")
    write(tmp_path, "late", "-- late: a row.\n-- reads: tracklog\nSELECT 1\n-- on request\n")
    write(tmp_path, "hash", "# hash: a row.\n# on request\n# reads:\n")
    templates = load_templates(tmp_path)
    assert {name: t.on_request for name, t in templates.items()} == {
        "asked": True,
        "hash": True,
        "late": False,  # after the leading comment block
        "plain": False,  # the line alone marks it
    }
    assert make("x").on_request is False  # the default


def test_all_leaves_out_tables_on_request():
    templates = graph(
        video_axis="course_axis",
        person_course="video_axis",
        time_on_task="tracklog",
        time_on_task_totals="time_on_task",
        ora_events="tracklog",
    )
    for name in ("time_on_task", "time_on_task_totals", "ora_events"):
        templates[name] = make(name, templates[name].reads, on_request=True)
    regular = ["video_axis", "person_course"]
    assert build_order(templates) == build_order(templates, "all") == regular
    assert build_order(templates, "all_with_optional") == regular + [
        "ora_events",
        "time_on_task",
        "time_on_task_totals",
    ]
    # a name builds it (on request or not) and what it reads
    assert build_order(templates, ["time_on_task_totals"]) == [
        "time_on_task",
        "time_on_task_totals",
    ]
    assert build_order(templates, "ora_events") == ["ora_events"]
    assert build_order(templates, ["person_course", "ora_events"]) == [
        "video_axis",
        "person_course",
        "ora_events",
    ]
    # a table of `all` that reads one on request brings it in
    templates["mine"] = make("mine", ["time_on_task"])
    assert build_order(templates) == [*regular, "time_on_task", "mine"]
    assert error(build_order, templates, ["all", "ora_events"]) == (
        "unknown report table all: the templates are video_axis, person_course, mine, ora_events, "
        "time_on_task, time_on_task_totals"
    )


def test_to_dot_dashes_tables_on_request():
    templates = {
        "time_on_task": make("time_on_task", ["tracklog"], on_request=True),
        "video_axis": make("video_axis", ["course_axis"]),
    }
    lines = to_dot(templates).splitlines()
    assert '  "time_on_task" [style=dashed];' in lines
    assert '  "video_axis";' in lines
