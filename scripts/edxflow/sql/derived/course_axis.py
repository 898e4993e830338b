"""course_axis and grading_policy rows for one course, from its course_structure JSON and OLX tarball.

Columns follow simeon's builders (sql/schemas/course_axis.json, grading_policy.json), with these fixes:
* graded items without a due date get the course end from the root's *metadata* (simeon reads the
  root's top level, which has no `end`, so its fallback never fires); start is inherited from the root;
* `is_split`/`split_url_name` mark everything inside a split_test (its group verticals and their
  content), not only the split_test and its direct children;
* `data.itype`, `num_items`, `has_solution`, `has_image` and `duration` come from the problem's and
  video's OLX; `group_id_to_child`/`user_partition_id` from the split_test's metadata;
* dates are normalised to ISO timestamps and booleans are real booleans.

The tarball is read in memory, member by member; nothing is extracted to disk.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import tarfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Callable, Iterator

from edxflow.core.courses import module_id, normalize_course_id

log = logging.getLogger(__name__)

RESPONSE_TYPES = frozenset(
    {
        "choiceresponse",
        "coderesponse",
        "customresponse",
        "fieldset",
        "formularesponse",
        "imageresponse",
        "multiplechoiceresponse",
        "numericalresponse",
        "optionresponse",
        "stringresponse",
        "schematicresponse",
    }
)
# OLX components whose XML course_axis reads, at `{top}/{category}/{url_name}.xml` (drafts/ excluded).
OLX_COMPONENTS = ("problem", "video")
# Problem and video XML is small; anything bigger than this is not what we are looking for.
MAX_MEMBER_BYTES = 16 * 1024 * 1024
_IMG_TAG = re.compile(rb"<img\b", re.IGNORECASE)
_START_TAG = re.compile(rb"<([A-Za-z_][\w.-]*)")


# ---------------------------------------------------------------------------------------------
# Reading the OLX tarball


def member_parts(name: str) -> list[str] | None:
    """Path segments of a tar member name, or None for an absolute or `..` path."""
    if name.startswith("/"):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    return None if ".." in parts else parts


def read_olx_members(
    olx_tar: str | Path, wanted: Callable[[list[str]], bool]
) -> list[tuple[list[str], bytes]]:
    """(path segments, bytes) of the regular files `wanted` accepts, in tarball order."""
    found = []
    try:
        with tarfile.open(olx_tar, mode="r:*") as archive:
            for member in archive:
                parts = member_parts(member.name)
                if (
                    not member.isfile()
                    or not parts
                    or member.size > MAX_MEMBER_BYTES
                    or not wanted(parts)
                ):
                    continue
                found.append((parts, archive.extractfile(member).read()))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{olx_tar}: cannot read the OLX tarball: {error}") from error
    return found


def component_of(parts: list[str]) -> tuple[str, str] | None:
    """(category, url_name) for `problem/x.xml` or `{top}/problem/x.xml`."""
    if 2 <= len(parts) <= 3 and parts[-2] in OLX_COMPONENTS and parts[-1].endswith(".xml"):
        return parts[-2], parts[-1][: -len(".xml")]
    return None


def olx_components(olx_tar: str | Path | None) -> dict[tuple[str, str], bytes]:
    """(category, url_name) -> XML bytes of the tarball's problem and video files."""
    if olx_tar is None:
        return {}
    members = read_olx_members(olx_tar, lambda parts: component_of(parts) is not None)
    components: dict[tuple[str, str], bytes] = {}
    for parts, content in members:
        components.setdefault(component_of(parts), content)
    return components


def parse_xml(content: bytes | None) -> ET.Element | None:
    # The stdlib parser is safe enough here: it never fetches external entities, and expat >= 2.4.1
    # refuses entity-expansion bombs.
    if content is None:
        return None
    try:
        return ET.fromstring(content)
    except ET.ParseError:
        return None


def xml_tags(content: bytes | None) -> list[str] | None:
    """Element names in document order. Hand-edited OLX is not always well-formed (HTML entities such
    as `&nbsp;`), so a document the parser rejects is scanned for `<name` instead."""
    if content is None:
        return None
    root = parse_xml(content)
    if root is not None:
        return [element.tag for element in root.iter()]
    return [match.group(1).decode("ascii") for match in _START_TAG.finditer(content)]


# ---------------------------------------------------------------------------------------------
# Value conversion


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_float(value) -> float | None:
    if is_empty(value) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_int(value) -> int | None:
    number = as_float(value)
    return int(number) if number is not None and number.is_integer() else None


def as_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_timestamp(value) -> str | None:
    """An ISO timestamp in UTC, `2013-02-05T05:00:00+00:00` (naive times are UTC, as edX stores them),
    or None if unparseable. Studio sometimes leaves dates JSON-quoted."""
    if not isinstance(value, str) or is_empty(value):
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().strip('"'))
    except ValueError:
        return None
    return (
        when.replace(tzinfo=when.tzinfo or dt.timezone.utc).astimezone(dt.timezone.utc).isoformat()
    )


def as_text(value) -> str | None:
    return None if is_empty(value) else str(value)


# ---------------------------------------------------------------------------------------------
# The block tree


def block_url_name(key: str) -> str:
    """`block-v1:...+type@problem+block@abc` -> `abc`; `i4x://Org/Num/problem/abc` -> `abc`."""
    return key.rsplit("@", 1)[-1] if key.startswith("block-v1:") else key.rsplit("/", 1)[-1]


def metadata_of(block: dict) -> dict:
    return block.get("metadata") or {}


def find_root(structure: dict) -> str:
    if not isinstance(structure, dict):
        raise ValueError(
            f"course_structure is a JSON {type(structure).__name__}, not an object of blocks by key"
        )
    for key, block in structure.items():
        if isinstance(block, dict) and block.get("category") == "course":
            return key
    raise ValueError(
        f"course_structure has no block with category 'course' ({len(structure)} blocks), "
        "so there is no root to build course_axis from"
    )


def walk(structure: dict, root: str) -> Iterator[list[str]]:
    """Depth-first, children in listed order: the chain of keys from the root to each block.
    Children missing from the structure are skipped; a block is visited once even if listed twice."""
    stack = [[root]]
    seen = set()
    missing = []
    while stack:
        chain = stack.pop()
        key = chain[-1]
        if key in seen:
            continue
        seen.add(key)
        yield chain
        children = structure[key].get("children") or []
        missing += [child for child in children if not isinstance(structure.get(child), dict)]
        stack += [
            chain + [child]
            for child in reversed(children)
            if isinstance(structure.get(child), dict)
        ]
    if missing:
        log.warning(
            "course_structure lists %d children that it does not hold, e.g. %s",
            len(missing),
            missing[0],
        )


def inherited(structure: dict, chain: list[str], field: str):
    """The first non-empty metadata value of `field`, from the block up to the root."""
    for key in reversed(chain):
        value = metadata_of(structure[key]).get(field)
        if not is_empty(value):
            return value
    return None


# ---------------------------------------------------------------------------------------------
# The data record


def youtube_id(metadata: dict) -> str | None:
    """`speed:id` from `youtube_id_{a}_{b}` keys, preferring speed 1.0: `youtube_id_1_0`=X -> `1.0:X`."""
    by_speed: dict[str, str] = {}
    for key, value in metadata.items():
        if "youtube_id" in key and not is_empty(value):
            by_speed.setdefault(".".join(re.findall(r"\d+", key)), str(value).strip())
    if not by_speed:
        return None
    speed = "1.0" if "1.0" in by_speed else next(iter(by_speed))
    return f"{speed}:{by_speed[speed]}" if speed else by_speed[speed]


def shows_answer(metadata: dict) -> bool:
    showanswer = metadata.get("showanswer")
    return not is_empty(showanswer) and str(showanswer).strip().lower() != "never"


def problem_data(block: dict, xml: bytes | None) -> dict:
    tags = xml_tags(xml) or []
    responses = [tag for tag in tags if tag in RESPONSE_TYPES]
    return {
        "itype": responses[0] if responses else None,
        # simeon's guess when the XML cannot tell
        "num_items": len(responses) if responses else len(block.get("children") or []) + 1,
        "has_solution": shows_answer(metadata_of(block)) or "solution" in tags,
        "has_image": bool(_IMG_TAG.search(xml)) if xml is not None else None,
    }


def video_duration(xml: bytes | None) -> float | None:
    """The first positive `duration` attribute (the video or its video_asset); VAL writes 0.0 for unknown."""
    root = parse_xml(xml)
    for element in root.iter() if root is not None else ():
        duration = as_float(element.get("duration"))
        if duration is not None and duration > 0:
            return duration
    return None


def data_record(block: dict, url_name: str, components: dict[tuple[str, str], bytes]) -> dict:
    category = block.get("category")
    metadata = metadata_of(block)
    problem = (
        problem_data(block, components.get(("problem", url_name))) if category == "problem" else {}
    )
    group_id_to_child = metadata.get("group_id_to_child")
    if isinstance(group_id_to_child, dict):
        group_id_to_child = json.dumps(group_id_to_child, sort_keys=True)
    return {
        "ytid": youtube_id(metadata),
        "weight": as_float(metadata.get("weight")),
        "group_id_to_child": as_text(group_id_to_child),
        "user_partition_id": as_text(metadata.get("user_partition_id")),
        "itype": problem.get("itype"),
        "num_items": problem.get("num_items"),
        "has_solution": problem.get("has_solution"),
        "has_image": problem.get("has_image"),
        "duration": video_duration(components.get(("video", url_name)))
        if category == "video"
        else None,
    }


# ---------------------------------------------------------------------------------------------
# Rows


def build_course_axis(structure: dict, olx_tar: str | Path | None, course_id: str) -> list[dict]:
    """One course_axis row per block reachable from the course root, in depth-first order."""
    course_id = normalize_course_id(course_id)
    root = find_root(structure)
    course_end = as_timestamp(metadata_of(structure[root]).get("end"))
    components = olx_components(olx_tar)

    rows = []
    for index, chain in enumerate(walk(structure, root), start=1):
        key = chain[-1]
        block = structure[key]
        url_name = block_url_name(key)
        split_test = next(
            (k for k in reversed(chain) if structure[k].get("category") == "split_test"), None
        )
        chapter = next((k for k in chain if structure[k].get("category") == "chapter"), None)
        graded = as_bool(inherited(structure, chain, "graded")) or False
        due = as_timestamp(inherited(structure, chain, "due"))
        rows.append(
            {
                "index": index,
                "category": block.get("category"),
                "url_name": url_name,
                "name": as_text(inherited(structure, chain, "display_name")),
                "gformat": as_text(inherited(structure, chain, "format")),
                "due": due or (course_end if graded else None),
                "start": as_timestamp(inherited(structure, chain, "start")),
                "graded": graded,
                "visible_to_staff_only": as_bool(
                    inherited(structure, chain, "visible_to_staff_only")
                )
                or False,
                "parent": block_url_name(chain[-2]) if len(chain) > 1 else None,
                "path": "/" + "/".join(block_url_name(k) for k in chain[1:]),
                "module_id": module_id(key) or key,
                "course_id": course_id,
                "is_split": split_test is not None,
                "split_url_name": block_url_name(split_test) if split_test else None,
                "chapter_mid": (module_id(chapter) or chapter) if chapter else None,
                "data": data_record(block, url_name, components),
            }
        )
    return rows


def grading_policy_member(olx_tar: str | Path, run: str) -> bytes | None:
    """The course run's `policies/{run}/grading_policy.json`, else the first grading_policy.json."""
    members = read_olx_members(olx_tar, lambda parts: parts[-1].endswith("grading_policy.json"))
    for parts, content in members:
        if parts[-2:] == [run, "grading_policy.json"]:
            return content
    return members[0][1] if members else None


def cutoff_range(
    grade_cutoffs,
) -> tuple[tuple[float | None, str | None], tuple[float | None, str | None]]:
    """((lowest cutoff, its label), (highest cutoff, its label)) of GRADE_CUTOFFS {label: fraction}."""
    cutoffs = sorted(
        (as_float(value), str(label))
        for label, value in (grade_cutoffs.items() if isinstance(grade_cutoffs, dict) else ())
        if as_float(value) is not None
    )
    return (cutoffs[0], cutoffs[-1]) if cutoffs else ((None, None), (None, None))


def build_grading_policy(olx_tar: str | Path | None, course_id: str) -> list[dict]:
    """One row per GRADER entry of the course's grading_policy.json; [] without tarball or policy."""
    course_id = normalize_course_id(course_id)
    content = (
        grading_policy_member(olx_tar, course_id.split("/")[2]) if olx_tar is not None else None
    )
    if content is None:
        return []
    try:
        policy = json.loads(content)
    except ValueError as error:
        raise ValueError(f"{olx_tar}: grading_policy.json is not valid JSON: {error}") from error
    if not isinstance(policy, dict):
        raise ValueError(f"{olx_tar}: grading_policy.json is not a JSON object")
    lower, upper = cutoff_range(policy.get("GRADE_CUTOFFS"))
    return [
        {
            "assignment_type": as_text(grader.get("type")),
            "name": as_text(grader.get("type")),
            "fraction_of_overall_grade": as_float(grader.get("weight")),
            "min_count": as_int(grader.get("min_count")),
            "drop_count": as_int(grader.get("drop_count")),
            "short_label": as_text(grader.get("short_label")),
            "overall_lower_cutoff": lower[0],
            "overall_lower_cutoff_label": lower[1],
            "overall_upper_cutoff": upper[0],
            "overall_upper_cutoff_label": upper[1],
            "course_id": course_id,
        }
        for grader in policy.get("GRADER") or []
        if isinstance(grader, dict)
    ]
