"""The email opt-in table."""

import json

import pytest

from edxflow.email_opt_in import EmailError, parse_boolean, parse_timestamp, split_email_opt_in
from edxflow.jsonl import read_rows

HEADER = "user_id,username,email,full_name,course_id,is_opted_in_for_email,preference_set_datetime\n"


def test_types_course_ids_and_every_member(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(HEADER + '12,alice,a@example.org,"Alice, A.",course-v1:MITx+1x+T1,True,2021-01-02 10:00:00.000000+00:00\n'
                     "13,bob,b@example.org,Bob,MITx/2x/T2,False,NULL\n")
    second = tmp_path / "b.csv"
    second.write_text(HEADER + "14,carol,c@example.org,Carol,course-v1:MITx+1x+T1,true,2021-01-03 11:00:00+00:00\n"
                      "x,dave,d@example.org,Dave,course-v1:MITx+1x+T1,true,2021-01-03 11:00:00+00:00\n")
    receipt = split_email_opt_in([first, second], tmp_path / "EMAIL", "2021-01-03")
    assert {course: info["rows"] for course, info in receipt["by_course"].items()} == {"MITx/1x/T1": 2, "MITx/2x/T2": 1}
    assert receipt["rejected"] == 1 and receipt["inputs"] == {str(first): 2, str(second): 2}
    rows = read_rows(tmp_path / "EMAIL" / "MITx__1x__T1" / "email_opt_in-2021-01-03.json.gz")
    assert rows[0] == {"user_id": 12, "username": "alice", "email": "a@example.org", "full_name": "Alice, A.",
                       "course_id": "MITx/1x/T1", "is_opted_in_for_email": True,
                       "preference_set_datetime": "2021-01-02T10:00:00+00:00"}
    schema = json.loads((tmp_path / "EMAIL" / "MITx__1x__T1" / "email_opt_in-2021-01-03.schema.json").read_text())
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
    with pytest.raises(EmailError, match="a.csv: no user_id, course_id column"):
        split_email_opt_in([path], tmp_path / "E", "2021-01-03")


def test_value_parsers():
    assert parse_boolean("TRUE") is True and parse_boolean("0") is False and parse_boolean("maybe") is None
    assert parse_timestamp("2021-01-02 10:00:00.123456+00:00") == "2021-01-02T10:00:00.123456+00:00"
    assert parse_timestamp("2021-01-02 10:00:00 UTC") == "2021-01-02T10:00:00+00:00"
    assert parse_timestamp("soon") is None and parse_timestamp(None) is None
