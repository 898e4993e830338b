"""edxflow.reports.transpile: BigQuery report SQL run on a real in-memory DuckDB. Each rewrite's test
also runs sqlglot's plain translation and shows it wrong (another answer, or an error): why the
rewrite exists."""

import duckdb
import pytest
import sqlglot

from edxflow.core.errors import UserError
from edxflow.reports.transpile import TranspileError, to_duckdb


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")  # as the DuckDB warehouse does
    yield connection
    connection.close()


def plain(sql):
    return sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]


def rows(con, sql, log_shards=()):
    return con.execute(to_duckdb(sql, log_shards)).fetchall()


def test_unnest_with_offset_counts_from_zero(con):
    con.execute("CREATE TABLE t AS SELECT 1 AS id, ['a', 'b'] AS arr UNION ALL SELECT 2, []")
    sql = "SELECT x, o FROM UNNEST(['a', 'b', 'c']) AS x WITH OFFSET AS o ORDER BY o"
    assert rows(con, sql) == [("a", 0), ("b", 1), ("c", 2)]
    assert con.execute(plain(sql)).fetchall() == [("a", 1), ("b", 2), ("c", 3)]
    joined = "SELECT id, x, o FROM t, UNNEST(t.arr) AS x WITH OFFSET o ORDER BY id, o"
    assert rows(con, joined) == [(1, "a", 0), (1, "b", 1)]
    left = "SELECT id, x, o FROM t LEFT JOIN UNNEST(t.arr) AS x WITH OFFSET AS o ORDER BY id, o"
    assert rows(con, left) == [(1, "a", 0), (1, "b", 1), (2, None, None)]


def test_extract_dayofweek_is_one_for_sunday(con):
    sql = (
        "SELECT EXTRACT(DAYOFWEEK FROM TIMESTAMP '2021-01-03 10:00:00') AS sunday,"
        " EXTRACT(DAYOFWEEK FROM DATE '2021-01-09') AS saturday"
    )
    assert rows(con, sql) == [(1, 7)]
    assert con.execute(plain(sql)).fetchall() == [(0, 6)]


def test_format_is_printf_style(con):
    sql = "SELECT FORMAT('%d-%s|%05d|%.2f|%t|%%', 5, 'a', 5, 1.234, 3) AS f"
    assert rows(con, sql) == [("5-a|00005|1.23|3|%",)]
    assert con.execute(plain(sql)).fetchall() == [("%d-%s|%05d|%.2f|%t|%%",)]


def test_format_refuses_what_printf_cannot_do():
    with pytest.raises(TranspileError, match="%T"):
        to_duckdb("SELECT FORMAT('%T', 'a')")


def test_array_agg_with_limit(con):
    sql = (
        "SELECT ARRAY_AGG(x ORDER BY x DESC LIMIT 2) AS top,"
        " ARRAY_AGG(x IGNORE NULLS ORDER BY x LIMIT 1)[OFFSET(0)] AS least"
        " FROM UNNEST([1, NULL, 3, 2]) AS x"
    )
    assert rows(con, sql) == [([3, 2], 1)]
    with pytest.raises(duckdb.ParserException):
        con.execute(plain(sql))


def test_approx_top_count_gives_value_and_count(con):
    sql = (
        "SELECT APPROX_TOP_COUNT(x, 1)[OFFSET(0)].value AS mode, APPROX_TOP_COUNT(x, 2) AS top"
        " FROM UNNEST(['a', 'b', 'b', 'c', 'c', 'c']) AS x"
    )
    assert rows(con, sql) == [("c", [{"count": 3, "value": "c"}, {"count": 2, "value": "b"}])]
    with pytest.raises(duckdb.BinderException):
        con.execute(plain(sql))


def test_timestamp_diff_counts_whole_intervals(con):
    sql = (
        "SELECT TIMESTAMP_DIFF(TIMESTAMP '2021-01-01 00:00:01.1',"
        " TIMESTAMP '2021-01-01 00:00:00.9', SECOND) AS a,"
        " TIMESTAMP_DIFF(TIMESTAMP '2021-01-01 00:00:00.9',"
        " TIMESTAMP '2021-01-01 00:00:02.1', SECOND) AS b,"
        " TIMESTAMP_DIFF(TIMESTAMP '2001-02-01 01:00:00', TIMESTAMP '2001-02-01 00:00:01', HOUR)"
        " AS c, TIMESTAMP_DIFF(TIMESTAMP '2021-01-01 00:01:00', TIMESTAMP '2021-01-01', SECOND)"
        " AS d"
    )
    assert rows(con, sql) == [(0, -1, 0, 60)]
    assert con.execute(plain(sql)).fetchall() == [(1, -2, 1, 60)]  # boundaries, not intervals


def test_json_extract_of_a_string_that_is_not_json_is_null(con):
    sql = (
        "SELECT JSON_EXTRACT_SCALAR(e, '$.a.b') AS s, JSON_EXTRACT(e, '$.a') AS j"
        " FROM UNNEST(['{\"a\": {\"b\": 1}}', 'not json', '', NULL]) AS e WITH OFFSET AS o"
        " ORDER BY o"
    )
    assert rows(con, sql) == [("1", '{"b":1}'), (None, None), (None, None), (None, None)]
    bare = "SELECT JSON_EXTRACT_SCALAR(e, '$.a.b') AS s FROM UNNEST(['not json']) AS e"
    with pytest.raises(duckdb.InvalidInputException):
        con.execute(plain(bare))


def test_json_extract_scalar_of_objects_and_numbers(con):
    sql = (
        'SELECT JSON_EXTRACT_SCALAR(e, \'$.a.b\') AS s FROM UNNEST([\'{"a": {"b": "x"}}\','
        ' \'{"a": {"b": 3}}\', \'{"a": {"b": {"c": 1}}}\', \'{"a": null}\']) AS e'
        " WITH OFFSET AS o ORDER BY o"
    )
    assert rows(con, sql) == [("x",), ("3",), (None,), (None,)]


@pytest.fixture
def shards(con):
    con.execute("CREATE SCHEMA ds")
    con.execute("CREATE TABLE ds.tracklog_20210101 AS SELECT 1 AS a, 'x' AS b")
    con.execute("CREATE TABLE ds.tracklog_20210102 AS SELECT 2 AS a, 'y' AS b, 7 AS c")
    return ["tracklog_20210101", "tracklog_20210102", "course_axis"]


def test_wildcard_table_is_a_union_of_the_shards(con, shards):
    sql = "SELECT a, b, c, _TABLE_SUFFIX AS s FROM `ds.tracklog_*` ORDER BY a"
    assert rows(con, sql, shards) == [(1, "x", None, "20210101"), (2, "y", 7, "20210102")]
    with pytest.raises(duckdb.CatalogException):
        con.execute(plain(sql))


def test_wildcard_table_suffix_filter_and_star(con, shards):
    # the renderer's `tracklog` expression for sharded logs, as templates read it
    sql = (
        "SELECT l.* FROM (SELECT * FROM `ds.tracklog_*`"
        " WHERE _TABLE_SUFFIX BETWEEN '20210102' AND '20210131') AS l"
    )
    cursor = con.execute(to_duckdb(sql, shards))
    assert [d[0] for d in cursor.description] == ["a", "b", "c"]  # no _TABLE_SUFFIX, as BigQuery
    assert cursor.fetchall() == [(2, "y", 7)]


def test_wildcard_table_without_shards_is_an_error():
    with pytest.raises(TranspileError, match=r"`ds\.tracklog_\*` matches no shard"):
        to_duckdb("SELECT * FROM `ds.tracklog_*`", ["course_axis"])


def test_declare_is_inlined(con):
    sql = (
        "DECLARE n INT64 DEFAULT 5; DECLARE label, other STRING DEFAULT 'q';\n"
        "DECLARE twice INT64 DEFAULT n * 2;\n"
        "SELECT n + 1 AS a, label, other, twice FROM UNNEST([1]) AS x WHERE x < n"
    )
    cursor = con.execute(to_duckdb(sql))
    assert [d[0] for d in cursor.description] == ["a", "label", "other", "twice"]
    assert cursor.fetchall() == [(6, "q", "q", 10)]
    with pytest.raises(duckdb.ParserException):
        con.execute(";".join(sqlglot.transpile(sql, read="bigquery", write="duckdb")))


def test_script_statements_other_than_declare_are_refused():
    with pytest.raises(TranspileError, match="one query"):
        to_duckdb("DECLARE n INT64 DEFAULT 5; SET n = 6; SELECT n")
    with pytest.raises(TranspileError, match="one query"):
        to_duckdb("SELECT 1; SELECT 2")


def test_sql_that_does_not_parse_is_a_user_error():
    with pytest.raises(TranspileError, match="does not parse") as caught:
        to_duckdb("SELECT FROM WHERE (")
    assert isinstance(caught.value, UserError)


# What sqlglot already translates right (no rewrite): the exact values on DuckDB.
ALREADY_RIGHT = [
    ("SELECT SAFE_CAST('abc' AS INT64), SAFE_CAST('12' AS INT64)", [(None, 12)]),
    ("SELECT REGEXP_CONTAINS('abc', r'b.'), REGEXP_CONTAINS('abc', '^b')", [(True, False)]),
    (
        "SELECT REGEXP_EXTRACT('x/courseware/ch1/seq', r'courseware/([^/]+)'),"
        " REGEXP_EXTRACT('abc', r'z'), REGEXP_EXTRACT('abc', r'b.')",
        [("ch1", None, "bc")],
    ),
    (
        "SELECT CAST(DATE(TIMESTAMP '2021-01-01 23:30:00') AS STRING), DATE('2021-02-03') ="
        " DATE '2021-02-03'",
        [("2021-01-01", True)],
    ),
    ("SELECT ARRAY_LENGTH([1, 2, 3]), ARRAY_LENGTH(SPLIT('a:b', ':'))", [(3, 2)]),
    (
        "SELECT SPLIT('a:b', ':')[SAFE_OFFSET(1)], SPLIT('a', ':')[SAFE_OFFSET(1)],"
        " SPLIT('a:b', ':')[OFFSET(0)]",
        [("b", None, "a")],
    ),
    ("SELECT IFNULL(NULL, 3), IFNULL(2, 3)", [(3, 2)]),
    ("SELECT STDDEV(x) FROM UNNEST([1.0, 2.0, 3.0]) AS x", [(1.0,)]),
    ("SELECT LOGICAL_OR(x > 2), LOGICAL_OR(x > 3) FROM UNNEST([1, 2, 3]) AS x", [(True, False)]),
    ("SELECT ANY_VALUE(x) FROM UNNEST([7]) AS x", [(7,)]),
    ("SELECT STRING_AGG(x, ',' ORDER BY x) FROM UNNEST(['b', 'a']) AS x", [("a,b",)]),
    (
        "SELECT CAST(PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S', '2021-01-02 03:04:05') AS STRING)",
        [("2021-01-02 03:04:05",)],  # a naive TIMESTAMP on DuckDB (UTC), TIMESTAMPTZ otherwise
    ),
    (
        "SELECT FORMAT_TIMESTAMP('%Y-%m-%d %H:%M', TIMESTAMP '2021-01-02 03:04:05')",
        [("2021-01-02 03:04",)],
    ),
    (
        "SELECT x FROM UNNEST([1, 2, 3]) AS x WHERE TRUE"
        " QUALIFY ROW_NUMBER() OVER (PARTITION BY x > 1 ORDER BY x DESC) = 1 ORDER BY x",
        [(1,), (3,)],
    ),
]


@pytest.mark.parametrize(("sql", "expected"), ALREADY_RIGHT)
def test_what_sqlglot_translates_right(con, sql, expected):
    assert rows(con, sql) == expected
    assert to_duckdb(sql) == plain(sql)  # no rewrite involved


def test_countif_of_no_true_value_is_zero_as_in_bigquery():
    window = "SELECT COUNTIF(x > 1) OVER () AS w FROM UNNEST([CAST(NULL AS INT64)]) AS x"
    assert duckdb.sql(to_duckdb(window)).fetchall() == [(0,)]
    empty = "SELECT COUNTIF(x > 1) AS n FROM UNNEST([CAST(NULL AS INT64)]) AS x"
    assert duckdb.sql(to_duckdb(empty)).fetchall() == [(0,)]
    # sqlglot's own COUNT_IF is NULL when no value is true or false
    plain = sqlglot.transpile(empty, read="bigquery", write="duckdb")[0]
    assert duckdb.sql(plain).fetchall() == [(None,)]
    assert duckdb.sql(
        to_duckdb("SELECT COUNTIF(x > 1) FROM UNNEST([1, 2, 3]) AS x")
    ).fetchall() == [(2,)]
