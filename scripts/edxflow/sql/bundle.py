"""The weekly SQL bundle `{org}-{date}.zip`: which course, table and site each member holds.

Members are named `{dir}/[ora/]{Org}-{Num}-{Run}-{table}-{prod|prod-edge}-analytics.{ext}.gpg` and
`{dir}/{Org}-{Num}-{Run}-{prod|prod-edge}.mongo.gpg`. The `Org-Num-Run` prefix is ambiguous when a
part holds `-`. It is settled by an id from the configured course list that matches it exactly,
else by the members' content (a course id column, the structure's block keys, the OLX course.xml),
read from the start of the smallest such member decrypted as a stream; only when no content can be
read, by the bundle's own org name (the zip is named after it), then the run as the last part.
"""

from __future__ import annotations

import logging
import posixpath
import re
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from itertools import islice
from pathlib import Path

from edxflow.core.courses import course_base_name, course_in_id
from edxflow.core.errors import UserError
from edxflow.fetch.decrypt import DecryptionError, decrypted_stream, open_zip, safe_member_path
from edxflow.sql.tsv import TsvReader

log = logging.getLogger(__name__)

# `acceptance` is the suffix of the edX analytics pipeline's test bundle (tests/fixtures/real).
_TABLE_MEMBER = re.compile(
    r"^(?P<prefix>.+)-(?P<table>[A-Za-z0-9_]+)-(?:(?P<site>prod|prod-edge)-analytics|(?P<test>acceptance))\.(?P<ext>.+)$"
)
_MONGO_MEMBER = re.compile(r"^(?P<prefix>.+)-(?P<site>prod|prod-edge|acceptance)\.mongo$")
SITE_OF = {"prod": "edx", "prod-edge": "edge", "acceptance": "edx"}


class BundleError(UserError, ValueError):
    pass


def parse_member(name: str) -> dict | None:
    """{prefix, table, site, ext, ora} of a member name, or None when it follows no known naming."""
    base = posixpath.basename(name)
    plain = base[:-4] if base.endswith(".gpg") else base
    ora = "/ora/" in f"/{name}"
    mongo = _MONGO_MEMBER.match(plain)
    if mongo:
        return {
            "prefix": mongo["prefix"],
            "table": "forum",
            "site": SITE_OF[mongo["site"]],
            "ext": "mongo",
            "ora": ora,
        }
    table = _TABLE_MEMBER.match(plain)
    if table:
        site = SITE_OF[table["site"] or table["test"]]
        return {
            "prefix": table["prefix"],
            "table": table["table"],
            "site": site,
            "ext": table["ext"],
            "ora": ora,
        }
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


def index_bundle(
    zip_path: str | Path,
    sites: list[str],
    courses: list[str] | None = None,
    gpg: dict | None = None,
) -> dict:
    """The courses the zip holds and their members, from its directory. Edge members are kept only
    when `sites` lists edge; `courses` (Org/Num/Run ids), when given, filters. With `gpg`
    ({homedir, passphrase}), an ambiguous member prefix is resolved from the members' content."""
    with open_zip(zip_path, BundleError) as archive:
        infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        org = bundle_org(zip_path)
        known = {course.replace("/", "-"): course for course in courses or []}
        by_prefix: dict[str, list] = {}
        unmapped, skipped_sites, refused = [], [], []
        for name in sorted(infos):
            try:
                safe_member_path(name)
            except DecryptionError:
                refused.append(name)
                continue
            member = parse_member(name)
            if member is None:
                unmapped.append(name)
            elif member["site"] not in sites:
                skipped_sites.append(name)
            else:
                by_prefix.setdefault(member["prefix"], []).append({"name": name, **member})
        by_course: dict[str, dict] = {}
        for prefix, members in by_prefix.items():
            try:
                course_id, how = course_of_members(
                    prefix, org, known, archive, members, gpg, zip_path
                )
            except BundleError:
                unmapped.extend(member["name"] for member in members)
                continue
            entry = by_course.setdefault(
                course_id,
                {
                    "course_id": course_id,
                    "base": course_base_name(course_id),
                    "prefix": prefix,
                    "resolved_by": how,
                    "members": [],
                },
            )
            entry["members"].extend(
                {key: member[key] for key in ("name", "table", "site", "ext", "ora")}
                for member in members
            )
    for entry in by_course.values():
        entry["members"].sort(key=lambda member: member["name"])
    unmapped = _attach_by_prefix(sorted(unmapped), by_course)
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
            raise BundleError(
                f"{zip_path}: courses {other!r} and {course_id!r} both map to the directory {entry['base']!r}"
            )
    return {
        "bundle": Path(zip_path).name,
        "org": org,
        "courses": [by_course[c] for c in sorted(by_course)],
        "unmapped_members": unmapped,
        "members_of_other_sites": skipped_sites,
        "filtered_out_courses": filtered,
        "refused_members": refused,
    }


# ---------------------------------------------------------------------------------------------
# Content: the members that name their course, and how each is read from its decrypted start


def _course_in_dump(plain) -> str | None:
    """The course of the first row with a course id, within the first rows of a table dump."""
    reader = TsvReader(iter(plain.readline, b""), "dump")
    if "course_id" not in reader.columns:
        return None
    column = reader.columns.index("course_id")
    for values in islice(reader.records(), 100):
        found = values[column] and course_in_id(values[column])
        if found:
            return found
    return None


# a block-v1 key (every block's names the course) or the course block's i4x key
_STRUCTURE_KEY = re.compile(
    rb'"(block-v1:[^"]{1,1000}|i4x://[^"/]{1,200}/[^"/]{1,200}/course/[^"]{1,200})"'
)


def _course_in_structure(plain) -> str | None:
    tail = b""
    for chunk in iter(lambda: plain.read(1 << 16), b""):
        text = tail + chunk
        found = _STRUCTURE_KEY.search(text)
        if found:
            return course_in_id(found.group(1).decode("utf-8", errors="replace"))
        tail = text[-2048:]
    return None


def _course_in_olx(plain) -> str | None:
    """`org/course/url_name` of the OLX root `course.xml` (`{dir}/course.xml` in the tarball)."""
    try:
        with tarfile.open(fileobj=plain, mode="r|gz") as tar:
            for item in tar:
                path = item.name.removeprefix("./")
                if (
                    item.isfile()
                    and path.count("/") <= 1
                    and posixpath.basename(path) == "course.xml"
                ):
                    if item.size > 1 << 20:
                        return None
                    root = ET.fromstring(tar.extractfile(item).read())
                    parts = [root.get(name) for name in ("org", "course", "url_name")]
                    return course_in_id("/".join(parts)) if all(parts) else None
    except (tarfile.TarError, ET.ParseError, EOFError, OSError):
        return None
    return None


# table -> (how the index names the source, reader)
CONTENT_SOURCES = {
    "student_courseenrollment": ("student_courseenrollment.course_id", _course_in_dump),
    "certificates_generatedcertificate": (
        "certificates_generatedcertificate.course_id",
        _course_in_dump,
    ),
    "course_structure": ("course_structure", _course_in_structure),
    "course": ("course.xml", _course_in_olx),
}


class _Stop(Exception):
    """Raised inside the decrypted stream to stop gpg: the rest of the member is never decrypted."""

    def __init__(self, found):
        super().__init__()
        self.found = found


def course_in_member(
    archive: zipfile.ZipFile, name: str, read, label: str, gpg: dict
) -> str | None:
    """The course `read` finds at the start of the member's plaintext, which is only ever a pipe."""
    with archive.open(name) as source:
        try:
            with decrypted_stream(
                source, label, gpg.get("homedir"), gpg.get("passphrase")
            ) as plain:
                found = read(plain)
                if found or plain.read(1):  # not at the end: stop gpg rather than decrypt the rest
                    raise _Stop(found)
        except _Stop as stop:
            return stop.found
    return None


def _filename_form(text: str) -> str:
    # member names drop the characters a file name should not hold, so compare without them
    return re.sub(r"[^\w.-]", "", text)


def course_of_members(
    prefix: str,
    bundle_org: str,
    known: dict[str, str],
    archive: zipfile.ZipFile,
    members: list[dict],
    gpg: dict | None,
    zip_path,
) -> tuple[str, str]:
    """(course_id, how it was resolved) for the members of one `Org-Num-Run` prefix. The content
    is read only when the name leaves a doubt; a course id it gives that disagrees with the name is
    not used (a warning says so), and without readable content the name rules stay."""
    if prefix in known or len(prefix.split("-")) <= 3 or gpg is None:
        return course_of_prefix(prefix, bundle_org, known)
    sources = sorted(
        (archive.getinfo(m["name"]).file_size, m["name"], m["table"])
        for m in members
        if m["table"] in CONTENT_SOURCES and not m["ora"] and m["name"].endswith(".gpg")
    )
    for _, name, table in sources:
        how, read = CONTENT_SOURCES[table]
        label = f"{zip_path} member {name}"
        try:
            found = course_in_member(archive, name, read, label, gpg)
        except DecryptionError as error:
            log.warning("%s (read only to tell the course of %s)", error, prefix)
            continue
        if found is None:
            continue
        if _filename_form("-".join(found.split("/"))) == _filename_form(prefix):
            return found, how
        log.warning(
            "%s names the course %s, which does not match its file name: not used for %s",
            label,
            found,
            prefix,
        )
    return course_of_prefix(prefix, bundle_org, known)


def _attach_by_prefix(names: list[str], by_course: dict[str, dict]) -> list[str]:
    """Members whose names start with a course's prefix but follow no known naming belong to that
    course's `other/`; the rest stay unmapped (reported in the index)."""
    prefixes = sorted(
        ((entry["prefix"], entry) for entry in by_course.values()), key=lambda p: -len(p[0])
    )
    left = []
    for name in names:
        base = posixpath.basename(name)
        entry = next((entry for prefix, entry in prefixes if base.startswith(prefix + "-")), None)
        if entry is None:
            left.append(name)
        else:
            entry["members"].append(
                {
                    "name": name,
                    "table": None,
                    "site": None,
                    "ext": None,
                    "ora": "/ora/" in f"/{name}",
                }
            )
    return left
