import pytest

from edxflow.core.config import ConfigError, validate_config
from edxflow.core.errors import UserError
from edxflow.reports.extra_args import RESERVED, ExtraArgsError, parse_extra_args


def test_nothing_is_no_arguments():
    assert parse_extra_args(None) == {}
    assert parse_extra_args("") == {}
    assert parse_extra_args({}) == {}


def test_string_form_types():
    assert parse_extra_args("a=x,b:i=2,c:f=1.5,d:s=07,e:i=-3,f:f=2") == {
        "a": "x",
        "b": 2,
        "c": 1.5,
        "d": "07",
        "e": -3,
        "f": 2.0,
    }
    assert isinstance(parse_extra_args("f:f=2")["f"], float)


def test_repeated_keys_become_lists_in_order():
    assert parse_extra_args("l:i=1,l:i=2,l:i=3,s=a,s=b,one=x") == {
        "l": [1, 2, 3],
        "s": ["a", "b"],
        "one": "x",
    }


def test_value_is_everything_after_the_first_equals():
    # simeon keeps only "a"; we keep the whole value
    assert parse_extra_args("q=a=b,e=") == {"q": "a=b", "e": ""}


def test_empty_items_and_spaces_around_items_are_ignored():
    assert parse_extra_args(" a=1, ,b:i= 2 ,,") == {"a": "1", "b": 2}


@pytest.mark.parametrize(
    "text, named",
    [
        ("a=1,k:x=1", "'k:x=1': unknown type 'x'"),
        ("k:=1", "'k:=1': unknown type ''"),
        ("k:I=1", "unknown type 'I'"),
        ("k:i=x", "'k:i=x': 'x' is not an integer"),
        ("k:i=1.5", "'k:i=1.5': '1.5' is not an integer"),
        ("k:i=", "'k:i=': '' is not an integer"),
        ("k:f=abc", "'k:f=abc': 'abc' is not a number"),
        ("k:f=nan", "'k:f=nan': nan is not a finite number"),
        ("k:f=inf", "is not a finite number"),
        ("a=1,novalue", "item 'novalue' has no '='"),
        ("=1", "item '=1': '' is not a name"),
        ("1k=1", "'1k' is not a name"),
        ("my-key=1", "'my-key' is not a name"),
        ("a b=1", "'a b' is not a name"),
    ],
)
def test_bad_string_items_are_named(text, named):
    with pytest.raises(ExtraArgsError) as raised:
        parse_extra_args(text)
    assert named in str(raised.value)
    assert isinstance(raised.value, UserError)


@pytest.mark.parametrize("key", ["course_id", "latest_dataset", "log_dataset", "geo_table"])
def test_keys_may_not_shadow_renderer_variables(key):
    assert {"course_id", "latest_dataset", "log_dataset", "geo_table", "youtube_table"} <= RESERVED
    with pytest.raises(ExtraArgsError, match=f"'{key}' is set by the report renderer"):
        parse_extra_args(f"{key}=x")
    with pytest.raises(ExtraArgsError, match=f"'{key}' is set by the report renderer"):
        parse_extra_args({key: "x"})


def test_suffixes_are_dates_returned_as_strings():
    assert parse_extra_args("suffix_start=20210101,suffix_end:i=20211231") == {
        "suffix_start": "20210101",
        "suffix_end": "20211231",
    }
    assert parse_extra_args({"suffix_start": 20200229}) == {"suffix_start": "20200229"}
    assert parse_extra_args("suffix_end=20210101,suffix_start=20210101")["suffix_end"] == "20210101"


@pytest.mark.parametrize(
    "value, named",
    [
        ("suffix_start=2021-01-01", "suffix_start='2021-01-01' is not a date"),
        ("suffix_start=2021010", "suffix_start='2021010' is not a date"),
        ("suffix_end=202101011", "suffix_end='202101011' is not a date"),
        ("suffix_end=20210230", "suffix_end='20210230' is not a date"),
        ("suffix_end=20211301", "is not a date"),
        ("suffix_start=x2021010", "is not a date"),
        ("suffix_start=20210101,suffix_start=20210102", "suffix_start=['20210101', '20210102']"),
        ({"suffix_start": 2021.0101}, "is not a date"),
        ({"suffix_start": True}, "is not a date"),
        ("suffix_start=20210201,suffix_end=20210131", "suffix_start=20210201 is after"),
    ],
)
def test_bad_suffixes_are_named(value, named):
    with pytest.raises(ExtraArgsError) as raised:
        parse_extra_args(value)
    assert named in str(raised.value)


def test_timeouts_are_whole_minutes():
    assert parse_extra_args("timeout_short:i=10,timeout_long=45") == {
        "timeout_short": 10,
        "timeout_long": 45,
    }
    assert parse_extra_args({"timeout_short": "7", "timeout_long": 60}) == {
        "timeout_short": 7,
        "timeout_long": 60,
    }


@pytest.mark.parametrize(
    "value, named",
    [
        ("timeout_short=0", "extra_args timeout_short='0' is not a number of minutes"),
        ("timeout_short:i=-5", "extra_args timeout_short=-5 is not a number of minutes"),
        ("timeout_long:f=2.5", "extra_args timeout_long=2.5 is not a number of minutes"),
        ("timeout_long=half", "extra_args timeout_long='half' is not a number of minutes"),
        ("timeout_long:i=5,timeout_long:i=6", "timeout_long=[5, 6] is not a number of minutes"),
        ({"timeout_short": True}, "timeout_short=True is not a number of minutes"),
    ],
)
def test_bad_timeouts_are_named(value, named):
    with pytest.raises(ExtraArgsError) as raised:
        parse_extra_args(value)
    assert named in str(raised.value)
    assert "timeout_" in str(raised.value) and ":i=10" in str(raised.value)


def test_mapping_values():
    given = {"a": "x", "n": 3, "x": 0.5, "flag": True, "l": [1, "b", 2.5, False], "t": ("p", "q")}
    parsed = parse_extra_args(given)
    assert parsed == {**given, "t": ["p", "q"]}
    assert parsed is not given and parsed["l"] is not given["l"]


@pytest.mark.parametrize(
    "mapping, named",
    [
        ({"a": None}, "extra_args key 'a': None is null"),
        ({"a": {"b": 1}}, "extra_args key 'a': {'b': 1} is a mapping"),
        ({"a": [1, [2]]}, "extra_args key 'a': [2] is a list"),
        ({"a": [None]}, "extra_args key 'a': None is null"),
        ({"a": float("inf")}, "'a': inf is not a finite number"),
        ({1: "x"}, "extra_args key 1 is not a name"),
        ({"bad key": "x"}, "'bad key' is not a name"),
    ],
)
def test_bad_mapping_values_are_named(mapping, named):
    with pytest.raises(ExtraArgsError) as raised:
        parse_extra_args(mapping)
    assert named in str(raised.value)


def test_other_kinds_are_refused():
    with pytest.raises(ExtraArgsError, match="mapping or a string"):
        parse_extra_args(["a=1"])


def test_config_defaults():
    reports = validate_config({"org": "mitx"})["reports"]
    assert reports == {
        "tables": "all",
        "query_dir": None,
        "extra_args": {},
        "geo_table": None,
        "youtube_table": None,
        "youtube": None,
        "geoip": None,
        "preview_rows": 0,
    }


def test_config_accepts_valid_reports(tmp_path):
    reports = {
        "tables": ["person_course", "video_axis"],
        "query_dir": str(tmp_path),
        "extra_args": "suffix_start=20210101,l:i=1,l:i=2",
        "geo_table": "my_project.geocode.geoip",
        "youtube_table": "videos.youtube",
        "preview_rows": 3,
        "youtube": {"api_key_env": "YOUTUBE_API_KEY"},
        "geoip": {"database": "GeoLite2-City.mmdb"},
    }
    config = validate_config({"org": "mitx", "reports": dict(reports)})
    assert config["reports"] == reports  # the string form stays as written
    validate_config({"org": "mitx", "reports": {"extra_args": {"suffix_end": "20211231"}}})
    validate_config({"org": "mitx", "reports": {"geo_table": "geoip"}})
    for tables in ("all", "all_with_optional", ["time_on_task"]):
        assert (
            validate_config({"org": "mitx", "reports": {"tables": tables}})["reports"]["tables"]
            == tables
        )
    validate_config({"org": "mitx", "reports": {"geo_table": "my-project.geocode.geoip"}})
    with pytest.raises(ConfigError, match="reports.youtube"):
        validate_config({"org": "mitx", "reports": {"youtube": {"api_key_env": "A KEY"}}})
    with pytest.raises(ConfigError, match="reports.geoip"):
        validate_config({"org": "mitx", "reports": {"geoip": {"path": "City.mmdb"}}})
    with pytest.raises(ConfigError, match="reports.youtube"):
        validate_config({"org": "mitx", "reports": {"youtube": {"key": "AIza..."}}})
    with pytest.raises(ConfigError, match="reports.preview_rows"):
        validate_config({"org": "mitx", "reports": {"preview_rows": -1}})


@pytest.mark.parametrize(
    "reports, named",
    [
        ({"extra_args": "a=1,k:i=x"}, "config key 'reports.extra_args': extra_args item 'k:i=x'"),
        ({"extra_args": "k:q=1"}, "config key 'reports.extra_args': extra_args item 'k:q=1'"),
        ({"extra_args": "course_id=x"}, "config key 'reports.extra_args'"),
        ({"extra_args": "suffix_start=20211301"}, "config key 'reports.extra_args'"),
        ({"extra_args": {"a": None}}, "config key 'reports.extra_args': extra_args key 'a'"),
        ({"extra_args": 5}, "config key 'reports.extra_args'"),
        ({"query_dir": "/nonexistent/queries"}, "'reports.query_dir': /nonexistent/queries does"),
        ({"tables": "some"}, "config key 'reports.tables'"),
        ({"tables": "all_with"}, "config key 'reports.tables'"),
        ({"tables": []}, "config key 'reports.tables'"),
        ({"tables": ["person_course", "bad name"]}, "config key 'reports.tables.1'"),
        ({"geo_table": "a.b.c.d"}, "config key 'reports.geo_table'"),
        ({"geo_table": "my-project.geoip"}, "config key 'reports.geo_table'"),
        ({"geo_table": "geocode.my-geoip"}, "config key 'reports.geo_table'"),
        ({"youtube_table": "videos.youtube; DROP"}, "config key 'reports.youtube_table'"),
        ({"youtube_table": "videos..youtube"}, "config key 'reports.youtube_table'"),
        ({"extra_arg": {}}, "unknown config key 'reports.extra_arg'"),
    ],
)
def test_invalid_reports_config_names_the_key(reports, named):
    with pytest.raises(ConfigError) as raised:
        validate_config({"org": "mitx", "reports": reports})
    assert named in str(raised.value)


def test_query_dir_that_is_a_file_is_named(tmp_path):
    path = tmp_path / "person_course.sql"
    path.write_text("select 1")
    with pytest.raises(ConfigError, match=f"'reports.query_dir': {path} is not a directory"):
        validate_config({"org": "mitx", "reports": {"query_dir": str(path)}})
