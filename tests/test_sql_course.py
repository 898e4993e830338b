"""One course of a SQL bundle, end to end with a real gpg: tables, receipts and bad members."""

import io
import json
import zipfile
from pathlib import Path

import pytest

from edxflow.bundle import BundleError, index_bundle
from edxflow.decrypt import DecryptionError
from edxflow.jsonl import read_rows
from edxflow.sql_course import split_course
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "real" / "edx-analytics-pipeline-state"
DIR = "mitx-2021-01-03"


def bundle_of(path: Path, members: dict[str, bytes], keys, key=None) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, keys.encrypt(data, key) if name.endswith(".gpg") else data)
    path.write_bytes(buffer.getvalue())
    return path


def split(bundle: Path, tmp_path: Path, keys, course="MITx/1x/T1"):
    entry = next(e for e in index_bundle(bundle, ["edx"])["courses"] if e["course_id"] == course)
    return split_course(bundle, entry, tmp_path / "SQL" / entry["base"] / "2021-01-03", str(keys.home), None)


def test_the_real_fixture_bundle(tmp_path, keys):
    """The edX analytics pipeline's research-package-style course, encrypted and zipped as edX does."""
    # its members carry the test suffix `acceptance` where edX writes `prod-analytics`; the structure
    # JSON is a fragment without a course root, so it stays out
    members = {f"{DIR}/{path.name}.gpg": path.read_bytes()
               for path in FIXTURE.iterdir() if path.suffix in (".sql", ".mongo") or path.name.endswith(".tar.gz")}
    bundle = bundle_of(tmp_path / "edx-2021-01-03.zip", members, keys)
    receipt = split(bundle, tmp_path, keys, course="edX/DemoX/Demo_Course")
    assert receipt["rejects"] == {} and receipt["refused"] == [] and receipt["other"] == []
    tables = receipt["tables"]
    assert {"auth_user", "auth_userprofile", "certificates_generatedcertificate", "student_courseenrollment",
            "studentmodule", "problem_analysis", "forum", "user_info_combo", "grading_policy", "wiki_article"} <= set(tables)
    directory = Path(receipt["directory"])
    assert tables["auth_user"]["rows"] == 4 and tables["studentmodule"]["rows"] == 4 and tables["forum"]["rows"] == 3
    users = read_rows(directory / "auth_user.json.gz")
    assert users[0]["username"] == "honor" and users[0]["email_key"] is None
    states = [json.loads(row["state"]) for row in read_rows(directory / "studentmodule.json.gz") if row["state"]]
    assert states and all(isinstance(state, dict) for state in states)
    enrollments = read_rows(directory / "student_courseenrollment.json.gz")
    assert {row["course_id"] for row in enrollments} == {"edX/DemoX/Demo_Course"}
    assert tables["auth_user"]["members"] == [f"{DIR}/edX-DemoX-Demo_Course-auth_user-acceptance.sql.gpg"]


def course_members(**extra) -> dict[str, bytes]:
    members = {
        f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg": b"id\tusername\temail\tis_staff\tlast_login\tdate_joined\n"
                                                              b"1\talice\ta@x.org\t0\tNULL\t2020-01-01 00:00:00\n",
        f"{DIR}/MITx-1x-T1-student_courseenrollment-prod-analytics.sql.gpg":
            b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t1\tcourse-v1:MITx+1x+T1\t2020-01-01 00:00:00\t1\taudit\n"
            b"2\t1\tbroken row\n",
        f"{DIR}/MITx-2x-T2-auth_user-prod-analytics.sql.gpg": b"id\tusername\n7\tzed\n",
    }
    members.update(extra)
    return members


def test_tables_rejects_and_unknown_members(tmp_path, keys):
    bundle = bundle_of(tmp_path / "mitx-2021-01-03.zip", course_members(**{
        f"{DIR}/MITx-1x-T1-notes.csv.gpg": b"a,b\n1,2\n",
        f"{DIR}/MITx-1x-T1-teams-prod-analytics.failed.gpg": b"export failed\n",
        f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-analytics.failed.gpg": b"export failed\n",
        f"{DIR}/ora/MITx-1x-T1-submissions_submission-prod-analytics.sql.gpg": b"id\tuuid\n1\tabc\n",
    }), keys)
    receipt = split(bundle, tmp_path, keys)
    directory = Path(receipt["directory"])
    assert receipt["tables"]["student_courseenrollment"]["rows"] == 1
    assert receipt["rejects"] == {"student_courseenrollment": {"rows": 1, "file": "rejects/student_courseenrollment.json.gz"}}
    rejected = read_rows(directory / "rejects" / "student_courseenrollment.json.gz")
    assert rejected == [{"line": 3, "reason": "expected 6 fields, found 3", "raw": "2\t1\tbroken row"}]
    assert receipt["tables"]["ora_submissions_submission"]["rows"] == 1
    assert sorted(item["file"] for item in receipt["other"]) == [
        "other/MITx-1x-T1-courseware_studentmodule-prod-analytics.failed", "other/MITx-1x-T1-notes.csv",
        "other/MITx-1x-T1-teams-prod-analytics.failed"]
    assert "studentmodule" not in receipt["tables"]
    assert (directory / "other" / "MITx-1x-T1-notes.csv").read_bytes() == b"a,b\n1,2\n"
    schema = json.loads((directory / "auth_user.schema.json").read_text())
    assert [field["name"] for field in schema] == ["id", "username", "email", "is_staff", "last_login", "date_joined"]
    assert {"user_info_combo"} <= set(receipt["tables"]) and "forum" not in receipt["tables"]
    assert not [p for p in directory.parent.iterdir() if p.name.startswith(".")]  # no scratch left


def test_a_member_for_another_key_fails_only_its_course(tmp_path, keys):
    members = course_members()
    members[f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg"] = keys.encrypt(b"id\n1\n", keys.foreign_key)
    bundle = bundle_of(tmp_path / "mitx-2021-01-03.zip",
                       {name: data for name, data in members.items() if "auth_user" not in name or "2x" in name}, keys)
    with zipfile.ZipFile(bundle, "a") as archive:
        archive.writestr(f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg", members[f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg"])
    with pytest.raises(DecryptionError, match=r"member mitx-2021-01-03/MITx-1x-T1-auth_user-prod-analytics.sql.gpg: gpg says"):
        split(bundle, tmp_path, keys)
    assert not (tmp_path / "SQL" / "MITx__1x__T1").exists() or not any((tmp_path / "SQL" / "MITx__1x__T1").rglob("*.json.gz"))
    assert split(bundle, tmp_path, keys, course="MITx/2x/T2")["tables"]["auth_user"]["rows"] == 1


def test_a_damaged_member_is_named(tmp_path, keys):
    members = course_members()
    bundle = bundle_of(tmp_path / "mitx-2021-01-03.zip", members, keys)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(damaged.with_name("mitx-2021-01-10.zip"), "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[: len(data) // 3] if "enrollment" in info.filename else data)
    with pytest.raises(DecryptionError, match="student_courseenrollment-prod-analytics.sql.gpg: gpg says"):
        split(damaged.with_name("mitx-2021-01-10.zip"), tmp_path, keys)


def test_a_refused_member_is_reported_and_nothing_leaves_the_directory(tmp_path, keys):
    bundle = bundle_of(tmp_path / "mitx-2021-01-03.zip", course_members(), keys)
    entry = next(e for e in index_bundle(bundle, ["edx"])["courses"] if e["course_id"] == "MITx/1x/T1")
    entry["members"].append({"name": "../../escape-prod-analytics.sql.gpg", "table": "escape", "site": "edx",
                             "ext": "sql", "ora": False})
    receipt = split_course(bundle, entry, tmp_path / "SQL" / "MITx__1x__T1" / "2021-01-03", str(keys.home), None)
    assert receipt["refused"][0]["member"] == "../../escape-prod-analytics.sql.gpg"
    assert "escape" not in receipt["tables"] and not list(tmp_path.rglob("*escape*"))


def test_a_structure_that_is_not_json_fails_naming_the_member(tmp_path, keys):
    bundle = bundle_of(tmp_path / "mitx-2021-01-03.zip", course_members(**{
        f"{DIR}/MITx-1x-T1-course_structure-prod-analytics.json.gpg": b"{not json"}), keys)
    with pytest.raises(BundleError, match="MITx-1x-T1-course_structure-prod-analytics.json.gpg is not valid JSON"):
        split(bundle, tmp_path, keys)


def test_rerun_replaces_the_course_directory_whole(tmp_path, keys):
    bundle = bundle_of(tmp_path / "mitx-2021-01-03.zip", course_members(), keys)
    first = split(bundle, tmp_path, keys)
    (Path(first["directory"]) / "stale.json.gz").write_bytes(b"old")
    second = split(bundle, tmp_path, keys)
    assert not (Path(second["directory"]) / "stale.json.gz").exists()
    assert second["tables"]["auth_user"]["rows"] == 1
