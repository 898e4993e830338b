"""Object names of the edX research data package on S3 (the names edX and simeon use).

logs:  {bucket_log}/{org}/{site}/events/{year}/{org}-{site}-events-{YYYY-MM-DD}.log.gz.gpg
sql:   {bucket_sql}/{org}-{YYYY-MM-DD}.zip
email: {bucket_email}/email-opt-in/email-opt-in-{org}-{YYYY-MM-DD}.zip
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re

FILE_TYPES = ("log", "sql", "email")
SITES = ("edx", "edge", "patches")
# SQL bundles and email files hold every site in one object; their manifests use this site name.
ALL_SITES = "all"

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def log_key(org: str, site: str, date: dt.date) -> str:
    return f"{org}/{site}/events/{date.year}/{org}-{site}-events-{date.isoformat()}.log.gz.gpg"


def sql_key(org: str, date: dt.date) -> str:
    return f"{org}-{date.isoformat()}.zip"


def email_key(org: str, date: dt.date) -> str:
    return f"email-opt-in/email-opt-in-{org}-{date.isoformat()}.zip"


def list_prefixes(org: str, file_type: str, site: str, begin: dt.date, end: dt.date) -> list[str]:
    """The S3 prefixes to list: one per year for logs, a single one for sql and email."""
    if file_type == "log":
        return [
            f"{org}/{site}/events/{year}/{org}-{site}-events-"
            for year in range(begin.year, end.year + 1)
        ]
    if file_type == "sql":
        return [f"{org}-"]
    if file_type == "email":
        return [f"email-opt-in/email-opt-in-{org}-"]
    raise ValueError(f"unknown file type {file_type!r}; expected one of {', '.join(FILE_TYPES)}")


def date_of_key(key: str) -> dt.date | None:
    """The first valid YYYY-MM-DD in the key's basename, or None if it has none."""
    for match in _DATE_IN_NAME.finditer(posixpath.basename(key)):
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
    return None


def is_package_object(key: str, org: str, file_type: str) -> bool:
    """Whether a listed key is an object of that type (a prefix also matches other orgs' names,
    e.g. listing `mitx-` for SQL also returns `mitx-pro-2021-01-03.zip`)."""
    name = posixpath.basename(key)
    date = r"\d{4}-\d{2}-\d{2}"
    patterns = {
        "log": rf"{re.escape(org)}-(?:{'|'.join(SITES)})-events-{date}\.log\.gz\.gpg",
        "sql": rf"{re.escape(org)}-{date}\.zip",
        "email": rf"email-opt-in-{re.escape(org)}-{date}\.zip",
    }
    return re.fullmatch(patterns[file_type], name) is not None


def site_units(file_types, sites) -> list[tuple[str, str]]:
    """(file_type, site) pairs that get a manifest: logs per site, sql and email once."""
    units = []
    for file_type in file_types:
        if file_type == "log":
            units += [("log", site) for site in sites]
        else:
            units.append((file_type, ALL_SITES))
    return units


def classify_key(key: str) -> tuple[str, str]:
    """(file_type, site) of a package object's key; sql and email objects belong to every site."""
    parts = key.split("/")
    if key.startswith("email-opt-in/"):
        return "email", ALL_SITES
    if len(parts) > 2 and parts[2] == "events":
        return "log", parts[1]
    return "sql", ALL_SITES
