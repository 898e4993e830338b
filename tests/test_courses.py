import pytest

from edxflow.core.courses import (
    CourseIdError,
    base_names,
    course_base_name,
    module_id,
    normalize_course_id,
    read_course_list,
)


@pytest.mark.parametrize(
    "text",
    [
        "course-v1:MITx+12.3x+1T2021",
        "MITx/12.3x/1T2021",
        "ccx-v1:MITx+12.3x+1T2021+ccx@3",
        "block-v1:MITx+12.3x+1T2021+type@problem+block@abc",
        "https://courses.edx.org/courses/course-v1:MITx+12.3x+1T2021/courseware/ch1/",
        "https://courses.edx.org/courses/MITx/12.3x/1T2021/info",
        "i4x://MITx/12.3x/course/1T2021",
        "  course-v1%3AMITx%2B12.3x%2B1T2021 ",
    ],
)
def test_every_form_normalises_to_the_slash_form(text):
    assert normalize_course_id(text) == "MITx/12.3x/1T2021"


def test_base_name():
    assert course_base_name("MITx/12.3x/1T2021") == "MITx__12_3x__1T2021"
    assert course_base_name("course-v1:DemoX+PHY-2.1x+2025_Fall") == "DemoX__PHY_2_1x__2025_Fall"


def test_base_names_are_valid_bigquery_dataset_names_whatever_the_run():
    assert course_base_name("course-v1:MITx+6.002x+2021_Fall~1") == "MITx__6_002x__2021_Fall_1"
    assert course_base_name("course-v1:Org+Num+Run:x") == "Org__Num__Run_x"
    assert course_base_name("course-v1:\u00c9coleX+Num+\u00c9t\u00e92021") == "_coleX__Num___t_2021"


def test_two_ids_with_one_base_name_are_an_error_naming_both():
    with pytest.raises(CourseIdError, match=r"'MITx/1.1x/T1' and 'MITx/1_1x/T1'"):
        base_names(["MITx/1.1x/T1", "course-v1:MITx+1_1x+T1"])
    assert base_names(["MITx/1.1x/T1", "course-v1:MITx+1.1x+T1"]) == {
        "MITx/1.1x/T1": "MITx__1_1x__T1"
    }


def test_not_a_course_id():
    with pytest.raises(CourseIdError, match="'hello' is not a course id"):
        normalize_course_id("hello")


def test_course_list_file(tmp_path):
    listing = tmp_path / "courses.txt"
    listing.write_text("# our courses\ncourse-v1:MITx+1.1x+T1\n\nMITx/2.2x/T2  # old\n")
    assert read_course_list(listing) == ["MITx/1.1x/T1", "MITx/2.2x/T2"]
    listing.write_text("MITx/2.2x/T2\nnot a course\n")
    with pytest.raises(CourseIdError, match="courses.txt, line 2"):
        read_course_list(listing)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("course-v1:MITx+6.002x+2021_Fall~1", "MITx/6.002x/2021_Fall~1"),
        ("course-v1:Org+Num+Run:x", "Org/Num/Run:x"),
        ("course-v1:ÉcoleX+Num+Été2021", "ÉcoleX/Num/Été2021"),
        ("https://x.org/courses/course-v1:ÉcoleX+Num+Été2021/courseware?a=1", "ÉcoleX/Num/Été2021"),
        (
            "https://x.org/courses/course-v1%3AMITx%2B6.002x%2B2021_Fall~1/about",
            "MITx/6.002x/2021_Fall~1",
        ),
    ],
)
def test_every_character_a_course_key_allows_is_kept(text, expected):
    # opaque keys allow word characters (any script), `-`, `~`, `.` and `:` in each part
    assert normalize_course_id(text) == expected
    assert normalize_course_id(expected) == expected


@pytest.mark.parametrize(
    "key, module",
    [
        ("block-v1:MITx+12.3x+1T2021+type@problem+block@abc", "MITx/12.3x/1T2021/problem/abc"),
        ("ccx-block-v1:MITx+6.002x+2T2021+ccx@3+type@html+block@h", "MITx/6.002x/2T2021/html/h"),
        ("block-v1:ÉcoleX+Num+Été~1+type@video+block@v:1", "ÉcoleX/Num/Été~1/video/v:1"),
        (
            "/courses/course-v1:MITx+0.502x+3T2019/xblock/block-v1:MITx+0.502x+3T2019+type@poll+block@d9c1/handler/x",
            "MITx/0.502x/3T2019/poll/d9c1",
        ),
        ("i4x://MITx/6.00x/video/intro", "MITx/6.00x/video/intro"),
        ("i4x://MITx/6.00x/problem/abc/problem_check", "MITx/6.00x/problem/abc"),
        ("i4x-MITx-6_00x-video-intro", "MITx/6_00x/video/intro"),
        ("block-v1:MITx+6.002x+2T2020", None),
        ("/dashboard", None),
    ],
)
def test_module_ids_in_simeons_form(key, module):
    # simeon's module_from_block: Org/Num/Run/type/id for block-v1 keys, Org/Num/type/id for i4x keys
    assert module_id(key) == module
