import datetime as dt

import pytest

from edxflow.core import naming
from edxflow.fetch.manifest import select_objects

D = dt.date


def test_object_keys_follow_the_package_naming():
    assert (
        naming.log_key("mitx", "edx", D(2021, 1, 1))
        == "mitx/edx/events/2021/mitx-edx-events-2021-01-01.log.gz.gpg"
    )
    assert naming.sql_key("mitx", D(2021, 1, 3)) == "mitx-2021-01-03.zip"
    assert (
        naming.email_key("mitx", D(2021, 1, 3)) == "email-opt-in/email-opt-in-mitx-2021-01-03.zip"
    )


def test_log_prefixes_are_one_per_year_and_others_are_single():
    assert naming.list_prefixes("mitx", "log", "edge", D(2020, 12, 30), D(2022, 1, 2)) == [
        "mitx/edge/events/2020/mitx-edge-events-",
        "mitx/edge/events/2021/mitx-edge-events-",
        "mitx/edge/events/2022/mitx-edge-events-",
    ]
    assert naming.list_prefixes("mitx", "sql", "all", D(2020, 1, 1), D(2022, 1, 1)) == ["mitx-"]
    assert naming.list_prefixes("mitx", "email", "all", D(2020, 1, 1), D(2022, 1, 1)) == [
        "email-opt-in/email-opt-in-mitx-"
    ]
    with pytest.raises(ValueError, match="unknown file type 'rdx'"):
        naming.list_prefixes("mitx", "rdx", "all", D(2020, 1, 1), D(2020, 1, 1))


@pytest.mark.parametrize(
    "key, date",
    [
        ("mitx/edx/events/2021/mitx-edx-events-2021-01-01.log.gz.gpg", D(2021, 1, 1)),
        ("mitx-2021-01-03.zip", D(2021, 1, 3)),
        ("2019-01-01/mitx-notes.zip", None),  # only the basename counts
        ("mitx-2021-13-45-2021-02-03.zip", D(2021, 2, 3)),  # the first *valid* date
        ("mitx_course_run.tar.gz.gpg", None),
    ],
)
def test_date_of_key(key, date):
    assert naming.date_of_key(key) == date


def test_classify_key():
    assert naming.classify_key("mitx/edge/events/2021/mitx-edge-events-2021-01-01.log.gz.gpg") == (
        "log",
        "edge",
    )
    assert naming.classify_key("email-opt-in/email-opt-in-mitx-2021-01-03.zip") == ("email", "all")
    assert naming.classify_key("mitx-2021-01-03.zip") == ("sql", "all")


def test_site_units():
    assert naming.site_units(["log", "sql", "email"], ["edx", "edge"]) == [
        ("log", "edx"),
        ("log", "edge"),
        ("sql", "all"),
        ("email", "all"),
    ]


def _objects(*keys):
    return [{"bucket": "b", "key": key, "size": 1, "etag": "x"} for key in keys]


def test_date_filter_is_inclusive_and_sorted():
    listed = _objects(
        "mitx-2021-01-10.zip", "mitx-2021-01-03.zip", "mitx-2021-01-02.zip", "mitx-2021-01-17.zip"
    )
    selected, passed = select_objects(
        listed, "mitx", "sql", D(2021, 1, 3), D(2021, 1, 10), latest=False
    )
    assert [item["key"] for item in selected] == ["mitx-2021-01-03.zip", "mitx-2021-01-10.zip"]
    assert [item["date"] for item in selected] == ["2021-01-03", "2021-01-10"]
    assert passed == []


def test_latest_keeps_only_the_newest_inside_the_range():
    listed = _objects("mitx-2021-01-10.zip", "mitx-2021-01-03.zip", "mitx-2021-01-17.zip")
    selected, _ = select_objects(listed, "mitx", "sql", D(2021, 1, 1), D(2021, 1, 12), latest=True)
    assert [item["key"] for item in selected] == ["mitx-2021-01-10.zip"]


def test_undated_and_foreign_objects_are_reported_not_dropped_silently():
    listed = _objects("mitx-2021-01-10.zip", "mitx-readme.zip", "mitx-pro-2021-01-10.zip")
    selected, passed = select_objects(
        listed, "mitx", "sql", D(2021, 1, 1), D(2021, 1, 12), latest=False
    )
    assert [item["key"] for item in selected] == ["mitx-2021-01-10.zip"]
    assert {item["key"]: item["reason"] for item in passed} == {
        "mitx-readme.zip": "no date in the object's name",
        "mitx-pro-2021-01-10.zip": "not a sql object of org 'mitx'",
    }
