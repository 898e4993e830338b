"""Member names of the weekly SQL bundle, and the bundle index."""

import io
import json
import os
import tarfile
import zipfile

import pytest

from edxflow.core.courses import course_base_name, normalize_course_id
from edxflow.sql.bundle import BundleError, course_of_prefix, index_bundle, parse_member
from tests.helpers import PASSPHRASE, encrypted_bundle, run_script


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "mitx-2021-01-03/MITx-12.3x-1T2021-auth_user-prod-analytics.sql.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "auth_user",
                "site": "edx",
                "ext": "sql",
                "ora": False,
            },
        ),
        (
            "X/MITx-12.3x-1T2021-auth_user-prod-edge-analytics.sql.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "auth_user",
                "site": "edge",
                "ext": "sql",
                "ora": False,
            },
        ),
        (
            "X/MITx-12.3x-1T2021-prod.mongo.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "forum",
                "site": "edx",
                "ext": "mongo",
                "ora": False,
            },
        ),
        (
            "X/MITx-12.3x-1T2021-prod-edge.mongo.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "forum",
                "site": "edge",
                "ext": "mongo",
                "ora": False,
            },
        ),
        (
            "X/MITx-12.3x-1T2021-course-prod-analytics.xml.tar.gz.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "course",
                "site": "edx",
                "ext": "xml.tar.gz",
                "ora": False,
            },
        ),
        (
            "X/MITx-12.3x-1T2021-course-prod-edge-analytics.xml.tar.gz.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "course",
                "site": "edge",
                "ext": "xml.tar.gz",
                "ora": False,
            },
        ),
        (
            "X/MITx-12.3x-1T2021-course_structure-prod-analytics.json.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "course_structure",
                "site": "edx",
                "ext": "json",
                "ora": False,
            },
        ),
        (
            "X/ora/MITx-12.3x-1T2021-openassessment_submissions-prod-analytics.sql.gpg",
            {
                "prefix": "MITx-12.3x-1T2021",
                "table": "openassessment_submissions",
                "site": "edx",
                "ext": "sql",
                "ora": True,
            },
        ),
        (
            "X/UC-BerkeleyX-CS-169.1x-2013_Spring-auth_user-prod-analytics.sql.gpg",
            {
                "prefix": "UC-BerkeleyX-CS-169.1x-2013_Spring",
                "table": "auth_user",
                "site": "edx",
                "ext": "sql",
                "ora": False,
            },
        ),
        (
            "edX-DemoX-Demo_Course-auth_user-acceptance.sql",
            {
                "prefix": "edX-DemoX-Demo_Course",
                "table": "auth_user",
                "site": "edx",
                "ext": "sql",
                "ora": False,
            },
        ),
    ],
)
def test_member_names(name, expected):
    assert parse_member(name) == expected


def test_names_that_follow_no_naming():
    assert parse_member("X/README.txt") is None
    assert parse_member("X/MITx-12.3x-1T2021-notes.csv.gpg") is None


def test_course_numbers_with_dashes_are_resolved_not_guessed():
    assert course_of_prefix("MITx-12.3x-1T2021", "mitx", {}) == ("MITx/12.3x/1T2021", "three parts")
    assert (
        course_of_prefix("DemoX-PHY-2.1x-2025_Fall", "demox", {})[0] == "DemoX/PHY-2.1x/2025_Fall"
    )
    assert (
        course_of_prefix("UC-BerkeleyX-CS-169.1x-2013_Spring", "uc-berkeleyx", {})[0]
        == "UC-BerkeleyX/CS-169.1x/2013_Spring"
    )
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
    members = {
        m["name"].split("/")[-1]: m["table"] for m in courses["MITx/12.3x/1T2021"]["members"]
    }
    assert members == {
        "MITx-12.3x-1T2021-auth_user-prod-analytics.sql.gpg": "auth_user",
        "MITx-12.3x-1T2021-prod.mongo.gpg": "forum",
        "MITx-12.3x-1T2021-submissions_submission-prod-analytics.sql.gpg": "submissions_submission",
        "MITx-12.3x-1T2021-notes.csv.gpg": None,
    }  # unknown: kept under other/
    assert courses["MITx/12.3x/1T2021"]["base"] == "MITx__12_3x__1T2021"
    assert index["members_of_other_sites"] == [
        "mitx-2021-01-03/MITx-EDGE1-T1-auth_user-prod-edge-analytics.sql.gpg"
    ]
    assert index["unmapped_members"] == ["mitx-2021-01-03/README.txt"]
    # members whose paths leave the directory are refused and reported, never attached to a course
    assert index["refused_members"] == [
        "/etc/MITx-12.3x-1T2021-student_courseenrollment-prod-analytics.sql.gpg",
        "mitx-2021-01-03/../../MITx-12.3x-1T2021-auth_userprofile-prod-analytics.sql.gpg",
    ]


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


# Ambiguous member names, resolved from the members' content (decrypted as a stream, with a real gpg)

ODD = "UC-BerkeleyX-CS169.1x-3T2020"  # in a bundle named after another org: no split of the name can be trusted
ODD_DIR = "mitx-2021-01-03"


def odd_member(table: str, ext: str = "sql") -> str:
    return f"{ODD_DIR}/{ODD}-{table}-prod-analytics.{ext}.gpg"


def olx_tarball(course_xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (
            ("3T2020/about/overview.html", b"<p>hi</p>"),
            ("3T2020/course.xml", course_xml),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


ENROLLMENTS = (
    b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
    b"1\t7\tcourse-v1:UC-BerkeleyX+CS169.1x+3T2020\t2020-09-01 00:00:00\t1\taudit\n"
)
CERTIFICATES = (
    b"id\tuser_id\tdownload_url\tgrade\tcourse_id\tstatus\n"
    b"1\t7\tNULL\t0.9\tcourse-v1:UC-BerkeleyX+CS169.1x+3T2020\tdownloadable\n"
)
STRUCTURE = json.dumps(
    {
        "block-v1:UC-BerkeleyX+CS169.1x+3T2020+type@chapter+block@c1": {
            "category": "chapter",
            "children": [],
        },
        "block-v1:UC-BerkeleyX+CS169.1x+3T2020+type@course+block@course": {
            "category": "course",
            "children": [],
        },
    }
).encode()
OLX = olx_tarball(b'<course url_name="3T2020" org="UC-BerkeleyX" course="CS169.1x"/>')
CONTENT = {
    "student_courseenrollment": (odd_member("student_courseenrollment"), ENROLLMENTS),
    "certificates_generatedcertificate": (
        odd_member("certificates_generatedcertificate"),
        CERTIFICATES,
    ),
    "course_structure": (odd_member("course_structure", "json"), STRUCTURE),
    "course.xml": (odd_member("course", "xml.tar.gz"), OLX),
}


@pytest.mark.parametrize("source", list(CONTENT))
def test_an_ambiguous_prefix_is_resolved_from_any_member_that_names_the_course(
    tmp_path, keys, source
):
    name, data = CONTENT[source]
    members = {odd_member("auth_user"): b"id\tusername\n7\tann\n", name: data}
    bundle = encrypted_bundle(tmp_path / f"{ODD_DIR}.zip", members, keys)
    (entry,) = index_bundle(bundle, ["edx"], gpg={"homedir": str(keys.home), "passphrase": None})[
        "courses"
    ]
    # the id the email step and the course list give for the same course, so both land under one BASE
    assert (
        entry["course_id"]
        == normalize_course_id("course-v1:UC-BerkeleyX+CS169.1x+3T2020")
        == "UC-BerkeleyX/CS169.1x/3T2020"
    )
    assert entry["base"] == course_base_name("course-v1:UC-BerkeleyX+CS169.1x+3T2020")
    assert entry["resolved_by"] == (
        source if source in ("course.xml", "course_structure") else f"{source}.course_id"
    )
    assert len(entry["members"]) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        bundle.name
    ]  # no plaintext left on disk


def test_the_smallest_member_decides_and_a_passphrase_is_used(tmp_path, keys):
    big = ENROLLMENTS + b"".join(
        b"%d\t7\tcourse-v1:UC-BerkeleyX+CS169.1x+3T2020\t2020-09-01 00:00:00\t1\taudit\n" % i
        for i in range(2, 20000)
    )
    members = {
        odd_member("student_courseenrollment"): big,
        odd_member("certificates_generatedcertificate"): CERTIFICATES,
    }
    bundle = encrypted_bundle(tmp_path / f"{ODD_DIR}.zip", members, keys, key=keys.protected_key)
    (entry,) = index_bundle(
        bundle, ["edx"], gpg={"homedir": str(keys.home), "passphrase": PASSPHRASE}
    )["courses"]
    assert (entry["course_id"], entry["resolved_by"]) == (
        "UC-BerkeleyX/CS169.1x/3T2020",
        "certificates_generatedcertificate.course_id",
    )


def test_without_readable_content_the_name_rules_stay(tmp_path, keys, caplog):
    members = {
        odd_member("auth_user"): b"id\n7\n",
        odd_member("student_courseenrollment"): ENROLLMENTS,
    }
    no_key = encrypted_bundle(tmp_path / f"{ODD_DIR}.zip", members, keys, key=keys.foreign_key)
    (entry,) = index_bundle(no_key, ["edx"], gpg={"homedir": str(keys.home), "passphrase": None})[
        "courses"
    ]
    assert (entry["course_id"], entry["resolved_by"]) == (
        "UC/BerkeleyX-CS169.1x/3T2020",
        "run without '-'",
    )
    assert (
        f"{ODD}-student_courseenrollment-prod-analytics.sql.gpg" in caplog.text
        and "gpg says" in caplog.text
    )
    # no gpg settings (a listing only): nothing is decrypted
    (entry,) = index_bundle(no_key, ["edx"])["courses"]
    assert entry["resolved_by"] == "run without '-'"


def test_content_that_disagrees_with_the_name_is_not_used(tmp_path, keys, caplog):
    other = ENROLLMENTS.replace(
        b"course-v1:UC-BerkeleyX+CS169.1x+3T2020", b"course-v1:MITx+6.002x+2T2021"
    )
    bundle = encrypted_bundle(
        tmp_path / f"{ODD_DIR}.zip", {odd_member("student_courseenrollment"): other}, keys
    )
    (entry,) = index_bundle(bundle, ["edx"], gpg={"homedir": str(keys.home), "passphrase": None})[
        "courses"
    ]
    assert entry["resolved_by"] == "run without '-'"
    assert "MITx/6.002x/2T2021" in caplog.text and f"{ODD}-student_courseenrollment" in caplog.text


def test_unambiguous_and_listed_prefixes_are_never_decrypted(tmp_path, keys, caplog):
    three = f"{ODD_DIR}/MITx-1x-T1-student_courseenrollment-prod-analytics.sql.gpg"
    bundle = tmp_path / f"{ODD_DIR}.zip"
    with zipfile.ZipFile(
        bundle, "w"
    ) as archive:  # members that would fail to decrypt if anyone tried
        archive.writestr(three, b"not gpg at all")
        archive.writestr(odd_member("student_courseenrollment"), b"not gpg either")
    gpg = {"homedir": str(keys.home), "passphrase": None}
    index = index_bundle(bundle, ["edx"], ["MITx/1x/T1", "UC-BerkeleyX/CS169.1x/3T2020"], gpg=gpg)
    assert [(e["course_id"], e["resolved_by"]) for e in index["courses"]] == [
        ("MITx/1x/T1", "course list"),
        ("UC-BerkeleyX/CS169.1x/3T2020", "course list"),
    ]
    index = index_bundle(bundle, ["edx"], gpg=gpg)
    assert [(e["course_id"], e["resolved_by"]) for e in index["courses"]] == [
        ("MITx/1x/T1", "three parts"),
        ("UC/BerkeleyX-CS169.1x/3T2020", "run without '-'"),
    ]
    assert (
        "MITx-1x-T1" not in caplog.text
    )  # the ambiguous one was tried (and failed): the other never
    assert f"{ODD}-student_courseenrollment" in caplog.text


def test_reading_stops_at_the_first_row_that_names_the_course(tmp_path, keys):
    """The rest of a member is never decrypted: here it is cut short, which gpg would only find at its end."""
    rows = b"".join(
        b"%d\t7\tcourse-v1:UC-BerkeleyX+CS169.1x+3T2020\t2020-09-01 00:00:00\t1\t%s\n"
        % (i, b"%x" % (i**7))
        for i in range(2, 30000)
    )
    encrypted = keys.encrypt(ENROLLMENTS + rows)
    bundle = tmp_path / f"{ODD_DIR}.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr(odd_member("student_courseenrollment"), encrypted[: len(encrypted) // 2])
    (entry,) = index_bundle(bundle, ["edx"], gpg={"homedir": str(keys.home), "passphrase": None})[
        "courses"
    ]
    assert (entry["course_id"], entry["resolved_by"]) == (
        "UC-BerkeleyX/CS169.1x/3T2020",
        "student_courseenrollment.course_id",
    )


def test_the_index_step_decrypts_with_the_configured_key_and_passphrase_variable(tmp_path, keys):
    members = {
        odd_member("auth_user"): b"id\n7\n",
        odd_member("student_courseenrollment"): ENROLLMENTS,
    }
    bundle = encrypted_bundle(tmp_path / f"{ODD_DIR}.zip", members, keys, key=keys.protected_key)
    done = run_script(
        "index_bundle.py",
        "--bundle",
        str(bundle),
        "--output",
        str(tmp_path / "index.json"),
        "--gnupghome",
        str(keys.home),
        "--passphrase-env",
        "CZAR_PASSPHRASE",
        env={**os.environ, "CZAR_PASSPHRASE": PASSPHRASE},
    )
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads((tmp_path / "index.json").read_text())["courses"]
    assert (entry["course_id"], entry["resolved_by"]) == (
        "UC-BerkeleyX/CS169.1x/3T2020",
        "student_courseenrollment.course_id",
    )
    assert PASSPHRASE not in done.stderr and PASSPHRASE not in (tmp_path / "index.json").read_text()
