"""The compiled studentmodule fast path (native/) writes exactly what the Python code writes: the
same bytes in both tables, the same rejects and counts, on ordinary rows and on every odd form a
dump can hold, whatever the chunk boundaries."""

import io
import json
import random

import pytest

import edxflow_native  # noqa: F401  (CI builds it: without it these tests would compare Python with itself)
from edxflow.core.jsonl import TableWriter, read_rows
from edxflow.sql.derived import studentmodule
from tests.helpers import REPO

COURSE_KEY = "course-v1:MITx+6.002x+2T2021"
HEADER = "\t".join(studentmodule.COLUMNS)
PROBLEM = json.dumps(
    {
        "correct_map": {
            "p1_2_1": {
                "correctness": "correct",
                "npoints": None,
                "msg": "",
                "hint": "",
                "hintmode": None,
                "queuestate": None,
            }
        },
        "student_answers": {"p1_2_1": "choice_1"},
        "attempts": 2,
        "done": True,
    }
)


def problem_state(**values) -> str:
    """A problem state as the dump holds it (JSON with its backslashes escaped)."""
    return json.dumps({**json.loads(PROBLEM), **values}).replace("\\", "\\\\")


# problem states in every form StudentmoduleSplit.analysis meets, for the compiled problem_analysis
PROBLEM_STATES = (
    [problem_state(attempts=value) for value in (None, 0, -3, "3", 2.5, True, 10**18, 10**20)]
    + [problem_state(done=value) for value in (None, False, "t", 1, [])]
    + [
        problem_state(correct_map=value)
        for value in ({}, [], "x", None, {"p1_2_1": "not a dict", "p1_3_1": None, "p1_4_1": {}})
    ]
    + [
        problem_state(correct_map={"p1_2_1": {"correctness": value}})
        for value in (
            None,
            "correct",
            "incorrect",
            "correctly",
            "",
            True,
            1,
            ["correct"],
            "corr\u00e9ct",
        )
    ]
    + [
        problem_state(correct_map={"p1_2_1": {"npoints": value}})
        for value in (None, 0, 1, -2, 0.5, "2", True, 10**16)
    ]
    + [
        problem_state(correct_map={"p1_2_1": {field: value}})
        for field in ("msg", "hint")
        for value in (
            None,
            "",
            '<p>Good "job"</p>',
            "tab\tnew\nline\u0001",
            "caf\u00e9 \u00a9 \u0080 \u07ff \u0800 \u2028 \u20ac \uffff",
            "a/b",
            3,
            {"x": 1},
        )
    ]
    + [
        problem_state(student_answers=value)
        for value in (
            {},
            [],
            None,
            {"other": "x"},
            {"p1_2_1": ["choice_1", "choice_2"]},
            {"p1_2_1": {"a": [1, {"b": None}], "c": True}},
            {"p1_2_1": 12},
            {"p1_2_1": -0.0},
            {"p1_2_1": 1.5},
            {"p1_2_1": 10**19},
            {"p1_2_1": 'x\u00e9"\\/'},
            {"p1_2_1": json.loads("[" * 20 + '"deep"' + "]" * 20)},
            {"p1_2_1": {str(n): n for n in range(70)}},
        )
    ]
    + [
        problem_state(correct_map={f"p1_{n}_1": {"correctness": "correct"} for n in range(70)}),
        problem_state(
            correct_map={
                "a": {},
                "b": {"correctness": "incorrect", "msg": "m", "hint": "h", "npoints": 2},
            },
            student_answers={"b": "1", "a": "2"},
        ),
        '{"correct_map": {"x": {}}, "student_answers": {"x": 1}, "correct_map": {"y": {}}}',
        '{"correct_map": {"x": {}, "x": {"correctness": "correct"}}, "student_answers": {"x": 1}}',
        '{"correct_map": {"x": {"msg": "a", "msg": "b"}}, "student_answers": {"x": 1}}',
        '{"correct_map": {"x": {}}, "student_answers": {"x": 1, "x": 2}}',
        '{"correct_map": {"x": {}}, "student_answers": {"x": {"k": 1, "k": 2}}}',
        ' { "correct_map" : { "x" : { "correctness" : "correct" } } , "student_answers" : { "x" : [ 1 , 2 ] } } ',
        '[{"correct_map": {"x": {}}, "student_answers": {"x": 1}}]',
        # a raw tab: orjson refuses it, the standard library reads it, and its integers of any size
        '{"correct_map": {"x": {}}, "student_answers": {"x": "a\\tb"}, "attempts": 100000000000000000000}',
        '{"correct_map": {"x": {"npoints": -0}}, "student_answers": {"x": -0}, "attempts": -0}',
        '{"correct_map": {"x": {"npoints": -1}}, "student_answers": {"x": [-0, 0, -12]}, "attempts": 0}',
        '{"a": {"correct_map": {"x": {}}, "student_answers": {"x": 1}}}',
    ]
)


def row(**values) -> str:
    fields = {
        "id": "1",
        "module_type": "problem",
        "module_id": "block-v1:MITx+6.002x+2T2021+type@problem+block@p1",
        "student_id": "12",
        "state": PROBLEM.replace("\\", "\\\\"),
        "grade": "1",
        "created": "2021-05-01 10:00:00",
        "modified": "2021-05-01 11:00:00",
        "max_grade": "2",
        "done": "na",
        "course_id": COURSE_KEY,
    }
    fields.update(values)
    return "\t".join(fields[name] for name in studentmodule.COLUMNS)


ODD_FIELDS = {
    "id": [
        "0",
        "007",
        "123456789012345678",
        "1234567890123456789",
        "99999999999999999999",
        "-4",
        " 5",
        "",
        "NULL",
        "\\N",
        "1.0",
        "١٢",
    ],
    "module_type": [
        "video",
        "NULL",
        "null",
        "Null",
        "nul",
        "pro\\tblem",
        "\\N",
        "",
        'quote"d',
        "é",
    ],
    "module_id": [
        "block-v1:MITx+6.002x+2T2021+type@video+block@v1",
        "i4x://MITx/6.002x/problem/p2",
        "garbage",
        "",
        "NULL",
        "null",
        "block-v1:MITx+6.002x+2T2021+type@problem",
        "ccx-block-v1:MITx+6.002x+2T2021+ccx@3+type@html+block@h",
    ],
    "student_id": ["0", "00012", "x", "", "NULL", "-1", "9223372036854775808"],
    "state": [
        '{"position": 1}',
        "NULL",
        "null",
        "NULL ",
        "",
        "{",
        "[1, 2]",
        "5",
        '"text"',
        '{"a": NaN}',
        '{"a": 1e400}',
        '{"a": 1e99}',
        '{"a": 123456789012345678901234567890}',
        '{"a": 01}',
        '{"a": [1,]}',
        '{"a": "\\\\ud800"}',
        '{"a": "\\\\ud83d\\\\ude00"}',
        '{"a": "\\\\u00e9"}',
        '{"a": "tab\\there"}',
        '{"a": "\\\\x"}',
        '{"\\\\u0063orrect_map": {"x": {}}, "student_answers": {"x": 1}}',
        '{"nested": {"correct_map": {"x": {}}}}',
        '{"correct_map": {}, "student_answers": {}}',
        '{"correct_map": {"x": {"correctness": true, "npoints": "2"}}, "student_answers": {"y": 1}, "attempts": "3", "done": "t"}',
        '{"a": "é"}',
        '{"a": "back\\\\\\\\slash"}',
        ' {"a" : [ true , false , null ] } ',
        "{}  x",
        '{"a": "nul\\0byte"}',
        '{"a": "\\\\"quoted\\\\""}',
        '{"a": -0.5e-3, "b": 1E+2, "c": -0}',
        "[" * 300 + "]" * 300,
        '{"a": "\x7f"}',
        '{"a": "\\\\/"}',
        *PROBLEM_STATES,
    ],
    "grade": [
        "0",
        "1",
        "-0",
        "007",
        "0.5",
        "0.1",
        "3.14159265358979",
        "1.",
        ".5",
        "-.5",
        "1e5",
        "0.00001",
        "0.0001",
        "123456789012345",
        "1234567890123456",
        "12345678901234567",
        " 1",
        "1_0",
        "nan",
        "inf",
        "-",
        ".",
        "1.2.3",
        "NULL",
        "null",
        "0.30000000000000004",
        "999999999999999.9",
    ],
    "created": [
        "2021-05-01 10:00:00",
        "2021-05-01 10:00:00.123456",
        "2021-05-01 10:00:00.123",
        "2020-02-29 00:00:00",
        "2021-02-29 00:00:00",
        "1900-02-29 00:00:00",
        "2000-02-29 23:59:59",
        "0000-00-00 00:00:00",
        "0001-01-01 00:00:00",
        "2021-13-01 00:00:00",
        "2021-05-01T10:00:00",
        "2021-05-01 10:00:00 UTC",
        "2021-05-01 24:00:00",
        "2021-05-01 10:60:00",
        "2021-05-01 10:00:60",
        "NULL",
        "",
        "2021-05-01 10:00:00+02:00",
    ],
    "done": ["na", "NULL", "nULL", "\\N", "", "yes"],
    "course_id": [
        COURSE_KEY,
        "MITx/6.002x/2T2021",
        "course-v1:HarvardX+CS50+X",
        "not a course",
        "",
        "NULL",
        "null",
    ],
}
ODD_FIELDS["modified"] = ODD_FIELDS["created"]
ODD_FIELDS["max_grade"] = ODD_FIELDS["grade"]


def odd_rows() -> list[str]:
    """Every odd value of every field in an otherwise ordinary row."""
    return [row(**{name: value}) for name, values in ODD_FIELDS.items() for value in values]


def split_both_ways(dump: bytes, tmp_path, chunk: int, monkeypatch) -> list:
    """(studentmodule, problem_analysis, rejects, rows read, bad UTF-8 lines) with and without the compiled path."""
    monkeypatch.setattr(studentmodule, "_CHUNK", chunk)
    results = []
    for compiled in (True, False):
        with (
            TableWriter(tmp_path / f"m{compiled}.json.gz") as modules,
            TableWriter(tmp_path / f"a{compiled}.json.gz") as analyses,
        ):
            reader = studentmodule.split_studentmodule_dump(
                io.BufferedReader(io.BytesIO(dump)),
                "dump.sql",
                COURSE_KEY,
                modules,
                analyses,
                compiled=compiled,
            )
        results.append(
            [
                (tmp_path / f"m{compiled}.json.gz").read_bytes(),
                (tmp_path / f"a{compiled}.json.gz").read_bytes(),
                reader.rejects,
                reader.rows_read,
                reader.bad_utf8_lines,
                modules.count,
                analyses.count,
            ]
        )
    return results


def dump_of(lines: list[str], end: str = "\n") -> bytes:
    return (HEADER + "\n" + "\n".join(lines) + end).encode()


@pytest.mark.parametrize("chunk", [1 << 20, 97])
def test_odd_rows_give_the_same_bytes_with_and_without_the_compiled_path(
    tmp_path, monkeypatch, chunk
):
    lines = odd_rows()
    lines += ["", row() + "\r", row() + "\textra", "\t".join(["1"] * 10), row(state="caf\xe9")]
    compiled, python = split_both_ways(dump_of(lines), tmp_path, chunk, monkeypatch)
    assert compiled == python
    modules = read_rows(tmp_path / "mTrue.json.gz")
    assert len(modules) == len(lines) - 3  # the empty line and the two wrong widths are not rows
    assert [reject["line"] for reject in compiled[2]] == [
        len(lines) - 1,
        len(lines),
    ]  # header is line 1
    assert compiled[6] > 1  # problem_analysis rows came through both paths


def test_rows_the_compiled_path_takes_are_the_ordinary_ones(tmp_path, monkeypatch):
    """The fast path must carry the usual rows, or the benchmark would measure the Python one."""
    taken = []

    def counted(*arguments):
        number, written = real(*arguments)
        taken.append(written)
        return number, written

    real = studentmodule.studentmodule_lines
    monkeypatch.setattr(studentmodule, "studentmodule_lines", counted)
    ordinary = [row(id=str(n), grade=str(n % 3), state='{"position": %d}' % n) for n in range(50)]
    split_both_ways(dump_of(ordinary + [row(grade="1e5")]), tmp_path, 1 << 20, monkeypatch)
    assert sum(taken) == 50


def test_bad_utf8_and_a_last_line_without_newline(tmp_path, monkeypatch):
    dump = dump_of([row(), row(id="2")], end="").replace(b"\tna\t", b"\tn\xe9a\t", 1)
    compiled, python = split_both_ways(dump, tmp_path, 64, monkeypatch)
    assert compiled == python and compiled[4] == [2] and compiled[3] == 2


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_rows_give_the_same_bytes(tmp_path, monkeypatch, seed):
    """Odd values, and random damage to any field, most often to a problem state."""
    rng = random.Random(seed)
    pieces = [
        "\\t",
        "\\n",
        "\\\\",
        "\\0",
        "\\Z",
        "\\'",
        '\\"',
        "\\q",
        '"',
        "NULL",
        "null",
        "é",
        "\x01",
        " ",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "0",
        "9",
        ".",
        "-",
        "e",
        "\\\\u00e9",
        "true",
        "\\\\ud800",
        '\\\\"',
        "-0",
        "1.5",
    ]
    lines = []
    for _ in range(3000):
        values = {
            name: rng.choice(choices) for name, choices in ODD_FIELDS.items() if rng.random() < 0.3
        }
        for _ in range(rng.randrange(3)):
            name = rng.choice([*ODD_FIELDS, *["state"] * 5])
            text = values.get(name, problem_state() if name == "state" else "")
            position = rng.randrange(len(text) + 1)
            values[name] = text[:position] + rng.choice(pieces) + text[position:]
        lines.append(row(**values))
    compiled, python = split_both_ways(
        dump_of(lines), tmp_path, rng.randrange(200, 5000), monkeypatch
    )
    assert compiled == python


@pytest.mark.parametrize("failing_at", ["write_modules", "write_analyses", "analysis", "slow"])
def test_an_error_in_a_callback_reaches_the_caller(failing_at):
    def fails(*arguments):
        raise OSError("disk full")

    callbacks = {
        "write_modules": lambda data, rows: None,
        "write_analyses": lambda data, rows: None,
        "analysis": lambda *values: None,
        "slow": lambda number, raw: None,
        failing_at: fails,
    }
    split = studentmodule.StudentmoduleSplit(COURSE_KEY, None, None)
    body = dump_of(
        [
            row(),
            row(state=problem_state(correct_map={"p1_2_1": {"npoints": 0.5}})),
            row(grade="1e5"),
        ]
    ).split(b"\n", 1)[1]
    with pytest.raises(OSError, match="disk full"):
        studentmodule.studentmodule_lines(
            body,
            2,
            {},
            {},
            studentmodule.names_of_key,
            split.course_of,
            callbacks["write_modules"],
            callbacks["write_analyses"],
            callbacks["analysis"],
            callbacks["slow"],
        )
    written = []  # the next call writes its own rows only, none left over from the failed one
    studentmodule.studentmodule_lines(
        row(id="7", state='{"position": 1}').encode(),
        2,
        {},
        {},
        studentmodule.names_of_key,
        split.course_of,
        lambda data, rows: written.append(data),
        fails,
        fails,
        fails,
    )
    assert len(written) == 1 and written[0].startswith(b'{"id":7,') and written[0].count(b"\n") == 1


def test_the_real_fixture_dump_gives_the_same_bytes(tmp_path, monkeypatch):
    dump = (
        REPO
        / "tests"
        / "fixtures"
        / "real"
        / "edx-analytics-pipeline-state"
        / "edX-DemoX-Demo_Course-courseware_studentmodule-acceptance.sql"
    ).read_bytes()
    compiled, python = split_both_ways(dump, tmp_path, 1 << 20, monkeypatch)
    assert compiled == python and compiled[5] == 4 and not compiled[2]
