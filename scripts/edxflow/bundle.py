"""The weekly SQL bundle `{org}-{date}.zip`: which course, table and site each member holds.

Members are named `{dir}/[ora/]{Org}-{Num}-{Run}-{table}-{prod|prod-edge}-analytics.{ext}.gpg` and
`{dir}/{Org}-{Num}-{Run}-{prod|prod-edge}.mongo.gpg`. The `Org-Num-Run` prefix is ambiguous when a
part holds `-`: it is split with the bundle's own org name (the zip is named after it), the run as
the last part, or an id from the configured course list that matches it exactly.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from .courses import course_base_name
from .decrypt import DecryptionError, safe_member_path

# `acceptance` is the suffix of the edX analytics pipeline's test bundle (tests/fixtures/real).
_TABLE_MEMBER = re.compile(
    r"^(?P<prefix>.+)-(?P<table>[A-Za-z0-9_]+)-(?:(?P<site>prod|prod-edge)-analytics|(?P<test>acceptance))\.(?P<ext>.+)$"
)
_MONGO_MEMBER = re.compile(r"^(?P<prefix>.+)-(?P<site>prod|prod-edge|acceptance)\.mongo$")
SITE_OF = {"prod": "edx", "prod-edge": "edge", "acceptance": "edx"}


class BundleError(ValueError):
    pass


def parse_member(name: str) -> dict | None:
    """{prefix, table, site, ext, ora} of a member name, or None when it follows no known naming."""
    base = posixpath.basename(name)
    plain = base[:-4] if base.endswith(".gpg") else base
    ora = "/ora/" in f"/{name}"
    mongo = _MONGO_MEMBER.match(plain)
    if mongo:
        return {"prefix": mongo["prefix"], "table": "forum", "site": SITE_OF[mongo["site"]], "ext": "mongo", "ora": ora}
    table = _TABLE_MEMBER.match(plain)
    if table:
        site = SITE_OF[table["site"] or table["test"]]
        return {"prefix": table["prefix"], "table": table["table"], "site": site, "ext": table["ext"], "ora": ora}
    return None


def course_of_prefix(prefix: str, bundle_org: str, known: dict[str, str]) -> tuple[str, str]:
    """(course_id, how it was resolved) for an `Org-Num-Run` member prefix."""
    if prefix in known:
        return known[prefix], "course list"
    parts = prefix.split("-")
    if len(parts) < 3:
        raise BundleError(f"member prefix {prefix!r} does not name a course (Org-Num-Run)")
    if len(parts) == 3:
        return "/".join(parts), "three parts"
    for org_parts in range(1, len(parts) - 1):
        if "-".join(parts[:org_parts]).lower() == bundle_org.lower():
            num = "-".join(parts[org_parts:-1])
            return f"{'-'.join(parts[:org_parts])}/{num}/{parts[-1]}", "bundle org, run without '-'"
    return f"{parts[0]}/{'-'.join(parts[1:-1])}/{parts[-1]}", "run without '-'"


def bundle_org(zip_path: str | Path) -> str:
    """The org of `{org}-{YYYY-MM-DD}.zip`."""
    match = re.match(r"^(.+)-\d{4}-\d{2}-\d{2}\.zip$", Path(zip_path).name)
    return match.group(1) if match else ""


def index_bundle(zip_path: str | Path, sites: list[str], courses: list[str] | None = None) -> dict:
    """Read the zip's directory only: the courses it holds and their members. Edge members are
    kept only when `sites` lists edge; `courses` (Org/Num/Run ids), when given, filters."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except zipfile.BadZipFile as error:
        raise BundleError(f"{zip_path} is not a readable zip ({error}): delete it and run again to fetch it anew")
    org = bundle_org(zip_path)
    known = {course.replace("/", "-"): course for course in courses or []}
    by_course: dict[str, dict] = {}
    unmapped, skipped_sites, refused = [], [], []
    for name in sorted(names):
        try:
            safe_member_path(name)
        except DecryptionError:
            refused.append(name)
            continue
        member = parse_member(name)
        if member is None:
            unmapped.append(name)
            continue
        if member["site"] not in sites:
            skipped_sites.append(name)
            continue
        try:
            course_id, how = course_of_prefix(member["prefix"], org, known)
        except BundleError:
            unmapped.append(name)
            continue
        entry = by_course.setdefault(course_id, {"course_id": course_id, "base": course_base_name(course_id),
                                                 "prefix": member["prefix"], "resolved_by": how, "members": []})
        entry["members"].append({"name": name, "table": member["table"], "site": member["site"],
                                 "ext": member["ext"], "ora": member["ora"]})
    unmapped = _attach_by_prefix(unmapped, by_course)
    if courses:
        wanted = set(courses)
        filtered = sorted(set(by_course) - wanted)
        by_course = {course: entry for course, entry in by_course.items() if course in wanted}
    else:
        filtered = []
    bases: dict[str, str] = {}
    for course_id, entry in by_course.items():
        other = bases.setdefault(entry["base"], course_id)
        if other != course_id:
            raise BundleError(f"{zip_path}: courses {other!r} and {course_id!r} both map to the directory {entry['base']!r}")
    return {"bundle": Path(zip_path).name, "org": org, "courses": [by_course[c] for c in sorted(by_course)],
            "unmapped_members": unmapped, "members_of_other_sites": skipped_sites, "filtered_out_courses": filtered,
            "refused_members": refused}



def _attach_by_prefix(names: list[str], by_course: dict[str, dict]) -> list[str]:
    """Members whose names start with a course's prefix but follow no known naming belong to that
    course's `other/`; the rest stay unmapped (reported in the index)."""
    prefixes = sorted(((entry["prefix"], entry) for entry in by_course.values()), key=lambda p: -len(p[0]))
    left = []
    for name in names:
        base = posixpath.basename(name)
        entry = next((entry for prefix, entry in prefixes if base.startswith(prefix + "-")), None)
        if entry is None:
            left.append(name)
        else:
            entry["members"].append({"name": name, "table": None, "site": None, "ext": None, "ora": "/ora/" in f"/{name}"})
    return left
