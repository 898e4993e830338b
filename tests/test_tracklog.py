"""Normalisation of an event to the tracking_log table."""

import json

import pytest

from edxflow.core.jsonl import shipped_schema
from edxflow.logs.event_course import module_of
from edxflow.logs.tracklog import STRUCT_EVENT_TYPES, normalise, payload_of, valid_time

TIME = "2021-01-01T10:00:00.123456+00:00"


def row_of(record, course="MITx/1x/T1", module=None):
    return normalise(record, course, module, payload_of(record.get("event")))


def schema_names(fields):
    return {
        f["name"]: schema_names(f["fields"]) if f["type"] == "RECORD" else f["type"] for f in fields
    }


def test_time_is_kept_exactly_and_validated():
    assert row_of({"time": TIME})["time"] == TIME
    for good in (
        TIME,
        "2021-01-01T10:00:00+00:00",
        "2021-01-01 10:00:00",
        "2021-01-01T10:00:00Z",
        "2021-01-01T10:00:00.1 UTC",
    ):
        assert valid_time(good), good
    for bad in (None, "", "yesterday", "2021-01-01", 1609495200, "2021-01-01T10:00:00+00:00 extra"):
        assert not valid_time(bad), bad


def test_event_object_becomes_a_json_string_and_a_typed_struct():
    event = {
        "problem_id": "block-v1:MITx+1x+T1+type@problem+block@p1",
        "attempts": "2",
        "grade": "1",
        "max_grade": 2,
        "success": "correct",
        "done": "false",
        "answers": {"p1_2_1": "choice_1"},
        "state": {"seed": "7", "done": "true", "student_answers": {"p1_2_1": "choice_0"}},
        "new_speed": float("nan"),
    }
    row = row_of({"time": TIME, "event_type": "problem_check", "event": event})
    assert json.loads(row["event"])["answers"] == {"p1_2_1": "choice_1"}
    struct = row["event_struct"]
    assert struct["attempts"] == 2 and struct["grade"] == 1.0 and struct["max_grade"] == 2.0
    assert struct["done"] is False  # "false" is false
    assert json.loads(struct["answers"]) == {"p1_2_1": "choice_1"}
    assert struct["state"] == {"seed": 7, "done": True, "student_answers": '{"p1_2_1":"choice_0"}'}
    assert "new_speed" not in struct  # NaN is no value


def test_browser_event_string_is_kept_as_logged_and_parsed_for_the_struct():
    logged = '{"id":"i4x-MITx-1x-video-v1","currentTime":12.5,"code":"html5"}'
    row = row_of(
        {"time": TIME, "event_type": "play_video", "event_source": "browser", "event": logged}
    )
    assert row["event"] == logged
    assert row["event_struct"] == {
        "id": "i4x-MITx-1x-video-v1",
        "currentTime": 12.5,
        "code": "html5",
    }


def test_other_events_get_get_and_post_as_json():
    row = row_of(
        {
            "time": TIME,
            "event_type": "/courses/x/y/z/discussion/threads/1/reply",
            "event": {"GET": {}, "POST": {"body": ["hello"]}, "other": 1},
        }
    )
    assert row["event_struct"] == {"GET": "{}", "POST": '{"body":["hello"]}'}
    assert (
        row_of({"time": TIME, "event_type": "x", "event": "input_a=1&input_b=2"}).get(
            "event_struct"
        )
        is None
    )


def test_renamed_keys_and_types():
    row = row_of(
        {"time": TIME, "event_type": "seq_goto", "event": {"old": "1", "new": 2.0, "child-id": 5}}
    )
    assert row["event_struct"] == {"old": 1, "new": 2, "child_id": "5"}


def test_nothing_is_lost():
    record = {
        "time": TIME,
        "username": "alice",
        "referer": "https://x/",
        "accept_language": "en",
        "roles": ["a"],
        "minion_id": "m1",
        "nonInteraction": 1,
        "_id": {"$oid": "5f00"},
        "course_id": "MITx/1x/T1",
        "context": {
            "course_id": "course-v1:MITx+1x+T1",
            "user_id": "",
            "org_id": "MITx",
            "course_user_tags": {"xblock.partition_service.partition_1": "2"},
            "module": {
                "display_name": "P1",
                "usage_key": "block-v1:MITx+1x+T1+type@problem+block@p1",
            },
            "application": {"name": "edx.mobileapp"},
            "label": "x",
        },
        "event": {"GET": {}},
    }
    row = row_of(record, module=module_of(record, payload_of(record["event"]), {}))
    assert (
        row["referer"] == "https://x/"
        and row["accept_language"] == "en"
        and row["username"] == "alice"
    )
    # simeon's module_id: a block-v1 key keeps its run
    assert (
        row["mongoid"] == "5f00"
        and row["module_id"] == "MITx/1x/T1/problem/p1"
        and row["course_id"] == "MITx/1x/T1"
    )
    assert row["context"]["module"] == {
        "display_name": "P1",
        "usage_key": "block-v1:MITx+1x+T1+type@problem+block@p1",
    }
    assert "user_id" not in row["context"]  # "" is no user id
    assert json.loads(row["context"]["course_user_tags"]) == {
        "xblock.partition_service.partition_1": "2"
    }
    assert json.loads(row["extra"]) == {
        "roles": ["a"],
        "minion_id": "m1",
        "nonInteraction": 1,
        "course_id": "MITx/1x/T1",
        "context": {"application": {"name": "edx.mobileapp"}, "label": "x"},
    }


def test_rows_only_use_schema_columns():
    names = schema_names(shipped_schema("tracking_log"))
    record = {
        "time": TIME,
        "username": 5,
        "ip": None,
        "event_type": "problem_check",
        "host": "h",
        "page": "p",
        "context": {"user_id": 3, "path": "/x", "module": {"display_name": "d"}},
        "event": {"problem_id": "p", "state": {"seed": 1}, "unknown_field": {"a-b": 1}},
    }
    row = row_of(record)
    assert row["username"] == "5"

    def check(value, allowed):
        for key, item in value.items():
            assert key in allowed, key
            if isinstance(allowed[key], dict):
                check(item, allowed[key])

    check(row, names)


def test_struct_event_types_cover_video_problem_navigation_and_enrolment():
    for event_type in (
        "play_video",
        "seq_goto",
        "problem_check",
        "edx.course.enrollment.activated",
    ):
        assert event_type in STRUCT_EVENT_TYPES


@pytest.mark.parametrize(
    "value, expected", [({"a": 1}, '{"a":1}'), (True, "true"), (3, "3"), ([1], "[1]")]
)
def test_non_string_top_level_values_become_strings(value, expected):
    assert row_of({"time": TIME, "agent": value})["agent"] == expected
