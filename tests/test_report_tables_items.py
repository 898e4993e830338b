"""The item-response report templates (course_item, person_item, person_problem, course_problem):
headers name real tables, schemas are complete, and each template, rendered, transpiled to DuckDB
and run on a small hand-written course, gives the schema's columns with the schema's types and the
values worked out by hand below."""

from __future__ import annotations

import statistics

import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.warehouse.duckdb import quote
from tests.helpers import (
    assert_column_types,
    check_header,
    check_schema,
    report_schema,
    report_template,
    report_warehouse,
    run_template,
)

# In build order (each after what it reads).
TABLES = ["course_item", "person_item", "person_problem", "course_problem"]
TYPES = {"STRING", "INTEGER", "FLOAT", "BOOLEAN", "TIMESTAMP"}

COURSE = "TestX/IRT/2031"
BASE = "TestX__IRT__2031"
LATEST = f"{BASE}_latest"
LOGS = f"{BASE}_logs"


@pytest.mark.parametrize("table", TABLES)
def test_header(table):
    check_header(table)
    assert "{{ tracklog }}" not in report_template(table)


@pytest.mark.parametrize("table", TABLES)
def test_schema_is_complete(table):
    check_schema(table, TYPES)


def test_schemas_have_simeons_columns():
    """simeon's column lists (schema_{table}.json), in its order."""
    assert len(report_schema("course_item")) == 37
    assert [f["name"] for f in report_schema("person_item")] == [
        "user_id",
        "course_id",
        "item_short_id",
        "item_nid",
        "item_grade",
        "grade",
        "n_attempts",
        "date",
    ]
    assert [f["name"] for f in report_schema("person_problem")][2:5] == [
        "problem_nid",
        "problem_raw_score",
        "problem_pct_score",
    ]
    assert [f["name"] for f in report_schema("course_problem")][-3:] == [
        "problem_name",
        "is_split",
        "split_name",
    ]


# --- the course ---------------------------------------------------------------------------------
# chapter c1: sequential s1 (ungraded): p1
# chapter c2: sequential s2 (Homework): p2 (weight 2, three items), p3 (five learners: no items)
#             sequential s3 (Homework): vertical v3 in split test ab: p4


def mid(kind: str, name: str) -> str:
    return f"{COURSE}/{kind}/{name}"


def block(index, category, name, parent, path, gformat=None, **more):
    chapter = path.split("/")[1] if path != "/" else None
    return {
        "index": index,
        "category": category,
        "url_name": name,
        "name": name.upper(),
        "module_id": mid(category, name),
        "parent": parent,
        "path": path,
        "gformat": gformat,
        "course_id": COURSE,
        "is_split": False,
        "chapter_mid": chapter and mid("chapter", chapter),
        "start": "2031-01-01T00:00:00Z",
        **more,
    }


HW = {"gformat": "Homework", "due": "2031-02-01T00:00:00Z"}
COURSE_AXIS = [
    block(1, "course", "course", None, "/"),
    block(2, "chapter", "c1", "course", "/c1"),
    block(3, "sequential", "s1", "c1", "/c1/s1"),
    block(4, "vertical", "v1", "s1", "/c1/s1/v1"),
    block(5, "problem", "p1", "v1", "/c1/s1/v1/p1"),
    block(6, "chapter", "c2", "course", "/c2"),
    block(7, "sequential", "s2", "c2", "/c2/s2", **HW),
    block(8, "vertical", "v2", "s2", "/c2/s2/v2", **HW),
    block(9, "problem", "p2", "v2", "/c2/s2/v2/p2", data={"weight": 2.0}, **HW),
    block(10, "problem", "p3", "v2", "/c2/s2/v2/p3", data={"weight": 1.0}, **HW),
    block(11, "sequential", "s3", "c2", "/c2/s3", **HW),
    block(12, "vertical", "v3", "s3", "/c2/s3/v3", **HW),
    block(13, "split_test", "ab", "v3", "/c2/s3/v3/ab", is_split=True, split_url_name="ab", **HW),
    block(14, "vertical", "g0", "ab", "/c2/s3/v3/ab/g0", is_split=True, split_url_name="ab", **HW),
    block(
        15, "problem", "p4", "g0", "/c2/s3/v3/ab/g0/p4", is_split=True, split_url_name="ab", **HW
    ),
]

GRADING_POLICY = [
    {"assignment_type": "Homework", "short_label": "HW", "fraction_of_overall_grade": 0.6},
    {"assignment_type": "Exam", "short_label": "Ex", "fraction_of_overall_grade": 0.4},
]


def answer(problem, item, correct):
    return {"answer_id": f"{problem}_{item}", "correct_bool": correct}


def response(user, problem, items, grade, max_grade, attempts, day="03"):
    return {
        "course_id": COURSE,
        "user_id": user,
        "problem_url_name": problem,
        "item": items,
        "attempts": attempts,
        "grade": grade,
        "max_grade": max_grade,
        "created": f"2031-01-{day}T10:00:00Z",
    }


USERS = range(1, 7)
P2_CORRECT = {k: (k <= 4, True, k == 1) for k in USERS}  # items 2_1, 3_1, 10_1
PROBLEM_ANALYSIS = (
    # user 1 answered p1 twice: the later row counts
    [response(1, "p1", [answer("p1", "2_1", False)], 0.0, 1.0, 1, day="01")]
    + [response(k, "p1", [answer("p1", "2_1", k == 1 or k % 2 == 0)], 1.0, 1.0, k) for k in USERS]
    + [
        response(
            k,
            "p2",
            [
                answer("p2", "10_1", P2_CORRECT[k][2]),
                answer("p2", "2_1", P2_CORRECT[k][0]),
                answer("p2", "3_1", P2_CORRECT[k][1]),
            ],
            float(sum(P2_CORRECT[k])),
            3.0,
            k,
        )
        for k in USERS
    ]
    + [response(k, "p3", [answer("p3", "2_1", True)], 1.0, 1.0, 1) for k in range(1, 6)]
    # user 6's max_grade is missing: still one item
    + [
        response(k, "p4", [answer("p4", "2_1", k <= 5)], 1.0, None if k == 6 else 1.0, 1)
        for k in USERS
    ]
)

SOURCES = {
    "course_axis": COURSE_AXIS,
    "grading_policy": GRADING_POLICY,
    "problem_analysis": PROBLEM_ANALYSIS,
}


def build(con, table: str, without=(), save_as: str | None = None) -> list[dict]:
    """Render, transpile and run one template (the course lacking the tables `without`); check its
    columns' names and types against the schema; its rows as dicts (values as text, numbers kept
    as numbers for FLOAT columns)."""
    target = run_template(
        con,
        table,
        course_id=COURSE,
        latest=LATEST,
        logs=LOGS,
        target=save_as,
        without=without,
        log_tables=(),
    )
    fields = report_schema(table)
    assert_column_types(con, target, fields, table)
    floats = {field["name"] for field in fields if field["type"] == "FLOAT"}
    select = ", ".join(
        quote(f["name"])
        if f["name"] in floats
        else f"{quote(f['name'])}::VARCHAR AS {quote(f['name'])}"
        for f in fields
    )
    result = con.execute(f"SELECT {select} FROM {target}")
    names = [column[0] for column in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("items")
    inputs = {(LATEST, table): (shipped_schema(table), rows) for table, rows in SOURCES.items()}
    con = report_warehouse(tmp_path, LATEST, inputs=inputs)
    result = {table: build(con, table) for table in TABLES}  # each after what it reads
    result["no_policy"] = build(
        con, "course_item", without={"grading_policy"}, save_as="course_item_no_policy"
    )
    con.close()
    return result


def test_course_item_rows(built):
    rows = built["course_item"]
    # p3 has five learners only: no items; p2's items in answer_id number order
    assert [row["item_id"] for row in rows] == ["p1_2_1", "p2_2_1", "p2_3_1", "p2_10_1", "p4_2_1"]
    picked = [
        (
            row["problem_id"],
            row["problem_nid"],
            row["item_nid"],
            row["item_number"],
            row["n_items"],
            row["assignment_id"],
            row["assignment_type"],
            row["assignment_seq_num"],
            row["n_assignments_of_type"],
            row["n_problems_in_assignment"],
            row["problem_number"],
            row["assignment_short_id"],
            row["problem_short_id"],
            row["item_short_id"],
            row["n_user_responses"],
        )
        for row in rows
    ]
    assert picked == [
        (
            "p1",
            "1",
            "1",
            "1",
            "1",
            "_ch1_sec1",
            "",
            "1",
            "1",
            "1",
            "1",
            "_1",
            "_1__1",
            "_1__1_1",
            "6",
        ),
        *[
            ("p2", "2", str(n), str(n - 1), "3", "Homework_ch2_sec1", "Homework", "1", "2")
            + ("1", "1", "HW_1", "HW_1__1", f"HW_1__1_{n - 1}", "6")
            for n in (2, 3, 4)
        ],
        ("p4", "3", "5", "1", "1", "Homework_ch2_sec2", "Homework", "2", "2", "1", "1", "HW_2")
        + ("HW_2__1", "HW_2__1_1", "6"),
    ]
    # weights: problem weight / items / problem weights in the assignment / assignments x 0.6
    weights = [row["item_weight"] for row in rows]
    assert weights == pytest.approx([0.0, 0.1, 0.1, 0.1, 0.3])
    assert [row["cumulative_item_weight"] for row in rows] == pytest.approx(
        [0.0, 0.1, 0.2, 0.3, 0.6]
    )
    assert [row["assignment_type_weight"] for row in rows] == [0.0, 0.6, 0.6, 0.6, 0.6]
    assert [row["problem_weight"] for row in rows] == [1.0, 2.0, 2.0, 2.0, 1.0]
    assert {row["course_id"] for row in rows} == {COURSE}


def test_course_item_places_and_points(built):
    p1, p2, _, _, p4 = built["course_item"]
    assert {
        k: p2[k] for k in ("chapter_name", "section_name", "vertical_name", "problem_name")
    } == {
        "chapter_name": "C2",
        "section_name": "S2",
        "vertical_name": "V2",
        "problem_name": "P2",
    }
    assert (p2["chapter_number"], p2["section_number"], p2["content_index"]) == ("2", "1", "9")
    assert (p4["chapter_number"], p4["section_number"]) == ("2", "2")
    # in an A/B test: the unit on the path, not the group's vertical
    assert (p4["vertical_name"], p4["is_split"], p4["split_name"]) == ("V3", "true", "ab")
    assert (p1["is_split"], p1["split_name"], p1["due_date"]) == ("false", None, None)
    assert p2["problem_path"] == "/c2/s2/v2/p2"
    assert p2["start_date"] == "2031-01-01 00:00:00+00"
    assert p2["due_date"] == "2031-02-01 00:00:00+00"
    assert (p2["item_points_possible"], p2["problem_points_possible"]) == (1.0, 3.0)
    assert (p2["emperical_problem_points_possible"], p2["emperical_item_points_possible"]) == (
        3.0,
        1.0,
    )
    assert p4["emperical_problem_points_possible"] == 1.0


def test_course_item_without_grading_policy(built):
    rows = built["no_policy"]
    assert len(rows) == 5
    assert [row["assignment_short_id"] for row in rows] == ["_1", "_1", "_1", "_1", "_2"]
    assert {row["item_weight"] for row in rows} == {None}
    assert {row["assignment_type_weight"] for row in rows} == {None}
    assert {row["cumulative_item_weight"] for row in rows} == {None}


def test_person_item(built):
    rows = built["person_item"]
    assert len(rows) == 6 * 5  # one row per learner and item; none for p3
    assert {(row["user_id"], row["item_nid"]) for row in rows} == {
        (str(k), str(n)) for k in USERS for n in range(1, 6)
    }
    first = [row for row in rows if row["user_id"] == "1"]
    assert [row["item_short_id"] for row in first] == [
        "_1__1_1",
        "HW_1__1_1",
        "HW_1__1_2",
        "HW_1__1_3",
        "HW_2__1_1",
    ]
    # p1: the later of user 1's two rows
    assert first[0] == {
        "user_id": "1",
        "course_id": COURSE,
        "item_short_id": "_1__1_1",
        "item_nid": "1",
        "item_grade": "1",
        "grade": 1.0,
        "n_attempts": "1",
        "date": "2031-01-03 10:00:00+00",
    }
    fifth = {row["item_nid"]: row for row in rows if row["user_id"] == "5"}
    assert [fifth[str(n)]["item_grade"] for n in range(1, 6)] == ["0", "0", "1", "0", "1"]
    assert (fifth["2"]["grade"], fifth["2"]["n_attempts"]) == (1.0, "5")


def test_person_problem(built):
    rows = {(row["user_id"], row["problem_nid"]): row for row in built["person_problem"]}
    assert len(rows) == 6 * 3
    assert rows[("1", "2")] == {
        "user_id": "1",
        "course_id": COURSE,
        "problem_nid": "2",
        "problem_raw_score": "3",
        "problem_pct_score": 100.0,
        "grade": 3.0,
        "n_attempts": "1",
        "date": "2031-01-03 10:00:00+00",
    }
    assert rows[("5", "2")]["problem_raw_score"] == "1"
    assert rows[("5", "2")]["problem_pct_score"] == pytest.approx(100 / 3)
    assert rows[("6", "3")]["problem_raw_score"] == "0"
    assert rows[("6", "3")]["problem_pct_score"] == 0.0


def test_course_problem(built):
    rows = built["course_problem"]
    # by mean percentage, highest first
    assert [row["problem_id"] for row in rows] == ["p4", "p1", "p2"]
    p4, p1, p2 = rows
    raw = {
        "p1": [1, 1, 0, 1, 0, 1],
        "p2": [sum(P2_CORRECT[k]) for k in USERS],
        "p4": [1, 1, 1, 1, 1, 0],
    }
    assert p2["problem_nid"] == "2" and p2["problem_short_id"] == "HW_1__1"
    for row, possible in ((p1, 1.0), (p2, 3.0), (p4, 1.0)):
        scores = raw[row["problem_id"]]
        assert row["avg_problem_raw_score"] == pytest.approx(statistics.mean(scores))
        assert row["sdv_problem_raw_score"] == pytest.approx(statistics.stdev(scores))
        assert row["max_possible_raw_score"] == possible
        assert row["avg_problem_pct_score"] == pytest.approx(
            100 * statistics.mean(scores) / possible
        )
        assert row["n_unique_users_attempted"] == "6"
        assert row["course_id"] == COURSE
    assert (p4["problem_name"], p4["is_split"], p4["split_name"]) == ("P4", "true", "ab")
    assert (p1["is_split"], p1["split_name"]) == ("false", None)
