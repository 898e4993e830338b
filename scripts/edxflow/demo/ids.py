"""Identifiers: course id parts, block keys as LMS, browser and OLX spell them, random hex ids
and MongoDB ObjectIds.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from edxflow.core.courses import normalize_course_id


def course_parts(course_id: str) -> tuple[str, str, str]:
    org, number, run = normalize_course_id(course_id).split("/")
    return org, number, run


def is_slash_course(course_id: str) -> bool:
    """Old (pre-2014 style) courses keep `Org/Num/Run` ids and `i4x://` block keys."""
    return not course_id.startswith("course-v1:")


def member_prefix(course_id: str) -> str:
    """`DemoX-PHY-2.1x-2025_Fall`: the course part of SQL bundle member names."""
    return "-".join(course_parts(course_id))


def block_key(course_id: str, category: str, url_name: str) -> str:
    org, number, run = course_parts(course_id)
    if is_slash_course(course_id):
        return f"i4x://{org}/{number}/{category}/{url_name}"
    return f"block-v1:{org}+{number}+{run}+type@{category}+block@{url_name}"


def html_id(course_id: str, category: str, url_name: str) -> str:
    """Block id as the browser reports it: the hash, or `i4x-Org-Num-category-name` (dots -> _)."""
    if not is_slash_course(course_id):
        return url_name
    org, number, _ = course_parts(course_id)
    return re.sub(r"[^\w-]", "_", f"i4x-{org}-{number}-{category}-{url_name}")


def url_block_key(key: str) -> str:
    """Block key as it appears in LMS xblock handler URLs (old keys are `;_`-quoted)."""
    return key.replace("://", ":;_;_").replace("/", ";_") if key.startswith("i4x://") else key


def olx_top_dir(course_id: str) -> str:
    return re.sub(r"[^\w.\-]", "_", course_id)


def hex_id(rng: random.Random, length: int = 32) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def object_id(rng: random.Random, created: dt.datetime) -> str:
    """A MongoDB ObjectId: 4 bytes of creation time, then 8 random bytes."""
    return f"{int(created.timestamp()):08x}{hex_id(rng, 16)}"
