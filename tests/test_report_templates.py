"""reports.templates.render: the two passes, the filters, tracklog, escaping and errors."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from edxflow.core.errors import UserError
from edxflow.reports.templates import RenderError, escape_string, render

COURSE = "MITx/6.00x/2013_Spring"
TABLES = {"latest": {"course_axis", "pc_forum"}, "log": {"tracklog"}}


def run(text, **overrides):
    args = {
        "name": "t.sql",
        "course_id": COURSE,
        "latest_dataset": "MITx__6_00x__2013_Spring_latest",
        "log_dataset": "MITx__6_00x__2013_Spring_logs",
        "tables": TABLES,
    }
    args.update(overrides)
    return render(text, **args)


def error(text, **overrides) -> str:
    with pytest.raises(RenderError) as info:
        run(text, **overrides)
    assert isinstance(info.value, UserError)
    return str(info.value)


def test_both_passes():
    text = (
        "SELECT '{course_id}' AS a, '{{ course_id }}' AS b\n"
        "FROM {{ latest_dataset }}.course_axis JOIN `{latest_dataset}.pc_forum`\n"
        "JOIN {{ log_dataset }}.x JOIN `{log_dataset}.y`\n"
    )
    assert run(text, latest_dataset="proj.L", log_dataset="proj.G") == (
        "SELECT 'MITx/6.00x/2013_Spring' AS a, 'MITx/6.00x/2013_Spring' AS b\n"
        "FROM proj.L.course_axis JOIN `proj.L.pc_forum`\n"
        "JOIN proj.G.x JOIN `proj.G.y`\n"
    )


def test_second_pass_leaves_other_braces():
    text = (
        "SELECT '{\"a\": {}}', '{{ \"{{\" }}x}}', '{unknown}', '{ course_id }', '{{ raw }}'"
        '{% raw %}{{"POST": {{}}}}{% endraw %}'
    )
    assert run(text, extra_args={"raw": "{course_id}"}) == (
        "SELECT '{\"a\": {}}', '{{x}}', '{unknown}', '{ course_id }', '{course_id}'"
        '{{"POST": {{}}}}'
    )


def test_second_pass_extra_args_and_tables():
    text = "{n} {f} {s} {l} {geo_table} {youtube_table}"
    assert (
        run(
            text,
            extra_args={"n": 3, "f": 0.5, "s": "it's", "l": [1, 2]},
            geo_table="geocode.geoip",
            youtube_table="my-proj.videos.youtube",
        )
        == "3 0.5 it\\'s 1, 2 geocode.geoip my-proj.videos.youtube"
    )


def test_values_by_kind():
    text = "{{ n }}|{{ f }}|{{ b }}|{{ s }}|{{ l }}|{{ course_id | replace('/', '+') }}"
    extra = {"n": -7, "f": 1.25, "b": True, "s": 'a"b`c\nd', "l": [1, "x'y", 2.5]}
    assert run(text, extra_args=extra) == (
        "-7|1.25|TRUE|a\\\"b\\`c\\nd|1, x\\'y, 2.5|MITx+6.00x+2013_Spring"
    )


@pytest.mark.parametrize(
    "course_id",
    ["a'b", "a\\", "a\\'; DROP TABLE x; --", 'a"b', "x'\n) OR 1=1 --", "{course_id}'"],
)
def test_course_id_cannot_leave_a_string_literal(course_id):
    text = "SELECT '{course_id}' AS a, \"{{ course_id }}\" AS b, '{{ course_id }}' AS c"
    sql = run(text, course_id=course_id)
    # One statement with three string literals, each the course id.
    [statement] = sqlglot.parse(sql, read="bigquery")
    assert [e.this.this for e in statement.expressions] == [course_id] * 3
    duck = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
    assert duckdb.sql(duck).fetchall() == [(course_id,) * 3]


def test_escaped_course_id_exact():
    assert run("'{course_id}' '{{ course_id }}'", course_id="a'b\\") == "'a\\'b\\\\' 'a\\'b\\\\'"
    assert escape_string("\\'\"`\n\r") == "\\\\\\'\\\"\\`\\n\\r"


def test_jinja_value_is_not_read_by_second_pass():
    # A course id that spells a placeholder stays as it is.
    assert run("'{{ course_id }}'", course_id="{latest_dataset}") == "'{latest_dataset}'"


def test_filters_and_has_table():
    text = (
        "{{ course_id | has_latest_table('course_axis') }} "
        "{{ course_id | has_latest_table('tracklog') }} "
        "{{ course_id | has_log_table('track') }} "
        "{{ course_id | has_log_table('course_axis') }} "
        "{{ has_table('pc_forum') }} {{ has_table('tracklog') }} {{ has_table('roles') }} "
        "{% set t = course_id | get_course_tables %}"
        "{{ t.latest | sort | join(',') }};{{ t.log | sort | join(',') }}"
    )
    assert run(text) == "TRUE FALSE TRUE FALSE TRUE TRUE FALSE course_axis,pc_forum;tracklog"


def test_tables_as_one_collection():
    text = (
        "{{ has_table('tracklog') }} {{ course_id | has_log_table('tracklog_2020') }} "
        "{{ course_id | has_latest_table('tracklog_20200101') }} "
        "{{ course_id | has_latest_table('course_axis') }}"
    )
    tables = {"course_axis", "tracklog_20200101", "tracklog_20200102"}
    assert run(text, tables=tables) == "TRUE TRUE FALSE TRUE"
    assert run("{{ has_table('tracklog') }}", tables=[]) == "FALSE"


def test_simeon_style_conditionals():
    text = (
        "{% if course_id | has_latest_table('pc_forum') %}JOIN pc_forum{% else %}NULL{% endif %}"
        " {% if geo_table is defined and geo_table %}`{geo_table}`{% else %}no geo{% endif %}"
        " {% if suffix_start is defined %}{{ suffix_start }}{% else %}all{% endif %}"
    )
    assert run(text) == "JOIN pc_forum no geo all"
    assert (
        run(
            text, tables={"latest": set()}, geo_table="g.geo", extra_args={"suffix_start": 20200101}
        )
        == "NULL `g.geo` 20200101"
    )


@pytest.mark.parametrize(
    "log_tables, extra, expected",
    [
        ("partitioned", {}, "L.tracklog"),
        (
            "partitioned",
            {"suffix_start": "20200101", "suffix_end": "20200131"},
            "(SELECT * FROM L.tracklog WHERE DATE(time) BETWEEN DATE '2020-01-01' "
            "AND DATE '2020-01-31')",
        ),
        (
            "partitioned",
            {"suffix_start": 20200101},
            "(SELECT * FROM L.tracklog WHERE DATE(time) >= DATE '2020-01-01')",
        ),
        (
            "partitioned",
            {"suffix_end": "20200131"},
            "(SELECT * FROM L.tracklog WHERE DATE(time) <= DATE '2020-01-31')",
        ),
        ("sharded", {}, "(SELECT * FROM `L.tracklog_*`)"),
        (
            "sharded",
            {"suffix_start": "20200101", "suffix_end": "20200131"},
            "(SELECT * FROM `L.tracklog_*` WHERE _TABLE_SUFFIX BETWEEN '20200101' AND '20200131')",
        ),
        (
            "sharded",
            {"suffix_start": "20200101"},
            "(SELECT * FROM `L.tracklog_*` WHERE _TABLE_SUFFIX >= '20200101')",
        ),
    ],
)
def test_tracklog(log_tables, extra, expected):
    sql = run("FROM {{ tracklog }} AS l", log_dataset="L", log_tables=log_tables, extra_args=extra)
    assert sql == f"FROM {expected} AS l"


def test_tracklog_dashed_project():
    assert run("{{ tracklog }}", log_dataset="my-proj.L") == "`my-proj.L.tracklog`"
    assert run("{{ tracklog }}", log_dataset="proj.L") == "proj.L.tracklog"
    assert (
        run("{{ tracklog }}", log_dataset="my-proj.L", log_tables="sharded")
        == "(SELECT * FROM `my-proj.L.tracklog_*`)"
    )


def test_keeps_text_as_is():
    text = "-- reads: x\n#standardSQL\nSELECT 1\n\n"
    assert run(text) == text


def test_undefined_variable_names_file_and_variable():
    message = error("SELECT\n  {{ timeout_short }}\n", name="sql/reports/time_on_task.sql")
    assert message.startswith(
        "sql/reports/time_on_task.sql, line 2: 'timeout_short' is undefined: "
    )
    assert "extra_args" in message
    assert error("{% if foo %}x{% endif %}").startswith("t.sql, line 1: 'foo' is undefined")


def test_syntax_error_names_file_and_line():
    assert error("SELECT 1\n{% if x %}\n", name="a.sql") == (
        "a.sql, line 2: jinja syntax error: Unexpected end of template. Jinja was looking for the "
        "following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed "
        "is 'if'."
    )
    assert error("{{ 1 +  }}", name="b.sql").startswith("b.sql, line 1: jinja syntax error: ")


def test_unset_tables():
    assert error("x\n{{ geo_table }}").startswith("t.sql, line 2: writes a value that is not set")
    assert error("`{youtube_table}`") == (
        "t.sql: uses {youtube_table} but no youtube_table is configured: configure it or test it "
        "with `{% if youtube_table %}`"
    )


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"latest_dataset": "a;b"}, "t.sql: latest_dataset is 'a;b': expected [project.]dataset"),
        ({"latest_dataset": "a.b.c"}, "t.sql: latest_dataset is 'a.b.c': expected"),
        ({"latest_dataset": "a.b-c"}, "t.sql: latest_dataset is 'a.b-c': expected"),
        ({"log_dataset": "-p.b"}, "t.sql: log_dataset is '-p.b': expected"),
        ({"log_dataset": ""}, "t.sql: log_dataset is '': expected"),
        (
            {"geo_table": "g.geo`x"},
            "t.sql: geo_table is 'g.geo`x': expected [[project.]dataset.]table",
        ),
        ({"youtube_table": "a.b.c.d"}, "t.sql: youtube_table is 'a.b.c.d': expected"),
        ({"tables": {"latest": {"a b"}}}, "t.sql: the table name 'a b' is not"),
        ({"tables": {"sql": set()}}, "t.sql: tables has keys ['sql']: use 'latest' and 'log'"),
        ({"course_id": 5}, "t.sql: course_id must be a string, not int"),
        ({"extra_args": {"course_id": "x"}}, "t.sql: extra_args key 'course_id' is a variable"),
        ({"extra_args": {"tracklog": "x"}}, "t.sql: extra_args key 'tracklog' is a variable"),
        ({"extra_args": {"a-b": 1}}, "t.sql: extra_args key 'a-b' is not an identifier"),
        ({"extra_args": {"d": {"x": 1}}}, "t.sql: extra_args d holds a dict"),
        (
            {"extra_args": {"suffix_start": "20200230"}},
            "t.sql: extra_args suffix_start is '20200230'",
        ),
        ({"extra_args": {"suffix_end": "2020-01-01"}}, "t.sql: extra_args suffix_end is"),
        (
            {"extra_args": {"suffix_start": "20200201", "suffix_end": "20200101"}},
            "t.sql: extra_args suffix_start 20200201 is after suffix_end 20200101",
        ),
        ({"log_tables": "daily"}, "t.sql: log_tables is 'daily': use one of partitioned, sharded"),
    ],
)
def test_bad_arguments(overrides, expected):
    assert error("SELECT 1", **overrides).startswith(expected)


def test_bad_values_in_template():
    assert error("{{ has_table('a-b') }}") == (
        "t.sql, line 1: has_table('a-b'): a table name is letters, digits and _"
    )
    assert error("\n{{ course_id | has_latest_table(3) }}") == (
        "t.sql, line 2: has_latest_table(3): a table name is letters, digits and _"
    )
    assert error("{{ x }}", extra_args={"x": float("inf")}) == (
        "t.sql, line 1: the number inf has no SQL literal"
    )
    assert error("{{ 1 / 0 }}").startswith("t.sql, line 1: ZeroDivisionError: ")
    assert error("\ue000").startswith("t.sql: the template contains the private character")
