"""Member names of the weekly SQL bundle, and the bundle index."""

import io
import zipfile

import pytest

from edxflow.bundle import BundleError, course_of_prefix, index_bundle, parse_member


@pytest.mark.parametrize("name, expected", [
    ("mitx-2021-01-03/MITx-12.3x-1T2021-auth_user-prod-analytics.sql.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "auth_user", "site": "edx", "ext": "sql", "ora": False}),
    ("X/MITx-12.3x-1T2021-auth_user-prod-edge-analytics.sql.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "auth_user", "site": "edge", "ext": "sql", "ora": False}),
    ("X/MITx-12.3x-1T2021-prod.mongo.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "forum", "site": "edx", "ext": "mongo", "ora": False}),
    ("X/MITx-12.3x-1T2021-prod-edge.mongo.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "forum", "site": "edge", "ext": "mongo", "ora": False}),
    ("X/MITx-12.3x-1T2021-course-prod-analytics.xml.tar.gz.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "course", "site": "edx", "ext": "xml.tar.gz", "ora": False}),
    ("X/MITx-12.3x-1T2021-course-prod-edge-analytics.xml.tar.gz.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "course", "site": "edge", "ext": "xml.tar.gz", "ora": False}),
    ("X/MITx-12.3x-1T2021-course_structure-prod-analytics.json.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "course_structure", "site": "edx", "ext": "json", "ora": False}),
    ("X/ora/MITx-12.3x-1T2021-openassessment_submissions-prod-analytics.sql.gpg",
     {"prefix": "MITx-12.3x-1T2021", "table": "openassessment_submissions", "site": "edx", "ext": "sql", "ora": True}),
    ("X/UC-BerkeleyX-CS-169.1x-2013_Spring-auth_user-prod-analytics.sql.gpg",
     {"prefix": "UC-BerkeleyX-CS-169.1x-2013_Spring", "table": "auth_user", "site": "edx", "ext": "sql", "ora": False}),
    ("edX-DemoX-Demo_Course-auth_user-acceptance.sql",
     {"prefix": "edX-DemoX-Demo_Course", "table": "auth_user", "site": "edx", "ext": "sql", "ora": False}),
])
def test_member_names(name, expected):
    assert parse_member(name) == expected


def test_names_that_follow_no_naming():
    assert parse_member("X/README.txt") is None
    assert parse_member("X/MITx-12.3x-1T2021-notes.csv.gpg") is None


def test_course_numbers_with_dashes_are_resolved_not_guessed():
    assert course_of_prefix("MITx-12.3x-1T2021", "mitx", {}) == ("MITx/12.3x/1T2021", "three parts")
    assert course_of_prefix("DemoX-PHY-2.1x-2025_Fall", "demox", {})[0] == "DemoX/PHY-2.1x/2025_Fall"
    assert course_of_prefix("UC-BerkeleyX-CS-169.1x-2013_Spring", "uc-berkeleyx", {})[0] == "UC-BerkeleyX/CS-169.1x/2013_Spring"
    # a configured course id settles any split, whatever the bundle's name
    known = {"Org-A-B-C-D": "Org-A/B-C/D"}
    assert course_of_prefix("Org-A-B-C-D", "other", known) == ("Org-A/B-C/D", "course list")
    with pytest.raises(BundleError, match="does not name a course"):
        course_of_prefix("MITx-12", "mitx", {})


def make_bundle(path, names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    path.write_bytes(buffer.getvalue())
    return path


NAMES = [
    "mitx-2021-01-03/MITx-12.3x-1T2021-auth_user-prod-analytics.sql.gpg",
    "mitx-2021-01-03/MITx-12.3x-1T2021-prod.mongo.gpg",
    "mitx-2021-01-03/MITx-12.3x-1T2021-notes.csv.gpg",
    "mitx-2021-01-03/ora/MITx-12.3x-1T2021-submissions_submission-prod-analytics.sql.gpg",
    "mitx-2021-01-03/MITx-6.00-x-2T2020-auth_user-prod-analytics.sql.gpg",
    "mitx-2021-01-03/MITx-EDGE1-T1-auth_user-prod-edge-analytics.sql.gpg",
    "mitx-2021-01-03/README.txt",
    "mitx-2021-01-03/../../MITx-12.3x-1T2021-auth_userprofile-prod-analytics.sql.gpg",
    "/etc/MITx-12.3x-1T2021-student_courseenrollment-prod-analytics.sql.gpg",
]


def test_index_reads_only_the_directory(tmp_path):
    index = index_bundle(make_bundle(tmp_path / "mitx-2021-01-03.zip", NAMES), ["edx"])
    courses = {entry["course_id"]: entry for entry in index["courses"]}
    assert sorted(courses) == ["MITx/12.3x/1T2021", "MITx/6.00-x/2T2020"]
    members = {m["name"].split("/")[-1]: m["table"] for m in courses["MITx/12.3x/1T2021"]["members"]}
    assert members == {"MITx-12.3x-1T2021-auth_user-prod-analytics.sql.gpg": "auth_user",
                       "MITx-12.3x-1T2021-prod.mongo.gpg": "forum",
                       "MITx-12.3x-1T2021-submissions_submission-prod-analytics.sql.gpg": "submissions_submission",
                       "MITx-12.3x-1T2021-notes.csv.gpg": None}  # unknown: kept under other/
    assert courses["MITx/12.3x/1T2021"]["base"] == "MITx__12_3x__1T2021"
    assert index["members_of_other_sites"] == ["mitx-2021-01-03/MITx-EDGE1-T1-auth_user-prod-edge-analytics.sql.gpg"]
    assert index["unmapped_members"] == ["mitx-2021-01-03/README.txt"]
    # members whose paths leave the directory are refused and reported, never attached to a course
    assert index["refused_members"] == ["/etc/MITx-12.3x-1T2021-student_courseenrollment-prod-analytics.sql.gpg",
                                        "mitx-2021-01-03/../../MITx-12.3x-1T2021-auth_userprofile-prod-analytics.sql.gpg"]


def test_edge_members_only_with_the_edge_site_and_the_course_filter(tmp_path):
    bundle = make_bundle(tmp_path / "mitx-2021-01-03.zip", NAMES)
    index = index_bundle(bundle, ["edx", "edge"], ["MITx/EDGE1/T1"])
    assert [entry["course_id"] for entry in index["courses"]] == ["MITx/EDGE1/T1"]
    assert index["filtered_out_courses"] == ["MITx/12.3x/1T2021", "MITx/6.00-x/2T2020"]


def test_a_damaged_zip_is_named(tmp_path):
    bad = tmp_path / "mitx-2021-01-03.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BundleError, match="mitx-2021-01-03.zip is not a readable zip"):
        index_bundle(bad, ["edx"])
