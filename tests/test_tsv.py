"""Parsing the package's tab-separated table dumps."""

import pytest

from edxflow.sql.tsv import MAX_HEADER_BYTES, TsvReader, read_tsv, unescape
from tests.helpers import REPO

FIXTURE = REPO / "tests" / "fixtures" / "real" / "edx-analytics-pipeline-state"


@pytest.mark.parametrize(
    "dumped, value",
    [
        (r"tab\there", "tab\there"),
        (r"line\nbreak", "line\nbreak"),
        (r"carriage\rreturn", "carriage\rreturn"),
        (r"back\\slash", "back\\slash"),
        (r"back\\nslash", "back\\nslash"),  # an escaped backslash before n is not a newline
        (r"nul\0byte", "nul\0byte"),
        (r"quote\'s", "quote's"),
        (r"unknown\q", r"unknown\q"),
        ("plain", "plain"),
    ],
)
def test_every_documented_escape(dumped, value):
    assert unescape(dumped) == value


def lines(*rows):
    return [row.encode() + b"\n" for row in rows]


def test_header_nulls_and_escapes():
    reader = TsvReader(
        lines(
            "id\tname\tgoals\tcity",
            "1\talice\tlearn\\nmore\\tnow\tNULL",
            "2\tbob\t\t\\N",
            "3\tNULL x\tNULL\t",
        ),
        "t.sql",
    )
    rows = list(reader)
    assert reader.columns == ["id", "name", "goals", "city"]
    assert rows == [
        {"id": "1", "name": "alice", "goals": "learn\nmore\tnow", "city": None},
        {"id": "2", "name": "bob", "goals": "", "city": None},
        {"id": "3", "name": "NULL x", "goals": None, "city": ""},
    ]


def test_wrong_field_count_is_kept_aside_with_its_line_number():
    reader = TsvReader(lines("a\tb", "1\t2", "1\t2\t3", "4", "5\t6"), "t.sql")
    assert [row["a"] for row in reader] == ["1", "5"]
    assert [(r["line"], r["reason"]) for r in reader.rejects] == [
        (3, "expected 2 fields, found 3"),
        (4, "expected 2 fields, found 1"),
    ]
    assert reader.rows_read == 2


def test_bad_utf8_is_replaced_and_counted():
    reader = TsvReader([b"a\tb\n", b"caf\xe9\t1\n", b"ok\t2\n", b"\xff\xfe\t\xc3\n"], "t.sql")
    rows = list(reader)
    assert rows[0]["a"] == "caf\ufffd" and reader.bad_utf8_lines == [2, 4]
    assert reader.non_utf8() == {"bytes": 4, "lines": 2, "first_lines": [2, 4]}


def test_only_the_first_lines_with_bad_utf8_are_listed():
    reader = TsvReader([b"a\n"] + [b"\xe9\n"] * 1000, "t.sql")
    assert len(list(reader)) == 1000
    assert reader.non_utf8() == {"bytes": 1000, "lines": 1000, "first_lines": list(range(2, 12))}


def test_a_header_longer_than_a_header_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "bomb.sql"
    path.write_bytes(bytes(4 << 20) + b"\n1\n")
    with pytest.raises(
        ValueError, match=r"bomb.sql: the first line is longer than .* not a table dump's header"
    ):
        read_tsv(path)
    with open(path, "rb") as handle, pytest.raises(ValueError):
        try:
            TsvReader(handle, "bomb.sql")
        finally:
            assert handle.tell() == MAX_HEADER_BYTES + 1
    with pytest.raises(ValueError, match="not a table dump's header"):
        TsvReader([b"x" * (1 << 20) + b"\n"], "t.sql")


def test_crlf_line_endings_and_an_empty_dump():
    assert list(TsvReader([b"a\tb\r\n", b"1\t2\r\n"], "t.sql")) == [{"a": "1", "b": "2"}]
    empty = TsvReader([], "t.sql")
    assert empty.columns == [] and list(empty) == []


def test_the_real_fixture_bundle_parses_without_a_reject():
    tables = sorted(FIXTURE.glob("*.sql"))
    assert len(tables) == 12
    for path in tables:
        reader = read_tsv(path)
        rows = list(reader)
        assert rows and not reader.rejects and not reader.bad_utf8_lines, path.name
        assert all(len(row) == len(reader.columns) for row in rows)
