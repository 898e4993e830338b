"""The email opt-in table."""

import errno
import json
import os
from pathlib import Path

import pytest

from edxflow.core.jsonl import read_rows
from edxflow.sql.email_opt_in import EmailError, parse_boolean, parse_timestamp, split_email_opt_in

HEADER = (
    "user_id,username,email,full_name,course_id,is_opted_in_for_email,preference_set_datetime\n"
)


def test_types_course_ids_and_every_member(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(
        HEADER
        + '12,alice,a@example.org,"Alice, A.",course-v1:MITx+1x+T1,True,2021-01-02 10:00:00.000000+00:00\n'
        "13,bob,b@example.org,Bob,MITx/2x/T2,False,NULL\n"
    )
    second = tmp_path / "b.csv"
    second.write_text(
        HEADER
        + "14,carol,c@example.org,Carol,course-v1:MITx+1x+T1,true,2021-01-03 11:00:00+00:00\n"
        "x,dave,d@example.org,Dave,course-v1:MITx+1x+T1,true,2021-01-03 11:00:00+00:00\n"
    )
    receipt = split_email_opt_in([first, second], tmp_path / "EMAIL", "2021-01-03")
    assert {course: info["rows"] for course, info in receipt["by_course"].items()} == {
        "MITx/1x/T1": 2,
        "MITx/2x/T2": 1,
    }
    assert receipt["rejected"] == 1 and receipt["inputs"] == {str(first): 2, str(second): 2}
    rows = read_rows(tmp_path / "EMAIL" / "MITx__1x__T1" / "email_opt_in-2021-01-03.json.gz")
    assert rows[0] == {
        "user_id": 12,
        "username": "alice",
        "email": "a@example.org",
        "full_name": "Alice, A.",
        "course_id": "MITx/1x/T1",
        "is_opted_in_for_email": True,
        "preference_set_datetime": "2021-01-02T10:00:00+00:00",
    }
    schema = json.loads(
        (tmp_path / "EMAIL" / "MITx__1x__T1" / "email_opt_in-2021-01-03.schema.json").read_text()
    )
    assert [field["name"] for field in schema] == list(rows[0])
    rejects = read_rows(tmp_path / "EMAIL" / "rejects" / "email_opt_in-2021-01-03.json.gz")
    assert rejects[0]["line"] == 3 and rejects[0]["file"] == str(second)


def test_course_filter(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "1,a,a@x,A,MITx/1x/T1,True,\n2,b,b@x,B,MITx/2x/T2,True,\n")
    receipt = split_email_opt_in([path], tmp_path / "E", "2021-01-03", ["MITx/2x/T2"])
    assert list(receipt["by_course"]) == ["MITx/2x/T2"] and receipt["filtered_out"] == 1


def test_not_an_email_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,name\n1,x\n")
    with pytest.raises(
        EmailError, match="no email opt-in CSV among 1 file.*a.csv: no user_id, course_id column"
    ):
        split_email_opt_in([path], tmp_path / "E", "2021-01-03")
    assert not (tmp_path / "E").exists()


def test_short_and_long_rows_are_rejects_with_file_and_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        HEADER + "1,a,a@x,A,MITx/1x/T1,True,2021-01-02 10:00:00+00:00\n"
        "2,b,b@x,B,MITx/1x/T1,True,2021-01-02 10:00:00+00:00,surplus,fields\n"
        "3,c,c@x,C,MITx/1x/T1,True\n"
        "4,d,d@"
    )  # the last line cut short
    receipt = split_email_opt_in([path], tmp_path / "E", "2021-01-03")
    assert receipt["by_course"]["MITx/1x/T1"]["rows"] == 1 and receipt["rejected"] == 3
    rejects = read_rows(tmp_path / "E" / "rejects" / "email_opt_in-2021-01-03.json.gz")
    assert [(reject["file"], reject["line"]) for reject in rejects] == [
        (str(path), 3),
        (str(path), 4),
        (str(path), 5),
    ]
    assert "9 fields where the header has 7" in rejects[0]["reason"]
    assert (
        "6 fields where the header has 7" in rejects[1]["reason"]
        and "3 fields" in rejects[2]["reason"]
    )


def test_a_member_that_is_not_an_email_csv_is_passed_over(tmp_path):
    readme = tmp_path / "README.txt"
    readme.write_text("This archive holds the email opt-in file of mitx.\n")
    good = tmp_path / "mitx-email_opt_in-prod-analytics.csv"
    good.write_text(HEADER + "1,a,a@x,A,MITx/1x/T1,True,\n")
    receipt = split_email_opt_in([readme, good], tmp_path / "E", "2021-01-03")
    assert receipt["by_course"]["MITx/1x/T1"]["rows"] == 1 and receipt["inputs"] == {str(good): 1}
    [passed] = receipt["passed_over"]
    assert passed["file"] == str(readme) and "no user_id, course_id column" in passed["reason"]


def two_courses(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        HEADER
        + "1,a,a@x,A,MITx/1x/T1,True,\n2,b,b@x,B,MITx/2x/T2,True,\nx,c,c@x,C,MITx/2x/T2,True,\n"
    )
    return path


def files_under(directory):
    return (
        sorted(p.relative_to(directory) for p in directory.rglob("*") if p.is_file())
        if directory.exists()
        else []
    )


def test_a_course_that_cannot_be_written_leaves_no_course_written(tmp_path):
    path = two_courses(tmp_path)
    (tmp_path / "E").mkdir()
    (tmp_path / "E" / "MITx__2x__T2").write_text("a file where the course's directory goes")
    with pytest.raises(EmailError) as raised:
        split_email_opt_in([path], tmp_path / "E", "2021-01-03")
    assert "cannot write the email opt-in tables of 2021-01-03" in str(raised.value)
    assert "MITx__2x__T2" in str(raised.value) and "nothing was written" in str(raised.value)
    assert files_under(tmp_path / "E") == [Path("MITx__2x__T2")]


def test_disk_full_on_the_second_course_leaves_no_course_written(tmp_path, monkeypatch):
    import edxflow.sql.email_opt_in as email

    path = two_courses(tmp_path)
    earlier = tmp_path / "E" / "MITx__1x__T1" / "email_opt_in-2021-01-02.json.gz"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"an earlier date's file")
    written = []

    def disk_full_on_the_second(target, rows):
        written.append(target)
        if len(written) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_write_rows(target, rows)

    real_write_rows = email.write_rows
    monkeypatch.setattr(email, "write_rows", disk_full_on_the_second)
    with pytest.raises(EmailError, match="No space left on device.*nothing was written"):
        split_email_opt_in([path], tmp_path / "E", "2021-01-03")
    assert files_under(tmp_path / "E") == [earlier.relative_to(tmp_path / "E")]


def test_a_failed_rename_takes_back_the_files_already_renamed(tmp_path):
    path = two_courses(tmp_path)
    # a directory where the second course's schema goes: its rename, the last but one, fails
    in_the_way = tmp_path / "E" / "MITx__2x__T2" / "email_opt_in-2021-01-03.schema.json" / "kept"
    in_the_way.parent.mkdir(parents=True)
    in_the_way.write_text("x")
    with pytest.raises(
        EmailError, match="email_opt_in-2021-01-03.schema.json.*nothing was written"
    ):
        split_email_opt_in([path], tmp_path / "E", "2021-01-03")
    assert files_under(tmp_path / "E") == [in_the_way.relative_to(tmp_path / "E")]


def test_the_receipt_is_written_with_the_tables_or_not_at_all(tmp_path):
    path = two_courses(tmp_path)
    receipt = tmp_path / "receipts" / "2021-01-03.json"
    (receipt / "in-the-way").mkdir(parents=True)  # its rename, the last, fails
    with pytest.raises(EmailError, match="2021-01-03.json: Is a directory; nothing was written"):
        split_email_opt_in([path], tmp_path / "E", "2021-01-03", receipt_path=receipt)
    assert files_under(tmp_path / "E") == []
    (receipt / "in-the-way").rmdir()
    receipt.rmdir()
    written = split_email_opt_in([path], tmp_path / "E", "2021-01-03", receipt_path=receipt)
    assert json.loads(receipt.read_text()) == written and len(files_under(tmp_path / "E")) == 5


def test_course_directories_and_files_are_owner_only(tmp_path):
    split_email_opt_in([two_courses(tmp_path)], tmp_path / "E", "2021-01-03")
    directories = [tmp_path / "E" / name for name in ("MITx__1x__T1", "MITx__2x__T2", "rejects")]
    assert all(directory.stat().st_mode & 0o777 == 0o700 for directory in directories)
    files = [path for directory in directories for path in directory.iterdir()]
    assert len(files) == 5 and all(path.stat().st_mode & 0o777 == 0o600 for path in files)


def test_value_parsers():
    assert (
        parse_boolean("TRUE") is True
        and parse_boolean("0") is False
        and parse_boolean("maybe") is None
    )
    assert parse_timestamp("2021-01-02 10:00:00.123456+00:00") == "2021-01-02T10:00:00.123456+00:00"
    assert parse_timestamp("2021-01-02 10:00:00 UTC") == "2021-01-02T10:00:00+00:00"
    assert parse_timestamp("soon") is None and parse_timestamp(None) is None
