"""The per-course tables derived from a SQL bundle's members: forum, grades_persistent(_subsection),
roles, studentmodule, problem_analysis and user_info_combo."""

import json
from pathlib import Path

import pytest

from edxflow.core.coerce import coerce_record
from edxflow.core.jsonl import shipped_schema as load_schema
from edxflow.sql.derived.forum import build_forum
from edxflow.sql.derived.grades import build_grades_persistent, build_grades_persistent_subsection
from edxflow.sql.derived.roles import build_roles
from edxflow.sql.derived.studentmodule import (
    build_problem_analysis,
    build_studentmodule,
    parse_state,
)
from edxflow.sql.derived.user_info_combo import build_user_info_combo
from edxflow.sql.tsv import read_tsv

REAL = Path(__file__).parent / "fixtures" / "real" / "edx-analytics-pipeline-state"
REAL_COURSE = "edX/DemoX/Demo_Course"
COURSE = "MITx/6.002x/2T2020"
COURSE_KEY = "course-v1:MITx+6.002x+2T2020"
TABLES = [
    "forum",
    "grades_persistent",
    "grades_persistent_subsection",
    "roles",
    "studentmodule",
    "problem_analysis",
    "user_info_combo",
]
PYTHON_TYPES = {"STRING": str, "INTEGER": int, "FLOAT": float, "BOOLEAN": bool, "TIMESTAMP": str}


def assert_matches_schema(row: dict, fields: list[dict], where: str = "row") -> None:
    """Every key is a column, every column is there, every value has exactly its column's type."""
    by_name = {field["name"]: field for field in fields}
    assert set(row) == set(by_name), (
        f"{where}: keys {sorted(set(row) ^ set(by_name))} differ from the schema"
    )
    for name, value in row.items():
        field = by_name[name]
        values = value if field["mode"] == "REPEATED" else [value]
        if field["mode"] == "REPEATED":
            assert type(value) is list, f"{where}.{name}: REPEATED but {value!r}"
        for item in values:
            if item is None:
                assert field["mode"] == "NULLABLE", (
                    f"{where}.{name}: null in a {field['mode']} column"
                )
            elif field["type"] == "RECORD":
                assert type(item) is dict, f"{where}.{name}: RECORD but {item!r}"
                assert_matches_schema(item, field["fields"], f"{where}.{name}")
            else:
                assert type(item) is PYTHON_TYPES[field["type"]], (
                    f"{where}.{name}: {field['type']} but {item!r}"
                )
                if field["type"] == "TIMESTAMP":
                    assert item[4] == "-" and item[10] == " " and item.endswith("+00:00"), (
                        f"{where}.{name}: {item!r}"
                    )


def assert_rows_match(rows, table: str) -> None:
    fields = load_schema(table)
    for number, row in enumerate(rows):
        assert_matches_schema(row, fields, f"{table}[{number}]")


@pytest.mark.parametrize("table", TABLES)
def test_schema_files_are_bigquery_schemas(table):
    def check(fields):
        names = [field["name"] for field in fields]
        assert len(names) == len(set(names))
        for field in fields:
            assert (
                set(field) <= {"name", "type", "mode", "description", "fields"}
                and field["description"]
            )
            assert field["type"] in {*PYTHON_TYPES, "RECORD"} and field["mode"] in {
                "NULLABLE",
                "REPEATED",
            }
            assert ("fields" in field) == (field["type"] == "RECORD")
            if "fields" in field:
                check(field["fields"])

    check(load_schema(table))


def test_user_info_combo_has_simeons_42_columns():
    assert len(load_schema("user_info_combo")) == 42


def test_coerce_record_repeated_and_leftovers():
    fields = [
        {"name": "n", "type": "INTEGER", "mode": "REPEATED", "description": "d"},
        {
            "name": "r",
            "type": "RECORD",
            "mode": "REPEATED",
            "description": "d",
            "fields": [{"name": "t", "type": "TIMESTAMP", "mode": "NULLABLE", "description": "d"}],
        },
    ]
    leftovers = {}
    row = coerce_record(
        {"n": ["1", "x", 3], "r": [{"t": "2020-01-01T00:00:00Z"}], "z": 1}, fields, leftovers
    )
    assert row == {"n": [1, 3], "r": [{"t": "2020-01-01 00:00:00+00:00"}]}
    assert leftovers == {"n": ["1", "x", 3], "z": 1}
    assert coerce_record({}, fields) == {"n": [], "r": []}


def test_integers_beyond_int64_are_null():
    fields = [{"name": "i", "type": "INTEGER", "mode": "NULLABLE", "description": "d"}]
    assert coerce_record({"i": str(2**63)}, fields) == {"i": None}
    assert coerce_record({"i": str(2**63 - 1)}, fields) == {"i": 2**63 - 1}


# roles


def test_roles_flags_one_row_per_user():
    access = [
        {"user_id": "5", "course_id": COURSE_KEY, "role": "beta_testers"},
        {"user_id": "7", "course_id": COURSE_KEY, "role": "staff"},
        {"user_id": "7", "course_id": COURSE_KEY, "role": "instructor"},
        {"user_id": "8", "course_id": COURSE_KEY, "role": "no_such_role"},
        {
            "user_id": "9",
            "course_id": COURSE_KEY,
            "name": "ccx_coach",
        },  # some dumps name the column `name`
    ]
    forum_roles = [
        {"user_id": "7", "course_id": COURSE_KEY, "name": "Administrator"},
        {"user_id": "11", "course_id": COURSE_KEY, "name": "Community TA"},
        {"user_id": "11", "course_id": COURSE_KEY, "name": "Student"},
        {"user_id": "12", "course_id": COURSE_KEY, "name": "Moderator"},
        {"user_id": "NaN", "course_id": COURSE_KEY, "name": "Student"},
    ]
    rows = build_roles(access, forum_roles, COURSE)
    assert_rows_match(rows, "roles")
    by_user = {row["user_id"]: row for row in rows}
    assert list(by_user) == [5, 7, 8, 9, 11, 12]
    set_flags = {
        user: sorted(
            k for k, v in row.items() if k.startswith(("roles_", "forumRoles_")) and v == 1
        )
        for user, row in by_user.items()
    }
    assert set_flags == {
        5: ["roles_isBetaTester"],
        7: ["forumRoles_isAdmin", "roles_isInstructor", "roles_isStaff"],
        8: [],
        9: ["roles_isCCX"],
        11: ["forumRoles_isCommunityTA", "forumRoles_isStudent"],
        12: ["forumRoles_isModerator"],
    }
    assert {user: row["roles"] for user, row in by_user.items()} == {
        5: "Staff",
        7: "Staff",
        8: "Staff",  # an access role edX added after simeon: a course access role all the same
        9: "Staff",
        11: "Student",
        12: "Student",
    }
    assert all(row["course_id"] == COURSE for row in rows)
    assert by_user[11]["roles_isStaff"] == 0 and type(by_user[11]["roles_isStaff"]) is int
    assert by_user[8]["roles_other"] == "no_such_role" and by_user[5]["roles_other"] is None


def test_roles_keeps_users_whose_forum_role_is_unknown():
    forum_roles = [
        {"user_id": "3", "course_id": COURSE_KEY, "name": "Group Moderator"},
        {"user_id": "4", "course_id": COURSE_KEY, "name": "Group Moderator"},
        {"user_id": "4", "course_id": COURSE_KEY, "name": "Student"},
        {"user_id": "4", "course_id": COURSE_KEY, "name": "Beta Role"},
    ]
    rows = build_roles([], forum_roles, COURSE)
    assert_rows_match(rows, "roles")
    by_user = {row["user_id"]: row for row in rows}
    assert by_user[3]["forumRoles_other"] == "Group Moderator" and by_user[3]["roles"] == "Student"
    assert (
        by_user[4]["forumRoles_other"] == "Beta Role; Group Moderator"
        and by_user[4]["forumRoles_isStudent"] == 1
    )
    assert by_user[3]["roles_other"] is None


# forum


def _lines(*documents) -> list[bytes]:
    return [
        (doc if isinstance(doc, str) else json.dumps(doc)).encode() + b"\n" for doc in documents
    ]


def test_forum_unwraps_ids_and_dates_and_keeps_unknown_keys_in_extra():
    thread = {
        "_id": {"$oid": "5f0000000000000000000001"},
        "_type": "CommentThread",
        "course_id": COURSE_KEY,
        "author_id": "42",
        "author_username": "ada",
        "title": "Hello",
        "body": "NULL",
        "created_at": {"$date": 1386903598520},
        "updated_at": {"$date": "2013-12-13T02:59:58.520Z"},
        "last_activity_at": {"$date": {"$numberLong": "0"}},
        "pinned": False,
        "comment_count": 2,
        "tags_array": ["a", "b"],
        "votes": {
            "count": 1,
            "point": 1,
            "up": ["42"],
            "down": [],
            "up_count": 1,
            "down_count": 0,
            "weird": 3,
        },
        "context": "course",
        "depth": 0,
    }
    comment = {
        "_id": {"$oid": "5f0000000000000000000003"},
        "_type": "Comment",
        "course_id": "edX/Demo/x y",
        "author_id": "not-a-number",
        "comment_thread_id": {"$oid": "5f0000000000000000000001"},
        "parent_id": {"$oid": "5f0000000000000000000002"},
        "parent_ids": [{"$oid": "5f0000000000000000000002"}],
        "endorsed": True,
        "endorsement": {"user_id": "7", "time": {"$date": "2014-01-02T03:04:05Z"}},
    }
    rows, rejects = build_forum(_lines(thread, comment), COURSE)
    assert rejects == []
    assert_rows_match(rows, "forum")
    first, second = rows

    assert first["mongoid"] == "5f0000000000000000000001"
    assert first["course_id"] == COURSE
    assert first["author_id"] == 42
    assert first["body"] is None  # the string "NULL"
    assert (
        first["created_at"] == "2013-12-13 02:59:58.520000+00:00"
    )  # 1386903598520 ms after the epoch
    assert first["updated_at"] == "2013-12-13 02:59:58.520000+00:00"
    assert first["last_activity_at"] == "1970-01-01 00:00:00+00:00"
    assert first["tags_array"] == '["a","b"]'
    assert first["votes"] == {
        "count": 1,
        "point": 1,
        "up_count": 1,
        "down_count": 0,
        "up": '["42"]',
        "down": "[]",
    }
    assert json.loads(first["extra"]) == {"context": "course", "depth": 0, "votes": {"weird": 3}}

    assert second["comment_thread_id"] == "5f0000000000000000000001"
    assert second["parent_id"] == "5f0000000000000000000002"
    assert second["parent_ids"] == '["5f0000000000000000000002"]'
    assert second["endorsement"] == {"user_id": 7, "time": "2014-01-02 03:04:05+00:00"}
    assert second["author_id"] is None
    assert second["course_id"] == COURSE  # the file's course stands in for an unreadable one ...
    assert json.loads(second["extra"]) == {
        "author_id": "not-a-number",
        "course_id": "edX/Demo/x y",
    }  # ... kept here


def test_forum_rejects_bad_lines_with_their_number():
    good = {"_id": {"$oid": "abc"}, "_type": "Comment", "course_id": COURSE}
    lines = _lines(good, '{"_id": {"$oid": "trunc', "[1, 2]", good) + [b"\n"]
    lines.insert(1, b"   \n")  # blank lines are skipped, not rejected
    rows, rejects = build_forum(lines, COURSE)
    assert [row["mongoid"] for row in rows] == ["abc", "abc"]
    assert [(reject["line"], reject["reason"].split(":")[0]) for reject in rejects] == [
        (3, "not JSON"),
        (4, "not a JSON object but list"),
    ]
    assert rejects[0]["raw"] == '{"_id": {"$oid": "trunc'


def test_forum_reads_a_line_with_bytes_that_are_not_utf8():
    (row,), rejects = build_forum([b'{"_id": {"$oid": "a"}, "title": "caf\xe9"}\n'], COURSE)
    assert rejects == [] and row["title"] == "caf\ufffd"


def test_forum_reads_mongo_shell_syntax():
    line = (
        b'{"_id": ObjectId("5f01"), "_type": "Comment", '
        b'"created_at": ISODate("2014-01-02T03:04:05Z"), "child_count": NumberLong(3)}\n'
    )
    (row,), rejects = build_forum([line], COURSE)
    assert rejects == []
    assert (row["mongoid"], row["created_at"], row["child_count"]) == (
        "5f01",
        "2014-01-02 03:04:05+00:00",
        3,
    )


# grades


def test_grades_persistent_coercion():
    row = {
        "id": "1",
        "user_id": "12",
        "course_id": COURSE_KEY,
        "course_edited_timestamp": "2020-06-01 08:00:00",
        "course_version": "5ed",
        "grading_policy_hash": "NiGhcAFSrpyijXbow/XKE1Cp1GA=",
        "percent_grade": "0.91",
        "letter_grade": "Pass",
        "passed_timestamp": None,
        "created": "2020-06-02 09:10:11.123456",
        "modified": "0000-00-00 00:00:00",
    }
    (out,) = build_grades_persistent([row], COURSE)
    assert_rows_match([out], "grades_persistent")
    assert out == {
        "course_id": COURSE,
        "user_id": 12,
        "course_edited_timestamp": "2020-06-01 08:00:00+00:00",
        "grading_policy_hash": "NiGhcAFSrpyijXbow/XKE1Cp1GA=",
        "percent_grade": 0.91,
        "letter_grade": "Pass",
        "passed_timestamp": None,
        "created": "2020-06-02 09:10:11.123456+00:00",
        "modified": None,
    }


def test_grades_persistent_subsection_coercion():
    row = {
        "user_id": "12",
        "course_id": COURSE_KEY,
        "usage_key": "block-v1:MITx+6.002x+2T2020+type@sequential+block@s1",
        "earned_all": "3",
        "possible_all": "4.5",
        "earned_graded": "",
        "possible_graded": "4.5",
        "first_attempted": "2020-06-01 08:00:00",
        "created": "2020-06-01 08:00:00",
        "modified": "2020-06-01 08:00:01",
    }
    (out,) = build_grades_persistent_subsection([row], COURSE)
    assert_rows_match([out], "grades_persistent_subsection")
    assert (out["earned_all"], out["possible_all"], out["earned_graded"]) == (3.0, 4.5, None)
    assert out["usage_key"] == row["usage_key"] and out["course_id"] == COURSE


# studentmodule and problem_analysis


def _studentmodule_row(**values) -> dict:
    row = {
        "id": "1",
        "module_type": "problem",
        "module_id": "i4x://MITx/6.002x/problem/p1",
        "student_id": "12",
        "state": '{"position": 1}',
        "grade": None,
        "created": "2020-05-01 10:00:00",
        "modified": "2020-05-01 11:00:00",
        "max_grade": None,
        "done": "na",
        "course_id": COURSE_KEY,
    }
    return {**row, **values}


def test_studentmodule_module_ids_nulls_and_types():
    rows = [
        _studentmodule_row(
            module_id="block-v1:MITx+6.002x+2T2020+type@problem+block@abc123",
            grade="0.5",
            max_grade="1",
            state='{"attempts": 2,  "done": true}',
        ),
        _studentmodule_row(
            id="2", module_id="i4x://MITx/6.002x/video/v1", state="null", done="Null"
        ),
        _studentmodule_row(
            id="3", module_id="block-v1:MITx+6.002x+2T2020", state="{not json", course_id=None
        ),
    ]
    out = list(build_studentmodule(iter(rows), COURSE))
    assert_rows_match(out, "studentmodule")
    assert [
        row["module_id"] for row in out
    ] == [  # simeon's form: block-v1 keys keep the run, i4x keys have none
        "MITx/6.002x/2T2020/problem/abc123",
        "MITx/6.002x/video/v1",
        "block-v1:MITx+6.002x+2T2020",
    ]
    assert (out[0]["grade"], out[0]["max_grade"], out[0]["id"], out[0]["student_id"]) == (
        0.5,
        1.0,
        1,
        12,
    )
    assert (
        out[0]["state"] == '{"attempts": 2,  "done": true}'
    )  # valid JSON as dumped: kept as it is
    assert out[0]["created"] == "2020-05-01 10:00:00+00:00" and out[0]["course_id"] == COURSE
    assert (out[1]["state"], out[1]["done"]) == (None, None)  # `null` in any case
    assert out[2]["state"] == "{not json"  # kept as dumped
    assert out[2]["course_id"] == COURSE


def test_studentmodule_streams():
    """The split writes each row as it is read: no course's studentmodule is held in memory."""
    from edxflow.sql.derived.studentmodule import COLUMNS, split_studentmodule

    written = []

    def records():
        for number in range(3):
            row = _studentmodule_row(id=str(number))
            yield [row.get(name) for name in COLUMNS]
            assert len(written) == number + 1  # written before the next row is read

    split_studentmodule(records(), COURSE, written.append, lambda row: None)
    assert [row["id"] for row in written] == [0, 1, 2]


def test_problem_analysis_items():
    state = {
        "correct_map": {
            "abc123_2_1": {
                "correctness": "correct",
                "npoints": None,
                "msg": "",
                "hint": "",
                "hintmode": None,
            },
            "abc123_3_1": {
                "correctness": "incorrect",
                "npoints": 0.5,
                "msg": "<p>close</p>",
                "hint": "h",
            },
        },
        "student_answers": {"abc123_2_1": "choice_1", "abc123_3_1": ["choice_0", "choice_2"]},
        "attempts": 3,
        "done": True,
        "seed": 1,
    }
    rows = [
        _studentmodule_row(
            module_id="block-v1:MITx+6.002x+2T2020+type@problem+block@abc123",
            grade="1",
            max_grade="2",
            state=json.dumps(state),
            created="2020-05-01 10:00:00",
        ),
        _studentmodule_row(id="2", state=json.dumps({"correct_map": {}, "student_answers": {}})),
        _studentmodule_row(id="3", state='{"position": 1}'),
    ]
    out = list(build_problem_analysis(rows, COURSE))
    assert_rows_match(out, "problem_analysis")
    assert out == [
        {
            "course_id": COURSE,
            "user_id": 12,
            "problem_url_name": "abc123",
            "item": [
                {
                    "answer_id": "abc123_2_1",
                    "correctness": "correct",
                    "correct_bool": True,
                    "npoints": None,
                    "msg": "",
                    "hint": "",
                    "response": '"choice_1"',
                },
                {
                    "answer_id": "abc123_3_1",
                    "correctness": "incorrect",
                    "correct_bool": False,
                    "npoints": 0.5,
                    "msg": "<p>close</p>",
                    "hint": "h",
                    "response": '["choice_0","choice_2"]',
                },
            ],
            "attempts": 3,
            "done": True,
            "grade": 1.0,
            "max_grade": 2.0,
            "created": "2020-05-01 10:00:00+00:00",
        }
    ]


def test_parse_state_standard_json():
    assert parse_state('{"position": 2}') == {"position": 2}
    assert parse_state(None) is None and parse_state("") is None
    assert parse_state("[1, 2]") is None and parse_state("{broken") is None


def test_parse_state_nested_json_strings_with_escaped_quotes():
    # as in the real fixture: an answer that is itself JSON holding JSON
    inner = json.dumps({"state": "OC(O)\nM  END\n", "answer": "OC(O)"})
    state = json.dumps(
        {"student_answers": {"x_2_1": json.dumps({"answer": "correct", "state": inner})}}
    )
    parsed = parse_state(state)
    assert (
        json.loads(json.loads(parsed["student_answers"]["x_2_1"])["state"])["state"]
        == "OC(O)\nM  END\n"
    )


def test_parse_state_raw_control_characters():
    assert parse_state('{"student_answers": {"a": "line one\nline\ttwo"}}') == {
        "student_answers": {"a": "line one\nline\ttwo"}
    }


def test_parse_state_doubled_backslashes():
    # {"a": "say \"hi\""} with its backslashes doubled once more than the reader undid
    assert parse_state(r'{"a": "say \\"hi\\""}') == {"a": 'say "hi"'}


def test_parse_state_lone_surrogate_is_replaced():
    assert parse_state('{"a": "\\ud83d!"}') == {"a": "?!"}


# user_info_combo


def test_user_info_combo_merge():
    tables = {
        "auth_user": [
            {
                "id": "1",
                "username": "ada",
                "email": "ada@example.org",
                "is_staff": "0",
                "password": "x",
                "last_login": "2020-05-01 10:00:00",
                "date_joined": "2020-01-01 00:00:00",
            },
            {
                "id": "2",
                "username": "bob",
                "email": " bob@example.org ",
                "is_staff": "1",
                "last_login": None,
                "date_joined": "2020-01-02 00:00:00",
            },
        ],
        "auth_userprofile": [
            {
                "id": "10",
                "user_id": "1",
                "name": "Ada L",
                "year_of_birth": "1815",
                "gender": "f",
                "city": "null",
                "meta": '{"old_names": []}',
                "bio": "not a column",
            },
        ],
        "student_courseenrollment": [
            {
                "id": "100",
                "user_id": "1",
                "course_id": COURSE_KEY,
                "created": "2020-02-01 00:00:00",
                "is_active": "1",
                "mode": "verified",
            },
            {
                "id": "101",
                "user_id": "2",
                "course_id": COURSE_KEY,
                "created": "2020-02-02 00:00:00",
                "is_active": "0",
                "mode": "audit",
            },
        ],
        "certificates_generatedcertificate": [
            {
                "id": "7",
                "user_id": "1",
                "grade": "0.87",
                "course_id": COURSE_KEY,
                "status": "downloadable",
                "distinction": "0",
                "created_date": "2020-07-01 00:00:00",
                "mode": "verified",
            },
            {
                "id": "8",
                "user_id": "3",
                "grade": "0.5",
                "course_id": COURSE_KEY,
                "status": "notpassing",
            },
        ],
        "user_id_map": [
            {"hash_id": "h1", "id": "1", "username": "ada"},
            {
                "hash_id": "h4",
                "id": "4",
                "username": "ghost",
            },  # neither auth_user nor certificate: left out
        ],
    }
    rows = build_user_info_combo(tables, COURSE)
    assert_rows_match(rows, "user_info_combo")
    by_key = {row["user_id"] or row["certificate_user_id"]: row for row in rows}
    assert list(by_key) == [1, 2, 3]
    ada, bob, cert_only = by_key[1], by_key[2], by_key[3]
    assert (ada["username"], ada["is_staff"], ada["last_login"]) == (
        "ada",
        0,
        "2020-05-01 10:00:00+00:00",
    )
    assert (ada["profile_name"], ada["profile_year_of_birth"], ada["profile_gender"]) == (
        "Ada L",
        1815,
        "f",
    )
    assert ada["profile_city"] is None and ada["profile_meta"] == '{"old_names": []}'
    assert (ada["enrollment_course_id"], ada["enrollment_is_active"], ada["enrollment_mode"]) == (
        COURSE,
        1,
        "verified",
    )
    assert (ada["certificate_id"], ada["certificate_grade"], ada["certificate_course_id"]) == (
        7,
        0.87,
        COURSE,
    )
    assert (ada["certificate_status"], ada["certificate_distinction"]) == ("downloadable", 0)
    assert ada["id_map_hash_id"] == "h1"
    assert (
        ada["edxinstructordash_Grade"],
        ada["edxinstructordash_Grade_timestamp"],
        ada["y1_anomalous"],
    ) == (None, None, None)
    # a user without profile or certificate
    assert bob["email"] == "bob@example.org" and bob["is_staff"] == 1 and bob["last_login"] is None
    assert (
        bob["profile_name"] is None
        and bob["certificate_id"] is None
        and bob["enrollment_is_active"] == 0
    )
    # a certificate holder missing from auth_user is kept, as in simeon
    assert cert_only["user_id"] is None and cert_only["username"] is None
    assert (cert_only["certificate_user_id"], cert_only["certificate_grade"]) == (3, 0.5)


def test_user_info_combo_tables_may_be_missing():
    rows = build_user_info_combo({"auth_user": [{"id": "5", "username": "eve"}]}, COURSE)
    assert_rows_match(rows, "user_info_combo")
    assert [(row["user_id"], row["username"], row["enrollment_course_id"]) for row in rows] == [
        (5, "eve", None)
    ]


# the real research-package-style bundle


def _real(table: str) -> Path:
    return REAL / f"edX-DemoX-Demo_Course-{table}-acceptance.sql"


def test_real_forum():
    with open(REAL / "edX-DemoX-Demo_Course-acceptance.mongo", "rb") as lines:
        rows, rejects = build_forum(lines, REAL_COURSE)
    assert rejects == [] and len(rows) == 3
    assert_rows_match(rows, "forum")
    assert rows[0]["created_at"] == "2013-12-13 02:59:58.520000+00:00"
    assert rows[2]["parent_ids"] == '["69963c2c9103a8d2ac7dcb34"]'
    assert all(row["course_id"] == REAL_COURSE and row["extra"] is None for row in rows)


def test_real_studentmodule_and_problem_analysis():
    rows = list(build_studentmodule(read_tsv(_real("courseware_studentmodule")), REAL_COURSE))
    assert len(rows) == 4
    assert_rows_match(rows, "studentmodule")
    assert all(row["course_id"] == REAL_COURSE for row in rows)
    answer = json.loads(
        json.loads(rows[0]["state"])["student_answers"]["5b60fa3470a2440eafeee24d6806eb1a_2_1"]
    )
    assert (
        answer["answer"] == "correct"
        and json.loads(answer["state"])["answer"] == "OC(O)C(Cl)(Cl)Cl"
    )
    analysed = list(
        build_problem_analysis(read_tsv(_real("courseware_studentmodule")), REAL_COURSE)
    )
    assert_rows_match(analysed, "problem_analysis")
    assert analysed == []  # the one problem state has student_answers but no correct_map


def test_real_user_info_combo():
    names = [
        "auth_user",
        "auth_userprofile",
        "student_courseenrollment",
        "certificates_generatedcertificate",
    ]
    rows = build_user_info_combo({name: read_tsv(_real(name)) for name in names}, REAL_COURSE)
    assert_rows_match(rows, "user_info_combo")
    assert [(row["user_id"], row["username"], row["certificate_grade"]) for row in rows] == [
        (1, "honor", 0.27),
        (2, "audit", 0.0),
        (3, "verified", 0.0),
        (4, "staff", 0.51),
    ]
    assert {row["enrollment_course_id"] for row in rows} == {REAL_COURSE}
