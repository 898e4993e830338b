"""course_axis and grading_policy rows: a hand-built course, the real acceptance fixture, the demo package."""

import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "scripts") not in sys.path:
    sys.path.insert(0, str(REPO / "scripts"))

from edxflow.sql.derived.course_axis import RESPONSE_TYPES, build_course_axis, build_grading_policy  # noqa: E402

SCHEMAS = REPO / "sql" / "schemas"
REAL = REPO / "tests" / "fixtures" / "real" / "edx-analytics-pipeline-state"
REAL_STRUCTURE = REAL / "edX-DemoX-Demo_Course-course_structure-acceptance.json"
REAL_TARBALL = REAL / "edX-DemoX-Demo_Course-course-acceptance.xml.tar.gz"


def load_schema(name: str) -> list[dict]:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def assert_matches_schema(row: dict, fields: list[dict]) -> None:
    """Every column present, nothing else, and each non-null value of its column's JSON type."""
    columns = {field["name"]: field for field in fields}
    assert set(row) == set(columns)
    for name, value in row.items():
        if value is None:
            continue
        kind = columns[name]["type"]
        if kind == "RECORD":
            assert_matches_schema(value, columns[name]["fields"])
        elif kind == "TIMESTAMP":
            assert isinstance(value, str) and dt.datetime.fromisoformat(value).tzinfo is not None, (
                name,
                value,
            )
        else:
            expected = {"STRING": str, "INTEGER": int, "FLOAT": float, "BOOLEAN": bool}[kind]
            assert type(value) is expected, (name, value)


def test_schemas_are_bigquery_json_schemas():
    for name in ("course_axis", "grading_policy"):
        for field in load_schema(name):
            assert set(field) <= {"name", "type", "mode", "description", "fields"}
            assert field["mode"] == "NULLABLE" and field["description"]


# ---------------------------------------------------------------------------------------------
# A hand-built course


def key(category: str, url_name: str) -> str:
    return f"block-v1:TestX+T101+2024+type@{category}+block@{url_name}"


def block(category: str, children=(), **metadata) -> dict:
    return {
        "category": category,
        "children": [key(*child.split(":")) for child in children],
        "metadata": metadata,
    }


HAND_STRUCTURE = {
    key("course", "course"): block(
        "course",
        ["chapter:ch1", "chapter:ch2"],
        display_name="Test Course",
        start="2024-01-01T00:00:00Z",
        end="2024-06-30T00:00:00Z",
    ),
    key("chapter", "ch1"): block(
        "chapter",
        ["sequential:seq1", "sequential:seq2", "sequential:gone"],
        display_name="Chapter 1",
    ),
    key("sequential", "seq1"): block("sequential", ["vertical:v1"], display_name="Welcome"),
    key("vertical", "v1"): block("vertical", ["video:vid1", "html:h1"], display_name="Unit 1"),
    key("video", "vid1"): block("video", youtube_id_0_75="SLOWVID", youtube_id_1_0="NORMALVID"),
    key("html", "h1"): block("html", display_name="Reading"),
    key("sequential", "seq2"): block(
        "sequential",
        ["vertical:v2"],
        display_name="Homework 1",
        format="Homework",
        graded=True,
        due="2024-02-01T14:00:00+02:00",
    ),
    key("vertical", "v2"): block("vertical", ["problem:p1", "problem:p2"], display_name="Unit 2"),
    key("problem", "p1"): block("problem", display_name="Quiz", weight=2),
    key("problem", "p2"): block("problem", display_name="No OLX", showanswer="never"),
    key("chapter", "ch2"): block(
        "chapter", ["sequential:seq3"], display_name="Chapter 2", start="2024-03-01T09:30:00"
    ),
    key("sequential", "seq3"): block(
        "sequential",
        ["split_test:ab1"],
        display_name="Exam",
        format="Exam",
        graded="true",
        visible_to_staff_only=True,
    ),
    key("split_test", "ab1"): block(
        "split_test",
        ["vertical:va", "vertical:vb"],
        display_name="A/B",
        user_partition_id=5,
        group_id_to_child={"1": key("vertical", "vb"), "0": key("vertical", "va")},
    ),
    key("vertical", "va"): block("vertical", ["problem:p3"], display_name="Group A"),
    key("problem", "p3"): block("problem", display_name="Nested", showanswer="finished"),
    key("vertical", "vb"): block("vertical", ["html:h2"], display_name="Group B"),
    key("html", "h2"): block("html", display_name="B text"),
}

HAND_OLX = {
    "course_export/course.xml": b'<course url_name="2024" org="TestX" course="T101"/>',
    "course_export/problem/p1.xml": b"""<problem display_name="Quiz">
  <p>Which is it?</p><img src="/static/plot.png"/>
  <multiplechoiceresponse><choicegroup><choice correct="true">a</choice></choicegroup></multiplechoiceresponse>
  <solution><p>Because.</p></solution>
</problem>""",
    # A draft must not replace the published problem.
    "course_export/drafts/problem/p1.xml": b"<problem><stringresponse answer='x'/></problem>",
    # Never read: its path climbs out of the archive.
    "../problem/p2.xml": b"<problem><optionresponse/></problem>",
    # Not well-formed (an HTML entity), so its tags are found by scanning.
    "course_export/problem/p3.xml": b"""<problem><p>Two&nbsp;parts</p>
  <div><stringresponse answer="velocity"><textline/></stringresponse></div>
  <numericalresponse answer="3"><formulaequationinput/></numericalresponse>
</problem>""",
    "course_export/video/vid1.xml": b'<video url_name="vid1"><video_asset duration="123.5"/></video>',
    "course_export/policies/old/grading_policy.json": b'{"GRADER": [{"type": "Stale"}], "GRADE_CUTOFFS": {}}',
    "course_export/policies/2024/grading_policy.json": json.dumps(
        {
            "GRADER": [
                {
                    "type": "Homework",
                    "weight": 0.3,
                    "min_count": 5,
                    "drop_count": 1,
                    "short_label": "HW",
                },
                {"type": "Exam", "weight": "0.7", "min_count": 1, "drop_count": 0},
            ],
            "GRADE_CUTOFFS": {"B": 0.8, "A": 0.9, "C": 0.6},
        }
    ).encode(),
}


def write_tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def hand_rows(tmp_path):
    tarball = write_tarball(tmp_path / "course.xml.tar.gz", HAND_OLX)
    return {
        row["url_name"]: row
        for row in build_course_axis(HAND_STRUCTURE, tarball, "TestX/T101/2024")
    }


def test_hand_course_depth_first_order_paths_and_parents(hand_rows):
    assert list(hand_rows) == [
        "course",
        "ch1",
        "seq1",
        "v1",
        "vid1",
        "h1",
        "seq2",
        "v2",
        "p1",
        "p2",
        "ch2",
        "seq3",
        "ab1",
        "va",
        "p3",
        "vb",
        "h2",
    ]  # the missing "gone" is skipped
    assert [row["index"] for row in hand_rows.values()] == list(range(1, 18))
    assert hand_rows["course"]["path"] == "/" and hand_rows["course"]["parent"] is None
    assert hand_rows["ch1"]["path"] == "/ch1" and hand_rows["ch1"]["parent"] == "course"
    assert hand_rows["p1"]["path"] == "/ch1/seq2/v2/p1" and hand_rows["p1"]["parent"] == "v2"
    assert hand_rows["h2"]["path"] == "/ch2/seq3/ab1/vb/h2" and hand_rows["h2"]["parent"] == "vb"
    # simeon's module_id: Org/Num/Run/type/id for block-v1 keys
    assert hand_rows["p3"]["module_id"] == "TestX/T101/2024/problem/p3"
    assert hand_rows["course"]["module_id"] == "TestX/T101/2024/course/course"
    assert hand_rows["course"]["chapter_mid"] is None
    assert hand_rows["ch1"]["chapter_mid"] == "TestX/T101/2024/chapter/ch1"
    assert hand_rows["h1"]["chapter_mid"] == "TestX/T101/2024/chapter/ch1"
    assert hand_rows["p3"]["chapter_mid"] == "TestX/T101/2024/chapter/ch2"
    assert {row["course_id"] for row in hand_rows.values()} == {"TestX/T101/2024"}


def test_hand_course_inherited_settings(hand_rows):
    # name: own display_name, else the nearest ancestor's
    assert hand_rows["vid1"]["name"] == "Unit 1" and hand_rows["h1"]["name"] == "Reading"
    assert [hand_rows[u]["gformat"] for u in ("seq1", "seq2", "v2", "p1", "p3")] == [
        None,
        "Homework",
        "Homework",
        "Homework",
        "Exam",
    ]
    assert [
        hand_rows[u]["graded"] for u in ("course", "seq1", "h1", "seq2", "p2", "seq3", "h2")
    ] == [False, False, False, True, True, True, True]
    assert hand_rows["p1"]["due"] == "2024-02-01T12:00:00+00:00"
    assert hand_rows["seq1"]["due"] is None
    # a graded item without a due date is due at the course end
    assert hand_rows["p3"]["due"] == "2024-06-30T00:00:00+00:00"
    assert hand_rows["p1"]["start"] == "2024-01-01T00:00:00+00:00"
    assert hand_rows["p3"]["start"] == "2024-03-01T09:30:00+00:00"  # naive times are UTC
    assert (
        hand_rows["h2"]["visible_to_staff_only"] is True
        and hand_rows["p1"]["visible_to_staff_only"] is False
    )


def test_hand_course_split_test(hand_rows):
    assert not hand_rows["seq3"]["is_split"] and hand_rows["seq3"]["split_url_name"] is None
    for url_name in ("ab1", "va", "p3", "vb", "h2"):
        assert hand_rows[url_name]["is_split"] is True
        assert hand_rows[url_name]["split_url_name"] == "ab1"
    data = hand_rows["ab1"]["data"]
    assert data["user_partition_id"] == "5"
    assert json.loads(data["group_id_to_child"]) == {
        "0": key("vertical", "va"),
        "1": key("vertical", "vb"),
    }


def test_hand_course_data_record(hand_rows):
    assert hand_rows["vid1"]["data"]["ytid"] == "1.0:NORMALVID"
    assert hand_rows["vid1"]["data"]["duration"] == 123.5
    p1 = hand_rows["p1"]["data"]
    assert (p1["itype"], p1["num_items"], p1["has_solution"], p1["has_image"], p1["weight"]) == (
        "multiplechoiceresponse",
        1,
        True,
        True,
        2.0,
    )
    p3 = hand_rows["p3"]["data"]  # response types nested in other markup still count
    assert (p3["itype"], p3["num_items"], p3["has_solution"], p3["has_image"]) == (
        "stringresponse",
        2,
        True,
        False,
    )
    p2 = hand_rows["p2"]["data"]  # no OLX for it (only behind a `..` path)
    assert (p2["itype"], p2["num_items"], p2["has_solution"], p2["has_image"]) == (
        None,
        1,
        False,
        None,
    )
    assert hand_rows["h1"]["data"] == dict.fromkeys(hand_rows["h1"]["data"])


def test_hand_course_rows_match_schema(hand_rows):
    fields = load_schema("course_axis")
    for row in hand_rows.values():
        assert_matches_schema(row, fields)


def test_without_tarball_problems_fall_back():
    rows = build_course_axis(HAND_STRUCTURE, None, "course-v1:TestX+T101+2024")
    by_url_name = {row["url_name"]: row for row in rows}
    assert by_url_name["p1"]["course_id"] == "TestX/T101/2024"
    p1 = by_url_name["p1"]["data"]  # its <solution> is in the OLX only
    assert (p1["itype"], p1["num_items"], p1["has_solution"], p1["has_image"]) == (
        None,
        1,
        False,
        None,
    )
    assert by_url_name["p3"]["data"]["has_solution"] is True  # showanswer=finished
    assert by_url_name["vid1"]["data"] == {**dict.fromkeys(p1), "ytid": "1.0:NORMALVID"}


def test_i4x_keys():
    structure = {
        "i4x://OldX/1.01/course/2013_Spring": {
            "category": "course",
            "children": ["i4x://OldX/1.01/chapter/Week_1"],
            "metadata": {"display_name": "Old"},
        },
        "i4x://OldX/1.01/chapter/Week_1": {"category": "chapter", "children": [], "metadata": {}},
    }
    rows = build_course_axis(structure, None, "OldX/1.01/2013_Spring")
    assert [(r["url_name"], r["path"], r["module_id"]) for r in rows] == [
        ("2013_Spring", "/", "OldX/1.01/course/2013_Spring"),
        ("Week_1", "/Week_1", "OldX/1.01/chapter/Week_1"),
    ]
    assert rows[1]["name"] == "Old"


def test_no_course_block_is_an_error():
    structure = {key("chapter", "ch1"): block("chapter", display_name="Orphan")}
    with pytest.raises(ValueError, match="no block with category 'course'"):
        build_course_axis(structure, None, "TestX/T101/2024")


def test_hand_grading_policy(tmp_path):
    tarball = write_tarball(tmp_path / "course.xml.tar.gz", HAND_OLX)
    rows = build_grading_policy(tarball, "TestX/T101/2024")
    cutoffs = {
        "overall_lower_cutoff": 0.6,
        "overall_lower_cutoff_label": "C",
        "overall_upper_cutoff": 0.9,
        "overall_upper_cutoff_label": "A",
        "course_id": "TestX/T101/2024",
    }
    assert rows == [
        {
            "assignment_type": "Homework",
            "name": "Homework",
            "fraction_of_overall_grade": 0.3,
            "min_count": 5,
            "drop_count": 1,
            "short_label": "HW",
            **cutoffs,
        },
        {
            "assignment_type": "Exam",
            "name": "Exam",
            "fraction_of_overall_grade": 0.7,
            "min_count": 1,
            "drop_count": 0,
            "short_label": None,
            **cutoffs,
        },
    ]
    for row in rows:
        assert_matches_schema(row, load_schema("grading_policy"))


def test_grading_policy_without_tarball_or_policy(tmp_path):
    assert build_grading_policy(None, "TestX/T101/2024") == []
    tarball = write_tarball(tmp_path / "bare.xml.tar.gz", {"x/course.xml": b"<course/>"})
    assert build_grading_policy(tarball, "TestX/T101/2024") == []


def test_unreadable_tarball_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.xml.tar.gz"
    broken.write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match="cannot read the OLX tarball"):
        build_grading_policy(broken, "TestX/T101/2024")


# ---------------------------------------------------------------------------------------------
# The real acceptance fixture (edx-analytics-pipeline)


def test_real_fixture_structure_has_no_course_block():
    # The upstream fixture holds a single chapter block and no course root.
    with pytest.raises(ValueError, match="no block with category 'course'"):
        build_course_axis(
            json.loads(REAL_STRUCTURE.read_text()), REAL_TARBALL, "edX/DemoX/Demo_Course"
        )


def test_real_fixture_under_a_course_root():
    structure = json.loads(REAL_STRUCTURE.read_text())
    (chapter,) = structure
    structure["block-v1:edX+DemoX+Demo_Course+type@course+block@course"] = {
        "category": "course",
        "children": [chapter],
        "metadata": {"display_name": "Demo"},
    }
    rows = build_course_axis(structure, REAL_TARBALL, "edX/DemoX/Demo_Course")
    assert [(r["index"], r["category"], r["path"]) for r in rows] == [
        (1, "course", "/"),
        (2, "chapter", "/1414ffd5143b4b508f739b563ab468b7"),
    ]  # its sequential is not listed
    assert rows[1]["start"] == "1970-01-01T05:00:00+00:00"
    assert rows[1]["name"] == "About Exams and Certificates"
    for row in rows:
        assert_matches_schema(row, load_schema("course_axis"))
    assert build_grading_policy(REAL_TARBALL, "edX/DemoX/Demo_Course") == []


# ---------------------------------------------------------------------------------------------
# The generated demo package


@pytest.fixture(scope="module")
def demo_courses():
    """course_id -> (course_structure dict, decrypted OLX tarball path) for every demo course."""
    import gnupg

    outdir = Path(tempfile.mkdtemp(prefix="cax", dir="/tmp"))
    gnupghome = outdir / "pkg" / "gnupg"
    try:
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "make_demo_package.py"), str(outdir / "pkg")],
            check=True,
            capture_output=True,
        )
        gpg = gnupg.GPG(gnupghome=str(gnupghome))
        courses = {}
        with zipfile.ZipFile(
            outdir / "pkg" / "source" / "course-data" / "demox-2026-11-08.zip"
        ) as bundle:
            for name in bundle.namelist():
                if not name.endswith("-course_structure-prod-analytics.json.gpg"):
                    continue
                prefix = name[: -len("-course_structure-prod-analytics.json.gpg")]
                structure = gpg.decrypt(bundle.read(name))
                olx = gpg.decrypt(bundle.read(f"{prefix}-course-prod-analytics.xml.tar.gz.gpg"))
                assert structure.ok and olx.ok, (structure.status, olx.status)
                course_dir = Path(prefix).name  # Org-Num-Run; only the number may contain `-`
                tarball = outdir / f"{course_dir}.xml.tar.gz"
                tarball.write_bytes(olx.data)
                org, number_run = course_dir.split("-", 1)
                courses["/".join([org, *number_run.rsplit("-", 1)])] = (
                    json.loads(structure.data),
                    tarball,
                )
        yield courses
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(gnupghome), "--kill", "gpg-agent"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(outdir, ignore_errors=True)


def test_demo_courses(demo_courses):
    assert set(demo_courses) == {
        "DemoX/DS101/2026_T1",
        "DemoX/PHY-2.1x/2025_Fall",
        "DemoX/CS.50x/1T2026",
    }
    fields = load_schema("course_axis")
    for course_id, (structure, tarball) in demo_courses.items():
        rows = build_course_axis(structure, tarball, course_id)
        assert len(rows) == len(structure)
        assert (rows[0]["index"], rows[0]["category"], rows[0]["path"]) == (1, "course", "/")
        problems = [row for row in rows if row["category"] == "problem"]
        assert problems and all(row["data"]["itype"] in RESPONSE_TYPES for row in problems)
        assert all(row["data"]["has_solution"] for row in problems)
        assert all(row["data"]["ytid"] for row in rows if row["category"] == "video")
        graded = [row for row in rows if row["graded"]]
        assert graded and all(row["gformat"] and row["due"] for row in graded)
        for row in rows:
            assert_matches_schema(row, fields)
        policy = build_grading_policy(tarball, course_id)
        assert [row["assignment_type"] for row in policy] == ["Homework", "Lab", "Final Exam"]
        assert {row["assignment_type"] for row in policy} >= {row["gformat"] for row in graded}
        for row in policy:
            assert_matches_schema(row, load_schema("grading_policy"))
