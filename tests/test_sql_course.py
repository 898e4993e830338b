"""One course of a SQL bundle, end to end with a real gpg: tables, receipts and bad members."""

import io
import json
import logging
import re
import zipfile
from pathlib import Path

import pytest

from edxflow.core.jsonl import read_rows
from edxflow.core.progress import format_bytes
from edxflow.fetch.decrypt import DecryptionError
from edxflow.sql.bundle import index_bundle
from edxflow.sql.course import split_course
from tests.helpers import REPO, encrypted_bundle

FIXTURE = REPO / "tests" / "fixtures" / "real" / "edx-analytics-pipeline-state"
DIR = "mitx-2021-01-03"


def split(bundle: Path, tmp_path: Path, keys, course="MITx/1x/T1"):
    entry = next(e for e in index_bundle(bundle, ["edx"])["courses"] if e["course_id"] == course)
    return split_course(
        bundle, entry, tmp_path / "SQL" / entry["base"] / "2021-01-03", str(keys.home), None
    )


def test_the_real_fixture_bundle(tmp_path, keys):
    """The edX analytics pipeline's research-package-style course, encrypted and zipped as edX does."""
    # its members carry the test suffix `acceptance` where edX writes `prod-analytics`; the structure
    # JSON is a fragment without a course root, so it stays out
    members = {
        f"{DIR}/{path.name}.gpg": path.read_bytes()
        for path in FIXTURE.iterdir()
        if path.suffix in (".sql", ".mongo") or path.name.endswith(".tar.gz")
    }
    bundle = encrypted_bundle(tmp_path / "edx-2021-01-03.zip", members, keys)
    receipt = split(bundle, tmp_path, keys, course="edX/DemoX/Demo_Course")
    assert receipt["rejects"] == {} and receipt["refused"] == [] and receipt["other"] == []
    tables = receipt["tables"]
    assert {
        "auth_user",
        "auth_userprofile",
        "certificates_generatedcertificate",
        "student_courseenrollment",
        "studentmodule",
        "problem_analysis",
        "forum",
        "user_info_combo",
        "grading_policy",
        "wiki_article",
    } <= set(tables)
    directory = Path(receipt["directory"])
    assert (
        tables["auth_user"]["rows"] == 4
        and tables["studentmodule"]["rows"] == 4
        and tables["forum"]["rows"] == 3
    )
    users = read_rows(directory / "auth_user.json.gz")
    assert users[0]["username"] == "honor" and users[0]["email_key"] is None
    states = [
        json.loads(row["state"])
        for row in read_rows(directory / "studentmodule.json.gz")
        if row["state"]
    ]
    assert states and all(isinstance(state, dict) for state in states)
    enrollments = read_rows(directory / "student_courseenrollment.json.gz")
    assert {row["course_id"] for row in enrollments} == {"edX/DemoX/Demo_Course"}
    assert tables["auth_user"]["members"] == [
        f"{DIR}/edX-DemoX-Demo_Course-auth_user-acceptance.sql.gpg"
    ]


def test_a_course_logs_its_progress_over_its_members_bytes(tmp_path, keys, monkeypatch, caplog):
    """A line whenever a member is done (no interval here), the studentmodule dump as it streams,
    up to 100% of the members' encrypted bytes; then a final line. Numbers only: no user's data."""
    import edxflow.core.progress

    monkeypatch.setattr(edxflow.core.progress, "EVERY", 0)
    members = {
        f"{DIR}/{path.name}.gpg": path.read_bytes()
        for path in FIXTURE.iterdir()
        if path.suffix in (".sql", ".mongo") or path.name.endswith(".tar.gz")
    }
    bundle = encrypted_bundle(tmp_path / "edx-2021-01-03.zip", members, keys)
    with zipfile.ZipFile(bundle) as archive:
        total = sum(info.file_size for info in archive.infolist())
    with caplog.at_level(logging.INFO, logger="edxflow.progress"):
        split(bundle, tmp_path, keys, course="edX/DemoX/Demo_Course")
    lines = [r.getMessage() for r in caplog.records if r.name == "edxflow.progress"]
    step = re.escape("sql_course edX/DemoX/Demo_Course: ")
    size = r"[\d.,]+ k?M?B"
    assert all(
        re.match(
            f"^{step}(\\d+% \\({size} of {size}\\)|done, {size} in [\\d.]+ s), {size}/s$", line
        )
        for line in lines
    ), lines
    percents = [int(line.split(": ")[1].split("%")[0]) for line in lines[:-1]]
    assert len(percents) >= len(members) - 2 and percents == sorted(percents)
    assert percents[-1] == 100 and f"({format_bytes(total)} of {format_bytes(total)})" in lines[-2]
    assert lines[-1].startswith(
        f"sql_course edX/DemoX/Demo_Course: done, {format_bytes(total)} in "
    )


def course_members(**extra) -> dict[str, bytes]:
    members = {
        f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg": b"id\tusername\temail\tis_staff\tlast_login\tdate_joined\n"
        b"1\talice\ta@x.org\t0\tNULL\t2020-01-01 00:00:00\n",
        f"{DIR}/MITx-1x-T1-student_courseenrollment-prod-analytics.sql.gpg": b"id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n1\t1\tcourse-v1:MITx+1x+T1\t2020-01-01 00:00:00\t1\taudit\n"
        b"2\t1\tbroken row\n",
        f"{DIR}/MITx-2x-T2-auth_user-prod-analytics.sql.gpg": b"id\tusername\n7\tzed\n",
    }
    members.update(extra)
    return members


def course_bundle(tmp_path: Path, keys, **extra: bytes) -> Path:
    """The bundle mitx-2021-01-03.zip of course_members(**extra)."""
    return encrypted_bundle(tmp_path / f"{DIR}.zip", course_members(**extra), keys)


def test_tables_rejects_and_unknown_members(tmp_path, keys):
    bundle = course_bundle(
        tmp_path,
        keys,
        **{
            f"{DIR}/MITx-1x-T1-notes.csv.gpg": b"a,b\n1,2\n",
            f"{DIR}/MITx-1x-T1-teams-prod-analytics.failed.gpg": b"export failed\n",
            f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-analytics.failed.gpg": b"export failed\n",
            f"{DIR}/ora/MITx-1x-T1-submissions_submission-prod-analytics.sql.gpg": b"id\tuuid\n1\tabc\n",
        },
    )
    receipt = split(bundle, tmp_path, keys)
    directory = Path(receipt["directory"])
    assert receipt["tables"]["student_courseenrollment"]["rows"] == 1
    assert receipt["rejects"] == {
        "student_courseenrollment": {"rows": 1, "file": "rejects/student_courseenrollment.json.gz"}
    }
    rejected = read_rows(directory / "rejects" / "student_courseenrollment.json.gz")
    assert rejected == [
        {"line": 3, "reason": "expected 6 fields, found 3", "raw": "2\t1\tbroken row"}
    ]
    assert receipt["tables"]["ora_submissions_submission"]["rows"] == 1
    assert sorted(item["file"] for item in receipt["other"]) == [
        "other/MITx-1x-T1-courseware_studentmodule-prod-analytics.failed",
        "other/MITx-1x-T1-notes.csv",
        "other/MITx-1x-T1-teams-prod-analytics.failed",
    ]
    assert "studentmodule" not in receipt["tables"]
    assert (directory / "other" / "MITx-1x-T1-notes.csv").read_bytes() == b"a,b\n1,2\n"
    schema = json.loads((directory / "auth_user.schema.json").read_text())
    assert [field["name"] for field in schema] == [
        "id",
        "username",
        "email",
        "is_staff",
        "last_login",
        "date_joined",
    ]
    assert {"user_info_combo"} <= set(receipt["tables"]) and "forum" not in receipt["tables"]
    assert not [p for p in directory.parent.iterdir() if p.name.startswith(".")]  # no scratch left


def test_a_member_for_another_key_fails_only_its_course(tmp_path, keys):
    members = course_members()
    members[f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg"] = keys.encrypt(
        b"id\n1\n", keys.foreign_key
    )
    bundle = encrypted_bundle(
        tmp_path / "mitx-2021-01-03.zip",
        {name: data for name, data in members.items() if "auth_user" not in name or "2x" in name},
        keys,
    )
    with zipfile.ZipFile(bundle, "a") as archive:
        archive.writestr(
            f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg",
            members[f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg"],
        )
    with pytest.raises(
        DecryptionError,
        match=r"member mitx-2021-01-03/MITx-1x-T1-auth_user-prod-analytics.sql.gpg: gpg says",
    ):
        split(bundle, tmp_path, keys)
    assert not (tmp_path / "SQL" / "MITx__1x__T1").exists() or not any(
        (tmp_path / "SQL" / "MITx__1x__T1").rglob("*.json.gz")
    )
    assert split(bundle, tmp_path, keys, course="MITx/2x/T2")["tables"]["auth_user"]["rows"] == 1


def test_a_damaged_member_is_named(tmp_path, keys):
    members = course_members()
    bundle = encrypted_bundle(tmp_path / "mitx-2021-01-03.zip", members, keys)
    damaged = tmp_path / "damaged.zip"
    with (
        zipfile.ZipFile(bundle) as source,
        zipfile.ZipFile(damaged.with_name("mitx-2021-01-10.zip"), "w") as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[: len(data) // 3] if "enrollment" in info.filename else data)
    with pytest.raises(
        DecryptionError, match="student_courseenrollment-prod-analytics.sql.gpg: gpg says"
    ):
        split(damaged.with_name("mitx-2021-01-10.zip"), tmp_path, keys)


def test_a_refused_member_is_reported_and_nothing_leaves_the_directory(tmp_path, keys):
    bundle = course_bundle(tmp_path, keys)
    entry = next(
        e for e in index_bundle(bundle, ["edx"])["courses"] if e["course_id"] == "MITx/1x/T1"
    )
    entry["members"].append(
        {
            "name": "../../escape-prod-analytics.sql.gpg",
            "table": "escape",
            "site": "edx",
            "ext": "sql",
            "ora": False,
        }
    )
    receipt = split_course(
        bundle, entry, tmp_path / "SQL" / "MITx__1x__T1" / "2021-01-03", str(keys.home), None
    )
    assert receipt["refused"][0]["member"] == "../../escape-prod-analytics.sql.gpg"
    assert "escape" not in receipt["tables"] and not list(tmp_path.rglob("*escape*"))


def test_rerun_replaces_the_course_directory_whole(tmp_path, keys):
    bundle = course_bundle(tmp_path, keys)
    first = split(bundle, tmp_path, keys)
    (Path(first["directory"]) / "stale.json.gz").write_bytes(b"old")
    second = split(bundle, tmp_path, keys)
    assert not (Path(second["directory"]) / "stale.json.gz").exists()
    assert second["tables"]["auth_user"]["rows"] == 1


def olx_tarball(files: dict[str, bytes]) -> bytes:
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


STRUCTURE = f"{DIR}/MITx-1x-T1-course_structure-prod-analytics.json.gpg"
OLX = f"{DIR}/MITx-1x-T1-course-prod-analytics.xml.tar.gz.gpg"
GOOD_STRUCTURE = json.dumps(
    {"block-v1:MITx+1x+T1+type@course+block@course": {"category": "course", "children": []}}
).encode()


@pytest.mark.parametrize(
    "members, rejected",
    [
        ({STRUCTURE: b"{not json"}, {"course_axis": [STRUCTURE]}),
        ({STRUCTURE: b"[1, 2]"}, {"course_axis": [STRUCTURE]}),
        (
            {STRUCTURE: json.dumps({"x": {"category": "chapter"}}).encode()},
            {"course_axis": [STRUCTURE]},
        ),
        (
            {STRUCTURE: GOOD_STRUCTURE, OLX: b"not a tarball"},
            {"course_axis": [STRUCTURE, OLX], "grading_policy": [OLX]},
        ),
        (
            {OLX: olx_tarball({"course/policies/T1/grading_policy.json": b"{broken"})},
            {"grading_policy": [OLX]},
        ),
    ],
)
def test_a_bad_structure_or_olx_rejects_only_its_tables(tmp_path, keys, caplog, members, rejected):
    bundle = course_bundle(tmp_path, keys, **members)
    receipt = split(bundle, tmp_path, keys)
    assert {
        table: entry["members"] for table, entry in receipt["rejected_tables"].items()
    } == rejected
    assert all(
        entry["reason"].startswith(("ValueError", "JSONDecodeError"))
        for entry in receipt["rejected_tables"].values()
    )
    assert not set(rejected) & set(receipt["tables"])
    assert {"auth_user", "student_courseenrollment", "user_info_combo"} <= set(receipt["tables"])
    directory = Path(receipt["directory"])
    assert not [path for path in directory.iterdir() if path.name.split(".")[0] in rejected]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    for table, names in rejected.items():
        assert [message for message in warnings if table in message and names[0] in message], (
            warnings
        )


def test_edx_and_edge_studentmodule_are_both_split(tmp_path, keys):
    header = b"id\tmodule_type\tmodule_id\tstudent_id\tstate\tgrade\tcreated\tmodified\tmax_grade\tdone\tcourse_id\n"
    row = (
        b"%d\tproblem\tblock-v1:MITx+1x+T1+type@problem+block@p1\t%d\t{}\t1\t2020-01-01 00:00:00\t"
        b"2020-01-01 00:00:00\t1\tna\tcourse-v1:MITx+1x+T1\n"
    )
    bundle = course_bundle(
        tmp_path,
        keys,
        **{
            f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-analytics.sql.gpg": header
            + row % (1, 1),
            f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-edge-analytics.sql.gpg": header
            + row % (2, 2)
            + row % (3, 3),
            f"{DIR}/MITx-1x-T1-auth_user-prod-edge-analytics.sql.gpg": b"id\tusername\n2\tbob\n",
        },
    )
    entry = next(
        e
        for e in index_bundle(bundle, ["edx", "edge"])["courses"]
        if e["course_id"] == "MITx/1x/T1"
    )
    receipt = split_course(
        bundle, entry, tmp_path / "SQL" / entry["base"] / "2021-01-03", str(keys.home), None
    )
    tables = receipt["tables"]
    assert tables["studentmodule"]["rows"] == 1 and tables["studentmodule_edge"]["rows"] == 2
    assert tables["problem_analysis"]["members"] == [
        f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-analytics.sql.gpg"
    ]
    assert tables["studentmodule_edge"]["members"] == [
        f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-edge-analytics.sql.gpg"
    ]
    assert "problem_analysis_edge" in tables and tables["auth_user_edge"]["rows"] == 1
    directory = Path(receipt["directory"])
    assert [row["student_id"] for row in read_rows(directory / "studentmodule_edge.json.gz")] == [
        2,
        3,
    ]


def test_bytes_that_are_not_utf8_are_counted_per_table(tmp_path, keys):
    bundle = course_bundle(
        tmp_path,
        keys,
        **{
            f"{DIR}/MITx-1x-T1-auth_user-prod-analytics.sql.gpg": b"id\tusername\n1\tcaf\xe9\n2\t\xff\xfebob\n3\tok\n",
            f"{DIR}/MITx-1x-T1-prod.mongo.gpg": b'{"_id": ObjectId("a1"), "body": "caf\xe9"}\n{"_id": {"$oid": "a2"}}\n',
        },
    )
    receipt = split(bundle, tmp_path, keys)
    assert receipt["tables"]["auth_user"]["non_utf8"] == {
        "bytes": 3,
        "lines": 2,
        "first_lines": [2, 3],
    }
    assert receipt["tables"]["forum"]["non_utf8"] == {"bytes": 1, "lines": 1, "first_lines": [1]}
    assert receipt["tables"]["student_courseenrollment"]["non_utf8"] == {
        "bytes": 0,
        "lines": 0,
        "first_lines": [],
    }
    assert read_rows(Path(receipt["directory"]) / "auth_user.json.gz")[0]["username"] == "caf\ufffd"


def test_a_decompression_bomb_rejects_its_table_and_the_course_is_split(tmp_path, keys, caplog):
    """80 MB of zeros from a few kB: above the 64 MiB floor of the default limit (200 x its size)."""
    bomb = b"id\tname\n" + bytes(80 << 20)
    bundle = course_bundle(
        tmp_path,
        keys,
        **{
            f"{DIR}/MITx-1x-T1-wiki_article-prod-analytics.sql.gpg": bomb,
            f"{DIR}/MITx-1x-T1-courseware_studentmodule-prod-analytics.sql.gpg": bomb,
        },
    )
    receipt = split(bundle, tmp_path, keys)
    rejected = receipt["rejected_tables"]
    assert set(rejected) == {"wiki_article", "studentmodule", "problem_analysis"}
    assert "max_member_expansion" in rejected["wiki_article"]["reason"]
    assert rejected["wiki_article"]["members"] == [
        f"{DIR}/MITx-1x-T1-wiki_article-prod-analytics.sql.gpg"
    ]
    assert {"auth_user", "student_courseenrollment", "user_info_combo"} <= set(receipt["tables"])
    assert "wiki_article" not in receipt["tables"]
    assert (
        sum(path.stat().st_size for path in tmp_path.joinpath("SQL").rglob("*") if path.is_file())
        < 1 << 20
    )
    assert any(
        "wiki_article-prod-analytics.sql.gpg" in record.getMessage()
        for record in caplog.records
        if record.levelname == "WARNING"
    )


def test_the_expansion_limit_is_a_parameter(tmp_path, keys):
    """A dump that gpg compresses about 100 times is refused with a limit of 50 times, and taken with 200."""
    bundle = course_bundle(
        tmp_path,
        keys,
        **{
            f"{DIR}/MITx-1x-T1-wiki_article-prod-analytics.sql.gpg": b"id\tname\n"
            + b"1\tsame row\n" * 5000
        },
    )
    entry = next(
        e for e in index_bundle(bundle, ["edx"])["courses"] if e["course_id"] == "MITx/1x/T1"
    )
    outdir = tmp_path / "SQL" / entry["base"] / "2021-01-03"
    receipt = split_course(
        bundle, entry, outdir, str(keys.home), None, max_expansion=50, min_expansion_bytes=10
    )
    assert set(receipt["rejected_tables"]) == {"wiki_article"}
    assert "max_member_expansion (now 50" in receipt["rejected_tables"]["wiki_article"]["reason"]
    assert {"auth_user", "student_courseenrollment"} <= set(receipt["tables"])
    receipt = split_course(
        bundle, entry, outdir, str(keys.home), None, max_expansion=200, min_expansion_bytes=10
    )
    assert receipt["rejected_tables"] == {} and receipt["tables"]["wiki_article"]["rows"] == 5000


def test_a_dump_whose_header_is_not_a_header_is_rejected_with_a_small_schema(tmp_path, keys):
    """Schema inference reads a bounded header: a 1 MB first line is not a table's columns."""
    bundle = course_bundle(
        tmp_path,
        keys,
        **{f"{DIR}/MITx-1x-T1-wiki_article-prod-analytics.sql.gpg": bytes(1 << 20) + b"\n1\n"},
    )
    receipt = split(bundle, tmp_path, keys)
    assert "header" in receipt["rejected_tables"]["wiki_article"]["reason"]
    assert not list(Path(receipt["directory"]).glob("wiki_article*"))
